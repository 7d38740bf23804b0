"""Weather-station data loader (NOAA GHCN-Daily) for the chapter's experiments.

The chapter fits a model to one year of daily temperatures from the Potsdam station
(GHCN-Daily id ``GM000003342``). This module reads the two layouts NOAA publishes:

* the by-station CSV (``GM000003342.csv`` or ``GM000003342.csv.gz``), no header, one
  observation per line: ``ID,YYYYMMDD,ELEMENT,VALUE,MFLAG,QFLAG,SFLAG,OBSTIME``;
* the fixed-width ``.dly`` file (``GM000003342.dly`` or ``GM000003342.dly.gz``): one line of
  269 characters per station, month and element, holding 31 day slots of
  ``VALUE(5) MFLAG(1) QFLAG(1) SFLAG(1)`` (``-9999`` = missing).

The format is detected from the content (gzip magic bytes, then commas or the fixed
width), not trusted from the file name.

Unlike the chapter's original loader, the elements are aligned **by date**, never by
position: a day missing from one element is NaN in that element only, and cannot shift the
rows of the others.

Where the file is looked for (first match wins, see :func:`find_weather_file`):

1. the ``path`` argument (a file, or a folder holding ``<station>.csv.gz|.csv|.dly.gz|.dly``);
2. the environment variable ``CHAINRULE_DATA`` (a file or such a folder);
3. for the chapter's station only, the copy of NOAA's ``.dly`` file shipped in the package
   (``chainrule/datasets/GM000003342.dly.gz``, see :func:`bundled_file`);
4. the user cache folder :func:`cache_dir` (``$CHAINRULE_CACHE``, else
   ``$XDG_CACHE_HOME/chainrule``, else ``~/.cache/chainrule``; on Windows
   ``%LOCALAPPDATA%\\chainrule``);
5. a download of NOAA's by-station CSV into that cache (unless ``download=False``).

Only numpy and the standard library are used.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import gzip
import http.client
import importlib.resources
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import chapter

__all__ = [
    "DEFAULT_STATION",
    "CACHE_ENV_VAR",
    "DOWNLOAD_URL",
    "ENV_VAR",
    "ELEMENTS",
    "WeatherData",
    "WeatherDataError",
    "WeatherDataUnavailable",
    "bundled_file",
    "cache_dir",
    "find_weather_file",
    "load_weather_data",
    "read_weather_file",
]

#: GHCN-Daily id of the chapter's station (Potsdam, Germany).
DEFAULT_STATION = chapter.STATION
#: Environment variable naming a data file, or a folder holding a ``<station>.*`` file.
ENV_VAR = "CHAINRULE_DATA"
#: Environment variable naming the download cache folder (overrides the user cache default).
CACHE_ENV_VAR = "CHAINRULE_CACHE"
#: NOAA's public by-station archive (the chapter's CSV layout); ``{station}`` is filled in.
DOWNLOAD_URL = "https://www.ncei.noaa.gov/pub/data/ghcn/daily/by_station/{station}.csv.gz"
#: NOAA's list of all GHCN-Daily station ids (named in the error for an unknown id).
STATION_LIST_URL = "https://www.ncei.noaa.gov/pub/data/ghcn/daily/ghcnd-stations.txt"
#: Seconds before a stalled download connection is given up.
DOWNLOAD_TIMEOUT = 60.0
#: The elements that are loaded, in output order; any other well-formed element is ignored.
ELEMENTS = ("TMAX", "TMIN", "PRCP")

# File names looked for inside a folder, in order of preference.
_SUFFIXES = (".csv.gz", ".csv", ".dly.gz", ".dly")
# The shipped copy of the chapter's station file, inside the package (see datasets/README.md).
_BUNDLED_FOLDER = "datasets"
_BUNDLED_SUFFIX = ".dly.gz"
_DLY_LINE_LENGTH = 269
_MISSING = -9999
_GZIP_MAGIC = b"\x1f\x8b"
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

_ELEMENT_RE = re.compile(r"[A-Z][A-Z0-9]{3}")
_STATION_RE = re.compile(r"[A-Z0-9]{11}")
_INT_RE = re.compile(r"-?[0-9]+")

# The opener used for downloads; a module-level name so tests can replace it.
_urlopen: Callable[..., object] = urllib.request.urlopen


class WeatherDataError(ValueError):
    """A weather data file is malformed (or holds no data for the request).

    ``path`` and ``lineno`` (1-based, in the decompressed text; ``None`` when the problem is
    not tied to one line) are also available as attributes; both appear in the message.
    """

    def __init__(self, message: str, path: Path | str, lineno: int | None = None) -> None:
        where = f"{path}, line {lineno}" if lineno is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = Path(path)
        self.lineno = lineno


class WeatherDataUnavailable(FileNotFoundError):
    """No data file could be found (or downloaded); the message says where to put one."""


@dataclass(frozen=True, eq=False)
class WeatherData:
    """Daily TMAX, TMIN (degrees C) and PRCP (mm) of one station, aligned by date.

    All arrays have the same length, one entry per date on which at least one of the
    three elements has a record (a record rejected for its quality flag still counts, so
    ``dates`` does not depend on ``keep_flagged``). The arrays are read-only.

    Attributes:
        dates: ``datetime64[D]``, strictly increasing.
        days: float64 days since 1 January of the selected year (of the first year in the
            data when no year was selected).
        tmax, tmin: float64 daily maximum / minimum temperature in degrees C, NaN if missing.
        prcp: float64 daily precipitation in mm, NaN if missing.
        station: GHCN-Daily station id found in the file.
        source: the file that was read.
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
        """Return the chapter's experiment arrays ``(days, values)`` for one element.

        ``element`` is ``"tmax"``, ``"tmin"`` or ``"prcp"`` (case-insensitive). Dates on
        which that element is missing (NaN) are dropped; the result is a fresh pair of
        float64 arrays of equal length.
        """
        name = element.lower()
        if name.upper() not in ELEMENTS:
            raise ValueError(f"element must be one of {', '.join(ELEMENTS)}; got {element!r}")
        values = getattr(self, name)
        keep = ~np.isnan(values)
        return self.days[keep].copy(), values[keep].copy()


# --------------------------------------------------------------------------- locating


def cache_dir() -> Path:
    """The download cache folder (not created here; only a download creates it).

    ``$CHAINRULE_CACHE`` if set, else ``$XDG_CACHE_HOME/chainrule`` (an absolute path, as the
    XDG spec requires), else ``%LOCALAPPDATA%\\chainrule`` on Windows, else
    ``~/.cache/chainrule``. Never inside the package, which may be installed read-only.
    """
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "chainrule"
    local_app_data = os.environ.get("LOCALAPPDATA")
    if os.name == "nt" and local_app_data:
        return Path(local_app_data) / "chainrule"
    return Path.home() / ".cache" / "chainrule"


def bundled_file(station: str = DEFAULT_STATION) -> Path | None:
    """The station file shipped inside the package, or ``None`` if there is none for ``station``.

    Only the chapter's station (:data:`DEFAULT_STATION`) is shipped, as NOAA's ``.dly`` file
    gzip-compressed. Found through :mod:`importlib.resources`, so it works from the source
    tree and from editable and plain installs alike.
    """
    if station != DEFAULT_STATION:
        return None
    resource = importlib.resources.files(__package__) / _BUNDLED_FOLDER
    resource = resource / f"{station}{_BUNDLED_SUFFIX}"
    # A package imported from a zip archive has no file on disk to hand out.
    if isinstance(resource, Path) and resource.is_file():
        return resource
    return None


def _check_station_id(station: str) -> None:
    if not isinstance(station, str) or not _STATION_RE.fullmatch(station):
        raise ValueError(
            f"invalid GHCN-Daily station id {station!r}: an id is 11 characters, upper-case "
            f"letters A-Z and digits 0-9 (e.g. {DEFAULT_STATION}); all ids are listed in "
            f"{STATION_LIST_URL}"
        )


def _file_in(folder: Path, station: str) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = folder / f"{station}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _from_location(location: Path, station: str, origin: str) -> Path:
    """Resolve an explicitly given file or folder; never falls through to anything else."""
    if location.is_file():
        return location
    if location.is_dir():
        found = _file_in(location, station)
        if found is not None:
            return found
        names = ", ".join(f"{station}{s}" for s in _SUFFIXES)
        raise WeatherDataUnavailable(
            f"{origin} is the folder {location}, which holds none of {names}"
        )
    raise WeatherDataUnavailable(f"{origin} {location} does not exist")


def _where_to_put_it(station: str) -> str:
    url = DOWNLOAD_URL.format(station=station)
    return (
        f"Put the file at {cache_dir() / (station + '.csv.gz')} "
        f"(a .csv, .dly.gz or .dly file of the same name works too; the cache folder is set by "
        f"${CACHE_ENV_VAR}), or set the environment variable {ENV_VAR} to the file or to the "
        f"folder holding it. It can be fetched by hand from {url}"
    )


def _download(station: str, folder: Path) -> Path:
    """Download ``<station>.csv.gz`` from NOAA into ``folder`` (atomically) and return it."""
    url = DOWNLOAD_URL.format(station=station)
    target = folder / f"{station}.csv.gz"
    err = sys.stderr
    print(f"chainrule: downloading {url}\n  -> {target}", file=err, flush=True)
    tmp_name: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=f".{station}.", suffix=".part", delete=False
        ) as tmp:
            tmp_name = tmp.name
            with _urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # type: ignore[attr-defined]
                headers = getattr(response, "headers", None)
                length = headers.get("Content-Length") if headers is not None else None
                total = int(length) if length and str(length).isdigit() else None
                received = 0
                next_report = 0
                while True:
                    chunk = response.read(1 << 16)
                    if not chunk:
                        break
                    tmp.write(chunk)
                    received += len(chunk)
                    if received >= next_report:
                        done = f" of {total / 1e6:.1f}" if total else ""
                        print(f"\r  {received / 1e6:.1f}{done} MB", end="", file=err, flush=True)
                        next_report = received + (1 << 20)
        print(f"\r  {received / 1e6:.1f} MB received", file=err, flush=True)
        if total is not None and received != total:
            raise OSError(f"incomplete download: {received} of {total} bytes")
        with open(tmp_name, "rb") as fh:
            if fh.read(2) != _GZIP_MAGIC:
                raise OSError("the server's answer is not a gzip file")
        with gzip.open(tmp_name, "rb") as gz:  # reads to the end: catches truncation
            while gz.read(1 << 20):
                pass
        os.replace(tmp_name, target)
        tmp_name = None
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise _download_failed(station, url, exc) from exc
        raise WeatherDataUnavailable(
            f"NOAA has no station {station}: {url} answered HTTP 404 (Not Found). "
            f"Check the id against NOAA's station list {STATION_LIST_URL}"
        ) from exc
    except (OSError, ValueError, EOFError, zlib.error, http.client.HTTPException) as exc:
        raise _download_failed(station, url, exc) from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    print("chainrule: download complete", file=err, flush=True)
    return target


def _download_failed(station: str, url: str, exc: Exception) -> WeatherDataUnavailable:
    reason = getattr(exc, "reason", None) or exc
    return WeatherDataUnavailable(
        f"No data file for station {station} was found, and downloading it from {url} "
        f"failed ({type(exc).__name__}: {reason}). {_where_to_put_it(station)}"
    )


def find_weather_file(
    path: str | os.PathLike[str] | None = None,
    *,
    station: str = DEFAULT_STATION,
    download: bool = True,
) -> Path:
    """Locate (or download) the data file of ``station``.

    Order: ``path`` (file or folder); else ``$CHAINRULE_DATA`` (file or folder); else, for
    the chapter's station, the file shipped in the package (:func:`bundled_file`); else the
    cache folder :func:`cache_dir`; else, if ``download``, fetch ``<station>.csv.gz`` from
    :data:`DOWNLOAD_URL` into the cache. An explicit ``path`` or ``$CHAINRULE_DATA`` that
    does not lead to a file raises at once: there is no fallback past an explicit choice.

    Raises:
        ValueError: ``station`` is not of the form of a GHCN-Daily id.
        WeatherDataUnavailable: nothing found (and the download is off or failed), or NOAA
            has no station of that id.
    """
    _check_station_id(station)
    if path is not None:
        return _from_location(Path(path), station, "path")
    env = os.environ.get(ENV_VAR)
    if env:
        return _from_location(Path(env), station, f"${ENV_VAR}")
    bundled = bundled_file(station)
    if bundled is not None:
        return bundled
    folder = cache_dir()
    found = _file_in(folder, station) if folder.is_dir() else None
    if found is not None:
        return found
    if not download:
        raise WeatherDataUnavailable(
            f"No data file for station {station} was found and download=False. "
            f"{_where_to_put_it(station)}"
        )
    return _download(station, folder)


# --------------------------------------------------------------------------- parsing


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
        """True if ``element`` is wanted, False if it is a well-formed one to ignore."""
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

    Args:
        path: the file to read.
        year: keep only this calendar year (``None``: everything).
        station: the station id the file must hold; ``None`` accepts any (single) station.
        keep_flagged: keep values whose quality flag (QFLAG) is set; by default they are
            replaced by NaN.

    Raises:
        WeatherDataError: malformed file, or no TMAX/TMIN/PRCP data (in ``year``).
    """
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise TypeError(f"year must be an int or None, got {year!r}")
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


def load_weather_data(
    year: int | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    station: str = DEFAULT_STATION,
    keep_flagged: bool = False,
    download: bool = True,
) -> WeatherData:
    """Load the daily TMAX, TMIN (degrees C) and PRCP (mm) of a GHCN-Daily station.

    Args:
        year: keep only this calendar year; ``days`` then counts from its 1 January.
            ``None`` keeps everything, counting from 1 January of the first year.
        path: a data file (by-station CSV or fixed-width ``.dly``, plain or gzipped) or a
            folder holding ``<station>.csv.gz``, ``.csv``, ``.dly.gz`` or ``.dly``. ``None``:
            look in ``$CHAINRULE_DATA``, then the shipped file (chapter's station only), then
            the cache folder, then download (see :func:`find_weather_file`).
        station: GHCN-Daily station id (default: Potsdam, ``GM000003342``); the file must
            hold this station.
        keep_flagged: keep values with a quality flag (QFLAG) instead of making them NaN.
        download: allow fetching the file from NOAA when it is found nowhere.

    Returns:
        A :class:`WeatherData`, aligned by date; ``.xy("tmax")`` gives the chapter's
        ``(days, values)`` arrays.

    Raises:
        ValueError: ``station`` is not of the form of a GHCN-Daily id.
        WeatherDataUnavailable: no file found / download failed / no such station at NOAA
            (a ``FileNotFoundError``).
        WeatherDataError: malformed file or no data for ``year`` (a ``ValueError``).
    """
    source = find_weather_file(path, station=station, download=download)
    return read_weather_file(source, year, station=station, keep_flagged=keep_flagged)
