"""Every word the interface shows, in Chinese and English, in one place.

Layer, field and value labels come from the layer specs; this module adds the page's own
words (:data:`UI`) and derives the statistics' column headers from the catalogue, so the
app never spells a label itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.stats import StatColumn, schema_of, stats_schema

from . import CATALOGUE

__all__ = ["BASEMAP_LABELS", "UI", "column_label", "labelled_table", "named_rows", "row_label", "text"]

#: The page's own words: key -> (Chinese, English).
UI: dict[str, tuple[str, str]] = {
    "title": ("南关城市更新一张图", "Nanguan urban-renewal map"),
    "subtitle": ("长春市南关区 2020 年城市更新工作计划", "Nanguan District, Changchun — 2020 renewal work plan"),
    "schematic": (
        "示意数据：名称、区划代码和计划数字真实，几何位置为示意，非测绘成果。",
        "Schematic sample data: names, codes and plan figures are real; geometries are illustrative, not surveyed.",
    ),
    "source": ("数据源", "Data source"),
    "source_help": ("GeoPackage 文件路径", "Path of a GeoPackage"),
    "basemap": ("底图", "Basemap"),
    "basemap_disabled": ("未设置 TIANDITU_KEY，天地图不可用", "天地图 needs TIANDITU_KEY to be set"),
    "offline": ("离线模式：仅显示无底图", "Offline: tile basemaps are off"),
    "layers": ("图层", "Layers"),
    "filters": ("筛选", "Filters"),
    "districts": ("街道乡镇", "Sub-districts"),
    "all_districts": ("全部街道", "All sub-districts"),
    "search": ("搜索要素名称", "Find a feature by name"),
    "search_hint": ("例如 甲一路", "e.g. 甲一路"),
    "search_none": ("没有名称包含“{q}”的要素", "No feature name contains “{q}”"),
    "search_found": ("找到 {n} 个要素，已缩放至其范围", "Found {n} features; the map shows them"),
    "stats": ("分街道统计", "Statistics by sub-district"),
    "progress": ("2020 年计划进度", "2020 plan progress"),
    "target": ("目标", "Target"),
    "chart_roads": ("道路里程（km）", "Road length (km)"),
    "chart_households": ("户数", "Households"),
    "export": ("导出", "Export"),
    "export_layer": ("下载{layer}", "Download {layer}"),
    "export_format": ("格式", "Format"),
    "export_crs": ("坐标系", "CRS"),
    "export_enc": ("Shapefile 编码", "Shapefile encoding"),
    "all_layers": ("全部图层", "all layers"),
    "import": ("导入数据", "Import data"),
    "import_file": (
        "GeoJSON、GeoPackage、Shapefile（zip）、KML 或 CSV",
        "GeoJSON, GeoPackage, zipped Shapefile, KML or CSV",
    ),
    "import_as": ("导入为", "Import as"),
    "import_source": ("整个数据源（GeoPackage）", "the whole source (GeoPackage)"),
    "import_crs": ("坐标系", "CRS"),
    "import_enc": ("文字编码", "Text encoding"),
    "import_fix": ("修复无效几何", "Repair invalid geometries"),
    "import_go": ("导入", "Import"),
    "import_done": ("已导入：{what}", "Imported: {what}"),
    "auto": ("自动（按文件）", "automatic (from the file)"),
    "export_stats": ("下载统计表 CSV", "Download statistics CSV"),
    "selected": ("已选街道：{names}", "Selected: {names}"),
    "length": ("长度", "Length"),
    "no_value": ("无数据", "No data"),
    "colour_by": ("{layer}着色依据", "Colour {layer} by"),
    "area": ("面积", "Area"),
    "error_prefix": ("无法加载数据：", "Cannot load the data: "),
    "internal_error": ("程序内部错误（已记入服务器日志）：{error}", "Internal error (logged on the server): {error}"),
}

BASEMAP_LABELS: dict[str, tuple[str, str]] = {
    "none": ("无底图", "None"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "tianditu_vec": ("天地图·矢量", "Tianditu vector"),
    "tianditu_img": ("天地图·影像", "Tianditu imagery"),
    "gaode": ("高德地图", "Amap (Gaode)"),
}

FORMAT_LABELS: dict[str, str] = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "csv": "CSV",
    "xlsx": "Excel (xlsx)",
}

_ROWS = {"OUTSIDE": ("区外", "Outside"), "TOTAL": ("合计", "Total")}


def text(key: str, lang: str, **values: object) -> str:
    """The UI string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    zh, en = UI[key]
    return (zh if lang == "zh" else en).format(**values)


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
    """A statistics table as people read it: headers and OUTSIDE/TOTAL names in ``lang``."""
    out = named_rows(table, lang)
    schema = {c.name: c for c in schema_of(table)}
    return out.rename(columns={c: column_label(schema[c], lang) for c in out.columns if c in schema})


@dataclass(frozen=True)
class Card:
    """One figure of the plan as the progress panel shows it."""

    label: str
    value: str
    delta: str
    met: bool
    note: str


def progress_cards(frame: pd.DataFrame, lang: str) -> list[Card]:
    """The rows of :func:`geo.progress.plan_progress` as cards: "96 段", "+0", "目标 96 · 100%".

    A target in % (the road intact rate) is a floor: met at or above it, its note "目标 98 %".
    """
    cards = []
    for _, row in frame.iterrows():
        unit = row["unit_zh"] if lang == "zh" else row["unit_en"]
        diff = round(float(row["difference"]), 3) + 0.0  # + 0.0 turns -0.0 into 0.0
        # A rate's target is a floor ("达到98%以上"), and its percent of the target means nothing.
        rate = unit == "%"
        note = f"{text('target', lang)} {row['target']:,.4g}" + (" %" if rate else f" · {row['percent']:.0f}%")
        cards.append(
            Card(
                label=row["label_zh"] if lang == "zh" else row["label_en"],
                value=f"{row['actual']:,.4g} {unit}" if row["actual"] == row["actual"] else "—",
                delta=f"{diff:+,g}" if diff == diff else "",
                met=diff >= 0 if rate else diff == 0,
                note=note,
            )
        )
    return cards
