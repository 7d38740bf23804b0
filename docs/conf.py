"""Sphinx configuration of the documentation site (Sphinx + MyST-NB, sphinx-book-theme).

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (warnings are errors;
``tests/test_docs.py`` runs the same build into a temporary folder). Every page is MyST
Markdown; pages with ``{code-cell}`` blocks, and the tutorials, are text notebooks that myst-nb
executes at every build, so no output on the site can go stale. The generated tables (the op
list, the compiler's rules) come from ``_ext/autograd_lite_docs.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # autodoc and the code cells import the checkout's packages
sys.path.insert(0, str(HERE / "_ext"))
# The kernels that execute the pages inherit this process's environment: draw figures inline
# (as Jupyter does), whatever MPLBACKEND the caller set (CI exports Agg, which would make
# plt.show() and a cell's last figure show nothing on the pages).
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
# the kernels run with the repository root on their path too (a checkout without pip install -e)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])

project = "autograd-lite & chainrule"
author = "the autograd-lite-chainrule authors"
copyright = f"2026, {author}"  # noqa: A001
release = "0.1.0"

extensions = [
    "myst_nb",  # MyST Markdown pages and executed text notebooks (it loads myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "autograd_lite_docs",  # _ext/: the generated tables and the solution-cell hook
]

# The tutorials are MyST text notebooks (docs/tutorials/NN-name.md) paired by jupytext with
# .ipynb twins: only the .md files are sources, so that each tutorial is one page.
exclude_patterns = ["_build", "**.ipynb", "**/.ipynb_checkpoints", "jupyter_execute",
                    "_ext", "README.md", ".DS_Store"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# ---- MyST and myst-nb ----------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"  # execute every notebook page at every build: no cache, no stale output
nb_execution_timeout = 180  # seconds per cell (the tutorials take under a minute each)
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True  # ... and the log shows its traceback
nb_execution_allow_errors = False
nb_merge_streams = True  # one output block per cell for print()s in a loop
nb_number_source_lines = False
nb_execution_excludepatterns: list[str] = []
# Exercise solutions: a code cell tagged `solution` is collapsed (input and output) behind a
# button, by adding myst-nb's own `hide-cell` tag at read time (_ext/autograd_lite_docs.py,
# hide_solution_cells); the notebooks stay free of presentation tags.
# They are the only hidden cells on the site, so the button says what it hides.
nb_code_prompt_show = "Show the solution"
nb_code_prompt_hide = "Hide the solution"

# ---- autodoc -------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"  # the types in the signature, as the code writes them
autodoc_typehints_format = "short"
python_maximum_signature_line_length = 88  # longer signatures: one parameter per line
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
# Docstrings in this project are plain prose with `backquoted` names: read those as code.
default_role = "literal"
nitpicky = False
suppress_warnings = ["myst.header"]  # included files (bench.md) start below the page's H1

# ---- HTML ----------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "autograd-lite & chainrule"
html_static_path: list[str] = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_navbar_depth": 1,
}
html_last_updated_fmt = None
html_show_sourcelink = True
