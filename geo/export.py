"""Writing layers and tables for the municipal GIS (ArcGIS, SuperMap, QGIS) and for people.

Writers return bytes (for the app's download buttons) or write a file atomically (for the
command line): a failed export leaves what was there untouched.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from layers import CATALOGUE

from ._atomic import atomic_path
from .crs import parse_crs, source_metric_crs
from .errors import SourceError
from .measure import feature_measures

__all__ = [
    "EXPORT_CRS",
    "EXPORT_ENCODINGS",
    "EXPORT_FORMATS",
    "attribute_table",
    "crs_tag",
    "csv_bytes",
    "export_name",
    "geojson_bytes",
    "gpkg_bytes",
    "layers_bytes",
    "shapefile_zip_bytes",
    "write_gpkg",
    "xlsx_bytes",
]

log = logging.getLogger(__name__)

EXPORT_FORMATS: tuple[str, ...] = ("geojson", "gpkg", "shp", "csv", "xlsx")
EXPORT_CRS: tuple[str, ...] = ("EPSG:4326", "EPSG:4490", "EPSG:4551", "EPSG:4530")
EXPORT_ENCODINGS: tuple[str, ...] = ("UTF-8", "GBK")
_CPG = {"UTF-8": "UTF-8", "GBK": "936"}
_SUFFIX = {"geojson": "geojson", "gpkg": "gpkg", "shp": "zip", "csv": "csv", "xlsx": "xlsx"}


def crs_tag(crs: str | CRS | None) -> str:
    """A CRS as it goes into a file name: ``EPSG4326``."""
    if crs is None:
        return "source"
    code = parse_crs(crs).to_epsg()
    return f"EPSG{code}" if code else "custom"


def export_name(layer: str, fmt: str, crs: str | CRS | None, day: dt.date | None = None) -> str:
    """File name carrying layer, CRS and date: ``roads_EPSG4326_20201231.geojson``."""
    day = day or dt.date.today()
    if fmt in ("csv", "xlsx"):
        # tables carry geometry as WGS 84 lon/lat whatever CRS was asked for
        tag = "" if layer in ("stats", "progress") else "_EPSG4326"
    else:
        tag = f"_{crs_tag(crs)}"
    return f"{layer}{tag}_{day:%Y%m%d}.{_SUFFIX[fmt]}"


def _to(gdf: gpd.GeoDataFrame, crs: str | CRS | None) -> gpd.GeoDataFrame:
    return gdf if crs is None else gdf.to_crs(parse_crs(crs))


def geojson_bytes(gdf: gpd.GeoDataFrame, *, layer: str, crs: str = "EPSG:4326") -> bytes:
    """A layer as GeoJSON.

    In EPSG:4326 the file follows RFC 7946: lon/lat, counter-clockwise exterior rings, no
    ``crs`` member, 7 decimals (about 1 cm). In any other CRS (EPSG:4490 for GIS that want
    CGCS2000) it is the older GeoJSON with a ``crs`` member naming it.
    """
    target = parse_crs(crs)
    out = gdf.to_crs(target)
    rfc = target.to_epsg() == 4326
    options = {
        "RFC7946": "YES" if rfc else "NO",
        "COORDINATE_PRECISION": 7 if target.is_geographic else 3,
        "WRITE_NAME": "NO",
    }
    buf = io.BytesIO()
    pyogrio.write_dataframe(out, buf, layer=layer, driver="GeoJSON", layer_options=options)
    log.info("GeoJSON of %s: %d features in %s", layer, len(out), target.name)
    return buf.getvalue()


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame], out: str | os.PathLike[str], *, crs: str | CRS | None = None
) -> None:
    """All ``layers`` into a new GeoPackage at ``out`` (replaced atomically), each in ``crs``
    or, by default, its own CRS."""
    with atomic_path(out) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(_to(gdf, crs), tmp, layer=name, driver="GPKG")
    log.info("GeoPackage %s: %s", out, ", ".join(layers))


def gpkg_bytes(layers: Mapping[str, gpd.GeoDataFrame], *, crs: str | CRS | None = None) -> bytes:
    """:func:`write_gpkg` as bytes, for a download."""
    with tempfile.TemporaryDirectory(prefix="nanguan-export-") as tmp:
        path = Path(tmp) / "export.gpkg"
        write_gpkg(layers, path, crs=crs)
        return path.read_bytes()


def _check_encodable(gdf: gpd.GeoDataFrame, layer: str, encoding: str) -> None:
    """Refuse text ``encoding`` cannot hold (GDAL would silently write ``?`` instead)."""
    for column in gdf.columns:
        if column == gdf.geometry.name or not pd.api.types.is_string_dtype(gdf[column]):
            continue
        for value in gdf[column].dropna().unique():
            try:
                str(value).encode(encoding)
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start : exc.end]
                raise SourceError(
                    f"{layer}.{column}: {value!r} has {bad!r}, which cannot be written in {encoding}; export in UTF-8"
                ) from exc


def shapefile_zip_bytes(
    layers: Mapping[str, gpd.GeoDataFrame], *, crs: str | CRS = "EPSG:4326", encoding: str = "UTF-8"
) -> bytes:
    """Each layer as a Shapefile (.shp .shx .dbf .prj .cpg), zipped together.

    ``encoding`` is the attribute text's: UTF-8, or GBK for older ArcGIS and SuperMap. The
    ``.cpg`` says which (``UTF-8`` or code page ``936``), so every reader decodes the
    Chinese names alike.
    """
    if encoding.upper() not in EXPORT_ENCODINGS:
        raise SourceError(f"unsupported Shapefile encoding {encoding!r}; use {' or '.join(EXPORT_ENCODINGS)}")
    buf = io.BytesIO()
    with (
        tempfile.TemporaryDirectory(prefix="nanguan-shp-") as tmp,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, gdf in layers.items():
            path = Path(tmp) / f"{name}.shp"
            _check_encodable(gdf, name, encoding)
            pyogrio.write_dataframe(_to(gdf, crs), path, driver="ESRI Shapefile", encoding=encoding.upper())
            # Esri tools read code page numbers most reliably: 936 is GBK; GDAL reads it too.
            path.with_suffix(".cpg").write_text(_CPG[encoding.upper()], encoding="ascii")
            for part in sorted(Path(tmp).glob(f"{name}.*")):
                archive.write(part, part.name)
    log.info("Shapefile zip: %s in %s, %s", ", ".join(layers), crs, encoding)
    return buf.getvalue()


def attribute_table(
    gdf: gpd.GeoDataFrame, layer: str, *, geometry: str = "wkt", metric: CRS | None = None
) -> pd.DataFrame:
    """A layer as a plain table: catalogue fields, its measure (``length_m`` or ``area_m2``,
    measured in ``metric``, by default the layer's Gauss-Kruger zone) and its geometry as WKT
    in EPSG:4326 (``geometry="wkt"``) or as the lon/lat of a point on it
    (``geometry="lonlat"``, for spreadsheets)."""
    spec = CATALOGUE[layer]
    # An optional field the frame lacks (read straight from a file) comes out empty.
    table = pd.DataFrame(gdf.reindex(columns=list(spec.field_names))).reset_index(drop=True)
    if spec.measure in ("length", "area"):
        column = "length_m" if spec.measure == "length" else "area_m2"
        table[column] = feature_measures(gdf, spec.geometry, metric).round(3).to_numpy()
    lonlat = gdf.to_crs(4326).geometry
    if geometry == "wkt":
        table["wkt"] = shapely.to_wkt(lonlat.to_numpy(), rounding_precision=7)
    else:
        points = shapely.point_on_surface(lonlat.to_numpy())
        table["lon"], table["lat"] = shapely.get_x(points).round(7), shapely.get_y(points).round(7)
    return table


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as CSV in UTF-8 with a byte-order mark, so Excel shows the Chinese."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Tables as an Excel workbook, one sheet each (sheet names cut to Excel's 31 characters)."""
    try:
        import openpyxl  # noqa: F401 - the engine pandas uses
    except ImportError as exc:
        raise SourceError("XLSX export needs openpyxl: pip install openpyxl") from exc
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()


def layers_bytes(
    layers: Mapping[str, gpd.GeoDataFrame],
    fmt: str,
    *,
    crs: str | None = None,
    encoding: str = "UTF-8",
    metric: CRS | None = None,
) -> bytes:
    """Layers in one of :data:`EXPORT_FORMATS`, as the app downloads and the CLI writes them.

    GeoJSON and CSV hold one layer; GeoPackage, zipped Shapefile and XLSX hold any number.
    ``crs`` defaults to EPSG:4326, except that a GeoPackage keeps each layer's own CRS.
    Tables measure lengths and areas in ``metric``, the source's metric CRS (default: the
    one :func:`geo.crs.source_metric_crs` chooses for ``layers``). Every layer must have a
    CRS, all the same one (CRSError otherwise).
    """
    metric = source_metric_crs(layers) if metric is None else metric
    if fmt in ("geojson", "csv") and len(layers) != 1:
        raise SourceError(f"{'GeoJSON' if fmt == 'geojson' else 'CSV'} holds one layer: name it with --layer")
    if fmt == "geojson":
        ((name, gdf),) = layers.items()
        return geojson_bytes(gdf, layer=name, crs=crs or "EPSG:4326")
    if fmt == "gpkg":
        return gpkg_bytes(layers, crs=crs)
    if fmt == "shp":
        return shapefile_zip_bytes(layers, crs=crs or "EPSG:4326", encoding=encoding)
    if fmt not in ("csv", "xlsx"):
        raise SourceError(f"unknown format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    shape = "wkt" if fmt == "csv" else "lonlat"
    tables = {n: attribute_table(g, n, geometry=shape, metric=metric) for n, g in layers.items()}
    return csv_bytes(next(iter(tables.values()))) if fmt == "csv" else xlsx_bytes(tables)
