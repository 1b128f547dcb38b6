"""PostGIS as a source: the bureau's shared database, its layers read and written like a GeoPackage's.

One table per catalogue layer, a ``geom`` column typed and in the layer's CRS, the
``dataset_info`` key/value table and the ``change_history`` (:mod:`geo.pghistory`).
:func:`publish_layers` writes every layer and a history in one transaction, with the
catalogue's rules as constraints; :func:`store_layer` replaces one layer in one
transaction; both record what they replaced in the history and write only where the tool
owns what it replaces (:mod:`geo._pgowner`). Publishing a whole file and pulling a schema
back into one are :mod:`geo.transfer`'s. The connection, URLs and their masking are
:mod:`geo._pg`'s; its public names are this backend's too.

Safety: schema and table names are catalogue names or checked against
:data:`IDENTIFIER` and quoted with :class:`psycopg.sql.Identifier`; every value is a
bound parameter (constraint literals in DDL, which takes no parameters, are quoted by
psycopg). The password never appears in a message or a log line: URLs are shown through
:func:`mask_url`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE, LAYER_NAMES, LayerSpec, spec_for

from . import _pgowner, pghistory
from ._pg import (
    CONNECT_TIMEOUT_S,
    DEFAULT_SCHEMA,
    GEOMETRY_COLUMN,
    IDENTIFIER,
    INFO_TABLE,
    Database,
    _drivers,
    _failed,
    _not_ours,
    _require_schema,
    _tables,
    _writable_state,
    check_identifier,
    connect,
    mask_url,
    parse_url,
    require_owned,
)
from .errors import Problem, SourceError, ValidationError
from .history import HISTORY_TABLE, import_change
from .validate import inspect

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_SCHEMA",
    "GEOMETRY_COLUMN",
    "IDENTIFIER",
    "INFO_TABLE",
    "Database",
    "check_identifier",
    "connect",
    "dataset_info",
    "list_tables",
    "load_layers",
    "mask_url",
    "parse_url",
    "publish_layers",
    "read_layer",
    "replaced_by_publish",
    "require_owned",
    "store_layer",
]

log = logging.getLogger(__name__)

_PG_TYPES = {"str": "text", "int": "bigint", "float": "double precision"}
_GEOM_TYPES = {"point": "Point", "line": "LineString", "polygon": "Polygon"}
_MULTI = {"point": shapely.MultiPoint, "line": shapely.MultiLineString, "polygon": shapely.MultiPolygon}


def list_tables(db: Database) -> list[str]:
    """Names of the tables in the source's schema."""
    with connect(db) as conn:
        _require_schema(conn, db)
        return _tables(conn, db.schema)


def _srid(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        "SELECT srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s AND f_geometry_column = %s",
        (schema, table, GEOMETRY_COLUMN),
    ).fetchone()
    return int(row[0]) if row else 0


def _read(conn: psycopg.Connection, db: Database, layer: str) -> gpd.GeoDataFrame:
    """One layer's table as read: the catalogue's fields (those present) and the geometry."""
    from psycopg import sql

    spec = spec_for(layer)
    table = check_identifier(spec.name, "layer")
    columns = [
        str(r[0])
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " ORDER BY ordinal_position",
            (db.schema, table),
        )
    ]
    if GEOMETRY_COLUMN not in columns:
        raise SourceError("store.no_geometry", url=db.masked, table=table, column=GEOMETRY_COLUMN)
    fields = [f for f in spec.field_names if f in columns]
    query = sql.SQL('SELECT {fields}, ST_AsBinary({geom}) FROM {table} ORDER BY {id} COLLATE "C"').format(
        fields=sql.SQL(", ").join(sql.Identifier(f) for f in fields),
        geom=sql.Identifier(GEOMETRY_COLUMN),
        table=sql.Identifier(db.schema, table),
        id=sql.Identifier(spec.id_field if spec.id_field in columns else fields[0]),
    )
    rows = conn.execute(query).fetchall()
    srid = _srid(conn, db.schema, table)
    frame = pd.DataFrame([r[:-1] for r in rows], columns=fields) if rows else pd.DataFrame(columns=fields)
    geoms = shapely.from_wkb(np.array([None if r[-1] is None else bytes(r[-1]) for r in rows], dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS.from_epsg(srid) if srid else None)


def read_layer(db: Database, layer: str) -> gpd.GeoDataFrame:
    """One layer of the source as read, before validation."""
    with connect(db) as conn:
        _require_schema(conn, db)
        return _read(conn, db, layer)


def load_layers(db: Database, *, layers: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The catalogue layers the schema holds, validated (see :func:`geo.io.load_layers`)."""
    wanted = LAYER_NAMES if layers is None else tuple(spec_for(n).name for n in layers)
    found: list[Problem] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    with connect(db) as conn:
        _require_schema(conn, db)
        present = set(_tables(conn, db.schema))
        raw = {name: _read(conn, db, name) for name in wanted if name in present}
    for name, gdf in raw.items():
        normal, problems = inspect(gdf, CATALOGUE[name])
        out[name] = normal
        found.extend(problems)
    ValidationError.collect(found)
    log.info("loaded %s from %s", ", ".join(f"{k} ({len(v)})" for k, v in out.items()), db.masked)
    return out


def dataset_info(db: Database) -> dict[str, str]:
    """The key/value ``dataset_info`` table of the schema; empty when absent."""
    from psycopg import sql

    with connect(db) as conn:
        if INFO_TABLE not in _tables(conn, db.schema):
            return {}
        rows = conn.execute(sql.SQL("SELECT key, value FROM {}").format(sql.Identifier(db.schema, INFO_TABLE)))
        return {str(k): str(v) for k, v in rows if str(k) not in _pgowner.MARK_KEYS}


# --------------------------------------------------------------------------- writing


def _epsg(gdf: gpd.GeoDataFrame, layer: str) -> int:
    epsg = gdf.crs.to_epsg() if gdf.crs is not None else None
    if epsg is None:
        raise SourceError("store.no_epsg", layer=layer)
    return int(epsg)


def _geometry_type(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> str:
    """``LineString`` when every feature is single, ``MultiLineString`` when any is multi."""
    single = _GEOM_TYPES[spec.geometry]
    return f"Multi{single}" if (gdf.geom_type != single).any() else single


def _choices_text(spec: LayerSpec, name: str) -> str:
    f = spec.field(name)
    text = f"{f.zh} {f.en}"
    if f.unit:
        text += f" ({f.unit})"
    if f.choices:
        text += ": " + ", ".join(f"{c.code}={c.zh}" for c in f.choices)
    return text


def _table_ddl(schema: str, spec: LayerSpec, geom_type: str, srid: int) -> list[Any]:
    """CREATE TABLE, constraints and comments of one layer."""
    from psycopg import sql

    table = sql.Identifier(schema, check_identifier(spec.name, "layer"))
    columns = []
    for f in spec.fields:
        parts = [sql.Identifier(f.name), sql.SQL(_PG_TYPES[f.dtype])]
        if f.name == spec.id_field:
            parts.append(sql.SQL("PRIMARY KEY"))
        elif f.required:
            parts.append(sql.SQL("NOT NULL"))
        if f.choices:
            parts.append(
                sql.SQL("CONSTRAINT {} CHECK ({} IN ({}))").format(
                    sql.Identifier(f"{spec.name}_{f.name}_allowed"),
                    sql.Identifier(f.name),
                    sql.SQL(", ").join(sql.Literal(c) for c in f.codes),
                )
            )
        if f.minimum is not None:
            parts.append(
                sql.SQL("CONSTRAINT {} CHECK ({} >= {})").format(
                    sql.Identifier(f"{spec.name}_{f.name}_minimum"), sql.Identifier(f.name), sql.Literal(f.minimum)
                )
            )
        columns.append(sql.SQL(" ").join(parts))
    columns.append(
        sql.SQL("{} geometry({}, {}) NOT NULL").format(
            sql.Identifier(GEOMETRY_COLUMN), sql.SQL(geom_type), sql.Literal(srid)
        )
    )
    for rule in spec.rules:
        columns.append(
            sql.SQL("CONSTRAINT {} CHECK ({} <= {})").format(
                sql.Identifier(f"{spec.name}_{rule.field}_not_above_{rule.limit}"),
                sql.Identifier(rule.field),
                sql.Identifier(rule.limit),
            )
        )
    statements: list[Any] = [sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(columns))]
    statements.append(
        sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
            sql.Identifier(f"{spec.name}_{GEOMETRY_COLUMN}_gist"), table, sql.Identifier(GEOMETRY_COLUMN)
        )
    )
    statements.append(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(f"{spec.zh} {spec.en}")))
    for f in spec.fields:
        statements.append(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                table, sql.Identifier(f.name), sql.Literal(_choices_text(spec, f.name))
            )
        )
    return statements


def _write_layer(conn: psycopg.Connection, schema: str, gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Create one layer's table in ``schema`` and copy its features in."""
    from psycopg import sql

    spec = spec_for(layer)
    srid = _epsg(gdf, layer)
    geom_type = _geometry_type(gdf, spec)
    for statement in _table_ddl(schema, spec, geom_type, srid):
        conn.execute(statement)
    geoms = gdf.geometry.to_numpy()
    if geom_type.startswith("Multi"):
        multi = _MULTI[spec.geometry]
        geoms = np.array([g if isinstance(g, multi) else multi([g]) for g in geoms], dtype=object)
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
    names = list(spec.field_names)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, spec.name),
        sql.SQL(", ").join(sql.Identifier(n) for n in [*names, GEOMETRY_COLUMN]),
    )
    values = [gdf[n].astype(object).where(gdf[n].notna(), None).to_numpy() for n in names]
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for i in range(len(gdf)):
            copy.write_row([*(v[i] for v in values), ewkb[i]])
    log.info("wrote %d features of %s (%s, EPSG:%d)", len(gdf), layer, geom_type, srid)


def _write_info(conn: psycopg.Connection, schema: str, info: Mapping[str, str]) -> None:
    from psycopg import sql

    table = sql.Identifier(schema, INFO_TABLE)
    conn.execute(sql.SQL("CREATE TABLE {} (key text PRIMARY KEY, value text NOT NULL)").format(table))
    conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal("数据说明 Dataset information")))
    with conn.cursor() as cur:
        cur.executemany(sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s)").format(table), list(info.items()))


def _move_in(
    conn: psycopg.Connection,
    staging: str,
    db: Database,
    state: _pgowner.SchemaState,
    *,
    created: bool,
    keep_rest: bool = False,
) -> None:
    """Swap the staging schema's tables into the target: the tool's old tables of those
    names dropped (never with CASCADE: another team's view on one refuses the swap), its
    other tables too unless ``keep_rest``, grants carried over, the mark rewritten."""
    from psycopg import sql

    new_tables = _tables(conn, staging)
    clash = [t for t in new_tables if t in state.others]
    if clash:
        raise SourceError("store.table_not_ours", url=db.masked, schema=db.schema, table=clash[0])
    for table in new_tables:
        if table in state.ours:
            _pgowner.copy_grants(conn, (db.schema, table), (staging, table))
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(db.schema, table)))
    kept = [t for t in state.ours if t not in new_tables]
    if not keep_rest:
        for table in kept:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(db.schema, table)))
        kept = []
    for table in new_tables:
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(sql.Identifier(staging, table), sql.Identifier(db.schema))
        )
    conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(staging)))
    _pgowner.mark(conn, db.schema, tables=[*new_tables, *kept], created=created)


def publish_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    db: Database,
    *,
    info: Mapping[str, str] | None = None,
    replace: bool = False,
    history: pd.DataFrame | None = None,
    by: str = "",
    origin: str = "",
) -> None:
    """Write validated ``layers`` into ``db.schema`` in one transaction.

    The tool writes only where it owns what it replaces (:mod:`geo._pgowner`): a new schema,
    an empty one, or one it marked; in a marked schema only the tables it wrote are
    replaced, and every other table, view and extension stays as it was. An existing
    schema of anyone else (``public`` with PostGIS in it, another team's) is refused.

    The layers are written into a new schema of a random name first, whose tables then
    take the place of the old ones; all of it in one transaction, so a failure at any
    step, or a killed process, leaves the database as it was. Readers of the old tables
    are blocked only for the final swap. Other roles' rights on the replaced tables are
    given to the new ones.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Catalogue layers, already validated (:func:`geo.io.load_layers`); the database's
        constraints check them once more.
    db : Database
        Where to write.
    info : mapping of str to str, optional
        The ``dataset_info`` rows.
    replace : bool
        Replace the tool's tables in a schema it marked; without it such a schema is an error.
    history : DataFrame, optional
        The change history the layers come with (:func:`geo.history.read_history`), kept
        with its change ids in the schema's ``change_history``. With ``replace``, the
        changes of the replaced schema that this history lacks follow it (new ids).
    by, origin : str
        Who publishes, and from what file: each layer written is recorded in the history
        as replaced (with the feature counts before and after).
    """
    _, psycopg = _drivers()
    from psycopg import sql

    staging = f"_stage_{secrets.token_hex(6)}"
    with connect(db, read_only=False) as conn:
        state = _writable_state(conn, db)
        if state.owned and not replace:
            raise SourceError("store.schema_exists", url=db.masked, schema=db.schema)
        try:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
            for name in LAYER_NAMES:
                if name in layers:
                    _write_layer(conn, staging, layers[name], name)
            clean = {k: v for k, v in (info or {}).items() if k not in _pgowner.MARK_KEYS}
            _write_info(conn, staging, clean)
            before = {k: v for k, v in _counts(conn, db.schema).items() if k in state.ours}
            incoming = history if history is not None else pd.DataFrame()
            pghistory.write_history(conn, staging, incoming)
            if state.owned:  # the replaced schema's own edits stay on record, before the publish rows
                pghistory.carry_over(conn, db.schema, staging, incoming)
            for name in LAYER_NAMES:
                if name in layers:
                    change = import_change(
                        name, by=by, origin=origin, before=before.get(name), after=len(layers[name]), verb="publish"
                    )
                    pghistory.PgStore(conn, Database(db.url, staging)).insert(change)
            if not state.exists:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(db.schema)))
            _move_in(conn, staging, db, state, created=not state.exists)
        except psycopg.Error as exc:
            conn.rollback()
            raise _failed(db, exc, "publish") from None
    log.info("published %s into %s", ", ".join(layers), db.masked)


def replaced_by_publish(db: Database) -> dict[str, int]:
    """What a publish into ``db`` would replace: features of each of the tool's layers there
    (empty for a new or empty schema). Refused like the publish for a schema not the tool's."""
    with connect(db) as conn:
        state = _pgowner.schema_state(conn, db.schema)
        if not state.writable:
            raise _not_ours(db, state)
        return _counts(conn, db.schema) if state.owned else {}


def _counts(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    """Features of each catalogue layer the schema holds."""
    from psycopg import sql

    out: dict[str, int] = {}
    for name in _tables(conn, schema):
        if name in CATALOGUE:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()
            out[name] = int(row[0]) if row else 0
    return out


def store_layer(gdf: gpd.GeoDataFrame, layer: str, db: Database, *, by: str = "", origin: str = "") -> None:
    """Replace (or add) one layer's table in one transaction; a failure changes nothing.

    The replacement is recorded in the schema's change history (who: ``by``, what file:
    ``origin``, how many features) in the same transaction.
    """
    _, psycopg = _drivers()
    from psycopg import sql

    spec = spec_for(layer)
    staging = f"_stage_{secrets.token_hex(6)}"
    with connect(db, read_only=False) as conn:
        _require_schema(conn, db)
        state = _writable_state(conn, db)
        if not state.owned:
            raise (
                _not_ours(db, state)
                if state.others
                else SourceError("store.schema_empty", url=db.masked, schema=db.schema)
            )
        if spec.name in state.others:
            raise SourceError("store.table_not_ours", url=db.masked, schema=db.schema, table=spec.name)
        others = [_srid(conn, db.schema, n) for n in state.ours if n in CATALOGUE and n != spec.name]
        srid = next((s for s in others if s), None)
        if srid is not None and gdf.crs is not None and gdf.crs.to_epsg() != srid:
            # One CRS per source: statistics and maps combine its layers.
            log.info("reprojecting %s from %s to the schema's EPSG:%d", layer, gdf.crs.name, srid)
            gdf = gdf.to_crs(srid)
        try:
            before = _counts(conn, db.schema).get(spec.name) if spec.name in state.ours else None
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
            _write_layer(conn, staging, gdf, layer)
            _move_in(conn, staging, db, state, created=False, keep_rest=True)
            change = import_change(spec.name, by=by, origin=origin, before=before, after=len(gdf))
            pghistory.PgStore(conn, db).insert(change)
            if HISTORY_TABLE not in state.ours:
                _pgowner.mark(conn, db.schema, tables=[*state.ours, spec.name, HISTORY_TABLE], created=False)
        except psycopg.Error as exc:
            conn.rollback()
            raise _failed(db, exc, "import") from None
    log.info("stored %d features as %s in %s", len(gdf), layer, db.masked)
