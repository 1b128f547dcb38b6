"""Reading what the bureaus send: GeoJSON, GeoPackage, zipped Shapefile, KML, CSV.

Data from outside is untrusted: archives are checked before anything is extracted (no
absolute or ``..`` member paths, a cap on the uncompressed size), text encodings are
checked rather than guessed, and coordinates are checked against the CRS they claim.
:func:`read_foreign` returns the file as read (CRS set, GCJ-02/BD-09 converted to WGS 84);
:func:`prepare_layer` maps its fields onto a catalogue layer and validates it.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import shutil
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from layers import CATALOGUE, LayerSpec

from ._atomic import atomic_path, scratch_dir
from ._gdal import thread_options
from ._gpkg import damage
from ._names import file_label
from ._remarks import gdal_remarks
from ._sniff import check_content, expected_drivers, not_format, start_of
from .chinacoord import PSEUDO_CRS, bounds_in_china, convert_frame
from .crs import parse_crs
from .errors import CRSError, Problem, SourceError, ValidationError
from .limits import (
    Limits,
    check_archive_size,
    check_feature_count,
    check_file_size,
    check_gpkg_vertices,
    check_kml,
    check_shapefile,
    check_vertices,
    copy_limited,
    count_csv_rows,
    geojson_object_mb,
)
from .oplog import logged
from .validate import inspect

__all__ = [
    "FORMATS",
    "ImportResult",
    "check_coordinates",
    "import_file",
    "import_to_copy",
    "map_fields",
    "prepare_file_layer",
    "prepare_layer",
    "read_foreign",
    "safe_zip_members",
]

log = logging.getLogger(__name__)

#: File endings read, and the format each means.
FORMATS: dict[str, str] = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".shp": "Shapefile",
    ".kml": "KML",
    ".csv": "CSV",
}

#: What each file ending holds, for the content check and the GDAL driver that reads it.
_KINDS: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".kml": "kml",
    ".csv": "csv",
}
#: Names a message lists at most (the members of an archive, the tables of a GeoPackage).
_LISTED = 10

_DEFAULT_LIMITS = Limits()

_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
_LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_COLUMNS = ("lat", "latitude", "y", "纬度")


# --------------------------------------------------------------------------- archives


#: What :mod:`zipfile` raises on a damaged archive: a bad header, an unknown version or
#: compression, a name in the UTF-8 flag that is not UTF-8, an offset past the end.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    ValueError,
    NotImplementedError,
    OSError,
    struct.error,
)


def _few(names: list[str]) -> tuple[str, ...]:
    """At most :data:`_LISTED` names for a message, and how many more there are."""
    return tuple(names[:_LISTED]) + ((f"… +{len(names) - _LISTED:,}",) if len(names) > _LISTED else ())


def safe_zip_members(archive: zipfile.ZipFile, *, limits: Limits, shown: str) -> list[zipfile.ZipInfo]:
    """The archive's file members, refused whole when one could escape or it is too large.

    Raises
    ------
    SourceError
        A member with an absolute path or a ``..`` part (zip slip), or an uncompressed total
        above ``limits.unzipped_mb`` or ``limits.zip_ratio`` times the archive's size, as its
        central directory declares them; checked before anything is extracted.
    """
    members = [m for m in archive.infolist() if not m.is_dir()]
    for m in members:
        name = m.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
            raise SourceError("import.zip_slip", file=shown, member=m.filename)
    check_archive_size(members, Path(shown).stat().st_size, limits, shown=shown)
    return members


def _extract_shapefile(path: Path, folder: Path, *, table: str | None, limits: Limits) -> Path:
    """Extract the one Shapefile of a zip into ``folder``; the path of its .shp."""
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError("import.bad_zip", file=str(path), reason=reason) from exc
    with archive:
        members = safe_zip_members(archive, limits=limits, shown=str(path))
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if table:
            shps = [m for m in shps if PurePosixPath(m.filename).stem == table]
        if not shps:
            listed = _few([m.filename for m in members]) or ("-",)
            code = "import.zip_no_named_shp" if table else "import.zip_no_shp"
            raise SourceError(code, file=str(path), table=table, members=listed)
        if len(shps) > 1:
            names = _few([PurePosixPath(m.filename).stem for m in shps])
            raise SourceError("import.zip_many_shp", file=str(path), names=names)
        stem = shps[0].filename[:-4]
        wanted = {
            stem + ext: m
            for m in members
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
            if m.filename.lower() == (stem + ext).lower()
        }
        for ext in (".shx", ".dbf"):
            if stem + ext not in wanted:
                raise SourceError("import.shp_part_missing", file=str(path), shp=PurePosixPath(stem).name, ext=ext)
        budget = int(limits.unzipped_mb * 1e6)
        for name, member in wanted.items():
            target = folder / PurePosixPath(name).name
            budget -= copy_limited(archive, member, target, budget=budget, shown=str(path))
        return folder / (PurePosixPath(stem).name + ".shp")


# --------------------------------------------------------------------------- encodings


def _dbf_text_is_utf8(dbf: Path) -> bool:
    """Whether every record of a .dbf decodes as UTF-8 (field values are bytes in the file).

    The records are decoded as they stream past, a chunk at a time."""
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return True
        n_records = struct.unpack("<I", head[4:8])[0]
        header_len, record_len = struct.unpack("<HH", head[8:12])
        fh.seek(header_len)
        left = n_records * record_len
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while left > 0 and (chunk := fh.read(min(left, 1 << 20))):
                left -= len(chunk)
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _prj_as_utf8(shp: Path, scratch: Path, encoding: str | None) -> Path:
    """The Shapefile to read: ``shp`` itself, or a copy in ``scratch`` whose .prj is UTF-8.

    ArcGIS in China writes CRS names in the .prj in the system's code page (``GCS_北京_1954``
    in GBK), which GDAL passes on undecoded; such a .prj is read in ``encoding`` (default
    GB18030, which holds GBK) and written again as UTF-8.
    """
    prj = shp.with_suffix(".prj")
    if not prj.exists():
        return shp
    data = prj.read_bytes()[: 1 << 16]
    try:
        data.decode("utf-8")
        return shp
    except UnicodeDecodeError:
        text = data.decode(encoding or "gb18030", errors="replace")
    if shp.parent != scratch:
        for part in shp.parent.glob(shp.stem + ".*"):
            if part.suffix.lower() in (".shp", ".shx", ".dbf", ".cpg"):
                shutil.copyfile(part, scratch / part.name)
        shp = scratch / shp.name
    shp.with_suffix(".prj").write_text(text, encoding="utf-8")
    return shp


def _shapefile_encoding(shp: Path, encoding: str | None, shown: Path) -> str | None:
    """The encoding to read a Shapefile's text with; None lets GDAL follow its .cpg."""
    if encoding:
        return encoding
    if shp.with_suffix(".cpg").exists():
        return None
    if not _dbf_text_is_utf8(shp.with_suffix(".dbf")):
        raise SourceError("import.dbf_not_utf8", file=str(shown))
    return "UTF-8"


# --------------------------------------------------------------------------- CRS checks


def check_coordinates(gdf: gpd.GeoDataFrame, *, where: str) -> None:
    """Refuse coordinates that cannot be in the CRS they claim.

    Geographic data must be lon/lat inside China (swapped axes are named as such);
    projected data must not hold degree-sized numbers and must land in China.
    """
    geoms = gdf.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(geoms) or gdf.crs is None:
        return  # nothing to place: validation reports the empty geometries
    if not np.isfinite(shapely.get_coordinates(geoms)).all():
        raise SourceError("import.not_finite", file=where)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    crs = gdf.crs
    box = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}
    if crs.is_geographic:
        if bounds_in_china(ymin, xmin, ymax, xmax) and not bounds_in_china(xmin, ymin, xmax, ymax):
            raise CRSError("import.swapped", file=where, **box)
        if not (-180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90):
            raise CRSError("import.not_degrees", file=where, crs=crs.name, **box)
        if not bounds_in_china(xmin, ymin, xmax, ymax):
            raise CRSError("import.outside_china", file=where, **box)
        return
    if max(abs(xmin), abs(xmax)) <= 180 and max(abs(ymin), abs(ymax)) <= 90:
        raise CRSError("import.degrees_as_metres", file=where, crs=crs.name)
    lon_lat = gdf.to_crs(4326).total_bounds
    if not np.all(np.isfinite(lon_lat)) or not bounds_in_china(*lon_lat):
        raise CRSError("import.projected_outside", file=where, crs=crs.name)


def _apply_from_crs(gdf: gpd.GeoDataFrame, from_crs: str | None, where: str) -> gpd.GeoDataFrame:
    """Set or convert the CRS as the user named it; refuse data that declares none."""
    if from_crs is None:
        if gdf.crs is None:
            raise CRSError("import.no_crs", file=where)
        return gdf
    name = from_crs.strip().lower()
    if name in PSEUDO_CRS:
        if gdf.crs is not None and not gdf.crs.is_geographic:
            raise CRSError("import.pseudo_projected", file=where, name=name, crs=gdf.crs.name)
        lonlat = gdf.set_crs(4326, allow_override=True)
        check_coordinates(lonlat, where=where)
        return convert_frame(lonlat, name, "wgs84")
    named = parse_crs(from_crs)
    if gdf.crs is not None and not gdf.crs.equals(named):
        raise CRSError("import.crs_conflict", file=where, declared=gdf.crs.name, named=named.name)
    return gdf.set_crs(named, allow_override=True)


# --------------------------------------------------------------------------- readers


def _read_csv(path: Path, encoding: str | None, limits: Limits) -> gpd.GeoDataFrame:
    count_csv_rows(path, encoding or "utf-8-sig", limits, shown=str(path))
    try:
        with warnings.catch_warnings():
            # a row longer than the header would lose its last values: refused, not warned about
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, encoding=encoding or "utf-8-sig", dtype=str, keep_default_na=False, index_col=False
            )
    except UnicodeDecodeError as exc:
        raise SourceError("import.not_encoding", file=str(path), encoding=encoding or "UTF-8") from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError("import.empty", file=str(path)) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        reason = (str(exc).strip().splitlines() or ["-"])[0]
        raise SourceError("import.csv_unreadable", file=str(path), reason=reason) from exc
    lower = {c.strip().lower(): c for c in frame.columns}
    wkt = next((lower[c] for c in _WKT_COLUMNS if c in lower), None)
    if wkt is not None:
        texts = [v if isinstance(v, str) and v.strip() else None for v in frame[wkt]]
        try:
            geoms = shapely.from_wkt(np.array(texts, dtype=object))
        except shapely.errors.GEOSException as exc:
            reason = (str(exc).strip().splitlines() or ["-"])[0]
            raise SourceError("import.not_wkt", file=str(path), column=wkt, reason=reason) from exc
        return gpd.GeoDataFrame(frame.drop(columns=[wkt]), geometry=geoms)
    lon = next((lower[c] for c in _LON_COLUMNS if c in lower), None)
    lat = next((lower[c] for c in _LAT_COLUMNS if c in lower), None)
    if lon is None or lat is None:
        raise SourceError("import.no_geometry_column", file=str(path), columns=_few(list(map(str, frame.columns))))
    x, y = pd.to_numeric(frame[lon], errors="coerce"), pd.to_numeric(frame[lat], errors="coerce")
    if x.isna().any() or y.isna().any():
        raise SourceError("import.not_numbers", file=str(path), lon=lon, lat=lat)
    return gpd.GeoDataFrame(frame.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(x, y))


def _read_ogr(
    path: Path,
    *,
    kind: str,
    layer: str | None,
    encoding: str | None,
    what: str,
    limits: Limits,
    shown: Path | None = None,
) -> gpd.GeoDataFrame:
    """Read with the driver of ``kind`` only, having counted the features first (GDAL counts
    without keeping them).

    A GeoJSON is opened with the driver named in the path (``GeoJSON:…``) and GDAL reads
    no feature larger than the vertex limit allows; the other formats, which GDAL names
    no driver for, are refused when another driver took them. What GDAL says about the
    file on the way (a coordinate it skipped, a property it could not parse as JSON) is
    logged, not printed: the outcome is the layer or one error.
    """
    shown = shown or path
    opened = f"GeoJSON:{path}" if kind == "geojson" else str(path)
    options = {"OGR_GEOJSON_MAX_OBJ_SIZE": str(geojson_object_mb(limits))} if kind == "geojson" else {}
    with gdal_remarks(log, path, shown=shown.name), thread_options(options):
        try:
            info = pyogrio.read_info(opened, layer=layer, encoding=encoding, force_feature_count=True)
            if info["driver"] not in expected_drivers(kind):
                raise not_format(kind, format=what, shown=str(shown), start=start_of(path))
            check_feature_count(int(info["features"]), limits, shown=str(shown))
            gdf = pyogrio.read_dataframe(opened, layer=layer, encoding=encoding, max_features=limits.features + 1)
        except (DataSourceError, DataLayerError, shapely.errors.GEOSException) as exc:
            # GEOS refuses some geometries GDAL hands over (a ring that does not close)
            if "too complex/large" in str(exc):  # GDAL's refusal of a GeoJSON feature over OGR_GEOJSON_MAX_OBJ_SIZE
                raise SourceError(
                    "import.feature_too_large",
                    file=str(shown),
                    size_mb=geojson_object_mb(limits),
                    limit=limits.vertices,
                ) from exc
            raise _unreadable(exc, path, shown, what, opened=opened) from exc
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError("import.not_encoding", file=str(shown), encoding=encoding or "UTF-8") from exc
    # Properties holding JSON (lists, objects) become text, parsed by pyogrio or not.
    return _json_as_text(gdf)


def _json_as_text(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lists and objects in properties (GeoJSON allows them) as their JSON text, so that
    every value is a plain one that validation can compare and quote."""
    for column in gdf.columns:
        values = gdf[column]
        if column == gdf.geometry.name or values.dtype != object:
            continue
        nested = values.map(lambda v: isinstance(v, list | dict | tuple))
        if nested.any():
            gdf[column] = values.where(~nested, values[nested].map(lambda v: json.dumps(v, ensure_ascii=False)))
    return gdf


def _unreadable(exc: Exception, path: Path, shown: Path, what: str, *, opened: str = "") -> SourceError:
    """GDAL's refusal of ``path`` (opened as ``opened``) as the user's error: its first line,
    naming the file by its name."""
    reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    reason = reason.replace(opened or str(path), path.name).replace(str(path), path.name)
    return SourceError("import.unreadable", file=str(shown), format=what, ext=shown.suffix, reason=reason)


def _gpkg_table(path: Path, table: str | None, layer: str | None) -> str:
    with path.open("rb") as fh:
        sqlite = fh.read(16) == b"SQLite format 3\x00"
    broken = damage(path) if sqlite else None
    if broken:  # GDAL would read past the damaged page and import part of the layer
        raise SourceError("source.damaged", file=str(path), reason=broken)
    try:
        listed = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(exc, path, path, FORMATS[".gpkg"]) from exc
    tables = [str(name) for name, geom in listed if geom is not None]
    if table:
        if table not in tables:
            raise SourceError("import.no_table", file=str(path), table=table, tables=_few(tables) or ("-",))
        return table
    if len(tables) == 1:
        return tables[0]
    if layer in tables:
        return layer
    raise SourceError("import.many_tables", file=str(path), tables=_few(tables))


def _check_path(path: Path, limits: Limits) -> str:
    """``path``'s ending once it names a readable file of a known format within the size limit.

    A name the file system refuses (too long, or holding a NUL) is one line naming the file
    as a message may show it, not an OSError."""
    if "\x00" in str(path):
        raise SourceError("import.bad_name", file=file_label(str(path)), reason="the name holds a NUL character")
    try:
        if not path.exists():
            raise SourceError("import.no_file", file=str(path))
        if path.is_dir():
            raise SourceError("import.folder", file=str(path))
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise SourceError(
                "import.unknown_format",
                file=str(path),
                ext=file_label(suffix, 12) or "-",
                allowed=tuple(sorted(FORMATS)),
            )
        if path.stat().st_size == 0:
            raise SourceError("import.empty", file=str(path))
        check_file_size(path, limits, shown=str(path))
    except OSError as exc:
        if isinstance(exc, SourceError):
            raise
        reason = (exc.strerror or type(exc).__name__).lower()
        raise SourceError("import.bad_name", file=file_label(str(path)), reason=reason) from None
    return suffix


def read_foreign(
    path: str | os.PathLike[str],
    *,
    table: str | None = None,
    layer: str | None = None,
    from_crs: str | None = None,
    encoding: str | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> gpd.GeoDataFrame:
    """Read a file the tool did not write, with its CRS settled and checked.

    Parameters
    ----------
    path : path-like
        ``.geojson``/``.json``, ``.gpkg``, ``.zip`` (Shapefile), ``.shp``, ``.kml`` or ``.csv``.
    table : str, optional
        The GeoPackage table or the Shapefile (by name) inside an archive to read.
    layer : str, optional
        The catalogue layer the data is for; picks a GeoPackage table of that name.
    from_crs : str, optional
        The CRS of the coordinates, for files that declare none: an EPSG code, or ``gcj02``
        / ``bd09`` for lon/lat copied from Amap or Baidu (converted to WGS 84).
    encoding : str, optional
        Text encoding (``GBK``, ``GB18030``) where the file does not say.
    limits : Limits
        How much of the file is read: its size, an archive's expansion, the features and
        the vertices of each; a file beyond one is refused as soon as it is known
        (:mod:`geo.limits`).

    Returns
    -------
    GeoDataFrame
        The features with the source's own columns.
    """
    path = Path(path)
    suffix = _check_path(path, limits)
    what, kind = FORMATS[suffix], _KINDS.get(suffix)
    if kind is not None:
        check_content(path, kind, format=what, shown=str(path))
    with scratch_dir("nanguan-import-") as tmp:
        if suffix == ".csv":
            gdf = _read_csv(path, encoding, limits)
        elif suffix in (".zip", ".shp"):
            shp = _extract_shapefile(path, tmp, table=table, limits=limits) if suffix == ".zip" else path
            if suffix == ".shp":
                for ext in (".shx", ".dbf"):
                    if not shp.with_suffix(ext).exists():
                        raise SourceError("import.shp_part_missing", file=str(path), shp=shp.stem, ext=ext)
            else:
                check_content(shp, "shp", format=what, shown=str(path))
            check_shapefile(shp, limits, shown=str(path))
            shp = _prj_as_utf8(shp, tmp, encoding)
            text_encoding = _shapefile_encoding(shp, encoding, path)
            gdf = _read_ogr(shp, kind="shp", layer=None, encoding=text_encoding, what=what, limits=limits, shown=path)
        elif suffix == ".gpkg":
            chosen = _gpkg_table(path, table, layer)
            check_gpkg_vertices(path, chosen, limits, shown=str(path))
            gdf = _read_ogr(path, kind="gpkg", layer=chosen, encoding=None, what=what, limits=limits)
        else:
            assert kind is not None
            if kind == "kml":
                check_kml(path, limits, shown=str(path), format=what)
            gdf = _read_ogr(path, kind=kind, layer=table, encoding=encoding, what=what, limits=limits)
    if gdf.empty:
        raise SourceError("import.no_features", file=str(path))
    check_feature_count(len(gdf), limits, shown=str(path))
    check_vertices(gdf.geometry.to_numpy(), limits, shown=str(path))
    gdf = _apply_from_crs(gdf, from_crs, str(path))
    check_coordinates(gdf, where=str(path))
    log.info("read %d features from %s (%s, %s)", len(gdf), path, what, gdf.crs.name if gdf.crs else "no CRS")
    return gdf


# --------------------------------------------------------------------------- mapping and checking


def map_fields(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Rename the source's columns to the catalogue's by name or common Chinese name.

    Raises
    ------
    ValidationError
        Required fields the source has no column for, each naming the columns it has.
    """
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    by_lower = {str(c).strip().lower(): c for c in columns}
    renames: dict[str, str] = {}
    missing: list[Problem] = []
    for f in spec.fields:
        for candidate in (f.name, *f.source_names):
            source = by_lower.get(candidate.strip().lower())
            if source is not None and source not in renames:
                renames[source] = f.name
                break
        else:
            if f.required:
                tried = (f.name, *f.source_names)
                has = tuple(map(str, columns)) or ("-",)
                missing.append(Problem(spec.name, None, f.name, "no_column", {"tried": tried, "columns": has}))
    ValidationError.collect(missing)
    keep = [*renames, gdf.geometry.name]
    return gdf[keep].rename(columns=renames)


@dataclass(frozen=True)
class ImportResult:
    """A layer ready to store, and what was repaired on the way."""

    gdf: gpd.GeoDataFrame
    repaired: tuple[str, ...]


def _repair(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    geoms = gdf.geometry.array
    bad = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    if not len(bad):
        return gdf, ()
    fixed = shapely.make_valid(geoms[bad])
    family = {"point": (0, 4), "line": (1, 5), "polygon": (3, 6)}[spec.geometry]
    # make_valid may return a collection; keep the parts of the layer's own kind.
    parts = [shapely.union_all([p for p in shapely.get_parts(g) if shapely.get_type_id(p) in family]) for g in fixed]
    out = gdf.copy()
    out.loc[out.index[bad], out.geometry.name] = parts
    ids = tuple(str(out[spec.id_field].iloc[i]) if spec.id_field in out.columns else f"#{i + 1}" for i in bad)
    return out, ids


def prepare_layer(gdf: gpd.GeoDataFrame, layer: str, *, fix: bool = False) -> ImportResult:
    """Map fields onto catalogue layer ``layer``, optionally repair geometries, and validate.

    Invalid geometries are refused with the list of ids unless ``fix`` is set, in which case
    they are repaired with ``make_valid`` and their ids reported.
    """
    spec = CATALOGUE[layer]
    mapped = map_fields(gdf, spec)
    repaired: tuple[str, ...] = ()
    if fix:
        mapped, repaired = _repair(mapped, spec)
    normal, found = inspect(mapped, spec)
    ValidationError.collect(found)
    if repaired:
        log.info("repaired %d geometries in %s: %s", len(repaired), layer, ", ".join(repaired))
    return ImportResult(normal, repaired)


def prepare_file_layer(gdf: gpd.GeoDataFrame, layer: str, *, fix: bool, file: str) -> ImportResult:
    """:func:`prepare_layer` for the features of ``file``: its problems name the file."""
    try:
        return prepare_layer(gdf, layer, fix=fix)
    except ValidationError as exc:
        raise ValidationError(exc.problems, file=file) from None


@logged(
    "import",
    figures=lambda result, _: {"features": len(result.gdf)},
    who="by",
    source="into",
    layer="layer",
    file=lambda a: Path(a["path"]).name,
)
def import_file(
    path: str | os.PathLike[str],
    layer: str,
    into: str | os.PathLike[str],
    *,
    table: str | None = None,
    from_crs: str | None = None,
    encoding: str | None = None,
    fix: bool = False,
    limits: Limits = _DEFAULT_LIMITS,
    by: str = "",
) -> ImportResult:
    """Read ``path``, check it as catalogue layer ``layer`` and store it in ``into`` (a GeoPackage or a PostGIS URL).

    The whole path of ``python -m geo import`` and the app's import: a failure at any step
    leaves ``into`` untouched (see :func:`geo.io.store_layer`). The import is recorded in
    ``into``'s change history with ``by`` and the file's name.
    """
    from .io import store_layer

    gdf = read_foreign(path, table=table, layer=layer, from_crs=from_crs, encoding=encoding, limits=limits)
    result = prepare_file_layer(gdf, layer, fix=fix, file=str(path))
    store_layer(result.gdf, layer, into, by=by, origin=Path(path).name)
    return result


def import_to_copy(
    path: str | os.PathLike[str],
    layer: str,
    *,
    base: str | os.PathLike[str],
    copy: str | os.PathLike[str],
    **options: Any,
) -> ImportResult:
    """Import into ``copy``, a working copy of GeoPackage ``base``; ``base`` is never written.

    When ``copy`` is not yet ``base``'s copy it is made afresh from ``base``. Options are
    those of :func:`import_file`. On failure ``copy`` is left as it was.
    """
    base, copy = Path(base), Path(copy)
    if base.resolve() == copy.resolve():
        return import_file(path, layer, copy, **options)
    with atomic_path(copy) as staged:
        shutil.copyfile(base, staged)
        return import_file(path, layer, staged, **options)
