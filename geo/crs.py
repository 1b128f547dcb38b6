"""Coordinate reference systems: the CRS contract and the metric CRS to measure in.

Lengths and areas are measured in the CGCS2000 3-degree Gauss-Kruger zone that holds the
data (EPSG:4534-4554, central meridians 75E to 135E; Changchun is EPSG:4551, CM 126E),
never in degrees or Web Mercator, whose areas at Changchun's latitude are about 1.93
times too large.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from .errors import CRSError

__all__ = [
    "CHANGCHUN_CRS",
    "gk_zone_epsg",
    "metric_crs_for",
    "parse_crs",
    "reproject",
    "require_crs",
    "require_metric",
    "same_crs",
]

CHANGCHUN_CRS = "EPSG:4551"

#: EPSG codes of the CGCS2000 3-degree Gauss-Kruger zones without zone prefix, by central
#: meridian (75E is 4534, 135E is 4554).
_GK_FIRST_EPSG, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree GK zone (no zone prefix) for longitude ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east; must lie within China's zones (73.5E to 136.5E).
    """
    cm = 3 * round(lon / 3)
    if not _GK_FIRST_CM <= cm <= _GK_LAST_CM:
        raise CRSError("crs.outside_zones", lon=lon)
    return _GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3


def parse_crs(value: str | int | CRS) -> CRS:
    """A pyproj CRS from ``"EPSG:4551"``, ``4551``, WKT or a CRS; CRSError when unknown."""
    try:
        return CRS.from_user_input(value)
    except PyprojCRSError as exc:
        raise CRSError("crs.unknown", value=value) from exc


def require_crs(gdf: gpd.GeoDataFrame, what: str) -> CRS:
    """The CRS of ``gdf``; CRSError naming ``what`` when it has none."""
    if gdf.crs is None:
        raise CRSError("crs.missing", what=what)
    return gdf.crs


def require_metric(crs: CRS) -> CRS:
    """``crs`` when it is projected in metres; CRSError for degrees and Web Mercator."""
    if not crs.is_projected:
        raise CRSError("crs.degrees", crs=crs.name)
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise CRSError("crs.not_metres", crs=crs.name, unit=unit)
    if crs.to_epsg() in (3857, 900913, 3395):
        raise CRSError("crs.distorts", crs=crs.name)
    return crs


def metric_crs_for(gdf: gpd.GeoDataFrame, override: str | int | CRS | None = None) -> CRS:
    """The CRS to measure ``gdf`` in.

    Parameters
    ----------
    gdf : GeoDataFrame
        Data with a CRS.
    override : CRS-like, optional
        A metric CRS to use instead of the automatic choice.

    Returns
    -------
    CRS
        ``override`` when given, else the CGCS2000 3-degree GK zone of the data's centre.
    """
    if override is not None:
        return require_metric(parse_crs(override))
    crs = require_crs(gdf, "the data")
    if gdf.empty:
        return CRS.from_epsg(gk_zone_epsg(126.0))
    xmin, _, xmax, _ = gdf.total_bounds if crs.is_geographic else gdf.to_crs(4490).total_bounds
    return CRS.from_epsg(gk_zone_epsg((xmin + xmax) / 2))


@functools.lru_cache(maxsize=32)
def _transformer(source: CRS, target: CRS) -> Transformer:
    # Choosing the operation queries PROJ's database (about 60 ms), and pyproj repeats
    # that in every thread that uses a transformer. Rebuilt from its pipeline, which is
    # the same operation, a transformer costs nothing in each new thread.
    chosen = Transformer.from_crs(source, target, always_xy=True)
    return Transformer.from_pipeline(chosen.definition)


def reproject(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """``geoms`` (2-D) transformed from ``source`` to ``target``, as ``GeoSeries.to_crs`` does."""
    if source.equals(target):
        return geoms
    transformer = _transformer(source, target)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def same_crs(*frames: gpd.GeoDataFrame) -> bool:
    """Whether all ``frames`` share one CRS (none missing)."""
    crss = [f.crs for f in frames]
    return all(c is not None for c in crss) and all(c.equals(crss[0]) for c in crss[1:])
