"""Per-district statistics and plan progress computed inside PostGIS.

The same rules as :mod:`geo.stats`, as SQL generated from the catalogue: each feature is
transformed to the source's metric CRS and clipped to each (closed) district; a piece
lying along a shared edge counts half to each side, as
``share_d = M(P_d) - 1/2 * sum_j M(P_d ∩ P_j)``; the outside part is measured directly as
``M(f - union(districts))``; counts and sums go whole to the district with the largest
share (ties to the lowest code), or to OUTSIDE when the outside part is larger than every
share; a point goes to the lowest code among the districts it touches. Only result rows
leave the server — a few per district and layer — never the layers.

Candidate pairs come from the layer's GiST index on its own CRS, with the district boxes
widened by :data:`CANDIDATE_MARGIN_M`, so that the exact tests, done in the metric CRS,
never miss a pair because straight edges bend a little between the two CRSs. The pairs
come district by district, so PostGIS prepares each district once for the
``ST_ContainsProperly`` and ``ST_Intersects`` tests that follow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE, LayerSpec, units_layer

from . import _parallel
from .coverage import DEFAULT_TOLERANCE_M2, check_coverage
from .crs import reproject, source_metric_crs
from .errors import CRSError, SourceError
from .filters import Filter
from .postgis import GEOMETRY_COLUMN, Database, check_identifier, connect
from .progress import PROGRESS_COLUMNS, Target
from .statstable import BALANCE_RTOL, PER_UNIT, StatColumn, assemble_table, stats_schema

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

__all__ = ["CANDIDATE_MARGIN_M", "district_stats", "plan_progress", "source_metric_srid"]

log = logging.getLogger(__name__)

#: How far district boxes are widened when looking up candidate features, metres.
CANDIDATE_MARGIN_M = 10.0
_DEGREES_PER_M = 1.0 / 111_000.0
_MEASURE = {"length": "ST_Length", "area": "ST_Area"}


class _Params:
    """Bound parameters collected while composing a statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> sql.Placeholder:
        from psycopg import sql

        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def _table(db: Database, spec: LayerSpec) -> sql.Identifier:
    from psycopg import sql

    return sql.Identifier(db.schema, check_identifier(spec.name, "layer"))


def _where(spec: LayerSpec, flt: Filter, params: _Params, alias: str | None = None) -> sql.Composable:
    """The filter's conditions on ``spec``'s layer, values bound."""
    from psycopg import sql

    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    for layer, field, codes in flt.values:
        if layer != spec.name or field not in spec.field_names:
            continue
        column = sql.Identifier(alias, field) if alias else sql.Identifier(field)
        conditions.append(sql.SQL("{} = ANY({})").format(column, params.add(list(codes))))
    return sql.SQL(" AND ").join(conditions)


def _srid_of(conn: psycopg.Connection, db: Database, layer: str) -> int:
    row = conn.execute(
        "SELECT srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s AND f_geometry_column = %s",
        (db.schema, layer, GEOMETRY_COLUMN),
    ).fetchone()
    if row is None or not row[0]:
        raise SourceError("store.no_srid", url=db.masked, table=layer, column=GEOMETRY_COLUMN)
    return int(row[0])


def _present(conn: psycopg.Connection, db: Database) -> dict[str, int]:
    """The catalogue layers in the schema, with their SRIDs.

    Also turns JIT compilation off for the transaction: PostGIS functions are costed so
    high that PostgreSQL compiles these statements, which takes seconds and saves nothing.
    """
    conn.execute("SET LOCAL jit = off")
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (db.schema,)
    ).fetchall()
    names = {str(r[0]) for r in rows}
    if not names and conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (db.schema,)).fetchone() is None:
        raise SourceError("store.no_schema", url=db.masked, schema=db.schema)
    return {name: _srid_of(conn, db, name) for name in CATALOGUE if name in names}


def source_metric_srid(
    conn: psycopg.Connection, db: Database, present: dict[str, int], override: str | int | CRS | None
) -> CRS:
    """The metric CRS of the whole source, chosen by :func:`geo.crs.source_metric_crs`.

    Only each layer's extent (``ST_Extent``, one box per layer) leaves the server; the
    choice itself is the Python engine's, so both measure in the same zone. The CRS must
    have an EPSG code, which PostGIS transforms to.
    """
    from psycopg import sql

    boxes: dict[str, gpd.GeoDataFrame] = {}
    for name, srid in present.items():
        query = sql.SQL(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent({}) AS e FROM {}) x"
        )
        row = conn.execute(query.format(sql.Identifier(GEOMETRY_COLUMN), _table(db, CATALOGUE[name]))).fetchone()
        geoms = [] if row is None or row[0] is None else [shapely.box(*row)]
        boxes[name] = gpd.GeoDataFrame(geometry=geoms, crs=CRS.from_epsg(srid))
    metric = source_metric_crs(boxes, override)
    if metric.to_epsg() is None:
        raise CRSError("crs.pg_metric", value=override)
    return metric


def _aggregates(columns: Sequence[StatColumn], part: str, params: _Params, measure: str) -> sql.Composable:
    """The select list of one part of a layer's result: every column, NULL where not this part's."""
    from psycopg import sql

    items: list[sql.Composable] = []
    for c in columns:
        cond = (
            sql.SQL(" FILTER (WHERE f.{} = {})").format(sql.Identifier(c.field or ""), params.add(c.code))
            if c.code is not None
            else sql.SQL("")
        )
        if c.kind in PER_UNIT and part in ("share", "outside", "total"):
            amount = sql.SQL(f"{measure}(f.g)") if part == "total" else sql.SQL("x.amount")
            items.append(sql.SQL("sum({}){} / {}").format(amount, cond, sql.Literal(PER_UNIT[c.kind])))
        elif c.kind == "count" and part in ("owner", "total"):
            items.append(sql.SQL("count(*){}::float8").format(cond))
        elif c.kind == "sum" and part in ("owner", "total"):
            items.append(sql.SQL("sum(f.{})::float8").format(sql.Identifier(c.field or "")))
        else:
            items.append(sql.SQL("NULL::float8"))
    return sql.SQL(", ").join(items)


def _fields(spec: LayerSpec, columns: Sequence[StatColumn]) -> list[str]:
    """The layer's fields the columns break down by or sum, in the layer's order."""
    wanted = {c.field for c in columns}
    return [f for f in spec.field_names if f in wanted]


def _layer_query(
    db: Database, spec: LayerSpec, columns: Sequence[StatColumn], metric: int, srids: dict[str, int], flt: Filter
) -> tuple[sql.Composable, dict[str, Any]]:
    """The statement giving one layer's parts: (part, code, column values…) rows."""
    from psycopg import sql

    params = _Params()
    units = units_layer()
    srid = srids[spec.name]
    margin = CANDIDATE_MARGIN_M * (_DEGREES_PER_M if CRS.from_epsg(srid).is_geographic else 1.0)
    geom = sql.Identifier(GEOMETRY_COLUMN)
    ident = sql.Identifier(spec.id_field)
    extra = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(f)) for f in _fields(spec, columns))
    head = sql.SQL(
        """
        WITH d AS MATERIALIZED (
            SELECT {uid} AS code, ST_Transform({geom}, {metric}) AS g,
                   ST_Expand(ST_Transform({geom}, {srid}), {margin}) AS box
            FROM {districts} WHERE {dwhere}),
        f AS MATERIALIZED (
            SELECT {ident} AS fid{extra}, ST_Transform({geom}, {metric}) AS g FROM {table} WHERE {fwhere}),
        pair AS (
            SELECT l.{ident} AS fid, d.code, d.g AS dg, t.fg
            FROM d JOIN {table} AS l ON l.{geom} && d.box
            CROSS JOIN LATERAL (SELECT ST_Transform(l.{geom}, {metric}) AS fg OFFSET 0) AS t
            WHERE {lwhere})
        """
    ).format(
        geom=geom,
        metric=params.add(metric),
        srid=params.add(srid),
        margin=params.add(margin),
        uid=sql.Identifier(units.id_field),
        districts=_table(db, units),
        dwhere=_where(units, flt, params),
        ident=ident,
        extra=extra,
        table=_table(db, spec),
        fwhere=_where(spec, flt, params),
        lwhere=_where(spec, flt, params, "l"),
    )
    parts = ("owner", "total") if spec.measure == "count" else ("share", "outside", "owner", "total")
    selects = {part: _aggregates(columns, part, params, _MEASURE.get(spec.measure, "")) for part in parts}
    if spec.measure == "count":
        body = sql.SQL(
            """,
        hit AS (
            SELECT fid, min(code COLLATE "C") AS code FROM pair WHERE ST_Intersects(dg, fg) GROUP BY fid),
        owner AS (SELECT f.fid, hit.code FROM f LEFT JOIN hit USING (fid))
        SELECT 'owner', x.code, {owner} FROM owner AS x JOIN f USING (fid) GROUP BY x.code
        UNION ALL SELECT 'total', NULL, {total} FROM f
        """
        ).format(**selects)
        return head + body, params.values
    measure = sql.SQL(_MEASURE[spec.measure])
    body = sql.SQL(
        """,
        u AS MATERIALIZED (SELECT ST_Union(g) AS g FROM d),
        piece AS MATERIALIZED (
            SELECT fid, code, whole, CASE WHEN whole THEN fg ELSE ST_Intersection(fg, dg) END AS p
            FROM (SELECT fid, code, fg, dg, ST_ContainsProperly(dg, fg) AS whole FROM pair OFFSET 0) AS pairs
            WHERE whole OR ST_Intersects(dg, fg)),
        share AS (
            SELECT fid, code, sum(amount) AS amount FROM (
                SELECT fid, code, {m}(p) AS amount FROM piece
                UNION ALL
                SELECT a.fid, a.code, -0.5 * {m}(ST_Intersection(a.p, b.p))
                FROM piece AS a JOIN piece AS b ON a.fid = b.fid AND a.code <> b.code AND a.p && b.p
                WHERE NOT a.whole AND NOT b.whole) AS parts
            GROUP BY fid, code),
        outside AS (
            SELECT f.fid, CASE WHEN ST_Covers(u.g, f.g) THEN 0 ELSE {m}(ST_Difference(f.g, u.g)) END AS amount
            FROM f CROSS JOIN u
            WHERE NOT EXISTS (SELECT 1 FROM piece AS p WHERE p.fid = f.fid AND p.whole)),
        best AS (
            SELECT fid, max(amount) AS amount FROM share WHERE amount > 0 GROUP BY fid),
        tied AS (
            SELECT s.fid, min(s.code COLLATE "C") AS code, max(b.amount) AS amount
            FROM share AS s JOIN best AS b USING (fid)
            WHERE s.amount > 0 AND s.amount >= b.amount * (1 - {rtol}) GROUP BY s.fid),
        owner AS (
            SELECT f.fid, CASE WHEN t.amount >= coalesce(o.amount, 0) THEN t.code END AS code
            FROM f LEFT JOIN tied AS t USING (fid) LEFT JOIN outside AS o USING (fid))
        SELECT 'share', x.code, {share} FROM share AS x JOIN f USING (fid) GROUP BY x.code
        UNION ALL SELECT 'outside', NULL, {outside} FROM outside AS x JOIN f USING (fid)
        UNION ALL SELECT 'owner', x.code, {owner} FROM owner AS x JOIN f USING (fid) GROUP BY x.code
        UNION ALL SELECT 'total', NULL, {total} FROM f
        """
    ).format(m=measure, rtol=sql.Literal(BALANCE_RTOL), **selects)
    return head + body, params.values


def _districts(conn: psycopg.Connection, db: Database, flt: Filter) -> gpd.GeoDataFrame:
    """The statistics units (filtered), in code order, with their geometries for the coverage check."""
    from psycopg import sql

    params = _Params()
    spec = units_layer()
    query = sql.SQL('SELECT {id}, name, ST_AsBinary({g}) FROM {t} WHERE {w} ORDER BY {id} COLLATE "C"').format(
        id=sql.Identifier(spec.id_field),
        g=sql.Identifier(GEOMETRY_COLUMN),
        t=_table(db, spec),
        w=_where(spec, flt, params),
    )
    rows = conn.execute(query, params.values).fetchall()
    geoms = shapely.from_wkb(np.array([bytes(r[2]) for r in rows], dtype=object)) if rows else []
    srid = _srid_of(conn, db, spec.name)
    return gpd.GeoDataFrame(
        {"code": [str(r[0]) for r in rows], "name": [str(r[1]) for r in rows]}, geometry=geoms, crs=srid
    )


def district_stats(
    db: Database,
    *,
    crs: str | int | CRS | None = None,
    flt: Filter | None = None,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    on_layer: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """:func:`geo.stats.district_stats` of a PostGIS source, computed in the database.

    Parameters
    ----------
    db : Database
        The source.
    crs : CRS-like, optional
        Metric CRS to measure in (with an EPSG code); default the source's Gauss-Kruger
        zone (:func:`geo.crs.source_metric_crs` of the unfiltered layers).
    flt : Filter, optional
        Attribute filters applied before measuring (``flt.districts`` is not used: choose
        rows afterwards with :func:`geo.stats.select_districts`).
    tolerance_m2 : float
        Largest overlap between two districts accepted, m².
    on_layer : callable, optional
        Called with each layer's name when it has been measured.

    Returns
    -------
    DataFrame
        The frame of the Python engine: the same index, columns, dtypes and ``attrs``;
        districts in code order.
    """
    flt = flt or Filter()
    schema = stats_schema()
    units = units_layer()
    with connect(db) as conn:
        present = _present(conn, db)
        if units.name not in present:
            raise SourceError("stats.no_units", layer=units.name)
        metric = source_metric_srid(conn, db, present, crs)
        srid = int(metric.to_epsg() or 0)
        districts = _districts(conn, db, flt)
        warnings = check_coverage(
            reproject(districts.geometry.to_numpy(), districts.crs, metric),
            districts["code"].tolist(),
            tolerance_m2=tolerance_m2,
            layer=units.name,
        )
        codes = districts["code"].tolist()
        jobs = [
            (spec, [c for c in schema if c.layer == name and c.measured])
            for name, spec in CATALOGUE.items()
            if not (spec.units or spec.context) and name in present
        ]
        sizes = dict(
            conn.execute(
                "SELECT c.relname, c.reltuples FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s",
                (db.schema,),
            ).fetchall()
        )
        jobs.sort(key=lambda job: -float(sizes.get(job[0].name, 0)))
        snapshot = str(_one(conn.execute("SELECT pg_export_snapshot()"))[0])

        def measure(spec: LayerSpec, columns: list[StatColumn]) -> list[tuple[Any, ...]]:
            # Each layer on its own connection, all reading the snapshot of this transaction.
            with connect(db, snapshot=snapshot) as worker:
                worker.execute("SET LOCAL jit = off")
                # The pieces of every feature are hashed and sorted by feature: in memory
                # rather than in temporary files (a third faster at 100,000 roads).
                worker.execute("SET LOCAL work_mem = '256MB'")
                query, params = _layer_query(db, spec, columns, srid, present, flt)
                return worker.execute(query, params).fetchall()  # type: ignore[call-overload]

        # Each column's values per district in the order of codes, then OUTSIDE; zero where
        # no row says otherwise (a district nothing falls in, a layer the schema lacks).
        row_of = {code: i for i, code in enumerate(codes)}
        parts = {c.name: np.zeros(len(codes) + 1) for c in schema if c.measured}
        totals = dict.fromkeys(parts, 0.0)
        with ThreadPoolExecutor(_parallel.workers()) as pool:
            futures = {pool.submit(measure, spec, columns): (spec, columns) for spec, columns in jobs}
            for future in as_completed(futures):
                spec, columns = futures[future]
                rows = future.result()
                log.info("measured %s in EPSG:%d in the database (%d result rows)", spec.name, srid, len(rows))
                for part, code, *values in rows:
                    for c, v in zip(columns, values, strict=True):
                        if v is None:
                            continue
                        if part == "total":
                            totals[c.name] += v
                        else:
                            parts[c.name][len(codes) if code is None else row_of[code]] += v
                if on_layer is not None:
                    on_layer(spec.name)
        if on_layer is not None:
            for name, spec in CATALOGUE.items():
                if not (spec.units or spec.context) and name not in present:
                    on_layer(name)
    # Ratios (roads_intact_pct) are not summed in the database: each row's is computed
    # from that row's breakdown sums, as for the Python engine (geo.statstable.fill_ratios).
    return assemble_table(
        parts,
        totals,
        codes=codes,
        names=districts["name"].tolist(),
        schema=schema,
        crs=metric,
        warnings=warnings,
    )


def _matching(spec: LayerSpec, filters: dict[str, Any], params: _Params, target: Target) -> sql.Composable:
    """Field filters of a target as one condition (never NULL), values bound."""
    from psycopg import sql

    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    for field, wanted in filters.items():
        if field not in spec.field_names:
            raise SourceError("targets.no_field", target=target.id, layer=spec.name, field=field)
        codes = [wanted] if isinstance(wanted, str) else list(wanted)
        conditions.append(sql.SQL("coalesce({} = ANY({}), FALSE)").format(sql.Identifier(field), params.add(codes)))
    return sql.SQL("(") + sql.SQL(" AND ").join(conditions) + sql.SQL(")")


def _target_query(db: Database, target: Target, metric: int) -> tuple[sql.Composable, dict[str, Any]]:
    """One target's (in the data, done, under way), in its unit."""
    from psycopg import sql

    spec = CATALOGUE[target.layer]
    params = _Params()
    chosen = _matching(spec, target.where, params, target)
    if target.name_has:
        chosen += sql.SQL(" AND coalesce(strpos(name, {}) > 0, FALSE)").format(params.add(target.name_has))
    done = _matching(spec, target.done, params, target)
    under_way = _matching(spec, target.under_way, params, target) if target.under_way else sql.SQL("FALSE")
    geom = sql.SQL("ST_Transform({}, {})").format(sql.Identifier(GEOMETRY_COLUMN), params.add(metric))
    amount: sql.Composable
    if target.measure.startswith("pct:"):
        # A ratio (the road intact rate), in %: NULL (NaN) when nothing has a value in its field.
        ratio = next(r for r in spec.ratios if r.name == target.measure[4:])
        size = sql.SQL("ST_Length({})" if spec.measure == "length" else "ST_Area({})").format(geom)
        rate = sql.SQL(
            "SELECT 100.0 * sum(a) FILTER (WHERE v = ANY({codes})) / nullif(sum(a) FILTER (WHERE v IS NOT NULL), 0)"
        ).format(codes=params.add(list(ratio.codes)))
        query = rate + sql.SQL(", NULL, 0.0 FROM (SELECT {a} AS a, {v} AS v FROM {t} WHERE {w}) AS chosen").format(
            a=size, v=sql.Identifier(ratio.field), t=_table(db, spec), w=chosen
        )
        return query, params.values
    if target.measure == "count":
        amount = sql.SQL("1.0")
    elif target.measure == "km":
        amount = sql.SQL("ST_Length({}) / 1000.0").format(geom)
    elif target.measure == "ha":
        amount = sql.SQL("ST_Area({}) / 10000.0").format(geom)
    elif target.measure.startswith("sum:") and target.measure[4:] in spec.field_names:
        amount = sql.SQL("coalesce({}, 0)::float8").format(sql.Identifier(target.measure[4:]))
    else:
        raise SourceError("targets.db_measure", target=target.id, measure=target.measure)
    query = sql.SQL(
        "SELECT coalesce(sum(a), 0), coalesce(sum(a) FILTER (WHERE d), 0),"
        " coalesce(sum(a) FILTER (WHERE u AND NOT d), 0)"
        " FROM (SELECT {a} AS a, {d} AS d, {u} AS u FROM {t} WHERE {w}) AS chosen"
    ).format(a=amount, d=done, u=under_way, t=_table(db, spec), w=chosen)
    return query, params.values


def _one(cursor: Any) -> tuple[Any, ...]:
    """The one row a query returns."""
    row = cursor.fetchone()
    if row is None:
        raise SourceError("store.no_row")
    return tuple(row)


def plan_progress(db: Database, targets: list[Target], *, crs: str | int | CRS | None = None) -> pd.DataFrame:
    """:func:`geo.progress.plan_progress` of a PostGIS source, measured in the database."""
    rows = []
    with connect(db) as conn:
        present = _present(conn, db)
        metric = int(source_metric_srid(conn, db, present, crs).to_epsg() or 0)
        for t in targets:
            in_data = done = under_way = 0.0
            if t.layer in present:
                query, params = _target_query(db, t, metric)
                values = _one(conn.execute(query, params))  # type: ignore[call-overload]
                in_data, under_way = (float("nan") if v is None else float(v) for v in (values[0], values[2]))
                # a ratio's "done" is the rate itself
                done = in_data if values[1] is None else float(values[1])
            planned = 0.0 if t.measure.startswith("pct:") else max(in_data - done - under_way, 0.0)
            percent = 100.0 * done / t.value if t.value else float("nan")
            labels = (t.id, t.zh, t.en, t.unit_zh, t.unit_en, t.measure)
            rows.append((*labels, float(t.value), in_data, done, under_way, planned, percent))
    frame = pd.DataFrame(rows, columns=["id", *PROGRESS_COLUMNS]).set_index("id")
    log.info("plan progress in the database: %d targets", len(frame))
    return frame
