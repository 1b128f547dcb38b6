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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyproj import CRS

from layers import CATALOGUE, LayerSpec

from .crs import gk_zone_epsg, parse_crs, require_metric
from .errors import CRSError, SourceError
from .filters import Filter
from .postgis import GEOMETRY_COLUMN, Database, check_identifier, connect
from .progress import PROGRESS_COLUMNS, Target
from .stats import BREAKDOWNS, MAIN_COLUMNS, OUTSIDE, ROW_NAMES, TOTAL

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

__all__ = ["CANDIDATE_MARGIN_M", "StatColumn", "district_stats", "plan_progress", "source_metric_srid", "stats_schema"]

log = logging.getLogger(__name__)

#: How far district boxes are widened when looking up candidate features, metres.
CANDIDATE_MARGIN_M = 10.0
_DEGREES_PER_M = 1.0 / 111_000.0
_UNIT = {"km": 1000.0, "ha": 10_000.0}
_MEASURE = {"length": "ST_Length", "area": "ST_Area"}


@dataclass(frozen=True)
class StatColumn:
    """One statistics column: what it counts, measures or sums.

    Attributes
    ----------
    name : str
        Column name (``roads_km_open``).
    layer : str
        The catalogue layer it comes from.
    kind : {"count", "km", "ha", "sum"}
        Features counted by owner, length in km or area in ha by share, or a field summed
        by owner.
    field : str or None
        The coded field restricting it (with ``code``), or the summed field.
    code : str or None
        The code of ``field`` features must have.
    """

    name: str
    layer: str
    kind: str
    field: str | None = None
    code: str | None = None


def stats_schema() -> tuple[StatColumn, ...]:
    """Every numeric column of the statistics, in order, from the catalogue."""
    out: list[StatColumn] = []
    for name in MAIN_COLUMNS[2:]:
        if name in ("households", "resettled"):
            out.append(StatColumn(name, "parcels", "sum", name))
            continue
        layer, _, measure = name.partition("_")
        out.append(StatColumn(name, layer, measure))
    for layer, field, prefix in BREAKDOWNS:
        spec = CATALOGUE[layer]
        if layer == "facilities":
            out.append(StatColumn("facilities_count", layer, "count"))
        kind = "count" if spec.measure == "count" else ("km" if spec.measure == "length" else "ha")
        out += [StatColumn(prefix + code, layer, kind, field, code) for code in spec.field(field).codes]
    return tuple(out)


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
        raise SourceError(f"{db.masked}: table {layer!r} has no typed {GEOMETRY_COLUMN!r} column with an SRID")
    return int(row[0])


def _present(conn: psycopg.Connection, db: Database) -> dict[str, int]:
    """The catalogue layers in the schema, with their SRIDs."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (db.schema,)
    ).fetchall()
    names = {str(r[0]) for r in rows}
    if not names and conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (db.schema,)).fetchone() is None:
        raise SourceError(
            f"{db.masked}: schema {db.schema!r} does not exist; publish the layers into it with python -m geo publish"
        )
    return {name: _srid_of(conn, db, name) for name in CATALOGUE if name in names}


def source_metric_srid(
    conn: psycopg.Connection, db: Database, present: dict[str, int], flt: Filter, override: str | int | CRS | None
) -> int:
    """EPSG code of the metric CRS for the whole source, as :mod:`geo.crs` chooses it.

    ``override`` when given (it must be metric and have an EPSG code); otherwise the
    CGCS2000 3-degree Gauss-Kruger zone of the centre of the combined lon/lat extent of
    every layer (filtered as ``flt`` says).
    """
    from psycopg import sql

    if override is not None:
        epsg = require_metric(parse_crs(override)).to_epsg()
        if epsg is None:
            raise CRSError(f"{override!r}: statistics in PostGIS need a metric CRS with an EPSG code (EPSG:4551)")
        return int(epsg)
    params = _Params()
    parts = [
        sql.SQL("SELECT ST_Extent(ST_Transform({g}, 4490)) AS e FROM {t} WHERE {w}").format(
            g=sql.Identifier(GEOMETRY_COLUMN), t=_table(db, CATALOGUE[name]), w=_where(CATALOGUE[name], flt, params)
        )
        for name in present
    ]
    if not parts:
        return gk_zone_epsg(126.0)
    query = sql.SQL("SELECT min(ST_XMin(e)), max(ST_XMax(e)) FROM ({}) AS extents").format(
        sql.SQL(" UNION ALL ").join(parts)
    )
    xmin, xmax = conn.execute(query, params.values).fetchone()
    return gk_zone_epsg(126.0 if xmin is None else (xmin + xmax) / 2)


def _aggregates(columns: Sequence[StatColumn], part: str, params: _Params, measure: str) -> sql.Composable:
    """The select list of one part of a layer's result: every column, NULL where not this part's."""
    from psycopg import sql

    items: list[sql.Composable] = []
    for c in columns:
        cond = (
            sql.SQL(" FILTER (WHERE f.{} = {})").format(sql.Identifier(c.field), params.add(c.code))
            if c.code is not None
            else sql.SQL("")
        )
        if c.kind in _UNIT and part in ("share", "outside", "total"):
            amount = sql.SQL(f"{measure}(f.g)") if part == "total" else sql.SQL("x.amount")
            items.append(sql.SQL("sum({}){} / {}").format(amount, cond, sql.Literal(_UNIT[c.kind])))
        elif c.kind == "count" and part in ("owner", "total"):
            items.append(sql.SQL("count(*){}::float8").format(cond))
        elif c.kind == "sum" and part in ("owner", "total"):
            items.append(sql.SQL("sum(f.{})::float8").format(sql.Identifier(c.field)))
        else:
            items.append(sql.SQL("NULL::float8"))
    return sql.SQL(", ").join(items)


def _fields(spec: LayerSpec, columns: Sequence[StatColumn]) -> list[str]:
    return sorted({c.field for c in columns if c.field is not None})


def _layer_query(
    db: Database, spec: LayerSpec, columns: Sequence[StatColumn], metric: int, srids: dict[str, int], flt: Filter
) -> tuple[sql.Composable, dict[str, Any]]:
    """The statement giving one layer's parts: (part, code, column values…) rows."""
    from psycopg import sql

    params = _Params()
    srid = srids[spec.name]
    margin = CANDIDATE_MARGIN_M * (_DEGREES_PER_M if CRS.from_epsg(srid).is_geographic else 1.0)
    geom = sql.Identifier(GEOMETRY_COLUMN)
    ident = sql.Identifier(spec.id_field)
    extra = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(f)) for f in _fields(spec, columns))
    head = sql.SQL(
        """
        WITH d AS MATERIALIZED (
            SELECT code, ST_Transform({geom}, {metric}) AS g,
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
        districts=_table(db, CATALOGUE["districts"]),
        dwhere=_where(CATALOGUE["districts"], flt, params),
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
            SELECT DISTINCT ON (fid) fid, code, amount FROM share ORDER BY fid, amount DESC, code COLLATE "C"),
        owner AS (
            SELECT f.fid, CASE WHEN b.code IS NULL OR coalesce(o.amount, 0) > b.amount THEN NULL ELSE b.code END AS code
            FROM f LEFT JOIN best AS b USING (fid) LEFT JOIN outside AS o USING (fid))
        SELECT 'share', x.code, {share} FROM share AS x JOIN f USING (fid) GROUP BY x.code
        UNION ALL SELECT 'outside', NULL, {outside} FROM outside AS x JOIN f USING (fid)
        UNION ALL SELECT 'owner', x.code, {owner} FROM owner AS x JOIN f USING (fid) GROUP BY x.code
        UNION ALL SELECT 'total', NULL, {total} FROM f
        """
    ).format(m=measure, **selects)
    return head + body, params.values


def _districts(conn: psycopg.Connection, db: Database, flt: Filter) -> tuple[list[str], list[str]]:
    from psycopg import sql

    params = _Params()
    spec = CATALOGUE["districts"]
    query = sql.SQL('SELECT code, name FROM {} WHERE {} ORDER BY code COLLATE "C"').format(
        _table(db, spec), _where(spec, flt, params)
    )
    rows = conn.execute(query, params.values).fetchall()
    return [str(r[0]) for r in rows], [str(r[1]) for r in rows]


def _check_nothing_lost(body: pd.DataFrame, total: pd.Series, columns: Iterable[StatColumn]) -> None:
    for c in columns:
        if c.kind not in _UNIT:
            continue
        summed, whole = float(body[c.name].sum()), float(total[c.name])
        if abs(summed - whole) > 1e-9 * max(abs(whole), 1e-9):
            raise SourceError(
                f"{c.name}: districts + OUTSIDE = {summed!r} but the layer total is {whole!r}; "
                "the sub-districts overlap (check them with python -m geo validate)"
            )


def district_stats(db: Database, *, crs: str | int | CRS | None = None, flt: Filter | None = None) -> pd.DataFrame:
    """:func:`geo.stats.district_stats` of a PostGIS source, computed in the database.

    Parameters
    ----------
    db : Database
        The source.
    crs : CRS-like, optional
        Metric CRS to measure in (an EPSG code); default the source's Gauss-Kruger zone.
    flt : Filter, optional
        Attribute filters applied before measuring (``flt.districts`` is not used: choose
        rows afterwards with :func:`geo.stats.select_districts`).

    Returns
    -------
    DataFrame
        The same frame as the Python engine: index, columns and dtypes.
    """
    flt = flt or Filter()
    schema = stats_schema()
    with connect(db) as conn:
        present = _present(conn, db)
        if "districts" not in present:
            raise SourceError("the source has no 'districts' layer; statistics need the sub-district boundaries")
        metric = source_metric_srid(conn, db, present, flt, crs)
        codes, names = _districts(conn, db, flt)
        sums: dict[str, dict[str, float]] = {key: {} for key in [*codes, OUTSIDE, TOTAL]}
        for name, spec in CATALOGUE.items():
            columns = [c for c in schema if c.layer == name]
            if name == "districts" or name not in present or not columns:
                continue
            query, params = _layer_query(db, spec, columns, metric, present, flt)
            rows = conn.execute(query, params).fetchall()
            log.info("measured %s in EPSG:%d in the database (%d result rows)", name, metric, len(rows))
            for part, code, *values in rows:
                into = sums[TOTAL if part == "total" else OUTSIDE if code is None else code]
                for c, v in zip(columns, values, strict=True):
                    if v is not None:
                        into[c.name] = into.get(c.name, 0.0) + v
    table = pd.DataFrame.from_dict(sums, orient="index").reindex(columns=[c.name for c in schema]).fillna(0.0)
    body, total = table.iloc[:-1], table.loc[TOTAL]
    _check_nothing_lost(body, total, schema)
    return _frame(body, total, names, schema)


def _frame(body: pd.DataFrame, total: pd.Series, names: list[str], schema: Sequence[StatColumn]) -> pd.DataFrame:
    """The statistics frame, shaped as :func:`geo.stats.district_stats` shapes it."""
    n = len(names)
    show_outside = bool((body.loc[OUTSIDE].abs() > 0).any())
    table = body if show_outside else body.iloc[:n]
    table = pd.concat([table, total.to_frame(TOTAL).T])
    table.index.name = "code"
    for c in schema:
        if c.kind not in _UNIT:
            table[c.name] = table[c.name].round().astype("int64")
    extra = [OUTSIDE, TOTAL] if show_outside else [TOTAL]
    table.insert(0, "district_name", [*names, *(ROW_NAMES[k][0] for k in extra)])
    table.insert(0, "district_code", table.index.to_list())
    return table


def _target_query(db: Database, target: Target, metric: int) -> tuple[sql.Composable, dict[str, Any]]:
    from psycopg import sql

    spec = CATALOGUE[target.layer]
    params = _Params()
    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    for field, wanted in target.where.items():
        if field not in spec.field_names:
            raise SourceError(f"target {target.id!r}: layer {spec.name!r} has no field {field!r}")
        codes = [wanted] if isinstance(wanted, str) else list(wanted)
        conditions.append(sql.SQL("{} = ANY({})").format(sql.Identifier(field), params.add(codes)))
    if target.name_has:
        conditions.append(sql.SQL("strpos(name, {}) > 0").format(params.add(target.name_has)))
    geom = sql.SQL("ST_Transform({}, {})").format(sql.Identifier(GEOMETRY_COLUMN), params.add(metric))
    if target.measure == "count":
        value = sql.SQL("count(*)::float8")
    elif target.measure == "km":
        value = sql.SQL("coalesce(sum(ST_Length({})), 0) / 1000.0").format(geom)
    elif target.measure == "ha":
        value = sql.SQL("coalesce(sum(ST_Area({})), 0) / 10000.0").format(geom)
    elif target.measure.startswith("sum:") and target.measure[4:] in spec.field_names:
        value = sql.SQL("coalesce(sum({}), 0)::float8").format(sql.Identifier(target.measure[4:]))
    else:
        raise SourceError(
            f"target {target.id!r}: unknown measure {target.measure!r}; use count, km, ha or sum:<field>"
        )
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(value, _table(db, spec), sql.SQL(" AND ").join(conditions))
    return query, params.values


def plan_progress(db: Database, targets: list[Target], *, crs: str | int | CRS | None = None) -> pd.DataFrame:
    """:func:`geo.progress.plan_progress` of a PostGIS source, measured in the database."""
    rows = []
    with connect(db) as conn:
        present = _present(conn, db)
        metric = source_metric_srid(conn, db, present, Filter(), crs)
        for t in targets:
            actual = 0.0
            if t.layer in present:
                query, params = _target_query(db, t, metric)
                actual = float(conn.execute(query, params).fetchone()[0])
            percent = 100.0 * actual / t.value if t.value else float("nan")
            rows.append((t.id, t.zh, t.en, t.unit_zh, t.unit_en, float(t.value), actual, actual - t.value, percent))
    frame = pd.DataFrame(rows, columns=["id", *PROGRESS_COLUMNS]).set_index("id")
    log.info("plan progress in the database: %d targets", len(frame))
    return frame

