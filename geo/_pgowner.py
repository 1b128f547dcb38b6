"""What the tool owns in a bureau's database: the mark it leaves and the tables under it.

A bureau's PostgreSQL database holds other teams' data: tables in ``public``, schemas of
their own, the ``postgis`` extension every geometry column depends on. The tool writes only
into a schema it created or that was empty when it first wrote there, and within it only
the tables it wrote. Both are recorded in the schema's ``dataset_info`` table:

``store.tool``
    ``nanguan-renewal-map``: the schema is this tool's.
``store.format``
    The layout's version (:data:`FORMAT`).
``store.tables``
    The tables it wrote, comma-separated; a replace drops only these.

A schema it created also carries a comment saying so, for the database's administrator.
Everything here runs inside the caller's transaction; nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "FORMAT",
    "MARK_KEYS",
    "TOOL",
    "SchemaState",
    "copy_grants",
    "mark",
    "mark_rows",
    "schema_state",
]

TOOL = "nanguan-renewal-map"
FORMAT = "1"
INFO_TABLE = "dataset_info"
#: dataset_info keys that belong to the store, not to the data: never copied to a file.
MARK_KEYS = ("store.tool", "store.format", "store.tables")
_COMMENT = f"{TOOL} (format {FORMAT}): written by python -m geo publish; other tables here are left alone"


@dataclass(frozen=True)
class SchemaState:
    """A schema as the tool finds it before writing.

    Attributes
    ----------
    exists : bool
        The schema exists.
    owned : bool
        It carries the tool's mark.
    ours : tuple of str
        The tables the mark lists that are there (what a replace may drop).
    others : tuple of str
        Every other relation in it (tables, views, sequences of other tables …): left alone.
    """

    exists: bool
    owned: bool
    ours: tuple[str, ...]
    others: tuple[str, ...]

    @property
    def writable(self) -> bool:
        """Whether the tool may write here: a new or empty schema, or one it marked."""
        return not self.exists or self.owned or not self.others


def _relations(conn: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    """(name, kind) of every relation in ``schema``, indexes and the sequences tables own left out."""
    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind NOT IN ('i', 'I')"
        " AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid"
        " AND d.deptype IN ('a', 'i') AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = n.oid)))"
        " ORDER BY c.relname",
        (schema,),
    )
    return [(str(r[0]), str(r[1])) for r in rows]


def _mark_of(conn: psycopg.Connection, schema: str) -> dict[str, str] | None:
    """The store rows of the schema's dataset_info, or None when it has none."""
    from psycopg import sql

    row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{INFO_TABLE}"',)).fetchone()
    if row is None or row[0] is None:
        return None
    try:
        conn.execute("SAVEPOINT nanguan_mark")
        rows = conn.execute(
            sql.SQL("SELECT key, value FROM {} WHERE key = ANY(%s)").format(sql.Identifier(schema, INFO_TABLE)),
            (list(MARK_KEYS),),
        ).fetchall()
        conn.execute("RELEASE SAVEPOINT nanguan_mark")
    except Exception:  # another team's dataset_info of another shape: not a mark
        conn.execute("ROLLBACK TO SAVEPOINT nanguan_mark")
        return None
    found = {str(k): str(v) for k, v in rows}
    return found if found.get("store.tool") == TOOL else None


def schema_state(conn: psycopg.Connection, schema: str) -> SchemaState:
    """What ``schema`` holds and what of it the tool wrote (inside the caller's transaction)."""
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None
    if not exists:
        return SchemaState(False, False, (), ())
    relations = [name for name, _ in _relations(conn, schema)]
    found = _mark_of(conn, schema)
    if found is None:
        return SchemaState(True, False, (), tuple(relations))
    listed = {t for t in found.get("store.tables", "").split(",") if t}
    ours = tuple(r for r in relations if r in listed)
    return SchemaState(True, True, ours, tuple(r for r in relations if r not in listed))


def mark_rows(tables: Iterable[str]) -> list[tuple[str, str]]:
    """The dataset_info rows that mark a schema as the tool's, listing ``tables``."""
    return [("store.tool", TOOL), ("store.format", FORMAT), ("store.tables", ",".join(sorted(set(tables))))]


def mark(conn: psycopg.Connection, schema: str, *, tables: Iterable[str], created: bool) -> None:
    """Write the mark into ``schema``'s dataset_info (which must exist), listing ``tables``;
    a schema the tool ``created`` gets its comment too."""
    from psycopg import sql

    table = sql.Identifier(schema, INFO_TABLE)
    conn.execute(sql.SQL("DELETE FROM {} WHERE key = ANY(%s)").format(table), (list(MARK_KEYS),))
    # One statement a row, not executemany: psycopg pipelines that, and a transaction whose last
    # statement was pipelined is never "idle" to the server, whose idle timeout then cannot end
    # a writer that froze before its COMMIT.
    for row in mark_rows(tables):
        conn.execute(sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s)").format(table), row)
    if created:
        conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(schema), sql.Literal(_COMMENT)))


def _grants(conn: psycopg.Connection, regclass: str) -> list[tuple[str, str, bool]]:
    """(grantee, privilege, grantable) of a relation, the owner's own rights left out."""
    rows = conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.privilege_type,"
        " a.is_grantable FROM pg_class c, aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE c.oid = to_regclass(%s) AND a.grantee <> c.relowner",
        (regclass,),
    )
    return [(str(g), str(p), bool(w)) for g, p, w in rows]


def _owned_sequences(conn: psycopg.Connection, regclass: str) -> list[str]:
    rows = conn.execute(
        "SELECT s.oid::regclass::text FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
        " WHERE s.relkind = 'S' AND d.refobjid = to_regclass(%s) AND d.deptype IN ('a', 'i')",
        (regclass,),
    )
    return [str(r[0]) for r in rows]


def copy_grants(conn: psycopg.Connection, old: tuple[str, str], new: tuple[str, str]) -> int:
    """Give the table ``new`` (schema, name) the rights other roles had on ``old``, and its
    sequences those of ``old``'s, so a reader's or planner's grants outlive a replace.

    Returns the number of GRANT statements run.
    """
    from psycopg import sql

    def regclass(schema: str, name: str) -> str:
        return sql.Identifier(schema, name).as_string(conn)

    done = 0
    pairs = [(regclass(*old), regclass(*new), "TABLE")]
    pairs += list(
        zip(
            _owned_sequences(conn, regclass(*old)),
            _owned_sequences(conn, regclass(*new)),
            ["SEQUENCE"] * 8,
            strict=False,
        )
    )
    for before, after, kind in pairs:
        for grantee, privilege, grantable in _grants(conn, before):
            conn.execute(
                sql.SQL("GRANT {} ON {} {} TO {}{}").format(
                    sql.SQL(privilege),
                    sql.SQL(kind),
                    sql.SQL(after),
                    sql.SQL(grantee),
                    sql.SQL(" WITH GRANT OPTION" if grantable else ""),
                )
            )
            done += 1
    return done
