"""The documentation site: it builds with warnings as errors, every page and tutorial is there,
and the generated tables have one row per primitive and per algebra rule.

One test builds the whole site (`sphinx-build -W --keep-going -b html docs <tmp>`, as the README
says to, in a subprocess) and checks its output; the build executes every page with code cells
and every tutorial notebook (myst-nb, nb_execution_mode "force", an error in a cell fails the
build), so it is also the test that the tutorials and the pages' examples run. It is marked
long: conftest.py starts it first, on a worker of its own. The other tests read the sources
only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# every page of the site's two tables of contents (docs/index.md), by source name
PAGES = ["index", "getting-started", "tutorials/index", "chapter", "autograd_lite", "compiler",
         "benchmarks", "data", "testing"]
BUILD_COMMAND = ["-m", "sphinx", "-W", "--keep-going", "-b", "html"]


def tutorials() -> list[Path]:
    """The tutorial notebooks: docs/tutorials/NN-name.md (their .ipynb twins are not sources)."""
    return sorted(p for p in (DOCS / "tutorials").glob("[0-9]*.md"))


def markdown_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md")
                  if "_build" not in p.parts and "jupyter_execute" not in p.parts)


class _Elements(HTMLParser):
    """The classes of every table row inside a <table> whose class is `table_class`, and the
    class lists of every <div>."""

    def __init__(self, table_class: str = "") -> None:
        super().__init__()
        self.table_class = table_class
        self.depth = 0  # inside the wanted table (nesting depth of tables)
        self.in_body = False
        self.rows = 0
        self.divs: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            if self.depth or (self.table_class and self.table_class in classes):
                self.depth += 1
        elif tag == "tbody" and self.depth == 1:
            self.in_body = True
        elif tag == "tr" and self.depth == 1 and self.in_body:
            self.rows += 1
        elif tag == "div":
            self.divs.append(classes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "tbody" and self.depth == 1:
            self.in_body = False


def table_rows(html: Path, table_class: str) -> int:
    parser = _Elements(table_class)
    parser.feed(html.read_text(encoding="utf-8"))
    return parser.rows


def divs(html: Path) -> list[list[str]]:
    parser = _Elements()
    parser.feed(html.read_text(encoding="utf-8"))
    return parser.divs


@pytest.mark.long(80)  # measured 76 s alone on a quiet 2-core machine (239 s in a loaded suite)
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    import autograd_lite
    from autograd_lite.compiler.rewrite import RULES

    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    build = subprocess.run([sys.executable, *BUILD_COMMAND, str(DOCS), str(out)], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=1500)
    seconds = time.perf_counter() - start
    log = build.stdout + build.stderr
    assert build.returncode == 0, f"sphinx-build failed after {seconds:.0f} s:\n{log[-8000:]}"

    for page in PAGES:
        assert (out / f"{page}.html").is_file(), f"page {page} was not written"
    assert tutorials(), "no tutorial notebook in docs/tutorials/"
    for notebook in tutorials():
        html = out / "tutorials" / f"{notebook.stem}.html"
        assert html.is_file(), f"tutorial {notebook.name} was not written"
        # the notebook was executed: its cells have outputs on the page
        cells = [c for c in divs(html) if "cell" in c and "docutils" in c]
        assert cells, f"{notebook.name}: no code cell on the page"
        assert any("cell_output" in c for c in divs(html)), f"{notebook.name}: no output"
        # every exercise solution is collapsed (hide_solution_cells in docs/_ext)
        solutions = [c for c in cells if "tag_solution" in c]
        assert all("tag_hide-cell" in c for c in solutions), notebook.name
        tagged = len(re.findall(r"^:?tags:\s*\[[^\]]*\bsolution\b", notebook.read_text(
            encoding="utf-8"), flags=re.MULTILINE))
        assert len(solutions) == tagged, (f"{notebook.name}: {tagged} cells tagged solution, "
                                          f"{len(solutions)} collapsed on the page")

    # every figure a page's code draws is on the page (a kernel that inherited MPLBACKEND=Agg
    # drew them into nothing): at least one image per finish(...) or plt.show() call
    for page in markdown_pages():
        drawn = len(re.findall(r"^\s*(?:finish\(|plt\.show\(\))", page.read_text(
            encoding="utf-8"), flags=re.MULTILINE))
        if drawn:
            html = out / page.relative_to(DOCS).with_suffix(".html")
            images = html.read_text(encoding="utf-8").count("<img")
            assert images >= drawn, f"{page.name}: {drawn} figures drawn, {images} on the page"

    # the generated tables can never drift from the code
    assert table_rows(out / "autograd_lite.html", "op-table") == len(
        autograd_lite.ops.primitives())
    assert table_rows(out / "compiler.html", "rules-table") == len(RULES)
    # the benchmark page includes the committed results, the chapter page the figure
    assert "Median time per loss + gradients call" in (out / "benchmarks.html").read_text(
        encoding="utf-8")
    assert (out / "_images" / "chapter_fit.png").is_file()


def test_no_markdown_page_holds_python_that_nothing_runs():
    """Code on a page is a {code-cell} (executed at build); a ```python fence is not run."""
    fence = re.compile(r"^\s*(```|~~~)\s*(python|py|python3|ipython|ipython3|pycon)\s*$",
                       re.MULTILINE)
    offenders = [f"{p.relative_to(ROOT)}:{m.group(0).strip()}"
                 for p in markdown_pages() for m in fence.finditer(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def test_pages_with_code_cells_are_notebooks():
    """myst-nb executes a Markdown page only when its front matter names a kernel."""
    for page in markdown_pages():
        text = page.read_text(encoding="utf-8")
        if "```{code-cell}" in text:
            front = text.split("---", 2)[1] if text.startswith("---") else ""
            assert "kernelspec" in front, f"{page.relative_to(ROOT)} has code cells, no kernel"


def test_every_page_of_the_tables_of_contents_exists():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = re.findall(r"^([\w/-]+)$", index.split("```{toctree}", 1)[1], re.MULTILINE)
    assert set(listed) <= set(PAGES)
    for page in PAGES:
        assert (DOCS / f"{page}.md").is_file(), page


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def test_what_the_pages_import_is_installed_by_the_docs_extra():
    """`pip install -e ".[docs]" && sphinx-build ...` (the README's site build) must be enough:
    every module a page's or a tutorial's code imports is the standard library's, the
    project's own, or comes with a dependency or the docs extra."""
    import importlib.metadata

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    allowed = _requirement_names(project["dependencies"] + project["optional-dependencies"][
        "docs"]) | {"ipython"}  # ipython: the kernel myst-nb's ipykernel runs
    local = {"autograd_lite", "chainrule", "benchmarks", "_figures", "tests"}
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for page in markdown_pages():
        cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", page.read_text(
            encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
        for cell in cells:
            for module in re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", cell, re.MULTILINE):
                if module in sys.stdlib_module_names or module in local:
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
                if not dists & allowed and not any(
                        _requirement_names(importlib.metadata.requires(d) or []) & dists
                        for d in ("myst-nb",)):
                    missing.setdefault(module, []).append(page.name)
    assert not missing, f"imported by the docs, not installed by .[docs]: {missing}"


def test_the_test_extra_installs_the_docs_toolchain():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}

    assert names(extras["docs"]) <= names(extras["test"])
    assert {"sphinx", "myst-nb", "sphinx-book-theme", "jupytext"} <= names(extras["docs"])
