"""The tutorials (docs/tutorials/NN-name.md, paired with NN-name.ipynb) as files: fast checks.

The notebooks are executed by the documentation build (tests/test_docs.py: myst-nb runs every
tutorial and fails on an error), so they are not executed here. Here: each text notebook is in
sync with its .ipynb twin (same cells, sources and tags), the .ipynb files carry no outputs,
each notebook states its runtime, has at least two exercises each followed by its solution, and
sends every figure through `_figures.finish` (which checks title, units and legends when the
notebook runs); and docs/student_copy.py writes copies without a solution that open and
validate.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import jupytext  # the test and docs extras install it (and nbformat, through myst-nb)
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
TEXT_NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]-*.md"))
EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.(\d+)\*\*", re.MULTILINE)
RUNTIME = re.compile(r"[Rr]uns in about \d+ s on 2 cores")


def _student_copy_module():
    spec = importlib.util.spec_from_file_location("student_copy",
                                                  ROOT / "docs" / "student_copy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _number(path: Path) -> int:
    return int(path.name[:2])


def test_there_are_about_six_tutorials_numbered_in_order():
    assert len(TEXT_NOTEBOOKS) >= 6
    assert [_number(p) for p in TEXT_NOTEBOOKS] == list(range(1, len(TEXT_NOTEBOOKS) + 1))


@pytest.mark.parametrize("text", TEXT_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_text_notebook_and_its_ipynb_twin_are_in_sync(text):
    twin = text.with_suffix(".ipynb")
    assert twin.is_file(), f"{twin.name} is missing: jupytext --sync {text}"
    md, ipynb = jupytext.read(text), jupytext.read(twin)
    assert md.metadata["jupytext"]["formats"] == "ipynb,md:myst"
    assert ipynb.metadata["jupytext"]["formats"] == "ipynb,md:myst"
    assert md.metadata["kernelspec"]["name"] == "python3"
    assert [(c.cell_type, c.source.strip(), _tags(c)) for c in md.cells] == \
        [(c.cell_type, c.source.strip(), _tags(c)) for c in ipynb.cells], \
        f"{text.name} and {twin.name} differ: jupytext --sync {text}"


@pytest.mark.parametrize("text", TEXT_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_ipynb_is_committed_without_outputs_and_validates(text):
    notebook = nbformat.read(text.with_suffix(".ipynb"), as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("text", TEXT_NOTEBOOKS, ids=lambda p: p.stem)
def test_each_tutorial_states_its_runtime_and_has_exercises_with_solutions(text):
    cells = jupytext.read(text).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(
        f"# {_number(text)}. "), "the first cell is the title, '# N. ...'"
    assert RUNTIME.search(cells[0].source), "the first cell says 'runs in about N s on 2 cores'"
    exercises = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for chapter, number in EXERCISE.findall(cell.source):
            assert int(chapter) == _number(text), f"Exercise {chapter}.{number} in {text.name}"
            exercises.append(int(number))
            assert "solution" not in _tags(cell), "the exercise itself is not a solution"
            following = cells[i + 1] if i + 1 < len(cells) else None
            assert following is not None and "solution" in _tags(following), \
                f"Exercise {chapter}.{number}: the next cell must be its solution (tag solution)"
        assert len(EXERCISE.findall(cell.source)) <= 1, "one exercise per markdown cell"
    assert len(exercises) >= 2, f"{text.name} has {len(exercises)} exercises"
    assert exercises == list(range(1, len(exercises) + 1)), f"numbered 1, 2, ...: {exercises}"
    solutions = [c for c in cells if "solution" in _tags(c)]
    assert all(c.source.strip() for c in solutions)


def _figure_calls(source: str, factories: set[str]) -> tuple[int, list[tuple[int, int]], set[str]]:
    """(figures made outside a drawing function, the names finish() is called with, the
    drawing functions defined): a drawing function is a def that makes a figure and returns it;
    calling it makes a figure."""
    tree = ast.parse(source)
    defined = set()
    inside = set()  # ids of the call nodes inside drawing functions
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
            if any(_makes_figure(c, factories) for c in calls) and any(
                    isinstance(n, ast.Return) for n in ast.walk(node)):
                defined.add(node.name)
                inside |= {id(c) for c in calls}
    made, names = 0, []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in inside:
            continue
        made += _makes_figure(node, factories | defined)
        if isinstance(node.func, ast.Name) and node.func.id == "finish":
            label = node.args[1] if len(node.args) > 1 else None
            assert isinstance(label, ast.Constant) and isinstance(label.value, str), \
                "finish(fig, \"Figure N.k\"): the name as a string literal"
            match = re.fullmatch(r"Figure (\d+)\.(\d+)", label.value)
            assert match, label.value
            names.append((int(match[1]), int(match[2])))
    return made, names, defined


def _makes_figure(call: ast.Call, factories: set[str]) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "plt":
        return f.attr in ("subplots", "figure", "subplot_mosaic")
    return isinstance(f, ast.Name) and f.id in factories


@pytest.mark.parametrize("text", TEXT_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_goes_through_finish_with_its_name(text):
    """Every matplotlib figure a cell makes (with plt.subplots, plt.figure, or a drawing
    function of the notebook that returns one) is passed to finish(fig, "Figure N.k") in that
    cell; the figure names run 1, 2, ... and the text names each figure."""
    cells = jupytext.read(text).cells
    names, factories = [], set()
    for cell in cells:
        if cell.cell_type != "code" or "solution" in _tags(cell):
            continue
        made, finished, defined = _figure_calls(cell.source, factories)
        factories |= defined
        assert made == len(finished), \
            f"a cell makes {made} figure(s) and finishes {len(finished)}:\n{cell.source}"
        names += finished
    drawn = re.findall(r"Figure (\d+)\.(\d+)", "\n".join(
        c.source for c in cells if c.cell_type == "code" and "draw(" in c.source
        and "finish(" not in c.source))  # figures drawn by the library (a PNG shown)
    names = sorted(set(names) | {(int(a), int(b)) for a, b in drawn})
    assert names, f"{text.name} has no figure"
    assert all(chapter == _number(text) for chapter, _ in names)
    assert [b for _, b in names] == list(range(1, len(names) + 1)), names
    prose = " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")
    for chapter, number in names:
        assert f"Figure {chapter}.{number}" in prose, \
            f"the text never names Figure {chapter}.{number}"


def test_the_index_lists_every_tutorial():
    index = (TUTORIALS / "index.md").read_text(encoding="utf-8")
    assert "{toctree}" in index
    for text in TEXT_NOTEBOOKS:
        assert text.stem in index or "[0-9]*" in index, text.stem


def test_student_copies_have_no_solution_and_keep_every_exercise(tmp_path):
    student_copy = _student_copy_module()
    written = student_copy.write_student_copies(tmp_path)
    assert {p.name for p in written} >= {p.with_suffix(s).name for p in TEXT_NOTEBOOKS
                                          for s in (".md", ".ipynb")} | {"_figures.py"}
    for text in TEXT_NOTEBOOKS:
        original = jupytext.read(text)
        solutions = [c.source.strip() for c in original.cells if "solution" in _tags(c)]
        exercises = [c.source for c in original.cells
                     if c.cell_type == "markdown" and EXERCISE.search(c.source)]
        notebook = nbformat.read(tmp_path / f"{text.stem}.ipynb", as_version=4)
        nbformat.validate(notebook)
        sources = [c.source for c in notebook.cells]
        assert not any("solution" in _tags(c) for c in notebook.cells)
        assert not any(s in sources for s in solutions)
        assert [s for s in sources if EXERCISE.search(s)] == exercises
        for cell in notebook.cells:  # each exercise is followed by a place for the answer
            if cell.cell_type == "code":
                assert cell.outputs == []
        for i, cell in enumerate(notebook.cells):
            if EXERCISE.search(cell.source) and cell.cell_type == "markdown":
                assert notebook.cells[i + 1].source == student_copy.PLACEHOLDER
        assert sources.count(student_copy.PLACEHOLDER) == len(exercises)
        everything_else = [c.source.strip() for c in original.cells
                           if "solution" not in _tags(c)]
        assert [s.strip() for s in sources if s != student_copy.PLACEHOLDER] == everything_else
        text_copy = jupytext.read(tmp_path / f"{text.stem}.md")
        assert [c.source.strip() for c in text_copy.cells] == [s.strip() for s in sources]


def test_student_copy_command(tmp_path):
    student_copy = _student_copy_module()
    assert student_copy.main([str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.ipynb")) == \
        sorted(p.with_suffix(".ipynb").name for p in TEXT_NOTEBOOKS)
    with pytest.raises(SystemExit):
        student_copy.main([str(TUTORIALS)])
