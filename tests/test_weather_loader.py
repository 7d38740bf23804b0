"""Tests of the GHCN-Daily weather loader (chainrule.weather).

Every test writes its own tiny synthetic files or reads the station file shipped in the
package; none touches the network (an autouse fixture replaces the downloader and points the
cache at an empty private folder). One test compares the shipped file with NOAA's raw file
when that lies beside the checkout (../shared/datasets, present in CI) and is skipped otherwise.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule
from chainrule import weather
from chainrule.weather import (
    WeatherData,
    WeatherDataError,
    WeatherDataUnavailable,
    find_weather_file,
    load_weather_data,
    read_weather_file,
)

STATION = "GM000003342"
OTHER_STATION = "USW00094728"  # New York Central Park: never shipped, always downloaded
# sha256 of NOAA's GM000003342.dly as shipped (decompressed), as in chainrule/datasets/README.md
BUNDLED_DLY_SHA256 = "3937f6499398551f7acd702001abea30c0296e8354b0bb4b213eaee6b96f64a4"
# Written out independently of the loader, which finds it through importlib.resources.
BUNDLED = Path(chainrule.__file__).resolve().parent / "datasets" / f"{STATION}.dly.gz"
SHARED_DLY = Path(__file__).resolve().parents[2] / "shared" / "datasets" / f"{STATION}.dly"


# --------------------------------------------------------------------------- helpers


def csv_line(
    day: str, element: str, value: int | str, qflag: str = "", station: str = STATION
) -> str:
    return f"{station},{day},{element},{value},,{qflag},E,"


def write_csv(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode("ascii")
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def dly_line(
    year: int,
    month: int,
    element: str,
    values: dict[int, int | tuple[int, str]],
    station: str = STATION,
) -> str:
    """One 269-character .dly line; ``values`` maps day -> value or (value, qflag)."""
    out = f"{station}{year:04d}{month:02d}{element}"
    for day in range(1, 32):
        item = values.get(day, -9999)
        value, qflag = item if isinstance(item, tuple) else (item, " ")
        out += f"{value:5d} {qflag}{'E' if value != -9999 else ' '}"
    assert len(out) == 269
    return out


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def small_csv_lines(station: str = STATION) -> list[str]:
    """Three January 1900 days, all three elements, plus an ignored element."""
    rows = [
        ("19000101", "TMAX", 12),
        ("19000101", "TMIN", -31),
        ("19000101", "PRCP", 5),
        ("19000101", "SNWD", 40),
        ("19000102", "TMAX", 20),
        ("19000102", "TMIN", -5),
        ("19000102", "PRCP", 0),
        ("19000103", "TMAX", -7),
        ("19000103", "TMIN", -70),
        ("19000103", "PRCP", 113),
    ]
    return [csv_line(day, element, value, station=station) for day, element, value in rows]


def small_dly_lines() -> list[str]:
    return [
        dly_line(1900, 1, "TMAX", {1: 12, 2: 20, 3: -7}),
        dly_line(1900, 1, "TMIN", {1: -31, 2: -5, 3: -70}),
        dly_line(1900, 1, "PRCP", {1: 5, 2: 0, 3: 113}),
        dly_line(1900, 1, "SNWD", {1: 40}),
    ]


def assert_same(a: WeatherData, b: WeatherData) -> None:
    np.testing.assert_array_equal(a.dates, b.dates)
    for name in ("days", "tmax", "tmin", "prcp"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.station == b.station


pytestmark = pytest.mark.usefixtures("offline")  # every test here (tests/conftest.py)


# --------------------------------------------------------------------------- formats


def test_csv_values_units_and_dates(tmp_path):
    w = load_weather_data(path=write_csv(tmp_path / "s.csv", small_csv_lines()))
    np.testing.assert_array_equal(
        w.dates, np.array(["1900-01-01", "1900-01-02", "1900-01-03"], dtype="datetime64[D]")
    )
    assert w.dates.dtype == np.dtype("datetime64[D]")
    np.testing.assert_array_equal(w.days, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(w.tmax, [1.2, 2.0, -0.7])
    np.testing.assert_allclose(w.tmin, [-3.1, -0.5, -7.0])
    np.testing.assert_allclose(w.prcp, [0.5, 0.0, 11.3])
    for name in ("days", "tmax", "tmin", "prcp"):
        assert getattr(w, name).dtype == np.float64
    assert w.station == STATION
    assert w.source == tmp_path / "s.csv"
    assert len(w) == 3


def test_csv_gz_and_dly_give_the_same_arrays(tmp_path):
    plain = load_weather_data(path=write_csv(tmp_path / "a.csv", small_csv_lines()))
    gz = load_weather_data(path=write_csv(tmp_path / "a.csv.gz", small_csv_lines()))
    dly = load_weather_data(path=write_lines(tmp_path / "a.dly", small_dly_lines()))
    assert_same(plain, gz)
    assert_same(plain, dly)


def test_dly_gz_loads_like_dly(tmp_path, monkeypatch):
    dly = write_lines(tmp_path / f"{STATION}.dly", small_dly_lines())
    gz_folder = tmp_path / "gz"
    gz_folder.mkdir()
    dly_gz = gz_folder / f"{STATION}.dly.gz"
    dly_gz.write_bytes(gzip.compress(dly.read_bytes()))
    reference = load_weather_data(path=dly)
    np.testing.assert_allclose(reference.tmax, [1.2, 2.0, -0.7])
    from_gz = load_weather_data(path=dly_gz)
    assert_same(reference, from_gz)
    assert from_gz.source == dly_gz
    assert load_weather_data(path=gz_folder).source == dly_gz  # found in a folder
    monkeypatch.setenv(weather.ENV_VAR, str(gz_folder))  # and through $CHAINRULE_DATA
    assert load_weather_data().source == dly_gz
    # a .dly.gz whose first line is too short is still read as .dly (by its name), so the
    # error is the .dly one, naming the file and line
    short = tmp_path / "short.dly.gz"
    short.write_bytes(gzip.compress(small_dly_lines()[0][:-1].encode() + b"\n"))
    with pytest.raises(WeatherDataError, match=r"short.dly.gz, line 1: a .dly line must be 269"):
        load_weather_data(path=short)


def test_format_is_detected_by_content_not_name(tmp_path):
    reference = load_weather_data(path=write_csv(tmp_path / "a.csv", small_csv_lines()))
    gz_named_txt = write_csv(tmp_path / "b.gz", small_csv_lines()).rename(tmp_path / "b.txt")
    dly_named_csv = write_lines(tmp_path / "c.csv", small_dly_lines())
    assert_same(reference, load_weather_data(path=gz_named_txt))
    assert_same(reference, load_weather_data(path=dly_named_csv))


def test_crlf_line_endings_and_blank_lines(tmp_path):
    p = tmp_path / "crlf.csv"
    p.write_bytes(("\r\n".join(small_csv_lines()) + "\r\n\r\n").encode())
    d = tmp_path / "crlf.dly"
    d.write_bytes(("\r\n".join(small_dly_lines()) + "\r\n").encode())
    assert_same(load_weather_data(path=p), load_weather_data(path=d))


def test_missing_value_minus_9999_is_nan(tmp_path):
    lines = small_csv_lines()
    lines[4] = csv_line("19000102", "TMAX", -9999)
    w = load_weather_data(path=write_csv(tmp_path / "m.csv", lines))
    assert np.isnan(w.tmax[1]) and w.tmin[1] == -0.5


# --------------------------------------------------------------------------- alignment


def test_gap_in_one_element_does_not_shift_the_others(tmp_path):
    # TMAX has no record on 2 January; TMIN and PRCP have all three days.
    lines = [line for line in small_csv_lines() if not line.startswith(f"{STATION},19000102,TMAX")]
    path = write_csv(tmp_path / "gap.csv", lines)

    # The chapter's old loader: one list per element, zipped by position.
    per_element: dict[str, list[float]] = {"TMAX": [], "TMIN": []}
    for line in lines:
        f = line.split(",")
        if f[2] in per_element:
            per_element[f[2]].append(int(f[3]) / 10)
    zipped = list(zip(per_element["TMAX"], per_element["TMIN"], strict=False))
    # ... pairs 3 January's TMAX (-0.7) with 2 January's TMIN (-0.5): wrong.
    assert zipped[1] == (-0.7, -0.5)

    w = load_weather_data(path=path)
    np.testing.assert_array_equal(w.days, [0.0, 1.0, 2.0])
    assert w.tmax[0] == 1.2 and np.isnan(w.tmax[1]) and w.tmax[2] == -0.7
    np.testing.assert_allclose(w.tmin, [-3.1, -0.5, -7.0])
    np.testing.assert_allclose(w.prcp, [0.5, 0.0, 11.3])
    days, tmax = w.xy("tmax")
    np.testing.assert_array_equal(days, [0.0, 2.0])
    np.testing.assert_allclose(tmax, [1.2, -0.7])


def test_date_with_only_one_element_is_kept(tmp_path):
    lines = small_csv_lines() + [csv_line("19000105", "PRCP", 7)]
    w = load_weather_data(path=write_csv(tmp_path / "one.csv", lines))
    assert w.dates[-1] == np.datetime64("1900-01-05") and w.days[-1] == 4.0
    assert np.isnan(w.tmax[-1]) and np.isnan(w.tmin[-1]) and w.prcp[-1] == 0.7
    assert np.datetime64("1900-01-04") not in w.dates


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drop_tmax=st.sets(st.integers(0, 59), max_size=40),
    drop_prcp=st.sets(st.integers(0, 59), max_size=40),
    shuffle=st.randoms(use_true_random=False),
)
def test_property_random_gaps_never_shift_other_elements(tmp_path, drop_tmax, drop_prcp, shuffle):
    start = dt.date(1901, 1, 1)
    truth: dict[tuple[str, dt.date], int] = {}
    lines = []
    for i in range(60):
        day = start + dt.timedelta(days=i)
        for element, value in (("TMAX", 100 + i), ("TMIN", -i), ("PRCP", 3 * i)):
            if (element == "TMAX" and i in drop_tmax) or (element == "PRCP" and i in drop_prcp):
                continue
            truth[(element, day)] = value
            lines.append(csv_line(day.strftime("%Y%m%d"), element, value))
    shuffle.shuffle(lines)  # order of lines must not matter either
    w = load_weather_data(1901, path=write_csv(tmp_path / "prop.csv", lines))

    assert len(w) == 60  # TMIN is complete, so every date is present
    for k, date in enumerate(w.dates.astype(object)):
        assert w.days[k] == (date - start).days
        for element in ("TMAX", "TMIN", "PRCP"):
            got = getattr(w, element.lower())[k]
            expected = truth.get((element, date))
            if expected is None:
                assert np.isnan(got)
            else:
                assert got == expected / 10
    days, tmax = w.xy("tmax")
    assert len(days) == 60 - len(drop_tmax)
    np.testing.assert_array_equal(tmax, (100 + days) / 10)


# --------------------------------------------------------------------------- flags, years


def test_quality_flag_dropped_by_default_and_kept_on_request(tmp_path):
    lines = small_csv_lines()
    lines[5] = csv_line("19000102", "TMIN", -5, qflag="S")
    path = write_csv(tmp_path / "q.csv", lines)
    dropped = load_weather_data(path=path)
    kept = load_weather_data(path=path, keep_flagged=True)
    assert np.isnan(dropped.tmin[1]) and kept.tmin[1] == -0.5
    np.testing.assert_array_equal(dropped.dates, kept.dates)  # the date itself stays
    assert dropped.tmax[1] == kept.tmax[1] == 2.0


def test_quality_flag_in_dly(tmp_path):
    lines = small_dly_lines()
    lines[1] = dly_line(1900, 1, "TMIN", {1: -31, 2: (-5, "S"), 3: -70})
    path = write_lines(tmp_path / "q.dly", lines)
    assert np.isnan(load_weather_data(path=path).tmin[1])
    assert load_weather_data(path=path, keep_flagged=True).tmin[1] == -0.5


def test_year_selection_and_day_origin(tmp_path):
    lines = [
        csv_line("18991230", "TMAX", 1),
        csv_line("18991231", "TMAX", 2),
        csv_line("19000101", "TMAX", 3),
        csv_line("19001231", "TMAX", 4),
        csv_line("19010101", "TMAX", 5),
    ]
    path = write_csv(tmp_path / "y.csv", lines)
    w1900 = load_weather_data(1900, path)
    np.testing.assert_array_equal(w1900.days, [0.0, 364.0])
    np.testing.assert_allclose(w1900.tmax, [0.3, 0.4])
    everything = load_weather_data(path=path)  # days count from 1 Jan 1899
    np.testing.assert_array_equal(everything.days, [363.0, 364.0, 365.0, 729.0, 730.0])


def test_empty_year_names_year_file_and_range(tmp_path):
    path = write_csv(tmp_path / "few.csv", small_csv_lines() + [csv_line("19020101", "TMIN", 1)])
    with pytest.raises(WeatherDataError) as info:
        load_weather_data(1950, path)
    message = str(info.value)
    assert "1950" in message and "few.csv" in message and "1900-1902" in message


def test_file_without_wanted_elements(tmp_path):
    path = write_csv(tmp_path / "snow.csv", [csv_line("19000101", "SNWD", 3)])
    with pytest.raises(WeatherDataError, match="no TMAX/TMIN/PRCP data"):
        load_weather_data(path=path)


def test_year_must_be_an_int(tmp_path):
    path = write_csv(tmp_path / "s.csv", small_csv_lines())
    with pytest.raises(TypeError):
        load_weather_data("1900", path)  # type: ignore[arg-type]


def test_result_is_frozen_and_read_only(tmp_path):
    w = load_weather_data(path=write_csv(tmp_path / "s.csv", small_csv_lines()))
    with pytest.raises(AttributeError):
        w.tmax = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError):
        w.tmax[0] = 0.0
    days, values = w.xy("TMAX")
    values[0] = 99.0  # xy returns copies
    assert w.tmax[0] == 1.2
    with pytest.raises(ValueError, match="element"):
        w.xy("snwd")


# --------------------------------------------------------------------------- malformed


def _replace(lines: list[str], index: int, new: str) -> list[str]:
    out = list(lines)
    out[index] = new
    return out


CSV_CASES = {
    "field count": (_replace(small_csv_lines(), 4, f"{STATION},19000102,TMAX,20,,,E"), 5),
    "non-numeric": (_replace(small_csv_lines(), 4, csv_line("19000102", "TMAX", "2O")), 5),
    "empty value": (_replace(small_csv_lines(), 4, csv_line("19000102", "TMAX", "")), 5),
    "feb 30": (_replace(small_csv_lines(), 6, csv_line("19000230", "PRCP", 1)), 7),
    "month 13": (_replace(small_csv_lines(), 6, csv_line("19001301", "PRCP", 1)), 7),
    "short date": (_replace(small_csv_lines(), 6, csv_line("1900-1-2", "PRCP", 1)), 7),
    "lowercase element": (_replace(small_csv_lines(), 8, csv_line("19000103", "tmin", 1)), 9),
    "garbage element": (_replace(small_csv_lines(), 8, csv_line("19000103", "T#IN", 1)), 9),
    "long element": (_replace(small_csv_lines(), 8, csv_line("19000103", "TMINX", 1)), 9),
    "duplicate": (small_csv_lines() + [csv_line("19000102", "TMAX", 21)], 11),
    "second station": (
        _replace(small_csv_lines(), 2, csv_line("19000101", "PRCP", 5, "", "GM000000001")),
        3,
    ),
    "long flag": (_replace(small_csv_lines(), 2, csv_line("19000101", "PRCP", 5, "SS")), 3),
}


def assert_error_names_file_and_line(path, lineno):
    """Loading `path` raises WeatherDataError naming the file and the line, also as attributes."""
    with pytest.raises(WeatherDataError) as info:
        load_weather_data(path=path)
    assert path.name in str(info.value)
    assert f"line {lineno}:" in str(info.value)
    assert info.value.lineno == lineno and info.value.path == path


@pytest.mark.parametrize("case", sorted(CSV_CASES))
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_malformed_csv_names_file_and_line(tmp_path, case, suffix):
    lines, lineno = CSV_CASES[case]
    path = write_csv(tmp_path / f"bad_{case.replace(' ', '_')}{suffix}", lines)
    assert_error_names_file_and_line(path, lineno)


def test_identical_duplicate_is_accepted(tmp_path):
    lines = small_csv_lines() + [csv_line("19000102", "TMAX", 20)]
    w = load_weather_data(path=write_csv(tmp_path / "dup.csv", lines))
    assert w.tmax[1] == 2.0 and len(w) == 3


def test_duplicate_message_points_to_both_lines(tmp_path):
    path = write_csv(tmp_path / "dup.csv", small_csv_lines() + [csv_line("19000102", "TMAX", 21)])
    with pytest.raises(WeatherDataError, match=r"line 11: duplicate TMAX for 1900-01-02.*line 5"):
        load_weather_data(path=path)


def _dly_with_value_text(text: str) -> str:
    line = dly_line(1900, 1, "TMAX", {1: 12})
    return line[:21] + text + line[26:]


DLY_CASES = {
    "short line": (_replace(small_dly_lines(), 1, small_dly_lines()[1][:-1]), 2),
    "long line": (_replace(small_dly_lines(), 1, small_dly_lines()[1] + " "), 2),
    "non-numeric": (_replace(small_dly_lines(), 0, _dly_with_value_text("  1x2")), 1),
    "blank value": (_replace(small_dly_lines(), 0, _dly_with_value_text("     ")), 1),
    "month 13": (_replace(small_dly_lines(), 2, dly_line(1900, 13, "PRCP", {1: 5})), 3),
    "month 00": (_replace(small_dly_lines(), 2, dly_line(1900, 0, "PRCP", {1: 5})), 3),
    "day 31 of april": (small_dly_lines() + [dly_line(1900, 4, "TMAX", {30: 1, 31: 2})], 5),
    "feb 29 1900": (small_dly_lines() + [dly_line(1900, 2, "TMIN", {29: 2})], 5),
    "lowercase element": (_replace(small_dly_lines(), 3, dly_line(1900, 1, "snwd", {1: 4})), 4),
    "duplicate": (small_dly_lines() + [dly_line(1900, 1, "TMAX", {3: -6})], 5),
}


@pytest.mark.parametrize("case", sorted(DLY_CASES))
def test_malformed_dly_names_file_and_line(tmp_path, case):
    lines, lineno = DLY_CASES[case]
    path = write_lines(tmp_path / f"bad_{case.replace(' ', '_')}.dly", lines)
    assert_error_names_file_and_line(path, lineno)


def test_dly_leap_day_and_ignored_trailing_missing_days(tmp_path):
    lines = [dly_line(1904, 2, "TMAX", {28: 1, 29: 2}), dly_line(1904, 4, "TMAX", {30: 3})]
    w = load_weather_data(path=write_lines(tmp_path / "leap.dly", lines))
    np.testing.assert_array_equal(
        w.dates, np.array(["1904-02-28", "1904-02-29", "1904-04-30"], dtype="datetime64[D]")
    )
    np.testing.assert_array_equal(w.days, [58.0, 59.0, 120.0])


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "cut.csv.gz"
    full = gzip.compress(("\n".join(small_csv_lines() * 50) + "\n").encode())
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(WeatherDataError, match="cut.csv.gz.*(truncated|corrupt)"):
        load_weather_data(path=path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "junk.csv.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    with pytest.raises(WeatherDataError, match="junk.csv.gz"):
        load_weather_data(path=path)


def test_empty_and_unrecognised_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(WeatherDataError, match="empty.csv.*empty"):
        load_weather_data(path=empty)
    other = write_lines(tmp_path / "notes.txt", ["hello world"])
    with pytest.raises(WeatherDataError, match="notes.txt, line 1: unrecognised format"):
        load_weather_data(path=other)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"GM000003342,19000101,TMAX,1,,,E,\n\xff\xfe\n")
    with pytest.raises(WeatherDataError, match="bin.csv, line 2"):
        load_weather_data(path=binary)


def test_station_mismatch(tmp_path):
    path = write_csv(
        tmp_path / "other.csv", [csv_line("19000101", "TMAX", 1, station="USW00094728")]
    )
    with pytest.raises(WeatherDataError, match="USW00094728.*GM000003342"):
        load_weather_data(path=path)
    w = load_weather_data(path=path, station="USW00094728")
    assert w.station == "USW00094728"
    assert read_weather_file(path, station=None).station == "USW00094728"


# --------------------------------------------------------------------------- locating


def test_path_may_be_a_folder_and_prefers_csv_gz(tmp_path):
    # preference inside a folder: .csv.gz, .csv, .dly.gz, .dly
    write_lines(tmp_path / f"{STATION}.dly", small_dly_lines())
    assert load_weather_data(path=tmp_path).source.name == f"{STATION}.dly"
    (tmp_path / f"{STATION}.dly.gz").write_bytes(gzip.compress(b"\n".join(
        line.encode() for line in small_dly_lines())))
    assert load_weather_data(path=tmp_path).source.name == f"{STATION}.dly.gz"
    write_csv(tmp_path / f"{STATION}.csv", small_csv_lines())
    assert load_weather_data(path=tmp_path).source.name == f"{STATION}.csv"
    write_csv(tmp_path / f"{STATION}.csv.gz", small_csv_lines())
    assert load_weather_data(path=tmp_path).source.name == f"{STATION}.csv.gz"


def test_missing_explicit_path_raises_without_download(tmp_path, monkeypatch, offline):
    calls = []
    monkeypatch.setattr(weather, "_urlopen", lambda *a, **k: calls.append(a))
    with pytest.raises(WeatherDataUnavailable, match="does not exist"):
        load_weather_data(path=tmp_path / "nope.csv.gz")
    with pytest.raises(WeatherDataUnavailable, match=rf"holds none of .*{STATION}\.dly\.gz"):
        load_weather_data(path=tmp_path)  # an existing folder without the file
    assert calls == []
    assert not offline.exists()  # nothing was created in the cache either
    assert issubclass(WeatherDataUnavailable, FileNotFoundError)


def test_bundled_file_is_noaas_file_unchanged():
    data = BUNDLED.read_bytes()
    assert hashlib.sha256(gzip.decompress(data)).hexdigest() == BUNDLED_DLY_SHA256
    # made with gzip -n: no file name (FLG bit 3) and no time stamp (MTIME) in the header
    assert data[:3] == b"\x1f\x8b\x08" and not data[3] & 0x08 and data[4:8] == b"\0\0\0\0"
    readme = (BUNDLED.parent / "README.md").read_text(encoding="utf-8")
    assert BUNDLED_DLY_SHA256 in readme and "1893-01 .. 2025-12" in readme


def test_bundled_file_is_found_with_nothing_else_set(offline):
    assert weather.bundled_file() == BUNDLED
    w = load_weather_data(1900)  # no path, no $CHAINRULE_DATA, empty cache, no network
    assert w.source == BUNDLED and w.station == STATION
    assert not offline.exists()  # the cache was neither needed nor created
    # the chapter's year: every day has a TMAX; first and last values read off NOAA's lines
    # GM000003342190001TMAX (day 1: 28, day 2: 18) and ...190012TMAX (day 31: -14)
    assert len(w) == 365 and not np.isnan(w.tmax).any()
    np.testing.assert_array_equal(w.days, np.arange(365.0))
    assert w.dates[0] == np.datetime64("1900-01-01")
    assert (w.tmax[0], w.tmax[1], w.tmax[-1]) == (2.8, 1.8, -1.4)
    everything = load_weather_data()
    assert everything.dates[0] == np.datetime64("1893-01-01")
    assert everything.dates[-1] == np.datetime64("2025-12-31")


def test_resolution_order_for_the_default_station(tmp_path, monkeypatch, offline):
    """path > $CHAINRULE_DATA > the bundled file > the cache > a download."""
    in_path = write_csv(tmp_path / "arg.csv", small_csv_lines())
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    in_env = write_lines(env_dir / f"{STATION}.dly", small_dly_lines())
    offline.mkdir(parents=True)
    in_cache = write_csv(offline / f"{STATION}.csv", small_csv_lines())

    assert find_weather_file(download=False) == BUNDLED  # the bundled file beats the cache
    monkeypatch.setenv(weather.ENV_VAR, str(env_dir))
    assert find_weather_file(download=False) == in_env
    monkeypatch.setenv(weather.ENV_VAR, str(in_env))  # the variable may name the file
    assert find_weather_file(download=False) == in_env
    assert find_weather_file(in_path, download=False) == in_path
    monkeypatch.delenv(weather.ENV_VAR)
    # a package without its data file (say, a hand-made copy) falls back to the cache ...
    monkeypatch.setattr(weather, "bundled_file", lambda station=STATION: None)
    assert load_weather_data(download=False).source == in_cache
    # ... and then to a download
    in_cache.unlink()
    payload = gzip.compress(("\n".join(small_csv_lines()) + "\n").encode())
    monkeypatch.setattr(weather, "_urlopen", lambda url, timeout: FakeResponse(payload))
    assert load_weather_data().source == offline / f"{STATION}.csv.gz"


def test_other_stations_skip_the_bundled_file(tmp_path, monkeypatch, offline):
    assert weather.bundled_file(OTHER_STATION) is None
    with pytest.raises(WeatherDataUnavailable, match=OTHER_STATION):
        find_weather_file(station=OTHER_STATION, download=False)
    offline.mkdir(parents=True)
    in_cache = write_csv(offline / f"{OTHER_STATION}.csv", small_csv_lines(OTHER_STATION))
    w = load_weather_data(station=OTHER_STATION, download=False)
    assert w.source == in_cache and w.station == OTHER_STATION
    np.testing.assert_allclose(w.tmax, [1.2, 2.0, -0.7])
    env_file = write_csv(tmp_path / "mine.csv", small_csv_lines(OTHER_STATION))
    monkeypatch.setenv(weather.ENV_VAR, str(env_file))  # $CHAINRULE_DATA still comes first
    assert find_weather_file(station=OTHER_STATION) == env_file


def test_bad_env_var_does_not_fall_back_to_bundled_or_cache(tmp_path, monkeypatch, offline):
    offline.mkdir(parents=True)
    write_csv(offline / f"{STATION}.csv", small_csv_lines())
    monkeypatch.setenv(weather.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(WeatherDataUnavailable, match=weather.ENV_VAR):
        load_weather_data()


def test_nothing_found_without_download_says_where_to_put_it(offline):
    with pytest.raises(WeatherDataUnavailable) as info:
        load_weather_data(station=OTHER_STATION, download=False)
    message = str(info.value)
    assert str(offline / f"{OTHER_STATION}.csv.gz") in message
    assert weather.ENV_VAR in message and weather.CACHE_ENV_VAR in message
    assert weather.DOWNLOAD_URL.format(station=OTHER_STATION) in message
    assert not offline.exists()


def test_cache_dir_rules(tmp_path, monkeypatch):
    for name in (weather.CACHE_ENV_VAR, "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))  # what Path.home() reads on Windows
    if os.name != "nt":
        assert weather.cache_dir() == tmp_path / "home" / ".cache" / "chainrule"
        monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))  # only read on Windows
        assert weather.cache_dir() == tmp_path / "home" / ".cache" / "chainrule"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG spec: ignore it
        assert weather.cache_dir() == tmp_path / "home" / ".cache" / "chainrule"
    else:
        monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
        assert weather.cache_dir() == tmp_path / "local" / "chainrule"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weather.cache_dir() == tmp_path / "xdg" / "chainrule"
    monkeypatch.setenv(weather.CACHE_ENV_VAR, str(tmp_path / "mine"))  # beats XDG_CACHE_HOME
    assert weather.cache_dir() == tmp_path / "mine"
    monkeypatch.setenv(weather.CACHE_ENV_VAR, "~/elsewhere")
    assert weather.cache_dir() == tmp_path / "home" / "elsewhere"
    assert not any(tmp_path.iterdir())  # asking for the folder creates nothing


def test_cache_dir_is_outside_the_package(monkeypatch):
    monkeypatch.delenv(weather.CACHE_ENV_VAR, raising=False)
    package = BUNDLED.parent.parent
    assert package != weather.cache_dir() and package not in weather.cache_dir().parents


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_success_writes_the_cache_atomically(monkeypatch, offline, capsys):
    payload = gzip.compress(("\n".join(small_csv_lines(OTHER_STATION)) + "\n").encode())
    requested = []

    def fake_urlopen(url, timeout):
        requested.append((url, timeout))
        return FakeResponse(payload)

    monkeypatch.setattr(weather, "_urlopen", fake_urlopen)
    w = load_weather_data(1900, station=OTHER_STATION)
    target = offline / f"{OTHER_STATION}.csv.gz"
    assert w.source == target and target.read_bytes() == payload
    assert sorted(p.name for p in offline.iterdir()) == [target.name]  # no temporary left
    url = weather.DOWNLOAD_URL.format(station=OTHER_STATION)
    assert requested == [(url, weather.DOWNLOAD_TIMEOUT)]
    err = capsys.readouterr().err
    assert f"downloading {url}" in err and str(target) in err
    assert f"{len(payload) / 1e6:.1f} MB received" in err and "download complete" in err
    np.testing.assert_allclose(w.tmax, [1.2, 2.0, -0.7])

    # Second call: served from the cache, no download.
    monkeypatch.setattr(weather, "_urlopen", lambda *a, **k: pytest.fail("downloaded twice"))
    assert load_weather_data(1900, station=OTHER_STATION).source == target


def test_download_failure_is_a_clear_error(monkeypatch, offline):
    def unreachable(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(weather, "_urlopen", unreachable)
    with pytest.raises(WeatherDataUnavailable) as info:
        load_weather_data(1900, station=OTHER_STATION)
    message = str(info.value)
    assert "download" in message and "Temporary failure in name resolution" in message
    assert str(offline / f"{OTHER_STATION}.csv.gz") in message
    assert weather.ENV_VAR in message
    assert weather.DOWNLOAD_URL.format(station=OTHER_STATION) in message
    assert not list(offline.glob("*"))  # no partial file left behind


def http_error(code: int, reason: str):
    def raise_it(url, timeout):
        raise urllib.error.HTTPError(url, code, reason, hdrs=None, fp=None)

    return raise_it


def test_unknown_station_at_noaa_is_named(monkeypatch, offline):
    unknown = "XX000000000"
    monkeypatch.setattr(weather, "_urlopen", http_error(404, "Not Found"))
    with pytest.raises(WeatherDataUnavailable) as info:
        load_weather_data(station=unknown)
    message = str(info.value)
    assert f"NOAA has no station {unknown}" in message and "404" in message
    assert weather.DOWNLOAD_URL.format(station=unknown) in message
    assert weather.STATION_LIST_URL in message
    assert not list(offline.glob("*"))


def test_other_http_errors_are_download_failures(monkeypatch, offline):
    monkeypatch.setattr(weather, "_urlopen", http_error(503, "Service Unavailable"))
    with pytest.raises(WeatherDataUnavailable) as info:
        load_weather_data(station=OTHER_STATION)
    message = str(info.value)
    assert "HTTPError" in message and "Service Unavailable" in message
    assert "NOAA has no station" not in message and weather.ENV_VAR in message


@pytest.mark.parametrize("bad", ["GM00000334", "GM0000033420", "GM00000334-", "", "gm00000334é"])
def test_malformed_station_id_is_rejected_before_any_lookup(tmp_path, monkeypatch, bad):
    calls = []
    monkeypatch.setattr(weather, "_urlopen", lambda *a, **k: calls.append(a))
    path = write_csv(tmp_path / "s.csv", small_csv_lines())
    for kwargs in ({}, {"path": path}):
        with pytest.raises(ValueError, match="invalid GHCN-Daily station id") as info:
            load_weather_data(station=bad, **kwargs)
        assert repr(bad) in str(info.value) and "11 characters" in str(info.value)
        assert not isinstance(info.value, WeatherDataError)
    assert calls == []


def test_station_ids_are_case_insensitive(tmp_path, monkeypatch, offline):
    """NOAA writes ids in capitals; any case names the same station, everywhere."""
    lower = STATION.lower()
    assert weather.bundled_file(lower) == BUNDLED
    assert find_weather_file(station=lower, download=False) == BUNDLED
    assert_same(load_weather_data(1900, station=lower), load_weather_data(1900))
    assert load_weather_data(1900, station="Gm000003342").station == STATION
    folder = tmp_path / "data"
    folder.mkdir()
    in_folder = write_csv(folder / f"{OTHER_STATION}.csv", small_csv_lines(OTHER_STATION))
    assert find_weather_file(folder, station=OTHER_STATION.lower()) == in_folder
    assert read_weather_file(in_folder, station=OTHER_STATION.lower()).station == OTHER_STATION
    payload = gzip.compress(("\n".join(small_csv_lines(OTHER_STATION)) + "\n").encode())
    requested = []
    monkeypatch.setattr(weather, "_urlopen",
                        lambda url, timeout: requested.append(url) or FakeResponse(payload))
    w = load_weather_data(station=OTHER_STATION.lower())
    assert requested == [weather.DOWNLOAD_URL.format(station=OTHER_STATION)]
    assert w.source == offline / f"{OTHER_STATION}.csv.gz" and w.station == OTHER_STATION


@pytest.mark.parametrize(
    "payload",
    [b"<html>Not found</html>", gzip.compress(b"x" * 10_000)[:-20]],
    ids=["not-gzip", "truncated-gzip"],
)
def test_download_of_bad_content_is_rejected(monkeypatch, offline, payload):
    monkeypatch.setattr(weather, "_urlopen", lambda url, timeout: FakeResponse(payload))
    with pytest.raises(WeatherDataUnavailable, match="download"):
        load_weather_data(station=OTHER_STATION)
    assert not list(offline.glob("*"))


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(
    not SHARED_DLY.is_file(),
    reason=f"NOAA's raw {SHARED_DLY.name} is not beside the checkout ({SHARED_DLY.parent}; "
    "CI has it); the shipped copy is still checked by its sha256",
)
@pytest.mark.parametrize("keep_flagged", [False, True])
def test_raw_dly_beside_the_checkout_parses_like_the_bundled_file(keep_flagged):
    raw = load_weather_data(path=SHARED_DLY, keep_flagged=keep_flagged)  # all years
    shipped = load_weather_data(keep_flagged=keep_flagged)
    assert shipped.source == BUNDLED
    assert len(raw) > 48_000  # 1893-2025, not a stub
    assert_same(raw, shipped)
