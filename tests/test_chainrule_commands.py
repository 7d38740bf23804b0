"""The command lines of chainrule and benchmarks: every option has a line of help and shows its
default, every command states its runtime, and outputs go outside the source tree unless asked."""

import argparse
import tempfile
from pathlib import Path

import pytest

from benchmarks import __main__ as bench_cli
from benchmarks import depth, harness, jacobian_three_ways
from chainrule import __main__ as cli
from chainrule import chapter_tape
from chainrule import experiment as ex

ROOT = Path(__file__).resolve().parent.parent
PARSERS = {
    "python -m chainrule": cli.parser,
    "python -m chainrule.chapter_tape": chapter_tape.parser,
    "python -m benchmarks": lambda: bench_cli.parser(["chapter", "compiled"]),
    "python -m benchmarks.depth": depth.parser,
    "python -m benchmarks.jacobian_three_ways": jacobian_three_ways.parser,
}


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_help_shows_every_option_with_help_and_default_and_the_runtime(command):
    parser = PARSERS[command]()
    assert parser.prog == command
    options = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    for action in options:
        assert action.help and len(action.help) > 10, action.option_strings
    text = parser.format_help()
    assert text.count("(default:") == len(options)
    assert parser.epilog.startswith("Runtime: ") and "Runtime: " in text
    assert "on 2 cores" in parser.epilog and "measured" in parser.epilog


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_default_output_folder_is_under_the_temp_dir(command):
    defaults = vars(PARSERS[command]().parse_args([]))
    temp = Path(tempfile.gettempdir())
    for value in defaults.values():  # no default path points into the source tree
        if isinstance(value, Path):
            assert temp in value.parents and ROOT not in value.resolve().parents, value
    if "out" in defaults:
        assert defaults["out"] in (ex.DEFAULT_OUT, harness.DEFAULT_OUT)


def test_committed_figures_are_written_only_when_asked():
    assert ex.DOCS == ROOT / "docs" == harness.DOCS
    assert harness.COMMITTED_RESULTS == ROOT / "benchmarks" / "results"
    for parser in PARSERS.values():
        update = [a for a in parser()._actions if a.dest == "update_committed"]
        assert not update or update[0].default is False


def test_update_committed_refuses_a_partial_benchmark(capsys):
    with pytest.raises(SystemExit) as info:
        bench_cli.main(["--quick", "--update-committed"])
    assert info.value.code == 2
    assert "--update-committed rewrites the committed results of the full run" in \
        capsys.readouterr().err


def test_out_must_be_a_folder(tmp_path, capsys):
    a_file = tmp_path / "fig.png"
    a_file.write_bytes(b"")
    with pytest.raises(SystemExit):
        cli.main(["--out", str(a_file)])
    assert f"--out is the folder of the figure; {a_file} is a file" in capsys.readouterr().err


def test_update_committed_redraws_only_the_chapters_figure(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--update-committed", "--station", "USW00094728", "--newton-w"])
    assert info.value.code == 2
    assert "--update-committed redraws the committed figure of the chapter's experiment; it " \
           "takes none of --station, --newton-w" in capsys.readouterr().err
