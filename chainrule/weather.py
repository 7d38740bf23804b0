"""Where the station data come from: the shipped file, the user's files, the cache, NOAA.

`load_weather_data` finds a station's file and reads it with `ghcn.read_weather_file`. It looks,
first match winning (`find_weather_file`), at:

1. the `path` argument (a file, or a folder holding `<station>.csv.gz`, `.csv`, `.dly.gz` or
   `.dly`, in that order of preference);
2. the environment variable CHAINRULE_DATA (a file or such a folder);
3. for the chapter's station only, NOAA's `.dly` file shipped in the package
   (`chainrule/datasets/GM000003342.dly.gz`, `bundled_file`): the chapter's path, offline;
4. the user cache folder `cache_dir()`: $CHAINRULE_CACHE, else $XDG_CACHE_HOME/chainrule, else
   %LOCALAPPDATA%\\chainrule on Windows, else ~/.cache/chainrule; never inside the package or
   the source tree, and created only by a download;
5. a download of NOAA's by-station CSV into that cache (unless `download=False`).

An explicit path or CHAINRULE_DATA that leads to no file raises at once: there is no fallback
past an explicit choice. Station ids are case-insensitive.

The download is written here with the standard library rather than with pooch and platformdirs:
NOAA rewrites the by-station files daily, so there is no fixed hash for pooch to check; the
transport must stay one module-level function, `_urlopen`, that the tests replace to keep the
suite offline; and the cache folder must be known without any extra installed, to say where to
put a file by hand. What is left is a temporary file in the cache folder, renamed into place
only after its length and its whole gzip stream have been checked.
"""

from __future__ import annotations

import gzip
import http.client
import importlib.resources
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

from .ghcn import (
    DEFAULT_STATION,
    ELEMENTS,
    STATION_LIST_URL,
    WeatherData,
    WeatherDataError,
    read_weather_file,
    station_id,
)

__all__ = [
    "CACHE_ENV_VAR", "DEFAULT_STATION", "DOWNLOAD_URL", "ELEMENTS", "ENV_VAR",
    "STATION_LIST_URL", "WeatherData", "WeatherDataError", "WeatherDataUnavailable",
    "bundled_file", "cache_dir", "find_weather_file", "load_weather_data", "read_weather_file",
]

#: Environment variable naming a data file, or a folder holding a `<station>.*` file.
ENV_VAR = "CHAINRULE_DATA"
#: Environment variable naming the download cache folder (overrides the user cache default).
CACHE_ENV_VAR = "CHAINRULE_CACHE"
#: NOAA's public by-station archive (the chapter's CSV layout); `{station}` is filled in.
DOWNLOAD_URL = "https://www.ncei.noaa.gov/pub/data/ghcn/daily/by_station/{station}.csv.gz"
#: Seconds before a stalled download connection is given up.
DOWNLOAD_TIMEOUT = 60.0

# File names looked for inside a folder, in order of preference.
_SUFFIXES = (".csv.gz", ".csv", ".dly.gz", ".dly")
# The shipped copy of the chapter's station file, inside the package (see datasets/README.md).
_BUNDLED = ("datasets", f"{DEFAULT_STATION}.dly.gz")

# The opener used for downloads; a module-level name so that tests can replace it.
_urlopen: Callable[..., object] = urllib.request.urlopen


class WeatherDataUnavailable(FileNotFoundError):
    """No data file could be found (or downloaded); the message says where to put one."""


def cache_dir() -> Path:
    """The download cache folder (not created here; only a download creates it).

    $CHAINRULE_CACHE if set, else $XDG_CACHE_HOME/chainrule (if absolute, as the XDG spec
    requires), else %LOCALAPPDATA%\\chainrule on Windows, else ~/.cache/chainrule. Never inside
    the package, which may be installed read-only.
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
    """The station file shipped inside the package, or None if there is none for `station`.

    Only the chapter's station is shipped, as NOAA's `.dly` file gzip-compressed, found through
    importlib.resources: from the source tree and from editable and plain installs alike.
    """
    if station_id(station) != DEFAULT_STATION:
        return None
    resource = importlib.resources.files(__package__).joinpath(*_BUNDLED)
    # A package imported from a zip archive has no file on disk to hand out.
    if isinstance(resource, Path) and resource.is_file():
        return resource
    return None


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
        raise WeatherDataUnavailable(f"{origin} is the folder {location}, which holds none of "
                                     f"{names}")
    raise WeatherDataUnavailable(f"{origin} {location} does not exist")


def _where_to_put_it(station: str) -> str:
    return (f"Put the file at {cache_dir() / (station + '.csv.gz')} (a .csv, .dly.gz or .dly "
            f"file of the same name works too; the cache folder is set by ${CACHE_ENV_VAR}), or "
            f"set the environment variable {ENV_VAR} to the file or to the folder holding it. It "
            f"can be fetched by hand from {DOWNLOAD_URL.format(station=station)}")


def _receive(url: str, out: object, err: object) -> tuple[int, int | None]:
    """Copy the answer to `url` into the open file `out`, reporting progress on `err`; returns
    (bytes received, bytes announced or None)."""
    with _urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # type: ignore[attr-defined]
        headers = getattr(response, "headers", None)
        length = headers.get("Content-Length") if headers is not None else None
        total = int(length) if length and str(length).isdigit() else None
        received, next_report = 0, 0
        while chunk := response.read(1 << 16):
            out.write(chunk)  # type: ignore[attr-defined]
            received += len(chunk)
            if received >= next_report:
                of = f" of {total / 1e6:.1f}" if total else ""
                print(f"\r  {received / 1e6:.1f}{of} MB", end="", file=err, flush=True)
                next_report = received + (1 << 20)
    print(f"\r  {received / 1e6:.1f} MB received", file=err, flush=True)
    return received, total


def _check_gzip(path: str, received: int, total: int | None) -> None:
    """OSError unless the file is complete and one whole gzip stream (read to its end)."""
    if total is not None and received != total:
        raise OSError(f"incomplete download: {received} of {total} bytes")
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            raise OSError("the server's answer is not a gzip file")
    with gzip.open(path, "rb") as gz:
        while gz.read(1 << 20):
            pass


def _download(station: str, folder: Path) -> Path:
    """Download `<station>.csv.gz` from NOAA into `folder` and return it; a temporary file is
    renamed into place only once complete and checked, and removed on any failure."""
    url = DOWNLOAD_URL.format(station=station)
    target = folder / f"{station}.csv.gz"
    err = sys.stderr
    print(f"chainrule: downloading {url}\n  -> {target}", file=err, flush=True)
    tmp_name: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{station}.", suffix=".part",
                                         delete=False) as tmp:
            tmp_name = tmp.name
            received, total = _receive(url, tmp, err)
        _check_gzip(tmp_name, received, total)
        os.replace(tmp_name, target)
        tmp_name = None
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise _download_failed(station, url, exc) from exc
        raise WeatherDataUnavailable(
            f"NOAA has no station {station}: {url} answered HTTP 404 (Not Found). Check the id "
            f"against NOAA's station list {STATION_LIST_URL}") from exc
    except (OSError, ValueError, EOFError, zlib.error, http.client.HTTPException) as exc:
        raise _download_failed(station, url, exc) from exc
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    print("chainrule: download complete", file=err, flush=True)
    return target


def _download_failed(station: str, url: str, exc: Exception) -> WeatherDataUnavailable:
    reason = getattr(exc, "reason", None) or exc
    return WeatherDataUnavailable(
        f"No data file for station {station} was found, and downloading it from {url} failed "
        f"({type(exc).__name__}: {reason}). {_where_to_put_it(station)}")


def find_weather_file(path: str | os.PathLike[str] | None = None, *,
                      station: str = DEFAULT_STATION, download: bool = True) -> Path:
    """The data file of `station` (any case), in the order of the module docstring: `path`,
    $CHAINRULE_DATA, the shipped file, the cache, a download (if `download`).

    Raises ValueError if `station` is not of the form of a GHCN-Daily id, and
    WeatherDataUnavailable when nothing is found (and the download is off or failed) or NOAA has
    no station of that id.
    """
    station = station_id(station)
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
        raise WeatherDataUnavailable(f"No data file for station {station} was found and "
                                     f"download=False. {_where_to_put_it(station)}")
    return _download(station, folder)


def load_weather_data(year: int | None = None, path: str | os.PathLike[str] | None = None, *,
                      station: str = DEFAULT_STATION, keep_flagged: bool = False,
                      download: bool = True) -> WeatherData:
    """The daily TMAX, TMIN (degrees C) and PRCP (mm) of a GHCN-Daily station, aligned by date.

    `year` keeps one calendar year, `days` then counting from its 1 January (None: everything,
    counting from the first year's). `path` is a data file or a folder (None: look as
    `find_weather_file` does). `station` (default Potsdam, GM000003342; any case) is the id the
    file must hold. Values with a quality flag become NaN unless `keep_flagged`. `download`
    allows fetching the file from NOAA when it is found nowhere. `.xy("tmax")` of the result
    gives the chapter's (days, values) arrays.

    Raises ValueError for a malformed id, WeatherDataUnavailable (a FileNotFoundError) when no
    file is found or downloaded, and WeatherDataError (a ValueError) for a malformed file or no
    data in `year`.
    """
    source = find_weather_file(path, station=station, download=download)
    return read_weather_file(source, year, station=station, keep_flagged=keep_flagged)
