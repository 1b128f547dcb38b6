"""The connection to a PostGIS source: URLs, passwords kept out of sight, one transaction.

A source URL is ``postgresql://user[:password]@host:port/db?schema=renewal`` (schema
``nanguan`` when not given). :func:`parse_url` makes a :class:`Database` of it,
:func:`connect` opens one transaction on it, and driver errors become one line naming the
URL with its password masked (:func:`mask_url`). What the tool owns in the schema
(:mod:`geo._pgowner`) is checked here too, before any write.

SQLAlchemy (engine, URL parsing, pooling) and psycopg 3 (the driver) are optional
dependencies, imported on first use.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from . import _parallel, _pgowner
from .errors import SourceError
from .settings import Settings

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Engine

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_SCHEMA",
    "GEOMETRY_COLUMN",
    "IDENTIFIER",
    "INFO_TABLE",
    "Database",
    "check_identifier",
    "connect",
    "dispose",
    "is_database_url",
    "mask_url",
    "parse_url",
    "require_owned",
]

log = logging.getLogger(__name__)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
GEOMETRY_COLUMN = "geom"
INFO_TABLE = "dataset_info"
#: The schema a URL without ``?schema=`` names: one of the tool's own, new on a fresh database.
DEFAULT_SCHEMA = "nanguan"
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: A URL's password: up to the ``@`` that a host (and port) and the path, query or end follow,
#: so a password holding ``@``, ``/`` or ``?`` is hidden whole.
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?(?:\+\w+)?://[^:/@\s]*):\S*?@(?=[^@/?#\s]+(?::\d+)?(?:[/?#\s]|$))")
#: Where a URL's user information ends: the last ``@`` before its host, port and database.
_USERINFO_END = re.compile(r"@(?=[^@/?#\s]+(?::\d*)?/)")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&\s]*", re.IGNORECASE)
#: Seconds to wait for a server before saying it cannot be reached.
CONNECT_TIMEOUT_S = 5


def _drivers() -> tuple[Any, Any]:
    """SQLAlchemy and psycopg, imported on first use."""
    try:
        import psycopg
        import sqlalchemy
    except ImportError as exc:
        raise SourceError("store.needs_drivers", module=exc.name) from exc
    return sqlalchemy, psycopg


def is_database_url(source: object) -> bool:
    """Whether ``source`` is a PostgreSQL URL rather than a file path."""
    return isinstance(source, str) and source.strip().lower().startswith(_SCHEMES)


def mask_url(text: str) -> str:
    """``text`` with the password of every PostgreSQL URL in it (``user:pw@`` or a
    ``password=`` parameter) replaced by ``***``."""
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def check_identifier(name: str, what: str) -> str:
    """``name`` when it is a plain lower-case SQL identifier; SourceError otherwise."""
    if not IDENTIFIER.fullmatch(name):
        raise SourceError("store.bad_name", what=what, name=name)
    return name


@dataclass(frozen=True)
class Database:
    """A PostGIS source: where to connect and which schema holds the layers.

    Attributes
    ----------
    url : str
        The connection URL without the ``schema`` parameter (may hold a password: never
        show it; use :attr:`masked`).
    schema : str
        The schema of the layers, a checked identifier.
    """

    url: str
    schema: str

    @property
    def masked(self) -> str:
        """The URL as messages show it: password hidden, schema included."""
        shown = mask_url(self.url).replace("postgresql+psycopg://", "postgresql://", 1)
        return f"{shown} (schema {self.schema})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of :attr:`url`, one per URL per process."""
        return _engine(self.url)


def _escaped_userinfo(source: str) -> str:
    """``source`` with its user name and password percent-encoded. SQLAlchemy ends the
    password at its first ``@``: unescaped, ``p@ss@db.bureau`` would connect to a host
    ``ss@db.bureau`` and every error would show that piece of the password."""
    scheme, sep, rest = source.partition("://")
    ends = list(_USERINFO_END.finditer(rest)) if sep else []
    if not ends:
        return source
    userinfo, host = rest[: ends[-1].start()], rest[ends[-1].end() :]
    user, colon, password = userinfo.partition(":")
    escaped = quote(unquote(user), safe="") + (colon + quote(unquote(password), safe="") if colon else "")
    return f"{scheme}://{escaped}@{host}"


def parse_url(source: str, *, schema: str | None = None) -> Database:
    """A :class:`Database` from a ``postgresql://`` URL.

    Parameters
    ----------
    source : str
        ``postgresql://user[:password]@host[:port]/db[?schema=name]``; ``postgres://`` and
        ``postgresql+psycopg://`` are accepted too.
    schema : str, optional
        Overrides the URL's ``schema`` parameter (default :data:`DEFAULT_SCHEMA`, ``nanguan``:
        ``public`` exists in every database and holds other teams' tables and PostGIS itself).
    """
    sqlalchemy, _ = _drivers()
    try:
        url = sqlalchemy.engine.make_url(_escaped_userinfo(source.strip()))
    except sqlalchemy.exc.ArgumentError as exc:
        raise SourceError("store.bad_url", url=mask_url(source), reason=mask_url(str(exc))) from None
    query = dict(url.query)
    given = query.pop("schema", None)
    chosen = schema or (given if isinstance(given, str) else None) or DEFAULT_SCHEMA
    check_identifier(chosen, "schema")
    url = url.set(drivername="postgresql+psycopg", query=query)
    if not url.database:
        raise SourceError("store.no_database", url=mask_url(source))
    return Database(url.render_as_string(hide_password=False), chosen)


#: Engines by URL, the most recently used last; at most :data:`_ENGINES_MAX`.
_ENGINES: collections.OrderedDict[str, Engine] = collections.OrderedDict()
_ENGINES_LOCK = threading.Lock()
_ENGINES_MAX = 8


def _engine(url: str) -> Engine:
    """The engine of ``url``, one per URL per process. The least recently used of more than
    :data:`_ENGINES_MAX` is disposed of, its pooled connections closed rather than left to
    the garbage collector (a server then sees them end at once)."""
    sqlalchemy, _ = _drivers()
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is not None:
            _ENGINES.move_to_end(url)
            return engine
        engine = _ENGINES[url] = sqlalchemy.create_engine(
            url, pool_pre_ping=True, pool_size=_parallel.workers(), connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
        )
        evicted = [_ENGINES.popitem(last=False)[1] for _ in range(len(_ENGINES) - _ENGINES_MAX)]
    for old in evicted:
        old.dispose()
    return engine


def dispose(url: str) -> None:
    """Close the pooled connections to the database of ``url`` (a source URL), as before the
    database is dropped or the process hands its work on."""
    with _ENGINES_LOCK:
        engine = _ENGINES.pop(parse_url(url).url, None)
    if engine is not None:
        engine.dispose()


def _reason(exc: BaseException) -> str:
    """The driver's message on one line, without the repeated address, password hidden."""
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip()) or type(exc).__name__
    text = re.sub(r"^(connection failed: )?connection to server at [^,]+, port \d+ failed: ", "", text)
    return mask_url(text.replace("FATAL:  ", "").strip())


def _fault(db: Database, exc: BaseException) -> SourceError:
    """One clear line for a driver error."""
    reason = _reason(exc)
    low = reason.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        code = "store.auth"
    elif "connection refused" in low or "timeout expired" in low or "resolve host" in low:
        reason, code = reason.split(" Is the server running")[0], "store.unreachable"
    elif "permission denied" in low or "read-only transaction" in low:
        code = "store.denied"
    elif "server closed the connection" in low or "connection is lost" in low or "terminating connection" in low:
        code = "store.lost"
    else:
        code = "store.fault"
    return SourceError(code, url=db.masked, reason=reason)


@contextlib.contextmanager
def connect(db: Database, *, read_only: bool = True, snapshot: str | None = None) -> Iterator[psycopg.Connection]:
    """A psycopg connection inside one transaction, committed when the block ends.

    A read-only transaction is ``REPEATABLE READ``, so every query in it sees one snapshot
    of the data; ``snapshot`` (from ``pg_export_snapshot()`` in another such transaction)
    makes it see that one, so several connections can share the work of one reading.
    A writing transaction that sits idle longer than ``NANGUAN_DB_WRITE_IDLE_S`` is ended
    by the server and rolled back: a writer that froze, or whose network went, does not
    hold the locks its readers wait for (a killed one is noticed at once).
    Driver errors become a :class:`SourceError` of one line naming the masked URL; an
    error inside the block rolls everything back.
    """
    _, psycopg = _drivers()
    from psycopg import sql

    try:
        with db.engine.connect() as sa_conn:
            raw = sa_conn.connection.driver_connection
            assert raw is not None  # a live SQLAlchemy connection holds its driver connection
            raw.rollback()
            if read_only:
                raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if snapshot is not None:
                    raw.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            else:
                idle_ms = str(round(Settings.from_env().db_write_idle_s * 1000))
                raw.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)", (idle_ms,))
            yield raw
            raw.commit()
    except psycopg.Error as exc:
        raise _fault(db, exc) from None
    except _sqlalchemy_errors() as exc:
        raise _fault(db, getattr(exc, "orig", None) or exc) from None


def _sqlalchemy_errors() -> tuple[type[BaseException], ...]:
    sqlalchemy, _ = _drivers()
    return (sqlalchemy.exc.DBAPIError,)


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def _require_schema(conn: psycopg.Connection, db: Database) -> None:
    if not _schema_exists(conn, db.schema):
        raise SourceError("store.no_schema", url=db.masked, schema=db.schema)


def _tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name", (schema,)
    )
    return [str(r[0]) for r in rows]


def _failed(db: Database, exc: BaseException, doing: str) -> SourceError:
    if getattr(exc, "sqlstate", None) == "2BP01":  # dependent_objects_still_exist: another team's view
        return SourceError("store.depends", url=db.masked, reason=_reason(exc))
    if getattr(exc, "sqlstate", None) == "53100":  # disk_full on the server
        return SourceError("store.disk_full", url=db.masked)
    return SourceError("store.failed", fault=_fault(db, exc), doing=doing)


def _not_ours(db: Database, state: _pgowner.SchemaState) -> SourceError:
    shown = ", ".join(state.others[:5]) + (f" and {len(state.others) - 5} more" if len(state.others) > 5 else "")
    return SourceError("store.not_ours", url=db.masked, schema=db.schema, tables=shown, suggestion=DEFAULT_SCHEMA)


def require_owned(conn: psycopg.Connection, db: Database) -> _pgowner.SchemaState:
    """The schema's state when the tool wrote it; refused in one line otherwise (an edit
    never changes another team's table that happens to bear a layer's name)."""
    state = _pgowner.schema_state(conn, db.schema)
    if not state.owned:
        raise _not_ours(db, state)
    return state


def _writable_state(conn: psycopg.Connection, db: Database) -> _pgowner.SchemaState:
    """The target schema's state, refused when the tool may not write there."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"nanguan:{db.schema}",))
    state = _pgowner.schema_state(conn, db.schema)
    if not state.writable:
        raise _not_ours(db, state)
    return state
