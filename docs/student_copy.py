"""`python docs/student_copy.py OUTDIR`: the tutorials without their worked solutions.

Every tutorial docs/tutorials/NN-name.md (a MyST text notebook, paired with NN-name.ipynb) is
written to OUTDIR as NN-name.ipynb and NN-name.md, without the cells tagged `solution`: each
run of consecutive solution cells becomes one empty code cell holding "# your answer here".
Exercises are the markdown cells before them and stay. The copies have no outputs and are paired
with each other (jupytext), so a class opens the .ipynb in Jupyter and the teacher keeps the .md
under version control. The tutorials' helper modules (docs/tutorials/_*.py) are copied beside
them, since the notebooks import them; the data come with the installed `chainrule` package.

Needs jupytext and nbformat (pip install jupytext).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat

TUTORIALS = Path(__file__).resolve().parent / "tutorials"
SOLUTION_TAG = "solution"
PLACEHOLDER = "# your answer here"


def tutorials(folder: Path = TUTORIALS) -> list[Path]:
    """The tutorials' text notebooks, NN-name.md, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.md"))


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `notebook` without solution cells (one placeholder per run of them) and
    without outputs."""
    notebook = nbformat.from_dict(notebook)  # a deep copy
    cells = []
    for cell in notebook.cells:
        if is_solution(cell):
            if not (cells and cells[-1].get("metadata", {}).get("placeholder")):
                placeholder = nbformat.v4.new_code_cell(PLACEHOLDER)
                placeholder.metadata["placeholder"] = True  # merged runs; removed below
                cells.append(placeholder)
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    for cell in cells:
        cell.get("metadata", {}).pop("placeholder", None)
        cell.pop("id", None)  # fresh ids below: a removed cell's id must not come back
    notebook.cells = cells
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    for cell in notebook.cells:
        cell["id"] = nbformat.v4.new_code_cell().id
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,md:myst"
    return notebook


def write_student_copies(out: Path, folder: Path = TUTORIALS) -> list[Path]:
    """Write every tutorial's student copy (.ipynb and .md) and the helper modules into `out`;
    returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in tutorials(folder):
        notebook = student_notebook(jupytext.read(source))
        nbformat.validate(notebook)
        for suffix, fmt in ((".ipynb", "ipynb"), (".md", "md:myst")):
            target = out / (source.stem + suffix)
            jupytext.write(notebook, target, fmt=fmt)
            written.append(target)
    for helper in sorted(folder.glob("_*.py")):
        written.append(Path(shutil.copy2(helper, out / helper.name)))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python docs/student_copy.py",
        description="Write the tutorials without their worked solutions (cells tagged "
                    f"'{SOLUTION_TAG}'), as .ipynb and MyST .md, into OUTDIR.",
        epilog="Runtime: about 1 s.")
    parser.add_argument("outdir", type=Path, help="folder to write into (created if missing)")
    args = parser.parse_args(argv)
    if args.outdir.resolve() == TUTORIALS:
        parser.error("OUTDIR must not be docs/tutorials itself (it would overwrite the "
                     "tutorials with their student copies)")
    written = write_student_copies(args.outdir)
    print(f"{len(written)} files written to {args.outdir}:")
    for path in written:
        print(f"  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
