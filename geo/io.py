"""Reading the layers of a data source, validated against the catalogue.

A source is a GeoPackage path with one table per catalogue layer (``districts``,
``roads`` …). Every layer read passes :func:`geo.validate.inspect`; problems from all
layers are raised together.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataSourceError
from pyproj import CRS

from layers import CATALOGUE, LAYER_NAMES, spec_for

from ._atomic import atomic_path
from .errors import Problem, SourceError, ValidationError
from .validate import inspect

__all__ = ["check_gpkg_path", "dataset_info", "list_source_layers", "load_layers", "read_layer", "store_layer"]

log = logging.getLogger(__name__)


def check_gpkg_path(source: str | os.PathLike[str]) -> Path:
    """``source`` as a Path when it is a readable GeoPackage; SourceError otherwise."""
    text = str(source)
    if "://" in text:
        raise SourceError(f"{text}: database URLs are not a supported source here; pass a GeoPackage (.gpkg) path")
    path = Path(text)
    if not path.exists():
        raise SourceError(f"{path}: no such file; pass the path of a GeoPackage (.gpkg)")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder; pass the path of a GeoPackage (.gpkg) file")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise SourceError(f"{path}: not a GeoPackage (not an SQLite file); export the data as .gpkg")
    return path


def list_source_layers(source: str | os.PathLike[str]) -> list[str]:
    """Names of the tables of a GeoPackage, spatial or not."""
    path = check_gpkg_path(source)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise SourceError(f"{path}: cannot be opened as a GeoPackage ({exc})") from exc


def read_layer(source: str | os.PathLike[str], layer: str) -> gpd.GeoDataFrame:
    """One table of a GeoPackage as read, before validation."""
    path = check_gpkg_path(source)
    try:
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except (DataSourceError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read layer {layer!r} ({exc})") from exc


def _read_checked(source: str | os.PathLike[str], name: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """One layer read and inspected against its spec."""
    gdf = read_layer(source, name)
    if not isinstance(gdf, gpd.GeoDataFrame):
        return None, [Problem(name, None, "geometry", "table has no geometry column")]
    return inspect(gdf, CATALOGUE[name])


def load_layers(
    source: str | os.PathLike[str], *, layers: tuple[str, ...] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The catalogue layers a source holds, each validated and normalised.

    Parameters
    ----------
    source : path-like
        A GeoPackage.
    layers : tuple of str, optional
        Only these layers (default: every catalogue layer present).

    Returns
    -------
    dict of str to GeoDataFrame
        By layer name, in catalogue order; layers the source does not have are absent.
        Geometries keep the source CRS.

    Raises
    ------
    SourceError
        The source cannot be read.
    ValidationError
        Any layer breaks its spec; the problems of all layers together.
    """
    wanted = LAYER_NAMES if layers is None else tuple(spec_for(n).name for n in layers)
    present = set(list_source_layers(source))
    found: list[Problem] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    names = [name for name in wanted if name in present]
    # Layers are read and checked side by side: GDAL and Arrow release the GIL.
    with ThreadPoolExecutor(min(len(names), os.cpu_count() or 1) or 1) as pool:
        checked = list(pool.map(lambda name: _read_checked(source, name), names))
    for name, (gdf, layer_problems) in zip(names, checked, strict=True):
        if gdf is not None:
            out[name] = gdf
        found.extend(layer_problems)
    ValidationError.collect(found)
    log.info("loaded %s from %s", ", ".join(f"{k} ({len(v)})" for k, v in out.items()), source)
    return out


def dataset_info(source: str | os.PathLike[str]) -> dict[str, str]:
    """The key/value metadata table (``dataset_info``) of a GeoPackage; empty when absent."""
    path = check_gpkg_path(source)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            frame = pd.read_sql("SELECT key, value FROM dataset_info", con)
    except (sqlite3.Error, pd.errors.DatabaseError):
        return {}
    return dict(zip(frame["key"], frame["value"], strict=True))


def _stored_crs(target: Path, *, besides: str) -> CRS | None:
    """The CRS of the catalogue layers already in ``target`` other than ``besides``."""
    for name in list_source_layers(target):
        if name != besides and name in CATALOGUE:
            wkt = pyogrio.read_info(target, layer=name).get("crs")
            if wkt:
                return CRS.from_user_input(wkt)
    return None


def store_layer(gdf: gpd.GeoDataFrame, layer: str, target: str | os.PathLike[str]) -> None:
    """Replace (or add) one layer of a GeoPackage, atomically.

    The GeoPackage is copied beside itself, the layer written into the copy and read back
    through the validating loader, and only then does the copy replace the original; a
    failure at any step leaves ``target`` byte for byte as it was. A layer in another CRS
    than the target's other layers is reprojected to theirs, so a source has one CRS.
    """
    target = Path(target)
    if target.exists():
        check_gpkg_path(target)
        crs = _stored_crs(target, besides=layer)
        if crs is not None and gdf.crs is not None and not gdf.crs.equals(crs):
            # One CRS per source: statistics and maps combine its layers.
            log.info("reprojecting %s from %s to the source's %s", layer, gdf.crs.name, crs.name)
            gdf = gdf.to_crs(crs)
    with atomic_path(target) as tmp:
        if target.exists():
            shutil.copyfile(target, tmp)
        try:
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", layer_options={"OVERWRITE": "YES"})
        except (DataSourceError, OSError) as exc:
            raise SourceError(f"{target}: cannot write layer {layer!r} ({exc})") from exc
        load_layers(tmp, layers=(layer,))
    log.info("stored %d features as %s in %s", len(gdf), layer, target)
