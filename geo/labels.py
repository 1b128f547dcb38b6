"""The statistics' and attribute tables' words, in Chinese and English, built from the catalogue.

Column headers (``roads_km`` → 道路 (km)), the OUTSIDE and TOTAL rows (区外, 合计) and a
layer's fields and coded values as people read them (``status`` "planned" → 状态 "规划"):
what the exports, the command line and the app's tables share. The page's own words are
:mod:`display.labels`.
"""

from __future__ import annotations

import pandas as pd

from layers import CATALOGUE

from .stats import StatColumn, schema_of, stats_schema

__all__ = ["TABLE_COLUMNS", "column_label", "labelled_table", "localised_layer", "named_rows", "row_label"]

_ROWS = {"OUTSIDE": ("区外", "Outside"), "TOTAL": ("合计", "Total")}

#: Headers of the columns an attribute table adds to a layer's fields.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "length_m": ("长度_米", "Length_m"),
    "area_m2": ("面积_平方米", "Area_m2"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
}


def localised_layer(frame: pd.DataFrame, layer: str, lang: str = "zh") -> pd.DataFrame:
    """A layer's table (or GeoDataFrame) with field names and coded values as people read
    them in ``lang`` (``status`` "planned" becomes 状态 "规划"); the geometry column keeps
    its name. Returns a copy."""
    spec = CATALOGUE[layer]
    out = frame.copy()
    names = {}
    for f in spec.fields:
        if f.name not in out.columns:
            continue
        if f.choices:
            out[f.name] = [f.value_label(v, lang) if isinstance(v, str) else v for v in out[f.name]]
        names[f.name] = f.label(lang)
    names.update({c: pair[0 if lang == "zh" else 1] for c, pair in TABLE_COLUMNS.items() if c in out.columns})
    return out.rename(columns=names)


def row_label(code: str, name: str, lang: str) -> str:
    """A statistics row's district name; the OUTSIDE and TOTAL rows in ``lang``."""
    if code in _ROWS:
        zh, en = _ROWS[code]
        return zh if lang == "zh" else en
    return name


def _schema() -> dict[str, StatColumn]:
    return {c.name: c for c in stats_schema()}


def column_label(column: str | StatColumn, lang: str) -> str:
    """The header of a statistics column, built from the catalogue's labels.

    ``roads_km`` becomes "道路 (km)" / "Roads (km)"; ``pipes_km_heat`` becomes
    "管线·供热 (km)"; ``households`` the parcel field's label; ``roads_intact_pct``
    "道路完好率 (%)" / "Roads intact rate (%)".
    """
    col = column if isinstance(column, StatColumn) else _schema()[column]
    spec = CATALOGUE[col.layer]
    if col.kind == "key":
        return spec.field(col.field).label(lang) if col.field else spec.label(lang)
    if col.kind == "sum":
        return spec.field(col.field or "").label(lang)
    if col.kind == "pct":
        ratio = next(r for r in spec.ratios if r.column(spec.name) == col.name)
        return f"{spec.label(lang)}{'' if lang == 'zh' else ' '}{ratio.label(lang)} (%)"
    head = spec.label(lang)
    if col.code is not None and col.field is not None:
        head += "·" + spec.field(col.field).value_label(col.code, lang)
    elif col.kind == "count":
        head += "数" if lang == "zh" else " count"
    return f"{head} ({col.kind})" if col.kind in ("km", "ha") else head


def named_rows(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A statistics table with the OUTSIDE and TOTAL rows named in ``lang`` (区外, 合计)."""
    out = table.copy()
    out["district_name"] = [
        row_label(c, n, lang) for c, n in zip(out["district_code"], out["district_name"], strict=True)
    ]
    return out


def labelled_table(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A statistics table as people read it: headers in ``lang``, the OUTSIDE and TOTAL rows
    named in ``lang`` with an empty code (machine files keep the codes ``OUTSIDE``/``TOTAL``)."""
    out = named_rows(table, lang)
    # people read the row's name; the codes OUTSIDE and TOTAL are for machine files
    out["district_code"] = out["district_code"].where(~out["district_code"].isin(list(_ROWS)), "")
    schema = {c.name: c for c in schema_of(table)}
    return out.rename(columns={c: column_label(schema[c], lang) for c in out.columns if c in schema})
