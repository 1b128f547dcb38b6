"""Every word the interface shows, in Chinese and English, in one place.

Layer, field and value labels come from the layer specs; this module adds the page's own
words (:data:`UI`) and derives the statistics' column headers from the catalogue, so the
app never spells a label itself.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .safe import md, short

__all__ = [
    "BASEMAP_LABELS",
    "CARD_DECIMALS",
    "CRS_LABELS",
    "FORMAT_LABELS",
    "UI",
    "Card",
    "figure",
    "md_text",
    "progress_cards",
    "progress_html",
    "source_title",
    "text",
]

#: The page's own words: key -> (Chinese, English).
UI: dict[str, tuple[str, str]] = {
    "title": ("城市更新一张图", "Urban-renewal map"),
    "choose_options": ("请选择", "Choose options"),
    "choose_option": ("请选择一项", "Choose an option"),
    "no_targets": (
        "此数据源没有计划指标（dataset_info 中的 targets 或旁边的 .targets.toml），不显示计划进度。",
        "This source names no plan targets (targets in its dataset_info, or a .targets.toml beside it).",
    ),
    "schematic": (
        "示意数据：名称、区划代码和计划数字真实，几何位置为示意，非测绘成果。",
        "Schematic sample data: names, codes and plan figures are real; geometries are illustrative, not surveyed.",
    ),
    "source": ("数据源", "Data source"),
    "source_help": (
        "示例数据、局数据库或本次上传的文件",
        "The sample, the bureau database or a file uploaded in this session",
    ),
    "source_db": ("局数据库", "Bureau database"),
    "source_refused": (
        "只能打开列表中的数据源：示例数据、局数据库或本次上传的文件",
        "Only the sources in the list can be opened: the sample, the bureau database or this session's uploads",
    ),
    "db_refresh": ("重新读取数据库", "Reload from the database"),
    "db_stale": (
        "数据库暂不可用，以下为上次读取的数据，可能已过时。",
        "The database is unavailable: what follows was read earlier and may be out of date.",
    ),
    "import_db": (
        "局数据库只读：请用 python -m geo import … --into 数据库URL 导入",
        "The bureau database is read-only here: import with python -m geo import … --into URL",
    ),
    "basemap": ("底图", "Basemap"),
    "basemap_disabled": ("未设置 TIANDITU_KEY，天地图不可用", "天地图 needs TIANDITU_KEY to be set"),
    "offline": ("离线模式：仅显示无底图", "Offline: tile basemaps are off"),
    "layers": ("图层", "Layers"),
    "filters": ("筛选", "Filters"),
    "all_districts": ("全部街道", "All sub-districts"),
    "search": ("搜索要素名称", "Find a feature by name"),
    "search_hint": ("例如 甲一路", "e.g. 甲一路"),
    "search_none": ("没有名称包含“{q}”的要素", "No feature name contains “{q}”"),
    "search_found": ("找到 {n} 个要素，已缩放至其范围", "Found {n} features; the map shows them"),
    "stats": ("分街道统计", "Statistics by sub-district"),
    "progress": ("计划进度", "Plan progress"),
    "target": ("目标", "Target"),
    "edits": ("编辑与修改记录", "Edits and history"),
    "read_only": (
        "只读：要编辑，请在 .streamlit/secrets.toml 中列出编辑人员（[users]），或设置 NANGUAN_AUTH_HEADER。",
        "Read-only: to edit, list the editors in .streamlit/secrets.toml ([users]) or set NANGUAN_AUTH_HEADER.",
    ),
    "login": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
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
    "export": ("导出", "Export"),
    "export_layer": ("下载{layer}", "Download {layer}"),
    "export_format": ("格式", "Format"),
    "export_crs": ("坐标系", "CRS"),
    "export_enc": ("Shapefile 编码", "Shapefile encoding"),
    "all_layers": ("全部图层", "all layers"),
    "export_labels": ("中文字段名和取值", "Chinese field names and values"),
    "export_labels_help": (
        "给人看的属性表（Excel、ArcGIS）：名称、状态 = 规划；不选则为机器读回用的代码",
        "For people's attribute tables (Excel, ArcGIS): 名称, 状态 = 规划; off: the codes machines read back",
    ),
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
    "import_preview": ("预览", "Preview"),
    "preview_title": ("导入预览：{file}", "Import preview: {file}"),
    "preview_count": (
        "要素数：{n:,}（“{layer}”现有 {existing:,}）",
        "Features: {n:,} ({layer} holds {existing:,} now)",
    ),
    "preview_crs": ("读取坐标系：{crs}", "CRS read: {crs}"),
    "preview_extent": (
        "范围：东经 {west:.4f}–{east:.4f}°，北纬 {south:.4f}–{north:.4f}°",
        "Extent: {west:.4f}–{east:.4f}°E, {south:.4f}–{north:.4f}°N",
    ),
    "preview_outside": ("不在任何街道内：{n:,} 个要素", "Outside every sub-district: {n:,} features"),
    "preview_map": ("灰色：现有街道；红色：导入要素", "Grey: the sub-districts; red: the file's features"),
    "preview_shift": (
        "这些坐标看起来是{name}坐标（标为 WGS 84，但偏移约数百米）；要转换吗？",
        "These look like {name} coordinates (labelled WGS 84 but a few hundred metres off); convert them?",
    ),
    "preview_convert": ("按{name}转换后重新预览", "Convert from {name} and preview again"),
    "preview_clashes": (
        "以下编号已存在，不能追加：{ids}",
        "These ids already exist, so the file cannot be appended: {ids}",
    ),
    "import_replace": ("替换图层", "Replace the layer"),
    "import_append": ("追加到图层", "Append to the layer"),
    "import_cancel": ("取消", "Cancel"),
    "import_applied": (
        "已导入 {file}：“{layer}”现有 {n:,} 个要素",
        "Imported {file}: {layer} now holds {n:,} features",
    ),
    "import_source_done": ("已打开 {file}", "Opened {file}"),
    "working_copy": ("正在使用工作副本（含导入数据）", "Using the working copy (with imported data)"),
    "working_download": ("下载工作副本（GeoPackage）", "Download the working copy (GeoPackage)"),
    "working_discard": ("放弃导入，回到原数据源", "Discard imports, back to the source"),
    "export_stats": ("下载统计表 CSV", "Download statistics CSV"),
    "selected": ("已选街道：{names}", "Selected: {names}"),
    "impact": ("影响分析", "Impact analysis"),
    "impact_hint": (
        "用地图左上角的 ▱ ╱ • 按钮画面、线或点（单击加点，双击或 ✓ 完成），或在下方上传 GeoJSON 范围。",
        "Draw a polygon, a line or a point with the ▱ ╱ • buttons at the map's top left (click to add points, "
        "double-click or ✓ to finish), or upload a GeoJSON area below.",
    ),
    "impact_buffer": ("缓冲距离（米）", "Buffer (m)"),
    "impact_buffer_help": (
        "范围向外扩展的距离；线的每侧各扩展此距离（40 米即 80 米宽走廊）。线和点必须设置。",
        "Distance around the area, on each side of a line (40 m makes an 80 m corridor). Lines and points need one.",
    ),
    "impact_upload": ("上传范围（GeoJSON）", "Upload an area (GeoJSON)"),
    "impact_key_area": ("或以重点区域为范围", "Or take a key area as the area"),
    "impact_key_area_none": ("选择重点区域", "Choose a key area"),
    "impact_drawn": ("地图上绘制的范围", "the shape drawn on the map"),
    "impact_of": ("范围：{name}", "Area: {name}"),
    "impact_outside": (
        "该范围在全部数据之外：不涉及任何街道和要素，各项均为 0。",
        "The area lies outside all the data: it meets no sub-district and no feature; every figure is 0.",
    ),
    "impact_area_ha": ("范围面积", "Area"),
    "impact_clear": ("清除范围", "Clear the area"),
    "impact_download_area": ("下载范围 GeoJSON", "Download the area (GeoJSON)"),
    "impact_download_report": ("下载报告 CSV", "Download the report (CSV)"),
    "impact_layer": ("分析范围", "Impact area"),
    "conflicts": ("规划冲突", "Plan conflicts"),
    "conflicts_layer": ("规划冲突", "Plan conflicts"),
    "conflicts_none": ("未发现规划冲突。", "No plan conflicts found."),
    "conflicts_hint": ("选中一行，地图缩放至该冲突。", "Select a row to zoom the map to it."),
    "overlap": ("重叠", "Overlap"),
    "draw_polygon": ("画多边形", "Draw a polygon"),
    "draw_line": ("画线（走廊）", "Draw a line (corridor)"),
    "draw_point": ("画点", "Place a point"),
    "draw_finish": ("完成（或双击）", "Finish (or double-click)"),
    "draw_cancel": ("取消", "Cancel"),
    "col_layer": ("图层", "Layer"),
    "col_id": ("编号", "ID"),
    "col_name": ("名称", "Name"),
    "col_class": ("类别", "Class"),
    "col_inside": ("范围内", "Inside"),
    "col_whole": ("全部", "Whole"),
    "col_unit": ("单位", "Unit"),
    "col_share": ("比例 %", "Share %"),
    "col_conflict": ("冲突", "Conflict"),
    "col_layer_a": ("图层 A", "Layer A"),
    "col_id_a": ("编号 A", "ID A"),
    "col_layer_b": ("图层 B", "Layer B"),
    "col_id_b": ("编号 B", "ID B"),
    "unit_count": ("处", "count"),
    "length": ("长度", "Length"),
    "no_value": ("无数据", "No data"),
    "colour_by": ("{layer}着色依据", "Colour {layer} by"),
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
    "internal_error": (
        "程序内部错误，已记入服务器日志（编号 {reference}）",
        "Internal error, logged on the server (reference {reference})",
    ),
}

BASEMAP_LABELS: dict[str, tuple[str, str]] = {
    "none": ("无底图", "None"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "tianditu_vec": ("天地图·矢量", "Tianditu vector"),
    "tianditu_img": ("天地图·影像", "Tianditu imagery"),
    "gaode": ("高德地图", "Amap (Gaode)"),
}

#: CRS choices of the import form, with the names planners know them by.
CRS_LABELS: dict[str, tuple[str, str]] = {
    "auto": ("自动（按文件）", "automatic (from the file)"),
    "EPSG:4326": ("WGS 84 经纬度（EPSG:4326）", "WGS 84 lon/lat (EPSG:4326)"),
    "EPSG:4490": ("CGCS2000 经纬度（EPSG:4490）", "CGCS2000 lon/lat (EPSG:4490)"),
    "EPSG:4551": ("CGCS2000 3° GK CM 126°E（EPSG:4551）", "CGCS2000 3° GK CM 126°E (EPSG:4551)"),
    "EPSG:4530": ("CGCS2000 3° GK 带号 42，CM 126°E（EPSG:4530）", "CGCS2000 3° GK zone 42, CM 126°E (EPSG:4530)"),
    "gcj02": ("高德/腾讯 GCJ-02 经纬度", "Amap/Tencent GCJ-02 lon/lat"),
    "bd09": ("百度 BD-09 经纬度", "Baidu BD-09 lon/lat"),
}

FORMAT_LABELS: dict[str, str] = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shp": "Shapefile (zip)",
    "csv": "CSV",
    "xlsx": "Excel (xlsx)",
}


def text(key: str, lang: str, **values: object) -> str:
    """The UI string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    zh, en = UI[key]
    return (zh if lang == "zh" else en).format(**values)


def md_text(key: str, lang: str, **values: object) -> str:
    """:func:`text` for a place that renders Markdown: every text value in ``values`` passed
    through :func:`display.safe.md`, so it shows as the text it is; numbers keep their format
    specifications (``{n:,}``)."""
    return text(key, lang, **{k: md(v) if isinstance(v, str) else v for k, v in values.items()})


#: Decimals a progress card shows per measure: the plan's own precision (0.1 km, 0.1 ha).
CARD_DECIMALS: dict[str, int] = {"km": 1, "ha": 1, "count": 0, "sum": 0, "pct": 1}


def figure(value: float, measure: str) -> str:
    """A figure as a planner reads it: whole counts with thousands separators
    (``1,240,120``), km and ha to :data:`CARD_DECIMALS` (``21,214.9``)."""
    decimals = CARD_DECIMALS[measure.split(":")[0]]
    return f"{round(float(value), decimals) + 0.0:,.{decimals}f}"


@dataclass(frozen=True)
class Card:
    """One figure of the plan as the progress panel shows it."""

    id: str
    label: str
    value: str
    delta: str
    met: bool
    note: str


def progress_cards(frame: pd.DataFrame, lang: str) -> list[Card]:
    """The rows of :func:`geo.progress.plan_progress` as cards.

    The headline is what is done ("32 段"), the delta its share of the plan's figure
    ("33%"), the note the target and what is under way and planned
    ("目标 96 段 · 在建 24 · 规划 40"). Counts are whole with thousands separators, km and ha
    to :data:`CARD_DECIMALS`. A target in % (the road intact rate, ``pct:``) is a floor:
    the headline is the rate ("91.3 %"; "—" when nothing is surveyed), the delta its
    distance to the floor in points ("-6.7"), met at or above it, the note "目标 98.0 %".
    """
    cards = []
    for target_id, row in frame.iterrows():
        unit = row["unit_zh"] if lang == "zh" else row["unit_en"]
        measure = str(row["measure"])
        if measure.startswith("pct:"):
            rate, floor = float(row["done"]), float(row["target"])
            cards.append(
                Card(
                    id=str(target_id),
                    label=row["label_zh"] if lang == "zh" else row["label_en"],
                    value="—" if math.isnan(rate) else f"{figure(rate, measure)} {unit}",
                    delta="—" if math.isnan(rate) else f"{round(rate - floor, 1) + 0.0:+.1f}",
                    met=rate >= floor,
                    note=f"{text('target', lang)} {figure(floor, measure)} {unit}",
                )
            )
            continue
        percent = float(row["percent_done"])
        parts = [f"{text('target', lang)} {figure(row['target'], measure)} {unit}"]
        if row["under_way"]:
            parts.append(f"{text('under_way', lang)} {figure(row['under_way'], measure)}")
        if row["planned"]:
            parts.append(f"{text('planned', lang)} {figure(row['planned'], measure)}")
        cards.append(
            Card(
                id=str(target_id),
                label=row["label_zh"] if lang == "zh" else row["label_en"],
                value=f"{figure(row['done'], measure)} {unit}",
                delta="—" if math.isnan(percent) else f"{percent:,.0f}%",
                met=percent >= 100,
                note=" · ".join(parts),
            )
        )
    return cards


_CARD_STYLE = (
    "border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;padding:0.5rem 0.75rem;min-width:0;overflow-wrap:anywhere"
)
_DELTA_COLOURS = {"met": "#067647", "short": "#5f6368"}


def _html(value: str) -> str:
    return html.escape(" ".join(value.splitlines()))


def progress_html(cards: list[Card]) -> str:
    """The cards as a wrapping grid of boxes whose text wraps instead of being cut off.

    Every text is HTML-escaped (labels come from the source's targets), its line breaks
    made spaces: Streamlit parses the page as Markdown, and a blank line would end the
    HTML block and have what follows read as Markdown."""
    boxes = []
    for c in cards:
        state = "met" if c.met else "short"
        boxes.append(
            f'<div class="ng-card" data-target="{_html(c.id)}" data-state="{state}" style="{_CARD_STYLE}">'
            f'<div class="ng-card-label" style="font-size:0.875rem" title="{_html(c.label)}">'
            f"{_html(short(c.label, 40))}</div>"
            f'<div class="ng-card-value" style="font-size:1.5rem;line-height:1.3">{_html(c.value)}</div>'
            f'<div class="ng-card-delta" style="font-size:0.875rem;color:{_DELTA_COLOURS[state]}">'
            f"{_html(c.delta)}</div>"
            f'<div class="ng-card-note" style="font-size:0.8rem;color:#5f6368">{_html(c.note)}</div>'
            "</div>"
        )
    grid = "display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:0.5rem"
    return f'<div class="ng-progress" style="{grid}">{"".join(boxes)}</div>'


def source_title(info: Mapping[str, str], name: str, lang: str) -> tuple[str, str]:
    """The page's title and subtitle for a source: its ``dataset_info`` ``title_zh`` /
    ``title_en`` and ``subtitle_zh`` / ``subtitle_en``; without them a generic title and
    the source's file ``name``."""
    title = info.get(f"title_{lang}") or text("title", lang)
    subtitle = info.get(f"subtitle_{lang}") or name
    return title, subtitle
