"""Chinese web-map coordinates: WGS 84 <-> GCJ-02 (Amap/Gaode, Tencent) <-> BD-09 (Baidu).

GCJ-02 is WGS 84 with a published, deliberately non-linear offset of a few hundred metres
inside China; BD-09 adds Baidu's own offset on top of GCJ-02. The forward formulas are the
public ones (Krasovsky ellipsoid a = 6378245 m, e² = 0.00669342162296594323); the inverses
are solved by fixed-point iteration to better than 1e-9 degree (about 0.1 mm). Points
outside China's rectangle, :data:`CHINA_BOUNDS` (72.004E-137.8347E, 0.8293N-55.8271N), are
passed through unchanged, as the offset is not applied there. The same rectangle is the
importer's "inside China" check (:func:`bounds_in_china`): the project has one China region.

All functions take and return longitudes and latitudes in degrees, as floats or numpy
arrays of any shape.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .errors import CRSError

__all__ = [
    "CHINA_BOUNDS",
    "PSEUDO_CRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "bounds_in_china",
    "convert_frame",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

Floats = NDArray[np.float64]
Pair = tuple[Floats, Floats]


#: The China region, degrees (west, south, east, north): the rectangle where GCJ-02's offset
#: applies, as the published conversions define it, and where imported data must lie.
CHINA_BOUNDS: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether each point (degrees) lies in :data:`CHINA_BOUNDS`, edges included."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    west, south, east, north = CHINA_BOUNDS
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def bounds_in_china(xmin: float, ymin: float, xmax: float, ymax: float) -> bool:
    """Whether the lon/lat box ``(xmin, ymin, xmax, ymax)`` (degrees) lies in :data:`CHINA_BOUNDS`."""
    return bool(np.all(in_china([xmin, xmax], [ymin, ymax])))


def _offset(lon: Floats, lat: Floats) -> Pair:
    """The GCJ-02 offset (degrees) at a WGS 84 position."""
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS 84 to GCJ-02, degrees."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _invert(forward: Callable[[Floats, Floats], Pair], lon: Floats, lat: Floats) -> Pair:
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration, starting at the target."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _TOLERANCE_DEG) and np.all(np.abs(ey) < _TOLERANCE_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 to WGS 84, degrees; iterative, to better than 1e-9 degree.

    The point inside the region that GCJ-02 moves onto ``(lon, lat)`` solves
    ``w = (lon, lat) - offset(w)``; the offset is smooth, so fixed-point iteration on it
    converges everywhere. The region test comes after the iteration, never inside it: a
    test inside would let the iterate hop across the region's edge, where the forward
    transform jumps by the whole offset. When that solution lies in the region it is the
    answer, so every point inside round-trips, even one the offset carries outside the
    region; otherwise the point is one GCJ-02 leaves as it is and passes through unchanged.
    Within the offset's reach (under 1 km) outside an edge the offset points across, a point
    is both its own image and the image of a point inside; the point inside is returned.
    """
    lon, lat = _arrays(lon, lat)
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITERATIONS):
        dlon, dlat = _offset(x, y)
        nx, ny = lon - dlon, lat - dlat
        converged = np.all(np.abs(nx - x) < _TOLERANCE_DEG) and np.all(np.abs(ny - y) < _TOLERANCE_DEG)
        x, y = nx, ny
        if converged:
            break
    # a solution on the edge may land a rounding error outside: it is still the point inside
    west, south, east, north = CHINA_BOUNDS
    slack = 10 * _TOLERANCE_DEG
    inside = (x >= west - slack) & (x <= east + slack) & (y >= south - slack) & (y <= north + slack)
    x, y = np.clip(x, west, east), np.clip(y, south, north)
    return np.where(inside, x, lon), np.where(inside, y, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """GCJ-02 to BD-09, degrees."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 to GCJ-02, degrees; iterative, to better than 1e-9 degree."""
    return _invert(gcj02_to_bd09, *_arrays(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS 84 to BD-09, degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 to WGS 84, degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERSIONS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], Pair]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}

#: Names accepted where a CRS is asked for, for coordinates copied from Chinese web maps.
PSEUDO_CRS: tuple[str, ...] = ("gcj02", "bd09")


def convert_frame(gdf: gpd.GeoDataFrame, source: str, target: str) -> gpd.GeoDataFrame:
    """Every coordinate of ``gdf`` converted between ``"wgs84"``, ``"gcj02"`` and ``"bd09"``.

    The frame must be in geographic lon/lat (EPSG:4326 or EPSG:4490) and keeps that CRS
    label, as GCJ-02 and BD-09 have no EPSG code. Returns a copy.
    """
    if gdf.crs is None or not gdf.crs.is_geographic:
        raise CRSError("crs.needs_lonlat")
    if source == target:
        return gdf.copy()
    try:
        fn = _CONVERSIONS[(source, target)]
    except KeyError:
        raise CRSError("crs.unknown_pseudo", source=source, target=target) from None

    def move(coords: Floats) -> Floats:
        lon, lat = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    out = gdf.copy()
    out[out.geometry.name] = shapely.transform(gdf.geometry.array, move)
    return out
