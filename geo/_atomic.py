"""Writing files so that a failure leaves what was there untouched.

A file is written under a temporary name beside its target and renamed over it only when
complete. The temporary name says whose it is:
``.<target name>.part-<pid>.<start>-<random><suffix>``, where ``<start>`` is when that
process started (clock ticks since boot, from ``/proc``; absent where there is none). A
writer killed outright (SIGKILL, a power cut) cannot remove its own; the next write of the
same target removes those whose process no longer runs, so none is left for good. The
start time tells a process that reused the pid (as every restart of a container's first
process does) from the writer that died. Scratch folders in the system's temporary
directory (:func:`scratch_dir`) are named and cleared the same way: the next scratch folder
of any kind clears those of every kind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import SourceError, ValidationError

__all__ = ["SCRATCH_KINDS", "atomic_path", "disk_full", "remove_stale_parts", "scratch_dir", "write_bytes_atomic"]

log = logging.getLogger(__name__)

#: What SQLite (GeoPackage) may leave beside a database it was writing.
_SIDECARS = ("-journal", "-wal", "-shm")
#: The kinds of scratch folder the project makes in the system's temporary directory.
SCRATCH_KINDS: tuple[str, ...] = ("nanguan-shp-", "nanguan-export-", "nanguan-import-")


#: How a full disk shows in the messages of GDAL and SQLite, which carry no errno.
_FULL_TEXTS = ("no space left on device", "database or disk is full", "disk quota exceeded")


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(current).lower() for text in _FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return False


#: Free bytes below which a failed write is put down to a full disk.
_NO_ROOM_BYTES = 1 << 20


def _no_room(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _NO_ROOM_BYTES
    except OSError:
        return False


@contextlib.contextmanager
def _full_disk_is_one_line(folder: Path) -> Iterator[None]:
    """A full disk inside the block becomes :class:`SourceError` ``disk.full``: one line,
    naming no temporary path (the caller's ``finally`` removes what was written).

    GDAL does not always say so: a GeoPackage it cannot grow fails with "no such table:
    gpkg_contents". So a write that fails while ``folder``'s disk has less than a megabyte
    left is taken for one that filled it.
    """
    try:
        yield
    except Exception as exc:
        if disk_full(exc) or (not isinstance(exc, ValidationError) and _no_room(folder)):
            raise SourceError("disk.full") from None
        raise


def _part_prefix(target: Path) -> str:
    return f".{target.name}.part-"


def _start_ticks(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot); None when it does not run or
    the system has no ``/proc``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name in brackets may hold spaces
    return fields[19] if len(fields) > 19 else None


def _me() -> str:
    """This process as temporary names carry it: ``<pid>.<start>``, or ``<pid>`` without /proc."""
    start = _start_ticks(os.getpid())
    return f"{os.getpid()}.{start}" if start else str(os.getpid())


def _running(owner: str) -> bool:
    """Whether the process named ``<pid>.<start>`` (or ``<pid>``) still runs.

    With a start time, a process of that pid that started at another time is another
    process: the owner is gone. Without one (names from systems without /proc), a pid that
    runs counts as the owner; outside POSIX every owner counts as running.
    """
    pid_text, _, start = owner.partition(".")
    pid = int(pid_text)
    if start and Path("/proc/self/stat").exists():
        return _start_ticks(pid) == start
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(name: str, prefix: str) -> str | None:
    """The ``<pid>.<start>`` of a name ``<prefix><pid>[.<start>]-…``; None for other names.

    Leading dots are ignored on both sides, so the temporary file of a write into a
    temporary file (``..<name>.part-….part-…``) is its outer writer's.
    """
    stripped, bare = name.lstrip("."), prefix.lstrip(".")
    if not stripped.startswith(bare):
        return None
    owner = stripped.removeprefix(bare).split("-", 1)[0]
    return owner if re.fullmatch(r"\d+(\.\d+)?", owner) else None


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
            owner = _owner(entry.name, prefix)
            if owner is None or _running(owner):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A scratch folder ``<prefix><pid>.<start>-<random>`` in the system's temporary
    directory, removed afterwards; scratch folders of every kind (:data:`SCRATCH_KINDS`)
    left by killed processes are removed first.

    Parameters
    ----------
    prefix : str
        Start of the folder's name, one of :data:`SCRATCH_KINDS`.
    """
    base = Path(tempfile.gettempdir())
    for kind in dict.fromkeys((*SCRATCH_KINDS, prefix)):
        if _remove_stale(base, kind):
            log.info("removed scratch folders %s* left by interrupted processes", kind)
    with _full_disk_is_one_line(base), tempfile.TemporaryDirectory(prefix=f"{prefix}{_me()}-", dir=base) as folder:
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
    prefix = f"{_part_prefix(target)}{_me()}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix or ".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the writer creates it: GDAL refuses to write into an empty file
    try:
        with _full_disk_is_one_line(folder):
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
