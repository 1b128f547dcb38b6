"""Lengths and areas in metres, planar in a metric CRS or on the CGCS2000 ellipsoid.

The planar measures are what the statistics use; the ellipsoidal ones are the check that
the chosen Gauss-Kruger zone does not distort them (within 0.1 % for Nanguan).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Geod

from .crs import metric_crs_for, require_crs

__all__ = [
    "CGCS2000_GEOD",
    "areas_m2",
    "feature_measures",
    "geodesic_areas_m2",
    "geodesic_lengths_m",
    "lengths_m",
    "to_metric",
]

#: The CGCS2000 ellipsoid: a = 6378137 m, 1/f = 298.257222101.
CGCS2000_GEOD = Geod(a=6378137.0, f=1 / 298.257222101)


def to_metric(gdf: gpd.GeoDataFrame, crs: str | int | CRS | None = None) -> gpd.GeoDataFrame:
    """``gdf`` projected to ``crs`` or, by default, its CGCS2000 Gauss-Kruger zone."""
    require_crs(gdf, "the layer")
    target = metric_crs_for(gdf, crs)
    return gdf if gdf.crs.equals(target) else gdf.to_crs(target)


def lengths_m(gdf: gpd.GeoDataFrame, crs: str | int | CRS | None = None) -> pd.Series:
    """Planar length of each feature in metres, measured in a metric CRS."""
    return to_metric(gdf, crs).length


def areas_m2(gdf: gpd.GeoDataFrame, crs: str | int | CRS | None = None) -> pd.Series:
    """Planar area of each feature in square metres, measured in a metric CRS."""
    return to_metric(gdf, crs).area


def _geographic(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    require_crs(gdf, "the layer")
    return gdf.to_crs(4490)


def geodesic_lengths_m(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Length of each feature along the CGCS2000 ellipsoid, metres."""
    geo = _geographic(gdf)
    return pd.Series([CGCS2000_GEOD.geometry_length(g) for g in geo.geometry], index=gdf.index, dtype=float)


def geodesic_areas_m2(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area of each feature on the CGCS2000 ellipsoid, square metres (always positive)."""
    geo = _geographic(gdf)
    values = [abs(CGCS2000_GEOD.geometry_area_perimeter(g)[0]) for g in geo.geometry]
    return pd.Series(values, index=gdf.index, dtype=float)


def feature_measures(gdf: gpd.GeoDataFrame, geometry: str, crs: str | int | CRS | None = None) -> pd.Series:
    """What a feature is measured by: length (m) of lines, area (m²) of polygons, NaN for points."""
    if geometry == "line":
        return lengths_m(gdf, crs)
    if geometry == "polygon":
        return areas_m2(gdf, crs)
    return pd.Series(np.nan, index=gdf.index, dtype=float)
