"""The chapter's experiment: split, command line, figure, progress, and the reported numbers."""

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest

from chainrule import __main__ as cli
from chainrule import experiment as ex
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis
from chainrule.weather import WeatherDataUnavailable, find_weather_file, load_weather_data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def write_year_csv(path: Path, year: int = 1900) -> Path:
    """A synthetic by-station CSV: one TMAX/TMIN per day of `year`, a smooth seasonal curve."""
    lines = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        n = (day - dt.date(year, 1, 1)).days
        tmax = round(100 - 120 * np.cos(2 * np.pi * (n + 10) / 365) + 30 * np.sin(n))
        for element, value in (("TMAX", tmax), ("TMIN", tmax - 80)):
            lines.append(f"GM000003342,{day:%Y%m%d},{element},{value},,,E,")
        day += dt.timedelta(days=1)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_split_is_the_chapters_seeded_permutation(tmp_path):
    data = load_weather_data(1900, write_year_csv(tmp_path / "GM000003342.csv"))
    state = np.random.get_state()
    try:  # the chapter's own recipe, on numpy's global generator
        np.random.seed(2)
        idx = np.random.permutation(365)
    finally:
        np.random.set_state(state)
    split = ex.chapter_split(data, n_train=100, seed=2)
    x, y = data.xy("tmax")
    np.testing.assert_array_equal(split.x_train, x[idx[:100]])
    np.testing.assert_array_equal(split.y_test, y[idx[100:]])
    assert len(split.x_train) == 100 and len(split.x_test) == 265


def test_split_rejects_impossible_training_sizes(tmp_path):
    data = load_weather_data(1900, write_year_csv(tmp_path / "GM000003342.csv"))
    with pytest.raises(ValueError, match="n_train must be between 1 and 364"):
        ex.chapter_split(data, n_train=365)


def test_command_runs_both_routes_and_writes_the_figure(tmp_path, capsys):
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    out = tmp_path / "fig.png"
    assert cli.main(["--data", str(csv), "--iterations", "300", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "[explicit]" in text and "[backprop]" in text
    assert "speedup of backprop over explicit:" in text
    assert "max difference of final parameters" in text
    assert out.stat().st_size > 10_000  # a real picture, not an empty file

    # the printed MSEs are those of an independently fitted explicit model
    split = ex.chapter_split(load_weather_data(1900, csv))
    model = BasisFunctionRidgeRegressionGD(TanhBasis(ex.CHAPTER_W0), learning_rate=1e-5,
                                           num_iterations=300).fit(split.x_train, split.y_train)
    assert f"training MSE : {model.mse(split.x_train, split.y_train):.4f}" in text
    assert f"test MSE : {model.mse(split.x_test, split.y_test):.4f}" in text


def test_command_with_one_engine(tmp_path, capsys):
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    assert cli.main(["--data", str(csv), "--iterations", "10", "--engine", "backprop",
                     "--out", str(tmp_path / "f.png")]) == 0
    text = capsys.readouterr().out
    assert "[backprop]" in text and "[explicit]" not in text and "speedup" not in text


def test_command_reports_missing_data_clearly(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "GM000003342.csv.gz"
    assert cli.main(["--data", str(missing), "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "nowhere" in err


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_on_a_terminal_and_silence_elsewhere():
    X, y = np.arange(5.0), np.ones(5)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(ex.CHAPTER_W0))
    model.w = np.zeros(3)
    term = FakeTerminal()
    ex.ProgressLine("explicit", 100, X, y, stream=term)(50, model)
    shown = term.getvalue()
    assert "iteration" in shown and "50/100" in shown and "ETA" in shown
    assert f"{model.loss(X, y):9.4f}" in shown
    quiet = io.StringIO()
    ex.ProgressLine("explicit", 100, X, y, stream=quiet)(50, model)
    assert quiet.getvalue() == ""


def _real_data_folder() -> Path | None:
    """The station file as the loader finds it without downloading (CHAINRULE_DATA, which CI
    sets, or the cache after `python -m chainrule`), else the shared copy beside the checkout."""
    try:
        return find_weather_file(download=False)
    except (WeatherDataUnavailable, OSError):
        return SHARED if SHARED.exists() else None


@pytest.mark.skipif(_real_data_folder() is None,
                    reason="the real station file is not available offline (run python -m "
                           "chainrule once, or set CHAINRULE_DATA); CI provides it, so this runs "
                           "there")
@pytest.mark.parametrize("engine", ["explicit", "backprop"])
def test_chapter_numbers_on_the_real_station_file(engine):
    """Year 1900, 100 training days, seed 2, 1,000,000 steps: the chapter's 20.0247 / 20.5147."""
    data = load_weather_data(1900, _real_data_folder())
    result = ex.fit_chapter_model(ex.chapter_split(data), engine)
    assert f"{result.train_mse:.4f}" == "20.0247"
    assert f"{result.test_mse:.4f}" == "20.5147"
