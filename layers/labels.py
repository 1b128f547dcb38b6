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
    "edits": ("编辑与修改记录", "Edits and history"),
    "read_only": (
        "只读：要编辑，请在 .streamlit/secrets.toml 中列出编辑人员（[users]），或设置 NANGUAN_AUTH_HEADER。",
        "Read-only: to edit, list the editors in .streamlit/secrets.toml ([users]) or set NANGUAN_AUTH_HEADER.",
    ),
    "login": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
    "login_failed": ("用户名或密码不正确", "Wrong user name or password"),
    "edit_layer": ("图层", "Layer"),
    "edit_features": ("要素（可多选）", "Features (one or several)"),
    "edit_field": ("字段", "Field"),
    "edit_value": ("新值", "New value"),
    "edit_date": ("实际发生日期", "Date it happened"),
    "edit_note": ("说明", "Note"),
    "edit_save": ("保存修改", "Save the change"),
    "edit_done": ("已保存 {n} 项修改（{who}）", "Saved {n} changes ({who})"),
    "history_none": ("尚无修改记录", "No changes recorded yet"),
    "history_by": ("修改人", "Changed by"),
    "history_target": ("完成量随时间（按月）", "Done over time (by month)"),
    "under_way": ("在建", "under way"),
    "planned": ("规划", "planned"),
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
    "area": ("面积", "Area"),
    "map_legend": ("图例", "Legend"),
    "map_loading": ("正在加载图层…", "Loading the layer…"),
    "map_budget": (
        "显示 {shown} / {total} 个要素（上限 {budget}）：放大或移动地图以查看其余要素",
        "Showing {shown} of {total} features (limit {budget}): zoom in or pan to see the others",
    ),
    "map_tiles": (
        "底图无法加载（可能没有网络）：请在侧栏“底图”中选择“无底图”",
        "The basemap cannot load (no internet?): choose “None” under Basemap in the sidebar",
    ),
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
    "管线·供热 (km)"; ``households`` the parcel field's label.
    """
    col = column if isinstance(column, StatColumn) else _schema()[column]
    spec = CATALOGUE[col.layer]
    if col.kind == "key":
        return spec.field(col.field).label(lang) if col.field else spec.label(lang)
    if col.kind == "sum":
        return spec.field(col.field or "").label(lang)
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


def _amount(value: float, unit: str) -> str:
    """A figure as a planner reads it: whole numbers with separators, km and ha to 0.01."""
    if unit in ("km", "公里", "ha", "公顷"):
        return f"{value:,.2f}"
    return f"{round(value):,d}" if abs(value - round(value)) < 1e-9 else f"{value:,.2f}"


def progress_cards(frame: pd.DataFrame, lang: str) -> list[Card]:
    """The rows of :func:`geo.progress.plan_progress` as cards.

    The headline is what is done ("32 段"), the delta its share of the plan's figure
    ("33%"), the note the target and what is under way and planned
    ("目标 96 · 在建 24 · 规划 40").
    """
    cards = []
    for _, row in frame.iterrows():
        unit = row["unit_zh"] if lang == "zh" else row["unit_en"]
        percent = float(row["percent_done"])
        parts = [f"{text('target', lang)} {_amount(row['target'], unit)}"]
        if row["under_way"]:
            parts.append(f"{text('under_way', lang)} {_amount(row['under_way'], unit)}")
        if row["planned"]:
            parts.append(f"{text('planned', lang)} {_amount(row['planned'], unit)}")
        cards.append(
            Card(
                label=row["label_zh"] if lang == "zh" else row["label_en"],
                value=f"{_amount(row['done'], unit)} {unit}",
                delta="" if percent != percent else f"{percent:.0f}%",
                met=percent >= 100,
                note=" · ".join(parts),
            )
        )
    return cards
