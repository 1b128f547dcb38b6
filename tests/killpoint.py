"""Run ``python -m geo`` and kill it with SIGKILL just before its N-th write step.

    python -m tests.killpoint STEPS N SPILL COMMAND ARGS…
    python -m tests.killpoint STEPS stop:N SPILL COMMAND ARGS…

A write step is a call of a primitive the project writes through: ``pyogrio.write_dataframe``,
``os.replace``, ``shutil.copyfile``, ``Path.write_bytes`` / ``write_text``, ``ZipFile.write``,
``tempfile.mkstemp`` / ``mkdtemp``, ``execute`` on a ``sqlite3`` connection, and psycopg's
``execute``, ``executemany``, ``copy`` and ``commit``. Each step is appended to the file
STEPS as it starts (``<number> <primitive>``), so a run with N = 0, which kills nothing,
lists every step of the command. With N > 0 the process sends itself SIGKILL instead of
taking step N: no ``finally``, no ``atexit``, no rollback runs, as when the power goes.
With ``stop:N`` it sends itself SIGSTOP instead: it freezes there, its connections open, as
a writer whose machine hangs or whose network is cut.
SPILL = 1 gives every SQLite connection a cache of one page, so changed pages reach the
file before COMMIT, as in an edit of many features of a large GeoPackage.
"""

from __future__ import annotations

import functools
import os
import pathlib
import shutil
import signal
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

import psycopg
import pyogrio

STEPS, SPILL = sys.argv[1], sys.argv[3] == "1"
SIGNAL = signal.SIGSTOP if sys.argv[2].startswith("stop:") else signal.SIGKILL
KILL_AT = int(sys.argv[2].removeprefix("stop:"))
_log = os.open(STEPS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
_taken = 0


def _step(name: str) -> None:
    global _taken
    _taken += 1
    if _taken == KILL_AT:
        os.write(_log, f"{_taken} {name} {SIGNAL.name}\n".encode())
        os.kill(os.getpid(), SIGNAL)
    os.write(_log, f"{_taken} {name}\n".encode())


def _counted(owner: Any, attr: str, name: str) -> None:
    original: Callable[..., Any] = getattr(owner, attr)

    @functools.wraps(original)
    def step_then_call(*args: Any, **kwargs: Any) -> Any:
        _step(name)
        return original(*args, **kwargs)

    setattr(owner, attr, step_then_call)


class _Connection(sqlite3.Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if SPILL:
            super().execute("PRAGMA cache_size = 1")

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        _step("sqlite3.execute")
        return super().execute(*args, **kwargs)


_sqlite_connect = sqlite3.connect


def _connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    return _sqlite_connect(*args, factory=_Connection, **kwargs)


for _owner, _attr, _name in (
    (pyogrio, "write_dataframe", "pyogrio.write_dataframe"),
    (os, "replace", "os.replace"),
    (shutil, "copyfile", "shutil.copyfile"),
    (pathlib.Path, "write_bytes", "Path.write_bytes"),
    (pathlib.Path, "write_text", "Path.write_text"),
    (zipfile.ZipFile, "write", "ZipFile.write"),
    (tempfile, "mkstemp", "tempfile.mkstemp"),
    (tempfile, "mkdtemp", "tempfile.mkdtemp"),
    (psycopg.Connection, "execute", "psycopg.execute"),
    (psycopg.Connection, "commit", "psycopg.commit"),
    (psycopg.Cursor, "executemany", "psycopg.executemany"),
    (psycopg.Cursor, "copy", "psycopg.copy"),
):
    _counted(_owner, _attr, _name)
sqlite3.connect = _connect  # type: ignore[assignment]

if __name__ == "__main__":
    from cli import main

    sys.exit(main(sys.argv[4:]))
