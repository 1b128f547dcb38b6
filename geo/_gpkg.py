"""The SQL functions a GeoPackage's triggers call, for plain ``sqlite3`` connections.

GDAL's R-tree triggers call ``ST_IsEmpty`` and ``ST_MinX`` … on any update of a feature
table; SQLite refuses to prepare them without those functions. They read the standard
GeoPackage geometry blob: a header (magic ``GP``, version, flags with the envelope kind
and the empty bit, SRS id, optional envelope), then WKB.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import shapely

__all__ = ["register_gpkg_functions"]

#: Bytes of the envelope by the flags' envelope indicator (bits 1-3).
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _geometry(blob: bytes | None) -> shapely.Geometry | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    start = 8 + _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0)
    return shapely.from_wkb(bytes(blob[start:]))


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None or len(blob) < 4 or blob[:2] != b"GP":
        return None
    if blob[3] & 0b10000:
        return 1
    geom = _geometry(blob)
    return int(geom is None or geom.is_empty)


def _bound(index: int) -> Callable[[bytes | None], float | None]:
    def bound(blob: bytes | None) -> float | None:
        geom = _geometry(blob)
        return None if geom is None or geom.is_empty else float(geom.bounds[index])

    return bound


def register_gpkg_functions(con: sqlite3.Connection) -> None:
    """Make ``ST_IsEmpty``, ``ST_MinX``, ``ST_MinY``, ``ST_MaxX`` and ``ST_MaxY`` available."""
    con.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, _bound(index), deterministic=True)
