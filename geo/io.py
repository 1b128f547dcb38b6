"""Reading the layers of a data source, validated against the catalogue.

A source is a GeoPackage path with one table per catalogue layer (``districts``,
``roads`` …), or a ``postgresql://`` URL of a PostGIS schema laid out the same way
(:mod:`geo.postgis`). Every layer read passes :func:`geo.validate.inspect`; problems from
all layers are raised together.
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
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from layers import CATALOGUE, LAYER_NAMES, spec_for

from . import pghistory, postgis
from ._atomic import atomic_path
from ._gpkg import damage, recover_journal
from ._remarks import gdal_remarks
from .errors import Problem, SourceError, ValidationError
from .history import read_gpkg_history, record_import
from .postgis import is_database_url, parse_url
from .validate import inspect

__all__ = [
    "check_gpkg_path",
    "dataset_info",
    "list_source_layers",
    "load_layers",
    "read_history",
    "read_layer",
    "set_dataset_info",
    "store_layer",
]

log = logging.getLogger(__name__)


def check_gpkg_path(source: str | os.PathLike[str]) -> Path:
    """``source`` as a Path when it is a readable GeoPackage; SourceError otherwise.

    A transaction left by a writer killed half-way is undone first (:func:`geo._gpkg.recover_journal`).
    """
    text = str(source)
    if "://" in text:
        raise SourceError("source.url", file=text)
    path = Path(text)
    if not path.exists():
        raise SourceError("source.missing", file=text)
    if path.is_dir():
        raise SourceError("source.folder", file=text)
    with path.open("rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise SourceError("source.not_gpkg", file=text)
    recover_journal(path)  # an edit killed half-way: readers see the file as it was
    broken = damage(path)
    if broken:  # GDAL would read past the damage and give figures short of the data
        raise SourceError("source.damaged", file=text, reason=broken)
    return path


def list_source_layers(source: str | os.PathLike[str]) -> list[str]:
    """Names of the tables of a GeoPackage or PostGIS schema, spatial or not."""
    if is_database_url(source):
        return postgis.list_tables(parse_url(str(source)))
    path = check_gpkg_path(source)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise SourceError("source.unopenable", file=str(path), reason=str(exc)) from exc


def read_layer(source: str | os.PathLike[str], layer: str) -> gpd.GeoDataFrame:
    """One table of a source as read, before validation."""
    if is_database_url(source):
        return postgis.read_layer(parse_url(str(source)), layer)
    path = check_gpkg_path(source)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except (DataSourceError, DataLayerError, ValueError, OSError, shapely.errors.GEOSException) as exc:
        # Arrow's I/O errors are OSErrors; GEOS refuses some geometries (a ring that does not close)
        raise SourceError("source.layer_unreadable", file=str(path), layer=layer, reason=str(exc)) from exc
    _check_text(gdf, path, layer)
    return gdf


def _check_text(gdf: pd.DataFrame, path: Path, layer: str) -> None:
    """Refuse text that is not UTF-8: Arrow hands such bytes over unchecked, and they would
    fail the first string operation on them."""
    for column in gdf.columns:
        if column != getattr(gdf, "_geometry_column_name", None) and pd.api.types.is_string_dtype(gdf[column]):
            try:
                pa.array(gdf[column]).validate(full=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError) as exc:
                reason = f"column {column!r}: {(str(exc).splitlines() or ['-'])[0]}"
                raise SourceError("source.layer_unreadable", file=str(path), layer=layer, reason=reason) from exc


def _read_checked(source: str | os.PathLike[str], name: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """One layer read and inspected against its spec."""
    gdf = read_layer(source, name)
    if not isinstance(gdf, gpd.GeoDataFrame):
        return None, [Problem(name, None, "geometry", "no_geometry_column")]
    return inspect(gdf, CATALOGUE[name])


def load_layers(
    source: str | os.PathLike[str], *, layers: tuple[str, ...] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The catalogue layers a source holds, each validated and normalised.

    Parameters
    ----------
    source : path-like or str
        A GeoPackage, or a ``postgresql://`` URL.
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
    if is_database_url(source):
        return postgis.load_layers(parse_url(str(source)), layers=layers)
    wanted = LAYER_NAMES if layers is None else tuple(spec_for(n).name for n in layers)
    found: list[Problem] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    # GDAL's remarks on a damaged file are logged here, in the calling thread, for the workers too.
    with gdal_remarks(log, Path(source), shown=str(source)):
        present = set(list_source_layers(source))
        names = [name for name in wanted if name in present]
        # Layers are read and checked side by side: GDAL and Arrow release the GIL.
        with ThreadPoolExecutor(min(len(names), os.cpu_count() or 1) or 1) as pool:
            checked = list(pool.map(lambda name: _read_checked(source, name), names))
    for name, (gdf, layer_problems) in zip(names, checked, strict=True):
        if gdf is not None:
            out[name] = gdf
        found.extend(layer_problems)
    if found:
        raise ValidationError(found, file=str(source))
    log.info("loaded %s from %s", ", ".join(f"{k} ({len(v)})" for k, v in out.items()), source)
    return out


def dataset_info(source: str | os.PathLike[str]) -> dict[str, str]:
    """The key/value metadata table (``dataset_info``) of a source; empty when absent."""
    if is_database_url(source):
        return postgis.dataset_info(parse_url(str(source)))
    path = check_gpkg_path(source)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            frame = pd.read_sql("SELECT key, value FROM dataset_info", con)
    except (sqlite3.Error, pd.errors.DatabaseError):
        return {}
    return dict(zip(frame["key"], frame["value"], strict=True))


def set_dataset_info(target: str | os.PathLike[str], values: dict[str, str]) -> None:
    """Set keys of a GeoPackage's ``dataset_info`` table in place (made when absent).

    Meant for a staged copy (see :func:`geo._atomic.atomic_path`), not a user's file."""
    info = {**dataset_info(target), **values}
    frame = pd.DataFrame({"key": list(info), "value": list(info.values())})
    try:
        pyogrio.write_dataframe(frame, target, layer="dataset_info", driver="GPKG", layer_options={"OVERWRITE": "YES"})
    except (DataSourceError, OSError) as exc:
        raise SourceError("source.layer_unwritable", file=str(target), layer="dataset_info", reason=str(exc)) from exc


def _stored_crs(target: Path, *, besides: str) -> CRS | None:
    """The CRS of the catalogue layers already in ``target`` other than ``besides``."""
    for name in list_source_layers(target):
        if name != besides and name in CATALOGUE:
            wkt = pyogrio.read_info(target, layer=name).get("crs")
            if wkt:
                return CRS.from_user_input(wkt)
    return None


def _feature_count(target: Path, layer: str) -> int | None:
    """How many features ``layer`` of ``target`` holds; None when it has no such layer."""
    if layer not in list_source_layers(target):
        return None
    return int(pyogrio.read_info(target, layer=layer)["features"])


def _record(path: Path, layer: str, *, by: str, origin: str, before: int | None, after: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN")
        record_import(con, layer, by=by, origin=origin or "(unnamed)", before=before, after=after)
        con.execute("COMMIT")
    finally:
        con.close()


def store_layer(
    gdf: gpd.GeoDataFrame, layer: str, target: str | os.PathLike[str], *, by: str = "", origin: str = ""
) -> None:
    """Replace (or add) one layer of a GeoPackage or PostGIS schema, atomically.

    The GeoPackage is copied beside itself, the layer written into the copy and read back
    through the validating loader, and only then does the copy replace the original; a
    failure at any step leaves ``target`` byte for byte as it was. A layer in another CRS
    than the target's other layers is reprojected to theirs, so a source has one CRS.
    The replacement is recorded in the target's change history (who: ``by``, what file:
    ``origin``, how many features), in the same copy, so the record and the data land together.
    In PostGIS the table is replaced in one transaction (:func:`geo.postgis.store_layer`),
    reprojected likewise, and recorded in the schema's change history in that transaction.
    """
    if is_database_url(target):
        postgis.store_layer(gdf, layer, parse_url(str(target)), by=by, origin=origin)
        return
    target = Path(target)
    if target.exists():
        check_gpkg_path(target)
        crs = _stored_crs(target, besides=layer)
        if crs is not None and gdf.crs is not None and not gdf.crs.equals(crs):
            # One CRS per source: statistics and maps combine its layers.
            log.info("reprojecting %s from %s to the source's %s", layer, gdf.crs.name, crs.name)
            gdf = gdf.to_crs(crs)
    before = _feature_count(target, layer) if target.exists() else None
    with atomic_path(target) as tmp:
        if target.exists():
            shutil.copyfile(target, tmp)
        try:
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", layer_options={"OVERWRITE": "YES"})
        except (DataSourceError, OSError) as exc:
            raise SourceError("source.layer_unwritable", file=str(target), layer=layer, reason=str(exc)) from exc
        try:
            load_layers(tmp, layers=(layer,))
        except ValidationError as exc:  # the staged copy is named as the file it stands for
            raise ValidationError(exc.problems, file=str(target)) from None
        _record(tmp, layer, by=by, origin=origin, before=before, after=len(gdf))
    log.info("stored %d features as %s in %s", len(gdf), layer, target)


def read_history(
    source: str | os.PathLike[str], *, layer: str | None = None, feature: str | None = None
) -> pd.DataFrame:
    """The change history of a source, oldest first (empty with the columns when none).

    Parameters
    ----------
    source : path or str
        A GeoPackage, or a ``postgresql://`` URL.
    layer, feature : str, optional
        Keep only the changes of this layer, and of this feature id.
    """
    if is_database_url(source):
        return pghistory.read_history(parse_url(str(source)), layer=layer, feature=feature)
    return read_gpkg_history(source, layer=layer, feature=feature)
