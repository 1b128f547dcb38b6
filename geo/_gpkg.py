"""Plain ``sqlite3`` on GeoPackages: the SQL functions their triggers call, and recovery
from a writer killed in the middle of a transaction.

GDAL's R-tree triggers call ``ST_IsEmpty`` and ``ST_MinX`` … on any update of a feature
table; SQLite refuses to prepare them without those functions. They read the standard
GeoPackage geometry blob: a header (magic ``GP``, version, flags with the envelope kind
and the empty bit, SRS id, optional envelope), then WKB.

An edit writes in place, in one SQLite transaction: a writer killed before its COMMIT
leaves a ``-journal`` beside the GeoPackage. When it had already written pages into the
file, the journal is *hot*: the file is whole again only once the journal is played back,
which a read-only connection (GDAL's, the app's) cannot do — it fails with "attempt to
write a readonly database". :func:`recover_journal` plays it back and removes it.

A damaged file (a bad sector, a copy cut short, bytes overwritten) does not always fail to
open: GDAL reads the features up to the damaged page, says so on stderr and goes on, so
a layer would count 65 roads of 96. :func:`damage` runs SQLite's ``PRAGMA quick_check``
(every page of every table and index) once per version of the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import shapely

__all__ = ["damage", "recover_journal", "register_gpkg_functions"]

log = logging.getLogger(__name__)

#: Seconds to wait for another writer of the GeoPackage to finish.
BUSY_TIMEOUT_S = 30.0

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


def recover_journal(path: str | os.PathLike[str]) -> bool:
    """Undo a transaction whose writer was killed, and remove the journal it left.

    Nothing is done (and the file is not opened) when no ``<path>-journal`` exists. Else a
    write lock is taken, waiting up to :data:`BUSY_TIMEOUT_S` for another writer to finish:
    taking it plays a hot journal back, restoring the file byte for byte; a journal still
    there once the lock is held belongs to no running transaction and is removed. A file
    this process may not write is left to its readers. Returns whether a journal was removed
    or played back.
    """
    path = Path(path)
    journal = path.with_name(path.name + "-journal")
    if not journal.exists():
        return False
    try:
        con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        try:
            con.execute("BEGIN IMMEDIATE")  # plays a hot journal back; then no other writer runs
            journal.unlink(missing_ok=True)  # a journal of no transaction: left by a killed writer
            con.execute("ROLLBACK")
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.warning("%s: could not recover from an interrupted write (%s)", path.name, exc)
        return False
    log.info("%s: undid the transaction of an interrupted writer", path.name)
    return True


#: What :func:`damage` found, by file and version (inode, size, modification time in ns).
_CHECKED: dict[tuple[str, int, int, int], str | None] = {}
_CHECKED_LOCK = threading.Lock()
#: Versions remembered; a long-running app sees few files, each in few versions.
_CHECKED_MAX = 256


def damage(path: str | os.PathLike[str]) -> str | None:
    """What is damaged in the SQLite file ``path`` (the first problem ``PRAGMA quick_check``
    reports), or None when it is whole.

    Checked once per version of the file: the result is kept for its inode, size and
    modification time, so a file replaced or written again is checked again. The file is
    opened read-only and immutable to this check, which changes nothing in it.
    """
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    with _CHECKED_LOCK:
        if key in _CHECKED:
            return _CHECKED[key]
    found = _quick_check(path)
    with _CHECKED_LOCK:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = found
    if found:
        log.info("%s: damaged (%s)", path.name, found)
    return found


def _quick_check(path: Path) -> str | None:
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            rows = con.execute("PRAGMA quick_check(3)").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return str(exc) or type(exc).__name__
    lines = [ln.strip() for r in rows for ln in str(r[0]).splitlines()]
    problems = [ln for ln in lines if ln and ln != "ok" and not ln.startswith("***")]
    return "; ".join(problems)[:300] if problems else None
