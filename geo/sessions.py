"""Each app session's temporary folder: made on first use, removed when the session ends.

A session's uploads and its working copy live in a folder ``nanguan-session-<random>`` in
the system's temporary directory, so that two sessions never share a file, even when both
upload a file of the same name. Streamlit says nothing reliable when a session ends, so the
folder goes two ways: with the object that owns it (:class:`SessionFolder`, kept in the
session's state, is collected when the session is dropped, and at the latest when the server
stops), and, for a server killed outright, by age (:func:`remove_stale_sessions`, which
each new session runs: a folder unused for longer than ``NANGUAN_SESSION_MAX_AGE_H`` hours is
removed). Every use of a folder marks it used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import weakref
from pathlib import Path

__all__ = ["PREFIX", "SessionFolder", "remove_stale_sessions"]

log = logging.getLogger(__name__)

#: Start of the name of every session folder.
PREFIX = "nanguan-session-"


class SessionFolder:
    """A new, empty folder for one session, removed when this object is collected.

    Parameters
    ----------
    base : str or PathLike, optional
        Where to make it; default: the system's temporary directory.
    """

    def __init__(self, base: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def touch(self) -> Path:
        """Mark the folder used now (its age counts from here); returns its path."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path)
        return self.path

    def remove(self) -> None:
        """Remove the folder now."""
        self._remove()


def remove_stale_sessions(
    max_age_h: float, *, base: str | os.PathLike[str] | None = None, now: float | None = None
) -> list[Path]:
    """Remove the session folders unused for more than ``max_age_h`` hours.

    Parameters
    ----------
    max_age_h : float
        Age in hours, counted from a folder's last modification (see :meth:`SessionFolder.touch`).
    base : str or PathLike, optional
        Where the folders are; default: the system's temporary directory.
    now : float, optional
        The current time, seconds since the epoch; default: now.

    Returns
    -------
    list of Path
        The folders removed.
    """
    folder = Path(base if base is not None else tempfile.gettempdir())
    limit = (time.time() if now is None else now) - max_age_h * 3600.0
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in folder.iterdir():
            if not entry.name.startswith(PREFIX) or entry.is_symlink() or not entry.is_dir():
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < limit:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
    if removed:
        log.info("removed %d session folders unused for over %g h", len(removed), max_age_h)
    return removed
