"""The operation log: one JSON line per import, export, publish, edit, undo and sign-in.

Each write the project makes is one line on the ``nanguan.ops`` logger, from the core, so
the command line and the app log alike::

    {"ts": "2026-11-27T10:52:01.123Z", "event": "edit", "who": "张三",
     "source": "work.gpkg", "layer": "roads", "features": 1, "changes": 2,
     "result": "ok", "duration_ms": 12.5}

Keys: ``ts`` (UTC), ``event`` (``import``, ``export``, ``publish``, ``edit``, ``undo``,
``sign_in``),
``who`` (the ``--by`` name or the app's signed-in editor; on the command line without one,
the system user), ``source`` (the file or database written, or exported from), ``layer``
(names, comma-separated), ``features`` (how many features were written, exported or
edited), ``result`` (``ok`` or ``error``, then ``error`` holds the message) and
``duration_ms``; by event also ``file`` (the imported file's name), ``format``, ``crs``
and ``out`` (exports), ``target`` (publish), ``changes`` and ``change`` (edits, undo),
``client`` (a sign-in's address: :func:`geo.auth.sign_in`).

A write made inside another (the GeoPackage an export writes, the edit an undo makes)
adds its figures to the outer one's line instead of logging its own. No line holds a
password: the password of every URL is removed (``postgresql://user:pw@host/db`` →
``postgresql://user@host/db``, as is a ``password=`` parameter), and the secrets
:func:`configure` is given (the Tianditu key, the bureau database's password) are
replaced by ``***``. Where the lines go is the ``NANGUAN_LOG_FILE`` setting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote

from .errors import RenewalError, message

__all__ = ["OPS_LOGGER", "acting_as", "configure", "logged", "operation", "redact"]

OPS_LOGGER = "nanguan.ops"
log = logging.getLogger(OPS_LOGGER)

P = ParamSpec("P")
R = TypeVar("R")

_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s\"']*):[^\s/\"']*@", re.IGNORECASE)
_PASSWORD_PARAMETER = re.compile(r"([?&;\s](?:password|passwd|pwd)=)[^&\s\"']*", re.IGNORECASE)
_current: ContextVar[dict[str, Any] | None] = ContextVar("nanguan_operation", default=None)
_actor: ContextVar[str] = ContextVar("nanguan_actor", default="")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without credentials: URL passwords dropped, ``password=`` values and each of
    ``secrets`` (at least 4 characters long) replaced by ``***``."""
    text = _PASSWORD_PARAMETER.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1@", text))
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _clean(value: object) -> object:
    """A value as the log line holds it: JSON types, paths and other objects as redacted text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return redact(str(value))


def _error_text(exc: BaseException) -> str:
    text = message(exc) if isinstance(exc, RenewalError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


@contextlib.contextmanager
def acting_as(who: str) -> Iterator[None]:
    """Name ``who`` in the lines of operations in this block that name no one themselves."""
    token = _actor.set(who)
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def operation(event: str, **fields: object) -> Iterator[dict[str, Any]]:
    """Log one line for the block: ``fields``, and what the block adds to the yielded record.

    Inside another operation, nothing is logged: ``fields`` fill the outer one's missing
    keys and the yielded record is the outer one's. The line says ``result: error`` and the
    message when the block raises (the exception goes on).
    """
    outer = _current.get()
    if outer is not None:
        for key, value in fields.items():
            if outer.get(key) is None:
                outer[key] = value
        yield outer
        return
    who = fields.pop("who", None) or _actor.get() or None
    record: dict[str, Any] = {"event": event, "who": who, **fields}
    token = _current.set(record)
    start = time.perf_counter()
    try:
        yield record
    except BaseException as exc:
        record.update(result="error", error=_error_text(exc))
        _emit(record, start, logging.WARNING)
        raise
    else:
        record["result"] = "ok"
        _emit(record, start, logging.INFO)
    finally:
        _current.reset(token)


def _emit(record: dict[str, Any], start: float, level: int) -> None:
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {"ts": stamp, **record, "duration_ms": round((time.perf_counter() - start) * 1000, 1)}
    log.log(level, "%s", json.dumps(_clean(line), ensure_ascii=False))


def logged(
    event: str,
    *,
    figures: Callable[[Any, Mapping[str, Any]], Mapping[str, object]] | None = None,
    **params: str | Callable[[Mapping[str, Any]], object],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make each call of the decorated function one :func:`operation` line.

    Parameters
    ----------
    event : str
        The line's ``event``.
    figures : callable, optional
        ``figures(result, arguments)`` gives the keys known once the call returns
        (``features``, ``changes`` …); ``arguments`` are the call's, by parameter name.
    **params : str or callable
        Keys of the line taken from the call's arguments: ``layer="layer"`` logs the
        argument ``layer`` as ``layer``; a callable is given the arguments by name.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            fields = {k: v(arguments) if callable(v) else arguments.get(v) for k, v in params.items()}
            with operation(event, **fields) as record:
                result = func(*args, **kwargs)
                if figures is not None:
                    for key, value in figures(result, arguments).items():
                        if record.get(key) is None:
                            record[key] = value
                return result

        return call

    return decorate


class _Secrets(logging.Filter):
    """Replaces the configured secrets in every record of the operation log; remembers the
    configuration it belongs to."""

    def __init__(self, secrets: tuple[str, ...], config: tuple[object, ...]) -> None:
        super().__init__()
        self.secrets = secrets
        self.config = config

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        return True


def _url_passwords(text: str) -> tuple[str, ...]:
    """The password of a URL as written and decoded (``p%40ss`` and ``p@ss``); else ``text``."""
    found = re.search(r"://[^:/@\s]*:([^\s/]*)@", text)
    return (found.group(1), unquote(found.group(1))) if found else (text,)


def configure(log_file: str, level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """Send the operation log to ``log_file`` (appended, UTF-8; ``-`` for standard error).

    Parameters
    ----------
    log_file : str
        A file path, ``-``, or empty: nowhere.
    level : str
        ``INFO`` (every operation), ``WARNING`` (failed ones only) or ``OFF``.
    secrets : iterable of str
        Values never to write (keys, passwords); a URL stands for its password.

    Calling it again with the same arguments changes nothing (the app calls it on every rerun).
    """
    hidden = tuple(dict.fromkeys(p for s in secrets if s for p in _url_passwords(s)))
    config = (log_file, level.upper(), hidden)
    ours = [f for f in log.filters if isinstance(f, _Secrets)]
    if [f.config for f in ours] == [config]:
        return
    for old in ours:
        log.removeFilter(old)
    for previous in [h for h in log.handlers if h.get_name() == OPS_LOGGER]:
        log.removeHandler(previous)
        previous.close()
    log.addFilter(_Secrets(hidden, config))
    log.setLevel(logging.CRITICAL + 1 if level.upper() == "OFF" else logging.getLevelName(level.upper()))
    handler: logging.Handler
    if not log_file:
        handler = logging.NullHandler()  # not Python's last resort either, which prints failures
    elif log_file == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(Path(log_file), encoding="utf-8", delay=True)
    handler.set_name(OPS_LOGGER)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.propagate = False
