"""README.md: every Python block runs as written, its commands are CI's, its links resolve.

Each ```python block runs in a fresh interpreter, in an empty temporary folder (so it cannot
lean on files of the checkout or on an earlier block), with MPLBACKEND=Agg. The ```bash blocks
are not run; instead the README's two set-up-to-result commands are checked against .ci/run
(which runs the test command verbatim) and against the extras pyproject.toml defines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SETUP = "python3 -m venv .venv && . .venv/bin/activate && "


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang == language]


def commands() -> list[str]:
    return [line.strip() for body in blocks("bash") for line in body.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("k", range(len(blocks("python"))))
def test_python_block_runs_as_written(k, tmp_path):
    code = blocks("python")[k]
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"README python block {k + 1} failed:\n{code}\n{run.stderr}"
    assert not list(tmp_path.iterdir()), "a README example wrote into the current folder"


def test_there_is_an_example_and_it_uses_the_public_primitive_api():
    python = blocks("python")
    assert python, "the README has no Python example"
    assert any("ag.Elementwise" in b or "ag.Primitive" in b for b in python)


def test_the_two_commands_are_the_ones_ci_runs():
    main, tests = (c for c in commands() if c.startswith(SETUP))
    assert main == SETUP + "pip install -e . && python -m chainrule"
    assert tests == SETUP + 'pip install -e ".[test]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in [line.strip() for line in ci], ".ci/run does not run the README's test command"


def test_every_extra_the_readme_names_exists():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"])
    named = set(re.findall(r"\.\[(\w+)\]", README))
    assert named, "the README names no extra"
    assert named <= extras, f"extras named in the README but not defined: {named - extras}"


def test_the_docs_build_command_is_the_one_the_suite_runs():
    from tests.test_docs import BUILD_COMMAND

    build = next(c for c in commands() if "sphinx-build" in c)
    flags = build.split("sphinx-build", 1)[1].split()
    assert flags[:-2] == [f for f in BUILD_COMMAND[2:] if f != "--keep-going"]
    assert flags[-2:] == ["docs", "docs/_build/html"]


def test_links_and_the_figure_resolve():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if "://" not in t]
    assert "docs/chapter_fit.png" in local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_short_and_no_placeholders():
    assert len(README.splitlines()) <= 160
    assert "PLACEHOLDER" not in README
