"""The map panel: the one map pipeline of :mod:`display.mapbuild`, each layer's step cached,
and what the planner does on the map (moves it, switches a layer, clicks a district).
"""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import streamlit as st

from display.budget import View, choose
from display.draw import Overlay, add_overlay
from display.labels import md_text, text
from display.mapbuild import MapOptions, base_map, layer_filter, layer_groups, layer_options, search_fit
from display.safe import short
from geo.filters import find_features
from layers import CATALOGUE, LAYER_NAMES, units_layer

from .data import layers_at, leaflet_assets, map_layer_of, map_payload_of, shown_of, source_bounds
from .state import Selection, stamp

__all__ = ["render_map"]

#: What the page reads back from the map.
RETURNED = ["last_active_drawing", "all_drawings", "last_object_clicked", "selected_layers", "center", "zoom", "bounds"]


def _number(value: object) -> bool:
    """Whether ``value`` is a finite number (not a bool): a coordinate or zoom the map sent."""
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))


def _on_map_change() -> None:
    """What the planner did on the map: moved it, switched a layer, clicked a district.

    The view is kept for the next time the map is mounted afresh; a layer switched in the
    map's own control switches the sidebar toggle too (one state); a click on a district
    selects it (the tables follow). Each is applied once, when it is new.
    """
    state = st.session_state
    value = state.get("map")
    if not isinstance(value, dict):  # what the browser sent: anything, from a crafted client
        return
    centre, zoom, bounds = value.get("center"), value.get("zoom"), value.get("bounds")
    if isinstance(centre, dict) and _number(centre.get("lat")) and _number(centre.get("lng")) and _number(zoom):
        state["map_view"] = {"center": [centre["lat"], centre["lng"]], "zoom": int(cast(float, zoom)), "bounds": bounds}
    layers = value.get("selected_layers")
    for entry in layers if isinstance(layers, list) else []:
        if not isinstance(entry, dict) or "seq" not in entry:
            continue
        mark = [entry.get("token"), entry["seq"]]
        on = entry.get("on")
        if entry["seq"] and state.get("map_toggle") != mark and isinstance(on, dict):
            state["map_toggle"] = mark
            for name, shown in on.items():
                if name in CATALOGUE:
                    state[f"show_{name}"] = bool(shown)
    click = value.get("last_object_clicked")
    if click and click != state.get("map_click"):
        state["map_click"] = click
        drawing = value.get("last_active_drawing")
        props = drawing.get("properties") if isinstance(drawing, dict) else None
        if isinstance(props, dict) and props.get("layer") == units_layer().name and isinstance(props.get("id"), str):
            state["districts"] = [props["id"]]


def _view() -> View | None:
    """The view the map last reported, grown to a grid so that small pans change nothing."""
    view = st.session_state.get("map_view") or {}
    b = view.get("bounds") or {}
    try:
        sw, ne = b["_southWest"], b["_northEast"]
        return View(sw["lat"], sw["lng"], ne["lat"], ne["lng"], int(view["zoom"])).snapped()
    except (KeyError, TypeError, ValueError):
        return None


def render_map(sel: Selection, overlay: Overlay) -> None:
    """The search's message and the map, with ``overlay`` (impact, conflicts) drawn over the layers."""
    # Imported in a run: the map's component registers with the server only when its
    # module is imported inside one, and `streamlit run` imports the page before that.
    from streamlit_folium import st_folium

    key = stamp(sel.source)
    hits = find_features(shown_of(key, sel.flt), sel.query) if sel.query else []
    if sel.query:
        if hits:
            st.success(text("search_found", sel.lang, n=len(hits)))
        else:
            st.warning(md_text("search_none", sel.lang, q=short(sel.query)))
    options = MapOptions(
        lang=sel.lang,
        basemap=sel.basemap,
        tianditu_key=sel.settings.tianditu_key,
        visible=sel.visible,
        selected=sel.flt.districts,
        highlight=tuple((h.layer, h.id) for h in hits),
        assets=leaflet_assets(),
        budget=sel.settings.map_features,
        colour_by=sel.colour_by,
    )
    layers = layers_at(key)
    names = [n for n in LAYER_NAMES if n in layers]
    flts = {n: layer_filter(sel.flt, n) for n in names}
    gcj02 = sel.basemap == "gaode"
    frames = {n: map_layer_of(key, flts[n], n, gcj02) for n in names if n in sel.visible}
    total = sum(len(f[0]) for f in frames.values())
    chosen = choose(
        {n: f[0] for n, f in frames.items()},
        {n: f[1] for n, f in frames.items()},
        budget=options.budget,
        view=_view() if total > options.budget else None,
        counts={n: len(g) for n, g in layers.items()},
    )
    summaries, encoded = [], {}
    for name in names:
        pick = chosen.get(name)
        rows, tolerance = (None, None) if pick is None else (pick.rows, pick.tolerance_deg)
        summary, encoded[name] = map_payload_of(key, flts[name], name, layer_options(options, name), rows, tolerance)
        summaries.append(summary)
    fit = search_fit({n: f[0] for n, f in frames.items()}, options)
    groups = layer_groups(summaries, options, fit=fit, encoded=encoded)
    # A map mounted afresh (new basemap, language or source) opens where the planner was.
    mount = json.dumps([sel.basemap, sel.lang, key])
    restore = st.session_state.get("map_mount") != mount
    st.session_state["map_mount"] = mount
    last = st.session_state.get("map_view") if restore else None
    st_folium(
        add_overlay(base_map(options, source_bounds(key)), overlay),
        key="map",
        height=options.height_px,
        use_container_width=True,
        returned_objects=RETURNED,
        center=tuple(last["center"]) if last else None,
        zoom=last["zoom"] if last else None,
        feature_group_to_add=groups,
        on_change=_on_map_change,
    )
