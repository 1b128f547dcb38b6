"""南关城市更新一张图 — the Streamlit app: a thin shell over ``geo/`` and ``layers/``.

Run with ``streamlit run app.py``. Widgets, calls into the core, rendering; nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import RenewalError
from geo.export import csv_bytes, geojson_bytes
from geo.filters import Filter, apply_filter, attribute_filter, find_features
from geo.io import dataset_info, load_layers
from geo.progress import load_targets, plan_progress
from geo.settings import BASEMAPS, Settings, resolve_source
from geo.stats import district_stats, select_districts
from layers import CATALOGUE, LAYER_NAMES
from layers.assets import AssetUrls, install_static
from layers.labels import BASEMAP_LABELS, column_label, row_label, text
from layers.mapbuild import MapOptions, build_map

log = logging.getLogger("nanguan.app")
SETTINGS = Settings.from_env()
STATIC = Path(__file__).resolve().parent / "static"
#: (layer, field) pairs offered as filters.
FILTERS = (
    ("roads", "status"),
    ("pipes", "utility"),
    ("parcels", "kind"),
    ("parcels", "status"),
    ("greenbelt", "kind"),
    ("facilities", "kind"),
)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose."""

    lang: str
    source: str
    basemap: str
    visible: tuple[str, ...]
    flt: Filter
    query: str


@st.cache_resource
def leaflet_assets() -> AssetUrls:
    return install_static(STATIC)


@st.cache_data(show_spinner=False)
def layers_of(source: str) -> dict[str, gpd.GeoDataFrame]:
    return load_layers(source)


@st.cache_data(show_spinner=False)
def stats_of(source: str, flt: Filter) -> pd.DataFrame:
    table = district_stats(attribute_filter(layers_of(source), flt))
    return select_districts(table, flt.districts)


@st.cache_data(show_spinner=False)
def progress_of(source: str, targets: str) -> pd.DataFrame:
    return plan_progress(layers_of(source), load_targets(targets))


def _on_map_click() -> None:
    """A click on a district selects it (the tables follow)."""
    clicked = (st.session_state.get("map") or {}).get("last_active_drawing") or {}
    props = clicked.get("properties") or {}
    if props.get("layer") == "districts":
        st.session_state["districts"] = [props["id"]]


def render_sidebar() -> Selection:
    sb = st.sidebar
    lang = (
        "zh" if sb.radio("语言 / Language", ["中文", "English"], key="lang_choice", horizontal=True) == "中文" else "en"
    )
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
    box = sb.expander(text("filters", lang), expanded=False)
    try:
        districts = layers_of(source).get("districts")
    except RenewalError:
        districts = None
    names = {} if districts is None else dict(zip(districts["code"], districts["name"], strict=True))
    chosen = box.multiselect(
        text("districts", lang),
        list(names),
        key="districts",
        format_func=names.get,
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
    return Selection(lang, source, basemap, visible, Filter(tuple(chosen), tuple(values)), query.strip())


def render_map(layers: dict[str, gpd.GeoDataFrame], sel: Selection) -> None:
    hits = find_features(layers, sel.query) if sel.query else []
    if sel.query:
        (st.success if hits else st.warning)(
            text("search_found", sel.lang, n=len(hits)) if hits else text("search_none", sel.lang, q=sel.query)
        )
    options = MapOptions(
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


def _labelled(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = table.copy()
    out["district_name"] = [
        row_label(c, n, lang) for c, n in zip(out["district_code"], out["district_name"], strict=True)
    ]
    return out.rename(columns={c: column_label(c, lang) for c in out.columns})


def render_stats(sel: Selection) -> pd.DataFrame:
    st.subheader(text("stats", sel.lang))
    table = stats_of(sel.source, sel.flt)
    if sel.flt.districts:
        names = "、".join(table["district_name"].iloc[:-1])
        st.caption(text("selected", sel.lang, names=names))
    st.dataframe(_labelled(table, sel.lang), hide_index=True, key="stats_table", height=36 * (len(table) + 1) + 2)
    body = table[~table.index.isin(["OUTSIDE", "TOTAL"])].set_index("district_name")
    left, right = st.columns(2)
    left.caption(text("chart_roads", sel.lang))
    left.bar_chart(body["roads_km"], horizontal=True, sort=False)
    right.caption(text("chart_households", sel.lang))
    right.bar_chart(body["households"], horizontal=True, sort=False)
    return table


def render_progress(sel: Selection) -> None:
    st.subheader(text("progress", sel.lang))
    frame = progress_of(sel.source, str(SETTINGS.targets))
    columns = st.columns(5)
    for i, (_, row) in enumerate(frame.iterrows()):
        unit = row["unit_zh"] if sel.lang == "zh" else row["unit_en"]
        label = row["label_zh"] if sel.lang == "zh" else row["label_en"]
        diff = round(float(row["difference"]), 3) + 0.0
        columns[i % 5].metric(
            label,
            f"{row['actual']:,.4g} {unit}",
            f"{diff:+,g}",
            delta_color="off" if diff == 0 else "normal",
            delta_arrow="off" if diff == 0 else "auto",
            delta_description=f"{text('target', sel.lang)} {row['target']:,.4g} · {row['percent']:.0f}%",
        )


def render_export(layers: dict[str, gpd.GeoDataFrame], table: pd.DataFrame, sel: Selection) -> None:
    st.subheader(text("export", sel.lang))
    columns = st.columns(4)
    for i, name in enumerate(sel.visible):
        label = CATALOGUE[name].label(sel.lang)
        columns[i % 4].download_button(
            text("export_geojson", sel.lang, layer=label),
            geojson_bytes(layers[name], layer=name),
            file_name=f"{name}_EPSG4326.geojson",
            mime="application/geo+json",
            key=f"dl_{name}",
        )
    columns[len(sel.visible) % 4].download_button(
        text("export_stats", sel.lang),
        csv_bytes(_labelled(table, sel.lang)),
        file_name="district_stats.csv",
        mime="text/csv",
        key="dl_stats",
    )


def render_page(sel: Selection) -> None:
    layers = layers_of(sel.source)
    if dataset_info(sel.source).get("schematic") == "true":
        st.info(text("schematic", sel.lang))
    shown = apply_filter(layers, sel.flt)
    render_map(shown, sel)
    render_progress(sel)
    table = render_stats(sel)
    render_export({n: shown[n] for n in sel.visible if n in shown}, table, sel)


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
