"""The chapter's experiment: split, command line, figure, progress, and the reported numbers."""

import datetime as dt
import gzip
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule import __main__ as cli
from chainrule import chapter, weather
from chainrule import experiment as ex
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis
from chainrule.weather import load_weather_data

OTHER_STATION = "USW00094728"


pytestmark = pytest.mark.usefixtures("offline")  # every test here (tests/conftest.py)


def tmax_tenths(n: int) -> int:
    """The synthetic TMAX of day n (tenths of a degree): a smooth seasonal curve plus wiggle."""
    return round(100 - 120 * np.cos(2 * np.pi * (n + 10) / 365) + 30 * np.sin(n))


def year_csv_text(year: int = 1900, station: str = "GM000003342",
                  tmin_every: int = 1) -> str:
    """A synthetic by-station CSV: TMAX every day of `year`, TMIN = TMAX - 8 degrees on every
    `tmin_every`-th day."""
    lines = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        n = (day - dt.date(year, 1, 1)).days
        lines.append(f"{station},{day:%Y%m%d},TMAX,{tmax_tenths(n)},,,E,")
        if n % tmin_every == 0:
            lines.append(f"{station},{day:%Y%m%d},TMIN,{tmax_tenths(n) - 80},,,E,")
        day += dt.timedelta(days=1)
    return "\n".join(lines) + "\n"


def write_year_csv(path: Path, year: int = 1900) -> Path:
    path.write_text(year_csv_text(year))
    return path


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def serve(monkeypatch, text: str) -> list[str]:
    """Answer downloads with `text` gzipped; returns the list of requested URLs."""
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return FakeResponse(gzip.compress(text.encode()))

    monkeypatch.setattr(weather, "_urlopen", fake_urlopen)
    return requested


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
    for n_train in (365, 0):
        with pytest.raises(ValueError, match="n_train must be between 1 and 364") as info:
            ex.chapter_split(data, n_train=n_train)
        message = str(info.value)
        assert "station GM000003342, year 1900 has 365 days with TMAX" in message
        assert f"got n_train = {n_train}" in message


def test_split_of_tmin_counts_the_tmin_days(tmp_path):
    path = tmp_path / "GM000003342.csv"
    path.write_text(year_csv_text(tmin_every=5))  # TMIN on 73 days, TMAX on all 365
    data = load_weather_data(1900, path)
    with pytest.raises(ValueError, match="between 1 and 72") as info:
        ex.chapter_split(data, n_train=100, element="TMIN")
    assert "year 1900 has 73 days with TMIN" in str(info.value)
    split = ex.chapter_split(data, n_train=50, element="tmin")
    assert len(split.x_train) == 50 and len(split.x_test) == 23
    assert set(split.x_train) | set(split.x_test) == set(np.arange(0.0, 365.0, 5.0))
    n = split.x_train.astype(int)
    np.testing.assert_allclose(split.y_train, [(tmax_tenths(k) - 80) / 10 for k in n])


def mse_block(text, route):
    """(training MSE, test MSE) as printed in the [route] block, or None if it printed none."""
    block = text.split(f"[{route}]")[1].split("\n[")[0]
    if "training MSE" not in block:
        return None
    return tuple(float(block.split(f"{k} MSE : ")[1].split()[0]) for k in ("training", "test"))


def test_command_runs_the_three_routes_and_writes_the_figure(tmp_path, capsys):
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    out = tmp_path / "figures"
    assert cli.main(["--data", str(csv), "--iterations", "300", "--full", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    out = out / "chapter_fit.png"
    assert text.endswith(f"figure: {out}\n")
    assert text.startswith("Station GM000003342 (GM000003342.csv), TMAX, year 1900: 100 training")
    assert "speedup over explicit: backprop" in text and "compiled" in text.split("speedup")[1]
    assert "explicit vs backprop: max difference" in text
    assert out.stat().st_size > 10_000  # a real picture, not an empty file

    # the printed MSEs of every route are those of an independently fitted explicit model
    split = ex.chapter_split(load_weather_data(1900, csv))
    model = BasisFunctionRidgeRegressionGD(TanhBasis(chapter.W0), learning_rate=1e-5,
                                           num_iterations=300).fit(split.x_train, split.y_train)
    expected = (model.mse(split.x_train, split.y_train), model.mse(split.x_test, split.y_test))
    for route in ("explicit", "backprop", "compiled"):
        assert mse_block(text, route) == pytest.approx(expected, abs=1e-4), route


def test_command_with_one_route(tmp_path, capsys):
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    assert cli.main(["--data", str(csv), "--iterations", "10", "--routes", "backprop",
                     "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "[backprop]" in text and "[explicit]" not in text and "speedup" not in text


def test_a_slow_route_is_timed_on_fewer_steps_and_says_so(tmp_path, capsys):
    """With a tiny budget the explicit route stops early, prints no MSEs and says how many steps
    it ran; the compiled route always runs to completion and prints the MSEs."""
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    assert cli.main(["--data", str(csv), "--iterations", "20000", "--budget", "0.05",
                     "--routes", "explicit", "compiled", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert mse_block(text, "explicit") is None and mse_block(text, "compiled") is not None
    explicit = text.split("[explicit]")[1].split("[compiled]")[0]
    steps = int(explicit.split("timed on ")[1].split(" of 20,000")[0].replace(",", ""))
    assert 3_000 <= steps < 20_000 and "--full runs every route" in explicit  # >= the probe


def test_show_code_prints_the_compiled_program(capsys):
    assert cli.main(["--show-code"]) == 0
    source = capsys.readouterr().out
    assert source.startswith("def ridge_regression_loss_value_and_grad(W, w, X, y, ridge,")
    assert source.count("np.tanh(") == 1  # the forward pass once, no recomputation
    assert "W float64 (2, 3), w float64 (3,), X float64 (100, 1)" in source


def test_command_reports_missing_data_clearly(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "GM000003342.csv.gz"
    assert cli.main(["--data", str(missing), "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "nowhere" in err


def test_command_downloads_another_station_and_fits_its_tmin(tmp_path, monkeypatch, capsys,
                                                             offline):
    requested = serve(monkeypatch, year_csv_text(station=OTHER_STATION))
    assert cli.main(["--station", OTHER_STATION.lower(), "--element", "tmin", "--iterations",
                     "200", "--routes", "explicit", "--out", str(tmp_path)]) == 0
    out = tmp_path / "chapter_fit.png"
    captured = capsys.readouterr()
    assert requested == [weather.DOWNLOAD_URL.format(station=OTHER_STATION)]
    assert (offline / f"{OTHER_STATION}.csv.gz").is_file()
    assert "downloading" in captured.err and "MB received" in captured.err
    assert captured.out.startswith(f"Station {OTHER_STATION} ({OTHER_STATION}.csv.gz), TMIN, "
                                   f"year 1900: 100 training / 265 test days")
    assert out.stat().st_size > 10_000

    # the MSEs printed are those of the TMIN series (TMAX - 8 degrees), split as the chapter does
    x = np.arange(365.0)
    y = np.array([(tmax_tenths(n) - 80) / 10 for n in range(365)])
    idx = np.random.RandomState(chapter.SEED).permutation(365)
    train, test = idx[:100], idx[100:]
    model = BasisFunctionRidgeRegressionGD(TanhBasis(chapter.W0), learning_rate=1e-5,
                                           num_iterations=200).fit(x[train], y[train])
    assert f"training MSE : {model.mse(x[train], y[train]):.4f}" in captured.out
    assert f"test MSE : {model.mse(x[test], y[test]):.4f}" in captured.out

    # the second run reads the cache
    monkeypatch.setattr(weather, "_urlopen", lambda *a, **k: pytest.fail("downloaded twice"))
    assert cli.main(["--station", OTHER_STATION, "--iterations", "1", "--routes", "explicit",
                     "--out", str(tmp_path)]) == 0
    assert f"Station {OTHER_STATION} ({OTHER_STATION}.csv.gz), TMAX" in capsys.readouterr().out


def test_command_too_few_days_fails_before_fitting(tmp_path, monkeypatch, capsys):
    path = tmp_path / "GM000003342.csv"
    path.write_text(year_csv_text(tmin_every=5))  # 73 TMIN days
    monkeypatch.setattr(ex, "fit_chapter_model", lambda *a, **k: pytest.fail("fitted anyway"))
    assert cli.main(["--data", str(path), "--element", "TMIN", "--n-train", "100",
                     "--out", str(tmp_path / "figures")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not (tmp_path / "figures").exists()
    for part in ("error:", "station GM000003342", "year 1900", "73 days with TMIN",
                 "n_train = 100"):
        assert part in captured.err


def test_command_unknown_station(monkeypatch, capsys):
    def not_found(url, timeout):
        raise urllib.error.HTTPError(url, 404, "Not Found", hdrs=None, fp=None)

    monkeypatch.setattr(weather, "_urlopen", not_found)
    assert cli.main(["--station", "XX000000000", "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "error: NOAA has no station XX000000000" in err
    assert weather.DOWNLOAD_URL.format(station="XX000000000") in err

    assert cli.main(["--station", "Potsdam", "--iterations", "1"]) == 2
    assert "error: invalid GHCN-Daily station id 'Potsdam'" in capsys.readouterr().err


def test_command_offline_says_where_to_put_the_file(monkeypatch, capsys, offline):
    def no_route(url, timeout):
        raise urllib.error.URLError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(weather, "_urlopen", no_route)
    assert cli.main(["--station", OTHER_STATION, "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert "Network is unreachable" in err
    assert str(offline / f"{OTHER_STATION}.csv.gz") in err and weather.ENV_VAR in err


def test_command_rejects_other_elements(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--element", "PRCP"])
    assert info.value.code == 2 and "--element" in capsys.readouterr().err


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_on_a_terminal_and_silence_elsewhere():
    X, y = np.arange(5.0), np.ones(5)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(chapter.W0))
    model.w = np.zeros(3)
    term = FakeTerminal()
    ex.ProgressLine("explicit", 100, X, y, stream=term)(50, model)
    shown = term.getvalue()
    assert "iteration" in shown and "50/100" in shown and "ETA" in shown
    assert f"{model.loss(X, y):9.4f}" in shown
    quiet = io.StringIO()
    ex.ProgressLine("explicit", 100, X, y, stream=quiet)(50, model)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("route, backend", [
    pytest.param("explicit", "numpy", marks=pytest.mark.long(140)),
    pytest.param("compiled", "numpy", marks=pytest.mark.long(40)),
    pytest.param("compiled", "jax", marks=pytest.mark.long(8)),
])
def test_chapter_numbers_on_the_real_station_file(route, backend):
    """Year 1900, 100 training days, seed 2, 1,000,000 steps: the chapter's 20.0247 / 20.5147,
    from the station file shipped in the package (no $CHAINRULE_DATA, no cache, no network),
    by the chapter's own route and, compiled, by both backends. (The eager tape's million
    steps take about 6 minutes on 2 cores: `python -m chainrule --full` runs them; the test
    below checks that it walks the compiled route's path.)"""
    data = load_weather_data(1900)
    assert data.source == Path(chainrule.__file__).resolve().parent / "datasets" / \
        "GM000003342.dly.gz"
    result = ex.fit_chapter_model(ex.chapter_split(data), route, backend=backend)
    assert result.iterations == chapter.ITERATIONS == 1_000_000
    assert f"{result.train_mse:.4f}" == "20.0247"  # the chapter's printed numbers, as strings
    assert f"{result.test_mse:.4f}" == "20.5147"


def test_the_eager_tape_walks_the_compiled_routes_path_on_the_station_file():
    """10,000 of the chapter's steps on the real split: the eager tape's parameters and MSEs
    agree with the compiled route's to 1e-10 relative (they round differently, by a few ulps
    per step), and the fit has moved away from W0."""
    split = ex.chapter_split(load_weather_data(1900))
    eager, compiled = (ex.fit_chapter_model(split, route, 10_000)
                       for route in ("backprop", "compiled"))
    for a, b in ((eager.model.basis_function.W, compiled.model.basis_function.W),
                 (eager.model.w, compiled.model.w)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=0)
    assert not np.allclose(eager.model.basis_function.W, chapter.W0)
    assert eager.train_mse == pytest.approx(compiled.train_mse, rel=1e-10)
    assert eager.test_mse == pytest.approx(compiled.test_mse, rel=1e-10)
