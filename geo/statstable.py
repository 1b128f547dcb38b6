"""The statistics table, whichever engine measured it.

Both engines, :mod:`geo.stats` (in Python) and :mod:`geo.sqlstats` (inside PostGIS), only
measure: for each column, what each district holds, what lies outside every district and
the layer's own total, measured on its own. The rest is written once, here:

- **The columns** come from the catalogue (:func:`stats_schema`): a count per layer, km
  for lines and ha for polygons (:data:`PER_UNIT` m or m² each), summed fields, ratios
  and the breakdowns by coded field.
- **The balance check**: the districts plus OUTSIDE must equal the layer's total, exactly
  for whole numbers and to :data:`BALANCE_RTOL` relative otherwise, or
  :class:`~geo.errors.BalanceError` is raised and no table is made.
- **The frame** (:func:`assemble_table`): one row per district in the order given, zeros
  where nothing falls, the ``OUTSIDE`` row when anything lies there, the ``TOTAL`` row from
  the layer's own figures; counts and sums as int64, ratios from each row's own breakdown
  sums (:func:`fill_ratios`); the column metadata, coverage warnings and CRS in ``attrs``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pyproj import CRS

from layers import CATALOGUE, LayerSpec, units_layer

from .errors import BalanceError

__all__ = [
    "BALANCE_RTOL",
    "OUTSIDE",
    "PER_UNIT",
    "TOTAL",
    "StatColumn",
    "assemble_table",
    "chart_columns",
    "check_balance",
    "fill_ratios",
    "schema_of",
    "select_districts",
    "stats_columns",
    "stats_schema",
]

log = logging.getLogger(__name__)

OUTSIDE = "OUTSIDE"
TOTAL = "TOTAL"

#: Relative tolerance of the balance check: districts + OUTSIDE = TOTAL.
BALANCE_RTOL = 1e-9

#: Metres in a km and square metres in a ha: what a measured column is divided by.
PER_UNIT: dict[str, float] = {"km": 1000.0, "ha": 10_000.0}


@dataclass(frozen=True)
class StatColumn:
    """What one statistics column holds.

    Attributes
    ----------
    name : str
        Column name (``roads_km_open``).
    layer : str
        The catalogue layer measured.
    kind : {"key", "count", "km", "ha", "sum", "pct"}
        ``key`` for the district code and name; ``count`` features (whole, by largest
        share); ``km`` or ``ha`` clipped lengths or areas; ``sum`` a field summed whole;
        ``pct`` a catalogue :class:`~layers.spec.Ratio`, computed from the breakdown
        columns of its field.
    field, code : str or None
        The breakdown field and its code (``status``, ``open``), or the summed field, or
        the ratio's field (with no code).
    codes : tuple of str
        For ``pct``: the codes of ``field`` counted in the numerator.
    """

    name: str
    layer: str
    kind: Literal["key", "count", "km", "ha", "sum", "pct"]
    field: str | None = None
    code: str | None = None
    codes: tuple[str, ...] = ()

    @property
    def integer(self) -> bool:
        """Whether the column holds whole numbers."""
        return self.kind in ("count", "sum")

    @property
    def measured(self) -> bool:
        """Whether an engine measures the column (not a key, not a ratio of other columns)."""
        return self.kind not in ("key", "pct")


def _unit_of(spec: LayerSpec) -> Literal["km", "ha"]:
    """The unit a measured layer's statistics are in: km for lines, ha for polygons."""
    return "km" if spec.measure == "length" else "ha"


def stats_schema(catalogue: Mapping[str, LayerSpec] | None = None) -> tuple[StatColumn, ...]:
    """Every column of the statistics table, in order, derived from the catalogue.

    For each layer in catalogue order: ``<layer>_count``, ``<layer>_km`` (lines) or
    ``<layer>_ha`` (polygons), then its summed fields and its ratios (``roads_intact_pct``);
    after all layers, the breakdowns: ``<layer>_km_<code>``, ``<layer>_ha_<code>`` or, for
    points, ``<layer>_<code>``. Context layers (key areas) have no columns.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    units = units_layer(dict(catalogue))
    columns = [StatColumn("district_code", units.name, "key", "code"), StatColumn("district_name", units.name, "key")]
    measured = [s for s in catalogue.values() if not s.units and not s.context]
    for spec in measured:
        columns.append(StatColumn(f"{spec.name}_count", spec.name, "count"))
        if spec.measure != "count":
            unit = _unit_of(spec)
            columns.append(StatColumn(f"{spec.name}_{unit}", spec.name, unit))
        columns += [StatColumn(f, spec.name, "sum", f) for f in spec.sums]
        columns += [StatColumn(r.column(spec.name), spec.name, "pct", r.field, None, r.codes) for r in spec.ratios]
    for spec in measured:
        for field in spec.breakdown:
            for code in spec.field(field).codes:
                if spec.measure == "count":
                    columns.append(StatColumn(f"{spec.name}_{code}", spec.name, "count", field, code))
                else:
                    unit = _unit_of(spec)
                    columns.append(StatColumn(f"{spec.name}_{unit}_{code}", spec.name, unit, field, code))
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"the catalogue gives two statistics columns the same name: {names}")
    return tuple(columns)


def schema_of(table: pd.DataFrame) -> tuple[StatColumn, ...]:
    """The column metadata a statistics table carries (the catalogue's when none)."""
    raw = table.attrs.get("schema")
    return tuple(StatColumn(**{**c, "codes": tuple(c.get("codes", ()))}) for c in raw) if raw else stats_schema()


def chart_columns(table: pd.DataFrame) -> list[StatColumn]:
    """The columns of ``table`` the catalogue's layers ask to chart per district
    (:attr:`layers.spec.LayerSpec.charts`), in catalogue order."""
    out = []
    for column in schema_of(table):
        spec = CATALOGUE.get(column.layer)
        if spec is None or column.code is not None or column.name not in table.columns:
            continue
        wanted = ("measure" in spec.charts and column.kind in ("km", "ha")) or (
            column.kind == "sum" and column.field in spec.charts
        )
        if wanted:
            out.append(column)
    return out


def stats_columns(catalogue: Mapping[str, LayerSpec] | None = None) -> list[str]:
    """The names of :func:`stats_schema`'s columns, in order."""
    return [c.name for c in stats_schema(catalogue)]


def fill_ratios(table: pd.DataFrame, schema: tuple[StatColumn, ...]) -> pd.DataFrame:
    """Set each ``pct`` column of ``table`` from the same row's breakdown columns, in place.

    Percent = 100 × (measure in the ratio's codes) ÷ (measure in any code of its field);
    NaN where that field has no measure in the row. Every row, ``TOTAL`` included, is the
    ratio of that row's own sums, so a total is never a sum or mean of percentages.
    Returns ``table``.
    """
    for col in schema:
        if col.kind != "pct":
            continue
        parts = [c for c in schema if c.layer == col.layer and c.field == col.field and c.kind in ("km", "ha")]
        whole = table[[c.name for c in parts]].sum(axis=1).to_numpy(dtype=float)
        part = table[[c.name for c in parts if c.code in col.codes]].sum(axis=1).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[col.name] = np.where(whole > 0, 100.0 * part / np.where(whole > 0, whole, 1.0), np.nan)
    return table


def check_balance(name: str, values: np.ndarray, total: float, *, integer: bool) -> None:
    """Raise :class:`BalanceError` unless the districts and OUTSIDE add up to ``total``.

    Parameters
    ----------
    name : str
        The column, named in the error.
    values : ndarray of float
        The column's values per district and OUTSIDE, in its unit (km, ha, count).
    total : float
        The layer's own figure, measured without splitting it among districts.
    integer : bool
        Whether the column holds whole numbers, which must add up exactly.
    """
    got = float(np.sum(values))
    ok = got == total if integer else abs(got - total) <= BALANCE_RTOL * max(abs(total), 1e-9)
    if not ok:
        raise BalanceError("stats.unbalanced", column=name, got=got, total=total)


def assemble_table(
    parts: Mapping[str, np.ndarray],
    totals: Mapping[str, float],
    *,
    codes: Sequence[str],
    names: Sequence[str],
    schema: tuple[StatColumn, ...],
    crs: CRS,
    warnings: Sequence[object] = (),
) -> pd.DataFrame:
    """The statistics table of what an engine measured, after the balance check.

    Parameters
    ----------
    parts : mapping of str to ndarray of float
        For each measured column of ``schema`` (:attr:`StatColumn.measured`): its values
        per district, in the order of ``codes``, then what lies outside every district;
        ``len(codes) + 1`` values in the column's unit (km, ha, features, households).
    totals : mapping of str to float
        For each measured column: the layer's own figure, measured without the
        apportionment (the same unit).
    codes, names : sequence of str
        The districts' codes and names, in the order of the rows.
    schema : tuple of StatColumn
        The table's columns (:func:`stats_schema`).
    crs : CRS
        The metric CRS measured in.
    warnings : sequence
        The tolerated coverage flaws, one line each.

    Returns
    -------
    DataFrame
        Indexed by district code: one row per district, then ``OUTSIDE`` when anything
        lies outside all districts, then ``TOTAL``. Columns are ``schema``'s; counts and
        sums as int64. The two extra rows have an empty ``district_name``: the words are
        the caller's. ``attrs``: ``"schema"`` (read it with :func:`schema_of`),
        ``"warnings"`` (English), ``"warnings_by_lang"`` (``{"zh": [...], "en": [...]}``)
        and ``"crs"``, all plain JSON values.

    Raises
    ------
    BalanceError
        When a column's districts and OUTSIDE do not add up to its total (internal error).
    """
    measured = [c for c in schema if c.measured]
    for col in measured:
        check_balance(col.name, parts[col.name], totals[col.name], integer=col.integer)
    table = pd.DataFrame({c.name: parts[c.name] for c in measured}, index=pd.Index([*codes, OUTSIDE], name="code"))
    show_outside = bool((table.loc[OUTSIDE].abs() > 0).any())
    if not show_outside:
        table = table.iloc[: len(codes)]
    table = pd.concat([table, pd.DataFrame([{c.name: totals[c.name] for c in measured}], index=pd.Index([TOTAL]))])
    table.index.name = "code"
    for col in measured:
        if col.integer:
            table[col.name] = table[col.name].round().astype("int64")
    fill_ratios(table, schema)
    table = table[[c.name for c in schema if c.kind != "key"]]
    extra = [OUTSIDE, TOTAL] if show_outside else [TOTAL]
    table.insert(0, "district_name", [*(str(n) for n in names), *("" for _ in extra)])
    table.insert(0, "district_code", table.index.to_list())
    table.attrs["schema"] = [dataclasses.asdict(c) for c in schema]
    table.attrs["warnings"] = [str(w) for w in warnings]
    # the same lines in each language, for a reader in Chinese (a flaw that can say itself in both)
    table.attrs["warnings_by_lang"] = {lang: [_said(w, lang) for w in warnings] for lang in ("zh", "en")}
    table.attrs["crs"] = crs.to_string()
    outside = "with outside parts" if show_outside else "nothing outside"
    log.info("statistics for %d districts (%s)", len(codes), outside)
    return table


def _said(warning: object, lang: str) -> str:
    """A warning in ``lang`` when it can say itself in both (a coverage flaw), else its text."""
    text = getattr(warning, "text", None)
    return str(text(lang)) if callable(text) else str(warning)


def select_districts(table: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``codes`` from a statistics table, with TOTAL as their sum.

    The ``OUTSIDE`` row is dropped: it belongs to no chosen district. With no codes the
    table is returned unchanged.
    """
    if not codes:
        return table
    rows = table[table.index.isin(codes)]
    total = rows.drop(columns=["district_code", "district_name"]).sum(axis=0)
    out = pd.concat([rows, total.to_frame(TOTAL).T])
    out.loc[TOTAL, ["district_code", "district_name"]] = [TOTAL, ""]
    for column in rows.columns[2:]:
        out[column] = out[column].astype(rows[column].dtype)
    out.index.name = table.index.name
    out.attrs = dict(table.attrs)
    return fill_ratios(out, schema_of(out))
