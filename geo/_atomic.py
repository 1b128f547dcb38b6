"""Writing files so that a failure leaves what was there untouched.

A file is written under a temporary name beside its target and renamed over it only when
complete. The temporary name says whose it is: ``.<target name>.part-<pid>-<random><suffix>``.
A writer killed outright (SIGKILL, a power cut) cannot remove its own; the next write of
the same target removes those whose process no longer runs, so none is left for good.
Scratch folders in the system's temporary directory (:func:`scratch_dir`) are named and
cleared the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import SourceError

__all__ = ["atomic_path", "remove_stale_parts", "scratch_dir", "write_bytes_atomic"]

log = logging.getLogger(__name__)

#: What SQLite (GeoPackage) may leave beside a database it was writing.
_SIDECARS = ("-journal", "-wal", "-shm")


def _part_prefix(target: Path) -> str:
    return f".{target.name}.part-"


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs; outside POSIX every writer counts as running."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_parts(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of writes of ``target`` whose writer no longer runs.

    Returns the paths removed. Files of a writer that still runs, and every file not named
    by :func:`atomic_path`, are left alone.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    removed = _remove_stale(folder, _part_prefix(target))
    if removed:
        log.info("removed %d temporary files left by interrupted writes of %s", len(removed), target)
    return removed


def _remove_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove the entries of ``folder`` named ``<prefix><pid>-…`` whose process no longer runs."""
    removed: list[Path] = []
    with contextlib.suppress(FileNotFoundError):
        for entry in folder.iterdir():
            pid = entry.name.removeprefix(prefix).split("-", 1)[0]
            if not entry.name.startswith(prefix) or not pid.isdigit() or _running(int(pid)):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A scratch folder ``<prefix><pid>-<random>`` in the system's temporary directory,
    removed afterwards; folders of ``prefix`` left by killed processes are removed first.

    Parameters
    ----------
    prefix : str
        Start of the folder's name, such as ``"nanguan-shp-"``.
    """
    base = Path(tempfile.gettempdir())
    if _remove_stale(base, prefix):
        log.info("removed scratch folders %s* left by interrupted processes", prefix)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-", dir=base) as folder:
        yield Path(folder)


def _remove(tmp: Path) -> None:
    for path in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS)):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    The temporary file keeps ``target``'s suffix (GDAL picks drivers by it). When the
    block raises, or the final rename fails, the temporary file (and any SQLite journal
    of it) is removed and ``target`` is left as it was. Temporary files of earlier writes
    of ``target`` that were killed are removed first (:func:`remove_stale_parts`).
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SourceError("out.no_folder", file=str(target), folder=str(folder))
    remove_stale_parts(target)
    prefix = f"{_part_prefix(target)}{os.getpid()}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix or ".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the writer creates it: GDAL refuses to write into an empty file
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        _remove(tmp)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    try:
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    except PermissionError as exc:
        raise SourceError("out.unwritable", file=str(target), reason=exc.strerror) from exc
