"""南关城市更新一张图 — the Streamlit app: a thin shell over ``geo/`` and ``layers/``.

Run with ``streamlit run app.py``. Widgets, calls into the core, rendering; nothing else.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.chinacoord import PSEUDO_CRS
from geo.crs import source_metric_crs
from geo.errors import RenewalError
from geo.export import EXPORT_CRS, EXPORT_ENCODINGS, EXPORT_FORMATS, csv_bytes, export_name, layers_bytes
from geo.filters import Filter, apply_filter, attribute_filter, find_features
from geo.importer import import_to_copy
from geo.io import check_gpkg_path, dataset_info, load_layers
from geo.progress import load_targets, plan_progress
from geo.settings import BASEMAPS, Settings, resolve_source
from geo.stats import OUTSIDE, TOTAL, district_stats, select_districts
from layers import CATALOGUE, LAYER_NAMES, units_layer
from layers.assets import AssetUrls, install_static
from layers.labels import BASEMAP_LABELS, FORMAT_LABELS, labelled_table, progress_cards, text
from layers.mapbuild import MapOptions, build_map

log = logging.getLogger("nanguan.app")
SETTINGS = Settings.from_env()
STATIC = Path(__file__).resolve().parent / "static"
#: (layer, field) pairs offered as filters, as the catalogue declares them.
FILTERS = tuple((spec.name, field) for spec in CATALOGUE.values() for field in spec.filters)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose."""

    lang: str
    source: str
    basemap: str
    visible: tuple[str, ...]
    flt: Filter
    query: str
    colour_by: tuple[tuple[str, str], ...] = ()


@st.cache_resource
def leaflet_assets() -> AssetUrls:
    return install_static(STATIC)


def stamp(source: str) -> tuple[str, int, int]:
    """A cache key that changes when the file does (an import replaces it)."""
    info = Path(source).stat() if Path(source).exists() else None
    return (source, info.st_mtime_ns if info else 0, info.st_size if info else 0)


@st.cache_data(show_spinner=False, max_entries=8)
def _layers(key: tuple[str, int, int]) -> dict[str, gpd.GeoDataFrame]:
    return load_layers(key[0])


def layers_of(source: str) -> dict[str, gpd.GeoDataFrame]:
    return _layers(stamp(source))


@st.cache_data(show_spinner=False, max_entries=32)
def stats_of(key: tuple[str, int, int], flt: Filter) -> pd.DataFrame:
    layers = _layers(key)
    metric = source_metric_crs(layers)
    table = district_stats(attribute_filter(layers, flt), crs=metric, tolerance_m2=SETTINGS.overlap_tolerance_m2)
    return select_districts(table, flt.districts)


@st.cache_data(show_spinner=False, max_entries=8)
def progress_of(key: tuple[str, int, int], targets: str) -> pd.DataFrame:
    return plan_progress(_layers(key), load_targets(targets))


@st.cache_data(show_spinner=False, max_entries=16)
def shown_of(key: tuple[str, int, int], flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    return apply_filter(_layers(key), flt)


@st.cache_data(show_spinner=False, max_entries=8)
def schematic_of(key: tuple[str, int, int]) -> bool:
    return dataset_info(key[0]).get("schematic") == "true"


@st.cache_data(show_spinner=False, max_entries=64)
def download_of(key: tuple[str, int, int], flt: Filter, names: tuple[str, ...], fmt: str, crs: str, enc: str) -> bytes:
    shown = shown_of(key, flt)
    metric = source_metric_crs(_layers(key))
    return layers_bytes({n: shown[n] for n in names if n in shown}, fmt, crs=crs, encoding=enc, metric=metric)


def _on_import() -> None:
    """Import the uploaded file into this session's working copy of the source."""
    state = st.session_state
    upload, layer = state.get("upload"), state["import_as"]
    if upload is None:
        return
    folder = Path(state.setdefault("workdir", tempfile.mkdtemp(prefix="nanguan-session-")))
    src = folder / "uploads" / Path(upload.name).name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(upload.getvalue())
    try:
        if layer == "source":
            layers_of(str(check_gpkg_path(src)))
            state["source"], state["import_msg"] = str(src), ("success", src.name)
            return
        choice = {k: None if state[k] == "auto" else state[k] for k in ("import_crs", "import_enc")}
        copy = folder / "working.gpkg"
        result = import_to_copy(
            src,
            layer,
            base=resolve_source(state.get("source", SETTINGS.source)),
            copy=copy,
            from_crs=choice["import_crs"],
            encoding=choice["import_enc"],
            fix=state.get("import_fix", False),
            max_unzipped_mb=SETTINGS.max_unzipped_mb,
        )
        state["source"] = str(copy)
        state["import_msg"] = ("success", f"{layer} {len(result.gdf)} {' '.join(result.repaired)}".strip())
    except RenewalError as exc:
        state["import_msg"] = ("error", str(exc))


def _on_map_click() -> None:
    """A click on a district selects it (the tables follow)."""
    clicked = (st.session_state.get("map") or {}).get("last_active_drawing") or {}
    props = clicked.get("properties") or {}
    if props.get("layer") == units_layer().name:
        st.session_state["districts"] = [props["id"]]


def render_sidebar() -> Selection:
    sb = st.sidebar
    languages = {"中文": "zh", "English": "en"}
    choice = sb.radio(
        "语言 / Language",
        list(languages),
        key="lang_choice",
        horizontal=True,
        index=list(languages.values()).index(SETTINGS.lang),
    )
    lang = languages[choice]
    source = sb.text_input(text("source", lang), value=SETTINGS.source, key="source", help=text("source_help", lang))
    source = str(resolve_source(source))
    options = ["none"] if SETTINGS.offline else list(BASEMAPS)
    basemap = sb.selectbox(
        text("basemap", lang),
        options,
        key="basemap",
        index=options.index(SETTINGS.basemap) if SETTINGS.basemap in options else 0,
        format_func=lambda b: BASEMAP_LABELS[b][0 if lang == "zh" else 1],
    )
    if SETTINGS.offline:
        sb.caption(text("offline", lang))
    if basemap.startswith("tianditu") and not SETTINGS.tianditu_key:
        sb.warning(text("basemap_disabled", lang))
        basemap = "none"
    sb.subheader(text("layers", lang))
    visible = tuple(n for n in LAYER_NAMES if sb.checkbox(CATALOGUE[n].label(lang), value=True, key=f"show_{n}"))
    colour_by = []
    for spec in (s for s in CATALOGUE.values() if s.style.by_options):
        field = sb.selectbox(
            text("colour_by", lang, layer=spec.label(lang)),
            spec.colour_fields(),
            key=f"colour_{spec.name}",
            format_func=lambda f, spec=spec: spec.field(f).label(lang),
        )
        colour_by.append((spec.name, field))
    box = sb.expander(text("filters", lang), expanded=False)
    try:
        districts = layers_of(source).get(units_layer().name)
    except RenewalError:
        districts = None
    names = {} if districts is None else dict(zip(districts["code"], districts["name"], strict=True))
    chosen = box.multiselect(
        text("districts", lang),
        list(names),
        key="districts",
        format_func=lambda code: names[code],
        placeholder=text("all_districts", lang),
    )
    values = []
    for layer, field in FILTERS:
        spec, f = CATALOGUE[layer], CATALOGUE[layer].field(field)
        picked = box.multiselect(
            f"{spec.label(lang)} · {f.label(lang)}",
            list(f.codes),
            default=list(f.codes),
            key=f"f_{layer}_{field}",
            format_func=lambda c, f=f: f.value_label(c, lang),
        )
        values.append((layer, field, tuple(picked)))
    query = sb.text_input(text("search", lang), key="query", placeholder=text("search_hint", lang))
    render_import(sb.expander(text("import", lang)), lang)
    flt = Filter(tuple(chosen), tuple(values))
    return Selection(lang, source, basemap, visible, flt, query.strip(), tuple(colour_by))


def render_import(box: st.delta_generator.DeltaGenerator, lang: str) -> None:
    box.file_uploader(text("import_file", lang), type=["geojson", "json", "gpkg", "zip", "kml", "csv"], key="upload")
    box.selectbox(
        text("import_as", lang),
        ["source", *LAYER_NAMES],
        key="import_as",
        format_func=lambda n: text("import_source", lang) if n == "source" else CATALOGUE[n].label(lang),
    )
    box.selectbox(
        text("import_crs", lang),
        ["auto", *EXPORT_CRS, *PSEUDO_CRS],
        key="import_crs",
        format_func=lambda c: text("auto", lang) if c == "auto" else c,
    )
    box.selectbox(
        text("import_enc", lang),
        ["auto", "UTF-8", "GBK", "GB18030"],
        key="import_enc",
        format_func=lambda c: text("auto", lang) if c == "auto" else c,
    )
    box.checkbox(text("import_fix", lang), key="import_fix")
    box.button(text("import_go", lang), key="do_import", on_click=_on_import)
    kind, message = st.session_state.pop("import_msg", (None, ""))
    if kind == "success":
        box.success(text("import_done", lang, what=message))
    elif kind == "error":
        box.error(message)


def render_map(layers: dict[str, gpd.GeoDataFrame], sel: Selection) -> None:
    hits = find_features(layers, sel.query) if sel.query else []
    if sel.query:
        (st.success if hits else st.warning)(
            text("search_found", sel.lang, n=len(hits)) if hits else text("search_none", sel.lang, q=sel.query)
        )
    options = MapOptions(
        colour_by=sel.colour_by,
        lang=sel.lang,
        basemap=sel.basemap,
        tianditu_key=SETTINGS.tianditu_key,
        visible=sel.visible,
        selected=sel.flt.districts,
        highlight=tuple((h.layer, h.id) for h in hits),
        assets=leaflet_assets(),
    )
    st_folium(
        build_map(layers, options),
        key="map",
        height=options.height_px,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=_on_map_click,
    )


def render_stats(sel: Selection) -> pd.DataFrame:
    st.subheader(text("stats", sel.lang))
    table = stats_of(stamp(sel.source), sel.flt)
    if sel.flt.districts:
        names = "、".join(table["district_name"].iloc[:-1])
        st.caption(text("selected", sel.lang, names=names))
    st.dataframe(labelled_table(table, sel.lang), hide_index=True, key="stats_table", height=36 * (len(table) + 1) + 2)
    body = table[~table.index.isin([OUTSIDE, TOTAL])].set_index("district_name")
    left, right = st.columns(2)
    left.caption(text("chart_roads", sel.lang))
    left.bar_chart(body["roads_km"], horizontal=True, sort=False)
    right.caption(text("chart_households", sel.lang))
    right.bar_chart(body["households"], horizontal=True, sort=False)
    return table


def render_progress(sel: Selection) -> None:
    st.subheader(text("progress", sel.lang))
    frame = progress_of(stamp(sel.source), str(SETTINGS.targets))
    columns = st.columns(5)
    for i, card in enumerate(progress_cards(frame, sel.lang)):
        columns[i % 5].metric(
            card.label,
            card.value,
            card.delta,
            delta_color="off" if card.met else "normal",
            delta_arrow="off" if card.met else "auto",
            delta_description=card.note,
        )


def render_export(sel: Selection, table: pd.DataFrame) -> None:
    st.subheader(text("export", sel.lang))
    fmt_col, crs_col, enc_col = st.columns(3)
    fmt = fmt_col.selectbox(
        text("export_format", sel.lang), EXPORT_FORMATS, key="ex_fmt", format_func=lambda f: FORMAT_LABELS[f]
    )
    crs = crs_col.selectbox(text("export_crs", sel.lang), EXPORT_CRS, key="ex_crs", disabled=fmt in ("csv", "xlsx"))
    enc = enc_col.selectbox(text("export_enc", sel.lang), EXPORT_ENCODINGS, key="ex_enc", disabled=fmt != "shp")
    key = stamp(sel.source)
    groups = [(n,) for n in sel.visible] + ([sel.visible] if fmt in ("gpkg", "shp", "xlsx") else [])
    columns = st.columns(4)
    for i, names in enumerate(groups):
        name = names[0] if len(names) == 1 else "all"
        label = CATALOGUE[name].label(sel.lang) if name != "all" else text("all_layers", sel.lang)
        columns[i % 4].download_button(
            text("export_layer", sel.lang, layer=label),
            download_of(key, sel.flt, names, fmt, crs, enc),
            file_name=export_name(name, fmt, crs),
            key=f"dl_{name}",
        )
    columns[len(groups) % 4].download_button(
        text("export_stats", sel.lang),
        csv_bytes(labelled_table(table, sel.lang)),
        file_name=export_name("stats", "csv", None),
        key="dl_stats",
    )


def render_page(sel: Selection) -> None:
    key = stamp(sel.source)
    if schematic_of(key):
        st.info(text("schematic", sel.lang))
    shown = shown_of(key, sel.flt)
    render_map(shown, sel)
    render_progress(sel)
    table = render_stats(sel)
    render_export(sel, table)


def main() -> None:
    st.set_page_config(page_title="南关城市更新一张图", page_icon="🗺️", layout="wide")
    sel = render_sidebar()
    st.title(text("title", sel.lang))
    st.caption(text("subtitle", sel.lang))
    try:
        render_page(sel)
    except RenewalError as exc:
        st.error(text("error_prefix", sel.lang) + str(exc))
    except Exception as exc:
        # A bug, not bad data: the server log keeps the traceback, the page one line.
        log.exception("unexpected error")
        st.error(text("internal_error", sel.lang, error=f"{type(exc).__name__}: {exc}"))


main()
