"""Looking at an import before it replaces anything: what the file holds, where it lies,
which layer it most likely is, whether its lon/lat are really GCJ-02 or BD-09; then
replacing or appending to a working copy.

:func:`preview_import` reads and checks a file (as :func:`geo.importer.read_foreign` and
:func:`geo.importer.prepare_layer` do) and measures it against the sub-districts of the
source it would go into; :func:`apply_import` stores the previewed layer in a working copy
of that source, replacing the layer or appending to it.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE, LAYER_NAMES, units_layer

from ._atomic import atomic_path
from .chinacoord import PSEUDO_CRS, convert_frame
from .crs import metric_crs_for
from .errors import SourceError
from .importer import prepare_file_layer, read_foreign
from .io import dataset_info, list_source_layers, load_layers, set_dataset_info, store_layer
from .limits import Limits
from .oplog import logged

__all__ = ["Preview", "apply_import", "detect_shift", "guess_layer", "outside_count", "preview_import"]

log = logging.getLogger(__name__)

#: Share of features that must sit inside the sub-districts after a GCJ-02/BD-09 shift,
#: and the least gain over the file as read, for the shift to be suggested.
_FIT_SHARE = 0.9
_MIN_GAIN = 0.1
#: Least median gap, metres, between a file and the layer it redraws for a shift to be suggested.
_MIN_GAP_M = 100.0
_DEFAULT_LIMITS = Limits()
_FAMILY = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line"}


def guess_layer(gdf: gpd.GeoDataFrame) -> str | None:
    """The catalogue layer a file most likely holds: of the layers taking its geometry
    type, the one with most required fields found (by name or Chinese name), then most
    fields; None when no layer takes the geometry. The statistics units (``districts``)
    are guessed only when the file has their id field (the code)."""
    types = gdf.geometry.geom_type.dropna()
    if types.empty:
        return None
    family = _FAMILY.get(str(types.mode().iloc[0]), "polygon")
    columns = {str(c).strip().lower() for c in gdf.columns if c != gdf.geometry.name}
    best: tuple[int, int, int] | None = None
    choice = None
    for order, name in enumerate(LAYER_NAMES):
        spec = CATALOGUE[name]
        if spec.geometry != family:
            continue
        found = [f for f in spec.fields if any(n.strip().lower() in columns for n in (f.name, *f.source_names))]
        required = sum(f.required for f in found)
        if spec.units and not any(f.name == spec.id_field for f in found):
            continue
        score = (required, len(found), -order)
        if best is None or score > best:
            best, choice = score, name
    return choice


def _lonlat_points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.point_on_surface(gdf.to_crs(4326).geometry.to_numpy())


def _inside_share(points: np.ndarray, area: shapely.Geometry) -> float:
    return float(np.mean(shapely.covers(area, points))) if len(points) else 0.0


def _outlines(geoms: np.ndarray) -> np.ndarray:
    """Points stay points; lines and polygon outlines are what features share when they match."""
    return np.where(shapely.get_dimensions(geoms) == 2, shapely.boundary(geoms), geoms)


def _first_vertices(geoms: np.ndarray) -> np.ndarray:
    """One vertex of each feature: the first of its outline."""
    outlines = _outlines(geoms)
    return shapely.points(np.array([shapely.get_coordinates(g)[0] for g in outlines]))


def _median_gap_m(gdf: gpd.GeoDataFrame, tree: shapely.STRtree, metric: CRS) -> float:
    """Median distance, metres, from a vertex of each feature to the nearest reference feature."""
    vertices = _first_vertices(gdf.to_crs(metric).geometry.to_numpy())
    _, distances = tree.query_nearest(vertices, return_distance=True, all_matches=False)
    return float(np.median(distances))


def detect_shift(
    gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None = None
) -> str | None:
    """``"gcj02"`` or ``"bd09"`` when lon/lat said to be WGS 84 fit the source only after
    undoing that web-map offset (Amap/Tencent, Baidu), else None.

    Two signs, either of which suffices, each compared as read and after each conversion
    to WGS 84:

    - the districts: at least 90 % of the features' representative points fall inside
      them after the conversion, at least 10 % more than as read;
    - the layer's ``existing`` features: the median distance from a vertex of each new
      feature to the nearest existing one is at least 100 m as read and at most a
      quarter of that after the conversion (the file redraws what the source has, offset).
    """
    if gdf.empty or gdf.crs is None or not gdf.crs.is_geographic:
        return None
    candidates = {p: convert_frame(gdf, p, "wgs84") for p in PSEUDO_CRS}
    if not districts.empty:
        area = shapely.union_all(districts.to_crs(4326).geometry.to_numpy())
        as_read = _inside_share(_lonlat_points(gdf), area)
        shares = {p: _inside_share(_lonlat_points(c), area) for p, c in candidates.items()}
        best = max(shares, key=lambda p: shares[p])
        if shares[best] >= _FIT_SHARE and shares[best] - as_read >= _MIN_GAIN:
            log.info("features fit the districts after a %s shift", best)
            return best
    if existing is not None and not existing.empty:
        metric = metric_crs_for(existing)
        tree = shapely.STRtree(_outlines(existing.to_crs(metric).geometry.to_numpy()))
        gap = _median_gap_m(gdf, tree, metric)
        gaps = {p: _median_gap_m(c, tree, metric) for p, c in candidates.items()}
        best = min(gaps, key=lambda p: gaps[p])
        if gap >= _MIN_GAP_M and gaps[best] <= gap / 4:
            log.info("features match the layer after a %s shift (%.0f m -> %.1f m)", best, gap, gaps[best])
            return best
    return None


def outside_count(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> int:
    """How many features touch no sub-district at all."""
    if gdf.empty or districts.empty:
        return 0 if districts.empty else len(gdf)
    area = shapely.union_all(districts.to_crs(4326).geometry.to_numpy())
    return int((~shapely.intersects(area, gdf.to_crs(4326).geometry.to_numpy())).sum())


@dataclass(frozen=True)
class Preview:
    """A file read and checked as a layer, not yet stored.

    Attributes
    ----------
    layer : str
        The catalogue layer it becomes.
    gdf : GeoDataFrame
        The features, fields mapped and validated, in the CRS they were read in.
    crs_name : str
        The CRS the coordinates were read in (``"WGS 84"``; ``"GCJ-02 → WGS 84"`` after a
        conversion).
    bounds : tuple of float
        Extent in lon/lat degrees: west, south, east, north.
    outside : int
        Features touching no sub-district of the source.
    shift : str or None
        ``"gcj02"`` or ``"bd09"`` when the lon/lat look like that web-map offset.
    clashes : tuple of str
        Ids that the source's layer already has (an append would be refused).
    existing : int
        Features the source's layer holds now (0 when it has none).
    repaired : tuple of str
        Ids of geometries repaired.
    """

    layer: str
    gdf: gpd.GeoDataFrame
    crs_name: str
    bounds: tuple[float, float, float, float]
    outside: int
    shift: str | None
    clashes: tuple[str, ...]
    existing: int
    repaired: tuple[str, ...]

    @property
    def count(self) -> int:
        """Features in the file."""
        return len(self.gdf)

    def rows(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` features' fields, for a look."""
        return pd.DataFrame(self.gdf.drop(columns=self.gdf.geometry.name)).head(n)


def preview_import(
    path: str | os.PathLike[str],
    layer: str,
    *,
    base: str | os.PathLike[str],
    table: str | None = None,
    from_crs: str | None = None,
    encoding: str | None = None,
    fix: bool = False,
    limits: Limits = _DEFAULT_LIMITS,
) -> Preview:
    """Read ``path`` as catalogue layer ``layer`` and measure it against source ``base``.

    Raises what :func:`~geo.importer.read_foreign` and :func:`~geo.importer.prepare_layer`
    raise; nothing is written.
    """
    gdf = read_foreign(path, table=table, layer=layer, from_crs=from_crs, encoding=encoding, limits=limits)
    result = prepare_file_layer(gdf, layer, fix=fix, file=str(path))
    present = set(list_source_layers(base))
    units = units_layer().name
    wanted = tuple(n for n in dict.fromkeys((units, layer)) if n in present)
    current = load_layers(base, layers=wanted) if wanted else {}
    districts = current.get(units, gpd.GeoDataFrame(geometry=[], crs=4326))
    existing = current.get(layer)
    spec = CATALOGUE[layer]
    clashes: tuple[str, ...] = ()
    if existing is not None:
        old = set(existing[spec.id_field].astype(str))
        clashes = tuple(str(v) for v in result.gdf[spec.id_field].astype(str) if v in old)
    crs_name = str(result.gdf.crs.name)
    if from_crs and from_crs.strip().lower() in PSEUDO_CRS:
        crs_name = f"{from_crs.strip().upper().replace('GCJ02', 'GCJ-02').replace('BD09', 'BD-09')} → {crs_name}"
    west, south, east, north = (float(v) for v in result.gdf.to_crs(4326).total_bounds)
    shift = None if from_crs else detect_shift(result.gdf, districts, existing)
    return Preview(
        layer=layer,
        gdf=result.gdf,
        crs_name=crs_name,
        bounds=(west, south, east, north),
        outside=outside_count(result.gdf, districts),
        shift=shift,
        clashes=clashes,
        existing=0 if existing is None else len(existing),
        repaired=result.repaired,
    )


@logged(
    "import",
    figures=lambda _, a: {"features": len(a["preview"].gdf)},
    source="copy",
    layer=lambda a: a["preview"].layer,
    file="source_file",
    mode="mode",
)
def apply_import(
    preview: Preview,
    *,
    base: str | os.PathLike[str],
    copy: str | os.PathLike[str],
    mode: Literal["replace", "append"] = "replace",
    source_file: str = "",
) -> int:
    """Store a previewed layer in ``copy``, a working copy of GeoPackage ``base``.

    ``replace`` swaps the layer for the file's features; ``append`` adds them to the
    layer's features, refusing ids the layer already has. ``copy`` is written afresh from
    ``base`` (pass the working copy itself as ``base`` to import into it again; another
    ``base`` is never written), replaced atomically,
    and marked as no longer a schematic sample (``schematic = false`` in its
    ``dataset_info``). Returns the layer's feature count afterwards.

    Raises
    ------
    SourceError
        ``append`` with clashing ids (code ``import.id_clash``), or the copy cannot be written.
    """
    base, copy = Path(base), Path(copy)
    layer, gdf = preview.layer, preview.gdf
    if mode == "append":
        if preview.clashes:
            shown = preview.clashes[:10] + (("…",) if len(preview.clashes) > 10 else ())
            raise SourceError("import.id_clash", file=source_file, layer=layer, ids=shown)
        if layer in list_source_layers(base):
            current = load_layers(base, layers=(layer,))[layer]
            gdf = gpd.GeoDataFrame(pd.concat([current, gdf.to_crs(current.crs)], ignore_index=True), crs=current.crs)
    with atomic_path(copy) as staged:
        shutil.copyfile(base, staged)
        store_layer(gdf, layer, staged)
        info: dict[str, Any] = dataset_info(staged)
        imported = [n for n in info.get("imported", "").split(",") if n]
        set_dataset_info(staged, {"schematic": "false", "imported": ",".join(dict.fromkeys([*imported, layer]))})
    log.info("%s %d features of %s into %s", mode, len(preview.gdf), layer, copy)
    return len(gdf)
