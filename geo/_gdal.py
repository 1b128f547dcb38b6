"""GDAL set up once for files from outside: the tool's own drivers only, no network.

GDAL picks a driver by a file's content, not its name, and several of its drivers read
other files or URLs named inside the data: a virtual-layer file (OGR VRT) renamed
``.geojson`` reads any file of the server, a GeoJSON whose ``crs`` is a link makes the
server fetch that URL. Imported first by the package (``geo/__init__.py``), so the app,
the command line and every thread they start read with GDAL as set up here:

- only the vector drivers of the formats the tool reads and writes stay registered
  (:data:`DRIVERS`); VRT, the GDAL pipeline format, the network drivers (HTTP, WFS,
  OAPIF …), CSV (read by pandas instead), SQLite and the rest are deregistered through
  ``GDAL_SKIP``, so no file can reach them whatever it holds;
- every virtual file system but ``/vsimem/`` (pyogrio's in-memory buffers) is removed:
  ``/vsicurl/`` and the cloud ones, but also ``/vsizip/``, ``/vsistdin/`` …;
- GDAL's own HTTP client answers every request with an error, without connecting;
- a few options close the rest (:data:`OPTIONS`).

pyogrio offers no call for three of these, so they go through GDAL's C API with ctypes,
in the copy of GDAL pyogrio loaded. Anything that cannot be set up stops the import:
a GDAL that reads what it is pointed at is never used.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyogrio

__all__ = ["DRIVERS", "FILE_SYSTEMS", "OPTIONS", "thread_options"]

log = logging.getLogger(__name__)

#: The vector drivers kept: the formats imported (GeoJSON, GeoPackage, Shapefile, KML)
#: and exported (GeoJSON, GeoPackage, Shapefile). CSV is read by pandas.
DRIVERS: tuple[str, ...] = ("GeoJSON", "GPKG", "ESRI Shapefile", "KML", "LIBKML")
#: The virtual file systems kept: pyogrio reads and writes buffers through /vsimem/.
FILE_SYSTEMS: tuple[str, ...] = ("/vsimem/",)
#: Options set for the whole process. The first stops /vsicurl/ should a handler come back;
#: the others keep VirtualOGR tables, Python in VRTs and HTTP from /vsimem/ off (their
#: defaults, pinned against an environment that says otherwise).
OPTIONS: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nanguan/no-network-access",
    "OGR_SQLITE_LIST_VIRTUAL_OGR": "NO",
    "ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "CPL_CURL_ENABLE_VSIMEM": "NO",
}

_CURLE_COULDNT_CONNECT = 7
_REFUSED = b"network access is disabled for files from outside"


class _HTTPResult(ctypes.Structure):
    """GDAL's ``CPLHTTPResult`` (cpl_http.h)."""

    _fields_ = (
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    )


#: CPLHTTPFetchCallbackFunc: url, options, progress, progress arg, write, write arg, user data.
_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)


def _library_path() -> str:
    """The file of the GDAL library pyogrio loaded (the copy in its wheel, or the system's)."""
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            name = line.rsplit(None, 1)[-1]
            if name.startswith("/") and Path(name).name.startswith(("libgdal", "gdal")):
                return name
    here = Path(pyogrio.__file__).parent
    for folder in (here.parent / "pyogrio.libs", here / ".dylibs"):
        for candidate in sorted(folder.glob("*gdal*")):
            return str(candidate)
    found = ctypes.util.find_library("gdal")
    if found is None:
        raise ImportError("GDAL could not be set up to read files from outside: its library was not found")
    return found


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL(_library_path())
    lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLGetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLGetConfigOption.restype = ctypes.c_char_p
    lib.CPLSetThreadLocalConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLGetThreadLocalConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLGetThreadLocalConfigOption.restype = ctypes.c_char_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]
    lib.VSIGetFileSystemsPrefixes.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.VSIRemovePluginHandler.argtypes = [ctypes.c_char_p]
    lib.CSLDestroy.argtypes = [ctypes.c_void_p]
    return lib


_LIB = _load()


@_FETCH
def _refuse_fetch(url: bytes | None, *_: object) -> int | None:
    """GDAL's HTTP client, replaced: a failed result, and no connection made.

    GDAL frees the result with its own allocator, so it is made with GDAL's."""
    log.warning("refused a network request GDAL made for a file: %s", (url or b"").decode("utf-8", "replace")[:200])
    result = _LIB.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
    record = _HTTPResult.from_address(result)
    record.nStatus = _CURLE_COULDNT_CONNECT
    record.pszErrBuf = _LIB.CPLStrdup(_REFUSED)
    return int(result)


def _skip_drivers() -> None:
    """Deregister every vector driver but :data:`DRIVERS`, the way ``GDAL_SKIP`` does at start-up.

    GDALAllRegister registers what is missing, then drops what GDAL_SKIP names; setting the
    option first keeps the drivers away should anything register all drivers again."""
    skip = sorted(set(pyogrio.list_drivers()) - set(DRIVERS))
    before = (_LIB.CPLGetConfigOption(b"GDAL_SKIP", None) or b"").decode()
    names = [n for n in (*before.replace(" ", ",").split(","), *skip) if n]
    _LIB.CPLSetConfigOption(b"GDAL_SKIP", ",".join(dict.fromkeys(names)).encode())
    _LIB.GDALAllRegister()


def _file_systems() -> list[bytes]:
    listed = _LIB.VSIGetFileSystemsPrefixes()
    prefixes = []
    i = 0
    while listed[i]:
        prefixes.append(listed[i])
        i += 1
    _LIB.CSLDestroy(ctypes.cast(listed, ctypes.c_void_p))
    return prefixes


def _remove_file_systems() -> None:
    for prefix in _file_systems():
        if prefix.decode() not in FILE_SYSTEMS:
            _LIB.VSIRemovePluginHandler(prefix)
    left = sorted(p.decode() for p in _file_systems() if p.decode() not in FILE_SYSTEMS)
    if left:
        raise ImportError(f"GDAL could not be set up to read files from outside: {', '.join(left)} stay")


def _harden() -> None:
    for key, value in OPTIONS.items():
        _LIB.CPLSetConfigOption(key.encode(), value.encode())
    _skip_drivers()
    _LIB.CPLHTTPSetFetchCallback(_refuse_fetch, None)
    _remove_file_systems()
    left = set(pyogrio.list_drivers()) - set(DRIVERS)
    if left:
        raise ImportError(f"GDAL could not be set up to read files from outside: drivers {sorted(left)} stay")
    log.debug("GDAL: drivers %s, file systems %s, no network", ", ".join(DRIVERS), ", ".join(FILE_SYSTEMS))


@contextlib.contextmanager
def thread_options(options: Mapping[str, str]) -> Iterator[None]:
    """GDAL configuration options for the calling thread only, within the block.

    Each app session reads in a thread of its own; a limit set here is not another's."""
    keys = [k.encode() for k in options]
    before = {k: _LIB.CPLGetThreadLocalConfigOption(k, None) for k in keys}
    try:
        for key, value in zip(keys, options.values(), strict=True):
            _LIB.CPLSetThreadLocalConfigOption(key, value.encode())
        yield
    finally:
        for key, value in before.items():
            _LIB.CPLSetThreadLocalConfigOption(key, value)


_harden()
