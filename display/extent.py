"""A small extent map of an import: the source's sub-districts in grey, the file's
features in red, drawn as SVG with no tiles (it works offline and needs no map library).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["extent_svg"]

_DISTRICTS = 'fill="#eef0f3" stroke="#8a8f98" stroke-width="{w}"'
_FEATURES = 'fill="#d93f0b" fill-opacity="0.35" stroke="#d93f0b" stroke-width="{w}"'


def _xy(coords: np.ndarray, cos_lat: float) -> str:
    return " L ".join(f"{x * cos_lat:.6f} {-y:.6f}" for x, y in coords)


def _elements(geoms: np.ndarray, style: str, cos_lat: float, dot: float) -> list[str]:
    out = []
    for geom in shapely.get_parts(geoms):
        kind = shapely.get_type_id(geom)
        if kind == 0:
            x, y = shapely.get_x(geom), shapely.get_y(geom)
            out.append(f'<circle cx="{x * cos_lat:.6f}" cy="{-y:.6f}" r="{dot:.6f}" {style}/>')
        elif kind == 1:
            out.append(f'<path d="M {_xy(shapely.get_coordinates(geom), cos_lat)}" {style} fill="none"/>')
        elif kind == 3:
            rings = [geom.exterior, *geom.interiors]
            d = " ".join(f"M {_xy(np.asarray(r.coords), cos_lat)} Z" for r in rings)
            out.append(f'<path d="{d}" {style} fill-rule="evenodd"/>')
    return out


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
    scale = max(width, height) + 2 * pad
    stroke = scale / size_px  # one pixel
    parts = []
    if districts is not None and not districts.empty:
        parts += _elements(districts.to_crs(4326).geometry.to_numpy(), _DISTRICTS.format(w=stroke), cos_lat, stroke)
    geoms = features.to_crs(4326).geometry.to_numpy()
    parts += _elements(geoms, _FEATURES.format(w=1.5 * stroke), cos_lat, 2.5 * stroke)
    box = f"{west * cos_lat - pad:.6f} {-north - pad:.6f} {width + 2 * pad:.6f} {height + 2 * pad:.6f}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" viewBox="{box}" '
        f'preserveAspectRatio="xMidYMid meet">{"".join(parts)}</svg>'
    )
