"""What the page reads and computes, cached: every function calls into the core.

Each is keyed on a source's stamp (:func:`ui.state.stamp`), so a changed file or a reloaded
database is read again, and on small choices (a filter, a layer's name). Layers are one
shared, read-only copy (``cache_resource``): at city scale, unpickling a copy on every rerun
would cost seconds.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from display.assets import AssetUrls, served_urls
from display.budget import Choice
from display.mapbuild import MapOptions, layer_payload, map_frame, to_js, works_bounds
from geo.chinacoord import convert_frame
from geo.conflicts import find_conflicts
from geo.export import layers_bytes
from geo.filters import Filter, apply_filter
from geo.impact import Impact, impact, parse_area
from geo.oplog import operation
from geo.progress import Target, load_targets, monthly_progress
from geo.stats import select_districts
from geo.store import open_source

from .state import settings, stamp

__all__ = [
    "conflicts_of",
    "download_of",
    "history_of",
    "impact_of",
    "info_of",
    "layers_at",
    "layers_of",
    "leaflet_assets",
    "map_layer_of",
    "map_payload_of",
    "progress_by_month",
    "progress_of",
    "shown_of",
    "source_bounds",
    "stats_of",
    "targets_of",
]

Key = tuple[str, int, int]


def leaflet_assets() -> AssetUrls:
    """Where the browser loads Leaflet: from the app's server (:class:`display.assets.AssetRoute`), never a CDN."""
    return served_urls()


@st.cache_resource(show_spinner=False, max_entries=8)
def layers_at(key: Key) -> dict[str, gpd.GeoDataFrame]:
    """The source's layers (one shared, read-only copy)."""
    return open_source(key[0]).layers()


def layers_of(source: str) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``source`` as they are now."""
    return layers_at(stamp(source))


def _own_layers(key: Key) -> dict[str, gpd.GeoDataFrame] | None:
    """The cached layers of a file; None for a database, which measures itself (only the result rows travel)."""
    return None if open_source(key[0]).is_database else layers_at(key)


@st.cache_data(show_spinner=False, max_entries=32)
def stats_of(key: Key, flt: Filter) -> pd.DataFrame:
    """The statistics per sub-district (with OUTSIDE and TOTAL) of the filtered source."""
    source = open_source(key[0])
    table = source.stats(flt=flt, tolerance_m2=settings().overlap_tolerance_m2, layers=_own_layers(key))
    return select_districts(table, flt.districts)


def targets_of(source: str) -> list[Target] | None:
    """The plan tracked for ``source``: ``NANGUAN_TARGETS`` when set, else the source's own."""
    targets = settings().targets
    return load_targets(targets) if targets else open_source(source).targets()


@st.cache_data(show_spinner=False, max_entries=8)
def progress_of(key: Key, beside: Key) -> pd.DataFrame | None:
    """The plan's figures; ``beside`` (the stamp of a targets file beside the source) keys the cache."""
    targets = targets_of(key[0])
    if targets is None:
        return None
    return open_source(key[0]).progress(targets, layers=_own_layers(key))


@st.cache_data(show_spinner=False, max_entries=8)
def history_of(key: Key) -> pd.DataFrame:
    """The source's recorded changes, oldest first."""
    return open_source(key[0]).history()


@st.cache_data(show_spinner=False, max_entries=8)
def progress_by_month(key: Key) -> pd.DataFrame:
    """Each target's done figure at the end of every month since the first recorded change."""
    history, plan = open_source(key[0]).history(), targets_of(key[0]) or []
    return monthly_progress(layers_at(key), plan, history, until=dt.date.today(), not_before=settings().date_min)


@st.cache_data(show_spinner=False, max_entries=16)
def shown_of(key: Key, flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    """The layers after the filter."""
    return apply_filter(layers_at(key), flt)


@st.cache_data(show_spinner=False, max_entries=8)
def info_of(key: Key) -> dict[str, str]:
    """The source's ``dataset_info`` (title, subtitle, schematic, …)."""
    return open_source(key[0]).info()


@st.cache_data(show_spinner=False, max_entries=64)
def download_of(key: Key, flt: Filter, names: tuple[str, ...], fmt: str, crs: str, enc: str, labels: bool) -> bytes:
    """One export file of the filtered layers ``names``; logged once per file made (the cache serves repeats)."""
    shown = shown_of(key, flt)
    metric = open_source(key[0]).metric_crs(layers=layers_at(key))
    chosen = {n: shown[n] for n in names if n in shown}
    with operation("export", source=key[0]):
        return layers_bytes(chosen, fmt, crs=crs, encoding=enc, metric=metric, labels=labels)


@st.cache_resource(show_spinner=False, max_entries=64)
def map_layer_of(key: Key, flt: Filter, name: str, gcj02: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One layer as the map draws it (:func:`display.mapbuild.map_frame`); shared and
    read-only, so its spatial index is built once."""
    layers = layers_at(key)
    return map_frame(layers, name, flt, gcj02=gcj02, metric=open_source(key[0]).metric_crs(layers=layers))


@st.cache_data(show_spinner=False, max_entries=128)
def map_payload_of(
    key: Key, flt: Filter, name: str, options: MapOptions, rows: np.ndarray | None, tolerance: float | None
) -> tuple[dict[str, object], str]:
    """One layer's payload, serialised once: a rerun that leaves a layer unchanged reuses it."""
    gdf, sizes = map_layer_of(key, flt, name, options.basemap == "gaode")
    payload = layer_payload(name, gdf, sizes, None if rows is None else Choice(rows, tolerance), options)
    summary = {k: payload[k] for k in ("name", "on", "total", "shown")} | {"dict": {"label": payload["dict"]["label"]}}
    return summary, to_js(payload)


@st.cache_data(show_spinner=False, max_entries=8)
def source_bounds(key: Key) -> list[list[float]] | None:
    """Where the map opens for this source (:func:`display.mapbuild.works_bounds`)."""
    return works_bounds(layers_at(key))


@st.cache_data(show_spinner=False, max_entries=32)
def impact_of(key: Key, area: str, name: str, gcj02: bool, buffer_m: float) -> Impact:
    """What the area (GeoJSON text; drawn on Amap's tiles when ``gcj02``), grown by ``buffer_m`` metres, touches."""
    shape = parse_area(area, name=name, limits=settings().limits)
    if gcj02:
        shape = convert_frame(gpd.GeoDataFrame(geometry=shape), "gcj02", "wgs84").geometry
    return impact(layers_at(key), shape, buffer_m=buffer_m)


@st.cache_data(show_spinner=False, max_entries=8)
def conflicts_of(key: Key) -> gpd.GeoDataFrame:
    """The plan's conflicts in the source (the catalogue's rules)."""
    return find_conflicts(layers_at(key))
