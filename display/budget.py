"""Which features the map draws when a source holds more than the feature budget.

Under the budget the map draws every feature with its full geometry. Above it, the map
draws the features meeting the current view (plus a margin), simplified for the zoom
(topology-preserving, tolerance half a screen pixel), and when even those are too many,
the largest of each layer in proportion to the layer's share. The statistics' units
(sub-districts) are always drawn, all of them. Statistics never see any of this: they are
computed on the full geometry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from layers import CATALOGUE

__all__ = ["Choice", "View", "choose", "tolerance_deg", "zoom_for"]

_TILE_PX = 256
_MARGIN = 0.25  # of the view's width and height, on each side


@dataclass(frozen=True)
class View:
    """The part of the map on screen.

    Attributes
    ----------
    south, west, north, east : float
        Bounds, degrees (EPSG:4326).
    zoom : int
        Leaflet zoom level.
    """

    south: float
    west: float
    north: float
    east: float
    zoom: int

    def snapped(self) -> View:
        """The view grown to a grid of half a tile at its zoom, so that a small pan keeps
        the same key (and the map the same features)."""
        cell = 180.0 / 2.0**self.zoom
        return View(
            math.floor(self.south / cell) * cell,
            math.floor(self.west / cell) * cell,
            math.ceil(self.north / cell) * cell,
            math.ceil(self.east / cell) * cell,
            self.zoom,
        )

    def padded(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` with a margin, so a small pan needs no new data."""
        dx, dy = (self.east - self.west) * _MARGIN, (self.north - self.south) * _MARGIN
        return (self.west - dx, self.south - dy, self.east + dx, self.north + dy)


@dataclass(frozen=True)
class Choice:
    """The features of one layer the map draws.

    Attributes
    ----------
    rows : ndarray of int
        Positions (``iloc``) of the features drawn, in the layer's order.
    tolerance_deg : float or None
        Simplification tolerance of their display geometry, degrees; None: full geometry.
    """

    rows: NDArray[np.int64]
    tolerance_deg: float | None


def tolerance_deg(zoom: int) -> float:
    """Half a screen pixel at ``zoom``, in degrees of longitude (Web Mercator tiles of 256 px)."""
    return 0.5 * 360.0 / (_TILE_PX * 2.0**zoom)


def zoom_for(bounds: tuple[float, float, float, float], width_px: int = 1000) -> int:
    """The zoom at which ``(minx, miny, maxx, maxy)`` (degrees) fits ``width_px``."""
    span = max(bounds[2] - bounds[0], (bounds[3] - bounds[1]) * 1.4, 1e-6)
    return max(0, min(18, math.floor(math.log2(360.0 * width_px / (_TILE_PX * span)))))


def choose(
    layers: Mapping[str, gpd.GeoDataFrame],
    sizes: Mapping[str, NDArray[np.float64]],
    *,
    budget: int,
    view: View | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, Choice]:
    """The features to draw of each layer.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        The layers switched on, in EPSG:4326.
    sizes : mapping of str to ndarray of float
        Each feature's length (m) or area (m²), aligned with its layer; larger features
        are kept first when the view holds more than the budget. NaN ranks last.
    budget : int
        Largest number of features drawn, all layers together.
    view : View or None
        What is on screen; None: the whole extent. A view holding the whole extent of the
        layers counts as None, so the first report of the view changes nothing.
    counts : mapping of str to int, optional
        Feature counts of every layer of the source, switched on or not, before filters.
        When given, each layer's share of the budget follows these, so that switching a
        layer or filtering it leaves what the others draw unchanged (at the cost of some
        unused budget); default: the counts of ``layers``.

    Returns
    -------
    dict of str to Choice
    """
    if sum(len(g) for g in layers.values()) <= budget:
        return {n: Choice(np.arange(len(g)), None) for n, g in layers.items()}
    always = {n for n in layers if n in CATALOGUE and CATALOGUE[n].units}
    counts = dict(counts) if counts is not None else {n: len(g) for n, g in layers.items()}
    boxes = np.array([g.total_bounds for n, g in layers.items() if len(g) and n not in always] or [[0, 0, 0, 0]])
    extent = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
    if view is not None and shapely.box(*view.padded()).contains(shapely.box(*extent)):
        view = None
    if view is None:
        zoom, window = zoom_for(extent), None
    else:
        zoom, window = view.zoom, shapely.box(*view.padded())
    tol = tolerance_deg(zoom)
    candidates: dict[str, NDArray[np.int64]] = {}
    for name, gdf in layers.items():
        if window is None or name in always:
            candidates[name] = np.arange(len(gdf))
        else:
            candidates[name] = np.sort(gdf.sindex.query(window, predicate="intersects"))
    fixed = sum(counts.get(n, 0) for n in always)
    rest = {n: c for n, c in candidates.items() if n not in always}
    room = max(budget - fixed, 0)
    weight = sum(v for n, v in counts.items() if n not in always) or 1
    out = {n: Choice(candidates[n], tol) for n in candidates if n in always}
    for name, rows in rest.items():
        share = room * counts.get(name, len(rows)) // weight
        if len(rows) <= share:
            out[name] = Choice(rows, tol)
            continue
        size = np.nan_to_num(np.asarray(sizes[name], dtype=float)[rows], nan=-1.0)
        keep = np.sort(rows[np.argsort(-size, kind="stable")[:share]])
        out[name] = Choice(keep, tol)
    return out
