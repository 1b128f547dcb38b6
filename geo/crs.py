"""Coordinate reference systems: the CRS contract and the metric CRS to measure in.

Lengths and areas are measured in the CGCS2000 3-degree Gauss-Kruger zone that holds the
data (EPSG:4534-4554, central meridians 75E to 135E; Changchun is EPSG:4551, CM 126E),
never in degrees or Web Mercator, whose areas at Changchun's latitude are about 1.93
times too large.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError
from pyproj.exceptions import ProjError

from .errors import CRSError

__all__ = [
    "CHANGCHUN_CRS",
    "check_layers_crs",
    "gk_zone_epsg",
    "metric_crs_for",
    "parse_crs",
    "reproject",
    "require_crs",
    "require_metric",
    "same_crs",
    "source_metric_crs",
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


def check_layers_crs(layers: Mapping[str, gpd.GeoDataFrame]) -> CRS | None:
    """The one CRS all ``layers`` share, checked before they are combined.

    Raises
    ------
    CRSError
        When a layer has no CRS (naming it), or two layers differ (naming both layers and
        both CRSs), as geopandas refuses to overlay frames of different CRSs.

    Returns
    -------
    CRS or None
        The shared CRS; None when there are no layers.
    """
    first: tuple[str, CRS] | None = None
    for name, gdf in layers.items():
        if gdf.crs is None:
            raise CRSError("crs.layer_missing", layer=name)
        crs = require_crs(gdf, name)
        if first is None:
            first = (name, crs)
        elif not crs.equals(first[1]):
            raise CRSError("crs.mixed", layer=name, crs=_crs_name(crs), first=first[0], first_crs=_crs_name(first[1]))
    return None if first is None else first[1]


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def source_metric_crs(layers: Mapping[str, gpd.GeoDataFrame], override: str | int | CRS | None = None) -> CRS:
    """The one metric CRS a whole source is measured in.

    Statistics, plan progress, exports and map tooltips all call this, so they measure in
    the same Gauss-Kruger zone even for data near a zone edge (124.5E, 127.5E …).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Every layer of the source, all in one CRS (checked).
    override : CRS-like, optional
        A metric CRS to use instead of the automatic choice.

    Returns
    -------
    CRS
        ``override`` when given, else the CGCS2000 3-degree GK zone holding the centre of
        the combined extent of all layers (EPSG:4551 for Nanguan).
    """
    crs = check_layers_crs(layers)
    if override is not None:
        return require_metric(parse_crs(override))
    frames = [g for g in layers.values() if not g.empty]
    if crs is None or not frames:
        return CRS.from_epsg(gk_zone_epsg(126.0))
    bounds = np.array([g.total_bounds for g in frames])
    extent = shapely.box(bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
    lonlat = reproject(np.array([extent]), crs, CRS.from_epsg(4490))[0] if not crs.is_geographic else extent
    xmin, _, xmax, _ = lonlat.bounds
    return CRS.from_epsg(gk_zone_epsg((xmin + xmax) / 2))


@functools.lru_cache(maxsize=32)
def _transformer(source: CRS, target: CRS) -> Transformer:
    # Choosing the operation queries PROJ's database (about 60 ms), and pyproj repeats
    # that in every thread that uses a transformer. Rebuilt from its pipeline, which is
    # the same operation, a transformer costs nothing in each new thread. Some operations
    # are chosen only per point (several grids may apply): their definition is a
    # placeholder text, and the chosen transformer itself is used.
    try:
        chosen = Transformer.from_crs(source, target, always_xy=True)
    except ProjError as exc:
        raise CRSError(
            "crs.no_transformation", source=_crs_name(source), target=_crs_name(target), reason=str(exc)
        ) from exc
    definition = chosen.definition
    if definition.startswith("proj=") and "unavailable" not in definition:
        try:
            return Transformer.from_pipeline(definition)
        except ProjError:
            pass
    return chosen


def reproject(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """``geoms`` (2-D) transformed from ``source`` to ``target``, as ``GeoSeries.to_crs`` does.

    Raises
    ------
    CRSError
        When PROJ cannot transform the coordinates (one line naming both CRSs).
    """
    if source.equals(target):
        return geoms
    transformer = _transformer(source, target)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=True)
        return np.column_stack([x, y])

    try:
        return shapely.transform(geoms, move)
    except ProjError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "transformation failed"
        raise CRSError(
            "crs.transform_failed", source=_crs_name(source), target=_crs_name(target), reason=reason
        ) from exc


def same_crs(*frames: gpd.GeoDataFrame) -> bool:
    """Whether all ``frames`` share one CRS (none missing)."""
    crss = [f.crs for f in frames]
    return all(c is not None for c in crss) and all(c.equals(crss[0]) for c in crss[1:])
