"""A small extent map of an import: the source's sub-districts in grey, the file's
features in red, drawn as SVG with no tiles (it works offline and needs no map library).

The sketch has a fixed budget whatever the file holds: coordinates are drawn in pixels
(one decimal), each outline simplified to half a pixel, points that fall on one pixel drawn
once, and at most :data:`MAX_SHAPES` shapes of :data:`MAX_VERTICES` vertices a layer
(an even sample of the rest), so 300,000 points or a 100,000-vertex outline make a
sketch of some hundred kilobytes, not tens of megabytes.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["MAX_SHAPES", "MAX_VERTICES", "extent_svg"]

#: Most shapes drawn of each layer.
MAX_SHAPES = 1_500
#: Most vertices drawn of each layer, all its shapes together.
MAX_VERTICES = 10_000

_DISTRICTS = 'fill="#eef0f3" stroke="#8a8f98" stroke-width="1"'
_FEATURES = 'fill="#d93f0b" fill-opacity="0.35" stroke="#d93f0b" stroke-width="1.5"'


def _xy(coords: np.ndarray) -> str:
    return " L ".join(f"{x:.1f} {y:.1f}" for x, y in coords)


def _path(geom: shapely.Geometry) -> str | None:
    """One simplified part as an SVG element (pixel coordinates), None when nothing is left."""
    kind = shapely.get_type_id(geom)
    if kind == 0:
        return f'<circle cx="{shapely.get_x(geom):.1f}" cy="{shapely.get_y(geom):.1f}" r="2.5"/>'
    if kind in (1, 2) and len(coords := shapely.get_coordinates(geom)) > 1:
        return f'<path d="M {_xy(coords)}" fill="none"/>'
    if kind == 3 and not geom.is_empty:
        rings = [geom.exterior, *geom.interiors]
        return f'<path d="{" ".join(f"M {_xy(np.asarray(r.coords))} Z" for r in rings)}" fill-rule="evenodd"/>'
    return None


def _budgeted(parts: np.ndarray) -> np.ndarray:
    """At most :data:`MAX_SHAPES` parts of :data:`MAX_VERTICES` vertices in all: an even
    sample over the layer, so every part of it is represented."""
    if len(parts) > MAX_SHAPES:
        parts = parts[np.linspace(0, len(parts) - 1, MAX_SHAPES).astype(int)]
    counts = shapely.get_num_coordinates(parts)
    if counts.sum() > MAX_VERTICES:
        keep = max(1, int(len(parts) * MAX_VERTICES / counts.sum()))
        parts = parts[np.linspace(0, len(parts) - 1, keep).astype(int)]
        parts = parts[np.cumsum(shapely.get_num_coordinates(parts)) <= MAX_VERTICES]
    return parts


def _elements(geoms: np.ndarray, to_px: np.ndarray) -> list[str]:
    """The layer's parts in pixels, simplified to half a pixel, points one per pixel, within budget."""
    parts = shapely.get_parts(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))])
    parts = shapely.transform(parts, lambda xy: xy * to_px[:2] + to_px[2:])
    parts = shapely.simplify(parts, 0.5, preserve_topology=False)
    parts = parts[~shapely.is_empty(parts)]
    points = shapely.get_type_id(parts) == 0
    if points.any():  # 300,000 pumps in one square metre are one dot
        cells = np.unique(np.round(shapely.get_coordinates(parts[points])), axis=0)
        parts = np.concatenate([shapely.points(cells), parts[~points]])
    return [e for e in map(_path, _budgeted(parts)) if e is not None]


def extent_svg(districts: gpd.GeoDataFrame | None, features: gpd.GeoDataFrame, *, size_px: int = 260) -> str:
    """An SVG sketch of ``features`` over ``districts`` (both any CRS; drawn in lon/lat with
    longitudes scaled by the cosine of the latitude, so shapes keep their proportions).

    Parameters
    ----------
    districts : GeoDataFrame or None
        The source's sub-districts, drawn underneath.
    features : GeoDataFrame
        The file's features.
    size_px : int
        Width and height of the drawing, pixels.
    """
    frames = [f.to_crs(4326) for f in (districts, features) if f is not None and not f.empty]
    bounds = np.array([f.total_bounds for f in frames])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    cos_lat = math.cos(math.radians((south + north) / 2))
    width = max((east - west) * cos_lat, 1e-6)
    height = max(north - south, 1e-6)
    pad = 0.04 * max(width, height)
    px = size_px / (max(width, height) + 2 * pad)  # pixels per (scaled) degree
    # lon, lat to pixels: x grows east from the west edge, y grows south from the north edge
    to_px = np.array([cos_lat * px, -px, (pad - west * cos_lat) * px, (pad + north) * px])
    box_w, box_h = (width + 2 * pad) * px, (height + 2 * pad) * px
    layers = []
    if districts is not None and not districts.empty:
        drawn = _elements(districts.to_crs(4326).geometry.to_numpy(), to_px)
        layers.append(f"<g {_DISTRICTS}>{''.join(drawn)}</g>")
    drawn = _elements(features.to_crs(4326).geometry.to_numpy(), to_px)
    layers.append(f"<g {_FEATURES}>{''.join(drawn)}</g>")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" '
        f'viewBox="0 0 {box_w:.1f} {box_h:.1f}" preserveAspectRatio="xMidYMid meet">{"".join(layers)}</svg>'
    )
