"""The impact panel (what an area drawn, uploaded or chosen touches) and the plan's conflicts.

:func:`render_impact` returns the :class:`~display.draw.Overlay` the map draws over the
layers, so it runs before the map is drawn (the page puts the map above it).
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from display.draw import Overlay, conflict_table, drawn_area, impact_figures, impact_table
from display.labels import md_text, text
from display.safe import md, short
from geo._names import file_label
from geo.errors import RenewalError
from geo.errors import message as message_of
from geo.export import csv_bytes, export_name, geojson_bytes
from geo.impact import Impact, check_area, context_areas, feature_area

from .data import conflicts_of, impact_of, layers_at
from .state import Selection, settings, stamp

__all__ = ["render_conflicts", "render_impact"]


def _on_area_upload() -> None:
    """An uploaded area, held to the import limits before it is decoded (or kept in the session)."""
    state = st.session_state
    state.pop("impact_refused", None)
    upload = state.get("impact_upload")
    if upload is not None:
        name, data = file_label(upload.name), upload.getvalue()
        try:
            check_area(data, name=name, limits=settings().limits)
        except RenewalError as exc:
            state.pop("impact_area", None)
            state["impact_refused"] = exc
            return
        state["impact_area"] = (data.decode("utf-8", errors="replace"), name, False)


def _clear_area() -> None:
    st.session_state.pop("impact_refused", None)
    st.session_state.pop("impact_area", None)
    st.session_state.pop("impact_feature", None)


def _on_feature_area(layers: dict[str, gpd.GeoDataFrame], names: dict[str, str]) -> None:
    """A context area (a key area of the plan) chosen as the area to analyse."""
    ref = st.session_state.get("impact_feature")
    if ref:
        area = feature_area(layers, ref).to_crs(4326)
        st.session_state["impact_area"] = (area.iloc[:1].to_json(), names[ref], False)


def render_impact(sel: Selection) -> Overlay:
    """The impact panel for the area drawn or uploaded; returns what the map draws over the layers."""
    lang, state, key = sel.lang, st.session_state, stamp(sel.source)
    layers = layers_at(key)
    box = st.sidebar.expander(text("impact", lang), expanded=True)
    buffer_m = box.number_input(
        text("impact_buffer", lang), 0.0, 5000.0, 0.0, 10.0, key="impact_buffer", help=text("impact_buffer_help", lang)
    )
    drawn = drawn_area((state.get("map") or {}).get("all_drawings"))
    if drawn is not None and drawn != state.get("impact_seen"):  # a new shape on the map
        state["impact_seen"] = drawn
        state["impact_area"] = (drawn, text("impact_drawn", lang), sel.basemap == "gaode")
        state.pop("impact_refused", None)
    st.subheader(text("impact", lang))
    st.file_uploader(
        text("impact_upload", lang), type=["geojson", "json"], key="impact_upload", on_change=_on_area_upload
    )
    choices = context_areas(layers, lang)
    if choices:
        st.selectbox(
            text("impact_key_area", lang),
            list(choices),
            index=None,
            format_func=choices.__getitem__,
            key="impact_feature",
            on_change=_on_feature_area,
            args=(layers, choices),
            placeholder=text("impact_key_area_none", lang),
        )
    result, touched = None, {}
    if "impact_refused" in state:
        st.error(md(message_of(state["impact_refused"], lang)))
    if "impact_area" not in state:
        st.caption(text("impact_hint", lang))
    else:
        area, name, gcj02 = state["impact_area"]
        st.caption(md_text("impact_of", lang, name=short(name)))
        try:
            result = impact_of(key, area, name, gcj02, float(buffer_m))
        except RenewalError as exc:
            st.error(md(message_of(exc, lang)))
        st.button(text("impact_clear", lang), key="impact_clear", on_click=_clear_area)
    if result is not None:
        touched = result.touched(layers)
        _render_figures(result, lang)
    found = conflicts_of(key)
    rows = ((state.get("conflicts_table") or {}).get("selection") or {}).get("rows") or []
    focus = None
    row = rows[0] if isinstance(rows, list) and rows else None
    if isinstance(row, int) and 0 <= row < len(found):  # a conflict chosen in the table below: zoom to it
        focus = tuple(found.iloc[[row]].to_crs(4326).total_bounds)
    return Overlay(lang, sel.basemap == "gaode", result, touched, found, focus is not None, focus)


def _render_figures(result: Impact, lang: str) -> None:
    """The impact's figures as cards, its features as a table, and both as downloads."""
    if not result.touches_data:
        st.warning(text("impact_outside", lang))
    columns = st.columns(4)
    for i, figure in enumerate(impact_figures(result, lang)):
        columns[i % 4].metric(figure.label, figure.value, help=figure.note)
    if not result.features.empty:
        st.dataframe(impact_table(result.features, lang), hide_index=True, key="impact_table")
    left, right = st.columns(2)
    left.download_button(
        text("impact_download_area", lang),
        geojson_bytes(result.area_frame(), layer="impact_area"),
        file_name=export_name("impact_area", "geojson", "EPSG:4326"),
        key="dl_impact_area",
    )
    right.download_button(
        text("impact_download_report", lang),
        csv_bytes(result.features),
        file_name=export_name("impact_report", "csv", None),
        key="dl_impact_report",
    )


def render_conflicts(sel: Selection) -> None:
    """The plan's conflicts, one row each; a row chosen zooms the map to it."""
    st.subheader(text("conflicts", sel.lang))
    found = conflicts_of(stamp(sel.source))
    if found.empty:
        st.caption(text("conflicts_none", sel.lang))
        return
    st.caption(text("conflicts_hint", sel.lang))
    st.dataframe(
        conflict_table(found, sel.lang),
        hide_index=True,
        key="conflicts_table",
        on_select="rerun",
        selection_mode="single-row",
    )
