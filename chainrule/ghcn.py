"""Reading NOAA GHCN-Daily station files: the chapter's data, parsed and aligned by date.

Two layouts are read, each plain or gzip-compressed, the format detected from the content (gzip
magic bytes, then commas or the fixed width), not trusted from the file name:

- the by-station CSV (the chapter's format, `GM000003342.csv[.gz]`), no header, one observation
  per line: `ID,YYYYMMDD,ELEMENT,VALUE,MFLAG,QFLAG,SFLAG,OBSTIME`;
- the fixed-width `.dly` file (`GM000003342.dly[.gz]`, the one shipped in the package): one line
  of 269 characters per station, month and element, holding 31 day slots of
  `VALUE(5) MFLAG(1) QFLAG(1) SFLAG(1)` (-9999: missing).

Unlike the chapter's loader, TMAX, TMIN and PRCP are aligned by date, never by position: a day
missing from one element is NaN in that element only and cannot shift the others. A malformed
file raises `WeatherDataError` naming the file and the line. Station ids are case-insensitive
(NOAA writes them in capitals). Where the file comes from is `weather.py`'s job; this module
only reads a path it is given, with numpy and the standard library.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import gzip
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import chapter

#: GHCN-Daily id of the chapter's station (Potsdam, Germany).
DEFAULT_STATION = chapter.STATION
#: NOAA's list of all GHCN-Daily station ids (named in the error for a malformed or unknown id).
STATION_LIST_URL = "https://www.ncei.noaa.gov/pub/data/ghcn/daily/ghcnd-stations.txt"
#: The elements that are loaded, in output order; any other well-formed element is ignored.
ELEMENTS = ("TMAX", "TMIN", "PRCP")

_DLY_LINE_LENGTH = 269
_MISSING = -9999
_GZIP_MAGIC = b"\x1f\x8b"
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

_ELEMENT_RE = re.compile(r"[A-Z][A-Z0-9]{3}")
_STATION_RE = re.compile(r"[A-Z0-9]{11}")
_INT_RE = re.compile(r"-?[0-9]+")


def station_id(station: str) -> str:
    """`station` in NOAA's capitals, checked to be of a GHCN-Daily id's form (11 letters and
    digits); ValueError naming the id otherwise."""
    upper = station.upper() if isinstance(station, str) else None
    if upper is None or not upper.isascii() or not _STATION_RE.fullmatch(upper):
        raise ValueError(
            f"invalid GHCN-Daily station id {station!r}: an id is 11 characters, letters A-Z "
            f"(either case) and digits 0-9 (e.g. {DEFAULT_STATION}); all ids are listed in "
            f"{STATION_LIST_URL}")
    return upper


class WeatherDataError(ValueError):
    """A weather data file is malformed (or holds no data for the request).

    The message starts with the file and, when the problem is tied to one line, the line number
    (1-based, in the decompressed text); both are also the attributes `path` and `lineno`
    (None when no line is to blame).
    """

    def __init__(self, message: str, path: Path | str, lineno: int | None = None) -> None:
        where = f"{path}, line {lineno}" if lineno is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.lineno = lineno


@dataclass(frozen=True, eq=False)
class WeatherData:
    """Daily TMAX, TMIN (degrees C) and PRCP (mm) of one station, aligned by date.

    All arrays have the same length, one entry per date on which at least one of the three
    elements has a record (a record rejected for its quality flag still counts, so `dates` does
    not depend on `keep_flagged`), and are read-only. `dates` is datetime64[D], strictly
    increasing; `days` counts float64 days from 1 January of the selected year (of the first
    year in the data when no year was selected); `tmax`, `tmin` and `prcp` are float64, NaN
    where missing. `station` is the id found in the file, `source` the file that was read.
    """

    dates: np.ndarray
    days: np.ndarray
    tmax: np.ndarray
    tmin: np.ndarray
    prcp: np.ndarray
    station: str
    source: Path

    def __len__(self) -> int:
        return int(self.dates.shape[0])

    def xy(self, element: str = "tmax") -> tuple[np.ndarray, np.ndarray]:
        """The chapter's experiment arrays (days, values) of one element ("tmax", "tmin" or
        "prcp", case-insensitive): the dates on which it is missing are dropped; a fresh pair
        of float64 arrays of equal length."""
        name = element.lower()
        if name.upper() not in ELEMENTS:
            raise ValueError(f"element must be one of {', '.join(ELEMENTS)}; got {element!r}")
        values = getattr(self, name)
        keep = ~np.isnan(values)
        return self.days[keep].copy(), values[keep].copy()


# One record: raw integer value, quality flag, line number.
_Record = tuple[int, str, int]


class _Collector:
    """Gathers the wanted records of a file and checks the station and duplicates."""

    def __init__(self, path: Path, station: str | None) -> None:
        self.path = path
        self.station = station
        self.seen_station: str | None = None
        self.records: dict[str, dict[int, _Record]] = {el: {} for el in ELEMENTS}

    def error(self, message: str, lineno: int | None = None) -> WeatherDataError:
        return WeatherDataError(message, self.path, lineno)

    def check_station(self, sid: str, lineno: int) -> None:
        if sid == self.seen_station:
            return
        if self.seen_station is not None:
            raise self.error(
                f"station id {sid!r} differs from {self.seen_station!r} on earlier lines "
                f"(one station per file)",
                lineno,
            )
        if not _STATION_RE.fullmatch(sid):
            raise self.error(f"invalid station id {sid!r}", lineno)
        if self.station is not None and sid != self.station:
            raise self.error(
                f"the file holds station {sid}, but station {self.station} was requested "
                f"(pass station={sid!r} to read it)",
                lineno,
            )
        self.seen_station = sid

    def check_element(self, element: str, lineno: int) -> bool:
        """True if `element` is wanted, False if it is a well-formed one to ignore."""
        if element in self.records:
            return True
        if _ELEMENT_RE.fullmatch(element):
            return False
        raise self.error(f"invalid element code {element!r}", lineno)

    def add(self, element: str, ordinal: int, value: int, qflag: str, lineno: int) -> None:
        table = self.records[element]
        previous = table.get(ordinal)
        if previous is None:
            table[ordinal] = (value, qflag, lineno)
        elif previous[:2] != (value, qflag):
            day = _dt.date.fromordinal(ordinal).isoformat()
            raise self.error(
                f"duplicate {element} for {day}: value {value} (QFLAG {qflag.strip()!r}) "
                f"conflicts with value {previous[0]} (QFLAG {previous[1].strip()!r}) "
                f"on line {previous[2]}",
                lineno,
            )


def _parse_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if _INT_RE.fullmatch(text) else None


def _parse_csv(lines: Iterable[tuple[int, str]], col: _Collector) -> None:
    date_cache: dict[str, int] = {}
    int_re = _INT_RE.fullmatch
    for lineno, line in lines:
        fields = line.split(",")
        if len(fields) != 8:
            raise col.error(
                f"expected 8 comma-separated fields "
                f"(ID,DATE,ELEMENT,VALUE,MFLAG,QFLAG,SFLAG,OBSTIME), got {len(fields)}",
                lineno,
            )
        sid, day, element, value, mflag, qflag, sflag, _obstime = fields
        if sid != col.seen_station:
            col.check_station(sid, lineno)
        wanted = col.check_element(element, lineno)
        ordinal = date_cache.get(day)
        if ordinal is None:
            ordinal = _csv_date(day, col, lineno)
            date_cache[day] = ordinal
        if not int_re(value):
            raise col.error(f"{element} value {value!r} is not an integer", lineno)
        if len(mflag) > 1 or len(qflag) > 1 or len(sflag) > 1:
            raise col.error("MFLAG, QFLAG and SFLAG must be at most one character", lineno)
        if wanted:
            raw = int(value)
            if raw != _MISSING:
                col.add(element, ordinal, raw, qflag, lineno)


def _csv_date(text: str, col: _Collector, lineno: int) -> int:
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        raise col.error(f"date {text!r} is not of the form YYYYMMDD", lineno)
    try:
        return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:])).toordinal()
    except ValueError as exc:
        raise col.error(f"invalid date {text!r} ({exc})", lineno) from None


def _parse_dly(lines: Iterable[tuple[int, str]], col: _Collector) -> None:
    for lineno, line in lines:
        if len(line) != _DLY_LINE_LENGTH:
            raise col.error(
                f"a .dly line must be {_DLY_LINE_LENGTH} characters long, got {len(line)}",
                lineno,
            )
        sid, year_s, month_s, element = line[0:11], line[11:15], line[15:17], line[17:21]
        if sid != col.seen_station:
            col.check_station(sid, lineno)
        wanted = col.check_element(element, lineno)
        year, month = _parse_int(year_s), _parse_int(month_s)
        if year is None or month is None or not year_s.isdigit() or not month_s.isdigit():
            raise col.error(f"invalid year/month {year_s!r}/{month_s!r}", lineno)
        if not (1 <= year <= 9999 and 1 <= month <= 12):
            raise col.error(f"invalid date: year {year_s}, month {month_s}", lineno)
        month_length = calendar.monthrange(year, month)[1]
        first = _dt.date(year, month, 1).toordinal()
        for slot in range(31):
            start = 21 + 8 * slot
            raw = _parse_int(line[start : start + 5])
            if raw is None:
                raise col.error(
                    f"{element} value {line[start : start + 5]!r} for day {slot + 1} "
                    f"is not an integer",
                    lineno,
                )
            if raw == _MISSING:
                continue
            if slot >= month_length:
                raise col.error(
                    f"{element} has value {raw} for day {slot + 1} of {year_s}-{month_s}, "
                    f"a {month_length}-day month (only -9999 is allowed there)",
                    lineno,
                )
            if wanted:
                col.add(element, first + slot, raw, line[start + 6], lineno)


def _read_text(path: Path) -> str:
    """The whole file as text, gunzipped if it is gzip (by content, not by name)."""
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise WeatherDataError(
                f"corrupt or truncated gzip data ({type(exc).__name__}: {exc})", path
            ) from None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise WeatherDataError(
            f"non-ASCII byte {data[exc.start]:#04x}; is this a GHCN-Daily file?", path, lineno
        ) from None


def _numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers, line endings removed."""
    out = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip():
            out.append((lineno, line))
    return out


def read_weather_file(
    path: str | os.PathLike[str],
    year: int | None = None,
    *,
    station: str | None = DEFAULT_STATION,
    keep_flagged: bool = False,
) -> WeatherData:
    """Parse one GHCN-Daily file (CSV or .dly, plain or gzipped, detected by content).

    `year` keeps only that calendar year (None: everything). `station` is the id the file must
    hold (any case; None accepts any single station). Values whose quality flag (QFLAG) is set
    become NaN unless `keep_flagged`. Raises WeatherDataError for a malformed file, or one with
    no TMAX/TMIN/PRCP data (in `year`).
    """
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise TypeError(f"year must be an int or None, got {year!r}")
    station = None if station is None else station_id(station)
    source = Path(path)
    lines = _numbered_lines(_read_text(source))
    col = _Collector(source, station)
    if not lines:
        raise col.error("the file is empty")
    first = lines[0][1]
    if "," in first:
        _parse_csv(lines, col)
    elif len(first) == _DLY_LINE_LENGTH or source.name.lower().endswith((".dly", ".dly.gz")):
        _parse_dly(lines, col)
    else:
        raise col.error(
            "unrecognised format: neither the by-station CSV (comma-separated) nor the "
            f"fixed-width .dly layout ({_DLY_LINE_LENGTH} characters per line)",
            lines[0][0],
        )
    return _assemble(col, year, keep_flagged)


def _assemble(col: _Collector, year: int | None, keep_flagged: bool) -> WeatherData:
    all_ordinals = sorted(set().union(*col.records.values()))
    if not all_ordinals:
        raise col.error(f"the file holds no {'/'.join(ELEMENTS)} data")
    first_year = _dt.date.fromordinal(all_ordinals[0]).year
    last_year = _dt.date.fromordinal(all_ordinals[-1]).year
    ordinals = np.asarray(all_ordinals, dtype=np.int64)
    if year is not None:
        if 1 <= year <= 9999:
            lo = _dt.date(year, 1, 1).toordinal()
            hi = lo + (366 if calendar.isleap(year) else 365)
            ordinals = ordinals[(ordinals >= lo) & (ordinals < hi)]
        else:
            ordinals = ordinals[:0]
        if ordinals.size == 0:
            raise col.error(
                f"no {'/'.join(ELEMENTS)} data for year {year}; "
                f"the file covers {first_year}-{last_year}"
            )
    dates = (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    origin = year if year is not None else first_year
    days = (dates - np.datetime64(f"{origin:04d}-01-01", "D")).astype(np.float64)

    columns = {}
    for element, table in col.records.items():
        column = np.full(ordinals.shape, np.nan)
        if table:
            keys = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
            raw = np.fromiter((r[0] for r in table.values()), dtype=np.float64, count=len(table))
            if not keep_flagged:
                flagged = np.fromiter(
                    (r[1] != " " and r[1] != "" for r in table.values()),
                    dtype=bool,
                    count=len(table),
                )
                raw[flagged] = np.nan
            pos = np.searchsorted(ordinals, keys)
            pos_ok = pos < ordinals.size
            inside = np.zeros(keys.shape, dtype=bool)
            inside[pos_ok] = ordinals[pos[pos_ok]] == keys[pos_ok]
            column[pos[inside]] = raw[inside] / 10.0
        columns[element] = column

    for array in (dates, days, *columns.values()):
        array.setflags(write=False)
    return WeatherData(
        dates=dates,
        days=days,
        tmax=columns["TMAX"],
        tmin=columns["TMIN"],
        prcp=columns["PRCP"],
        station=col.seen_station or "",
        source=col.path,
    )
