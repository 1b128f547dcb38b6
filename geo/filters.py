"""Filtering layers by sub-district and attribute, and finding features by name.

Pure functions of the layers and a :class:`Filter`, so the app and the command line
select the same features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from layers import CATALOGUE, LAYER_NAMES, units_layer

__all__ = ["Filter", "Hit", "apply_filter", "attribute_filter", "find_features"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filter:
    """Which features to keep.

    Attributes
    ----------
    districts : tuple of str
        District codes; features must intersect one of them. Empty keeps all.
    values : tuple of (layer, field, codes)
        Attribute filters: in ``layer``, keep features whose ``field`` is one of ``codes``.
        A layer or field not named is not filtered.
    """

    districts: tuple[str, ...] = ()
    values: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def active(self) -> bool:
        """Whether anything is filtered out."""
        return bool(self.districts) or any(
            set(codes) != set(CATALOGUE[layer].field(field).codes) for layer, field, codes in self.values
        )


def attribute_filter(layers: dict[str, gpd.GeoDataFrame], flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    """``layers`` with only the features whose attributes pass ``flt.values``."""
    out = dict(layers)
    for layer, field, codes in flt.values:
        if layer in out and field in out[layer].columns:
            gdf = out[layer]
            out[layer] = gdf[gdf[field].isin(codes).to_numpy()]
    return out


def apply_filter(layers: dict[str, gpd.GeoDataFrame], flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    """``layers`` filtered by attributes, then to the features meeting the chosen districts.

    The units layer (``districts``) keeps only the chosen districts; other layers keep every
    feature that intersects one of them (whole, not clipped).
    """
    out = attribute_filter(layers, flt)
    units = units_layer()
    if not flt.districts or units.name not in out:
        return out
    districts = out[units.name]
    chosen = districts[districts[units.id_field].isin(flt.districts).to_numpy()]
    out[units.name] = chosen
    area = chosen.union_all()
    for name in LAYER_NAMES:
        if name == units.name or name not in out:
            continue
        gdf = out[name]
        zone = gpd.GeoSeries([area], crs=chosen.crs).to_crs(gdf.crs).iloc[0]
        out[name] = gdf[gdf.intersects(zone).to_numpy()]
    log.info("filtered to %d districts", len(chosen))
    return out


@dataclass(frozen=True)
class Hit:
    """A feature found by name."""

    layer: str
    id: str
    name: str


def find_features(layers: dict[str, gpd.GeoDataFrame], query: str, *, limit: int = 200) -> list[Hit]:
    """Features whose name contains ``query`` (case-insensitive), in catalogue order."""
    needle = query.strip().lower()
    if not needle:
        return []
    hits: list[Hit] = []
    for name in LAYER_NAMES:
        gdf = layers.get(name)
        if gdf is None or gdf.empty or "name" not in gdf.columns:  # a layer need not name its features
            continue
        spec = CATALOGUE[name]
        names = gdf["name"].astype(str)
        mask = names.str.lower().str.contains(needle, regex=False).to_numpy()
        for i in np.flatnonzero(mask):
            hits.append(Hit(name, str(gdf[spec.id_field].iloc[i]), names.iloc[i]))
            if len(hits) >= limit:
                return hits
    return hits
