"""The GeoPackage backend: a source that is one file, with one table per catalogue layer.

Every layer read passes :func:`geo.validate.inspect`; problems from all layers are raised
together. A layer is replaced in a copy that replaces the file only once it reads back
(:func:`store_layer`); an edit is one SQLite transaction (:func:`transaction`). The
functions take a path; :class:`GpkgSource` is the same file as a :class:`geo.store.Source`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
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

from .._atomic import atomic_path
from .._gpkg import damage, recover_journal, register_gpkg_functions
from .._pg import mask_url
from .._remarks import gdal_remarks
from ..coverage import DEFAULT_TOLERANCE_M2
from ..crs import source_metric_crs
from ..errors import Problem, SourceError, ValidationError
from ..filters import Filter, attribute_filter
from ..history import HISTORY_TABLE, insert_change, read_gpkg_history, record_import
from ..progress import Target, load_targets, parse_targets, plan_progress, targets_beside
from ..stats import district_stats
from ..validate import inspect

__all__ = [
    "GpkgSource",
    "check_gpkg_path",
    "dataset_info",
    "list_layers",
    "load_layers",
    "read_layer",
    "set_dataset_info",
    "store_layer",
    "transaction",
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


def list_layers(source: str | os.PathLike[str]) -> list[str]:
    """Names of the tables of a GeoPackage, spatial or not."""
    path = check_gpkg_path(source)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise SourceError("source.unopenable", file=str(path), reason=str(exc)) from exc


def read_layer(source: str | os.PathLike[str], layer: str) -> gpd.GeoDataFrame:
    """One table of a source as read, before validation."""
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
    found: list[Problem] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    # GDAL's remarks on a damaged file are logged here, in the calling thread, for the workers too.
    with gdal_remarks(log, Path(source), shown=str(source)):
        present = set(list_layers(source))
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
    for name in list_layers(target):
        if name != besides and name in CATALOGUE:
            wkt = pyogrio.read_info(target, layer=name).get("crs")
            if wkt:
                return CRS.from_user_input(wkt)
    return None


def _feature_count(target: Path, layer: str) -> int | None:
    """How many features ``layer`` of ``target`` holds; None when it has no such layer."""
    if layer not in list_layers(target):
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
    """Replace (or add) one layer of a GeoPackage, atomically.

    The GeoPackage is copied beside itself, the layer written into the copy and read back
    through the validating loader, and only then does the copy replace the original; a
    failure at any step leaves ``target`` byte for byte as it was. A layer in another CRS
    than the target's other layers is reprojected to theirs, so a source has one CRS.
    The replacement is recorded in the target's change history (who: ``by``, what file:
    ``origin``, how many features), in the same copy, so the record and the data land together.
    """
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


class _GpkgStore:
    """Reads and writes of one edit in an open GeoPackage transaction (``BEGIN IMMEDIATE``:
    one writer at a time, readers go on)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def lock_rows(self, layer: str, fields: Sequence[str], ids: Sequence[str]) -> dict[str, dict[str, object]]:
        id_field = CATALOGUE[layer].id_field
        columns = ", ".join(f'"{n}"' for n in fields)
        found: dict[str, dict[str, object]] = {}
        for fid in ids:
            row = self.con.execute(f'SELECT {columns} FROM "{layer}" WHERE "{id_field}" = ?', (fid,)).fetchone()
            if row is not None:
                found[fid] = dict(zip(fields, row, strict=True))
        return found

    def last_change(self, layer: str, fid: str, field: str) -> tuple[str, str] | None:
        exists = self.con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (HISTORY_TABLE,)
        ).fetchone()
        if not exists:
            return None
        row = self.con.execute(
            f'SELECT "by", recorded_at FROM "{HISTORY_TABLE}" WHERE layer = ? AND id = ? AND field = ? '
            "ORDER BY change_id DESC LIMIT 1",
            (layer, fid, field),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def update(self, layer: str, fid: str, field: str, value: object) -> None:
        id_field = CATALOGUE[layer].id_field
        self.con.execute(f'UPDATE "{layer}" SET "{field}" = ? WHERE "{id_field}" = ?', (value, fid))

    def insert(self, change: Mapping[str, object]) -> int:
        return insert_change(self.con, change)


@contextlib.contextmanager
def transaction(path: str | os.PathLike[str]) -> Iterator[_GpkgStore]:
    """The edit store of a GeoPackage in one write transaction, committed when the block ends
    (rolled back on any error)."""
    con = sqlite3.connect(Path(path), isolation_level=None, timeout=30)
    register_gpkg_functions(con)
    try:
        con.execute("BEGIN IMMEDIATE")
        yield _GpkgStore(con)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


class GpkgSource:
    """A GeoPackage as a source (the methods are :class:`geo.store.Source`'s).

    Attributes
    ----------
    location : str
        The path as given.
    path : Path
        The same path.
    name : str
        The file's name without its folder, as messages and the page show it.
    """

    is_database = False

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = str(location)
        self.path = Path(location)
        self.name = self.path.name
        self._metric: CRS | None = None

    def __repr__(self) -> str:
        return f"GpkgSource({self.location!r})"

    def __str__(self) -> str:
        return self.location

    def mask(self, text: str) -> str:
        return mask_url(text)

    def stamp(self) -> tuple[str, int, int]:
        info = self.path.stat() if self.path.exists() else None
        return (self.location, info.st_mtime_ns if info else 0, info.st_size if info else 0)

    def exists(self) -> bool:
        return self.path.exists()

    def table_names(self) -> list[str]:
        return list_layers(self.location)

    def read_table(self, table: str) -> gpd.GeoDataFrame:
        return read_layer(self.location, table)

    def layers(self, *, only: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
        return load_layers(self.location, layers=only)

    def info(self) -> dict[str, str]:
        return dataset_info(self.location)

    def history(self, *, layer: str | None = None, feature: str | None = None) -> pd.DataFrame:
        return read_gpkg_history(self.location, layer=layer, feature=feature)

    def write_layer(self, gdf: gpd.GeoDataFrame, layer: str, *, by: str = "", origin: str = "") -> None:
        store_layer(gdf, layer, self.location, by=by, origin=origin)
        self._metric = None  # the new layer may move the extent into another zone

    def edit(self) -> contextlib.AbstractContextManager[_GpkgStore]:
        return transaction(self.path)

    def metric_crs(
        self, override: str | int | CRS | None = None, *, layers: Mapping[str, gpd.GeoDataFrame] | None = None
    ) -> CRS:
        if override is None and self._metric is not None:
            return self._metric
        metric = source_metric_crs(dict(layers) if layers is not None else self.layers(), override)
        if override is None:
            self._metric = metric
        return metric

    def stats(
        self,
        *,
        crs: str | int | CRS | None = None,
        flt: Filter | None = None,
        tolerance_m2: float = DEFAULT_TOLERANCE_M2,
        on_layer: Callable[[str], None] | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    ) -> pd.DataFrame:
        read = dict(layers) if layers is not None else self.layers()
        metric = self.metric_crs(crs, layers=read)
        return district_stats(
            attribute_filter(read, flt or Filter()), crs=metric, tolerance_m2=tolerance_m2, on_layer=on_layer
        )

    def progress(
        self,
        targets: list[Target],
        *,
        crs: str | int | CRS | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
        as_of: dt.date | None = None,
    ) -> pd.DataFrame:
        read = dict(layers) if layers is not None else self.layers()
        history = self.history() if as_of is not None else None
        return plan_progress(read, targets, crs=crs, as_of=as_of, history=history)

    def targets(self) -> list[Target] | None:
        inline = self.info().get("targets")
        if inline:
            return parse_targets(inline, where=f"{self.location} (dataset_info)")
        beside = targets_beside(self.path)
        return load_targets(beside) if beside.exists() else None

    def targets_file(self) -> Path | None:
        return targets_beside(self.path)
