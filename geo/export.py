"""Writing layers and tables for the municipal GIS (ArcGIS, SuperMap, QGIS) and for people.

Writers return bytes (for the app's download buttons) or write a file atomically (for the
command line): a failed export leaves what was there untouched.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import zipfile
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataSourceError
from pyproj import CRS

from layers import CATALOGUE

from ._atomic import atomic_path, scratch_dir
from .crs import check_layers_crs, parse_crs, source_metric_crs
from .errors import SourceError
from .labels import localised_layer
from .measure import feature_measures
from .oplog import logged

__all__ = [
    "DBF_TEXT_BYTES",
    "EXPORT_CRS",
    "EXPORT_ENCODINGS",
    "EXPORT_FORMATS",
    "FORMULA_STARTS",
    "attribute_table",
    "crs_tag",
    "csv_bytes",
    "export_name",
    "formula_safe",
    "geojson_bytes",
    "gpkg_bytes",
    "layers_bytes",
    "output_crs",
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
    """File name carrying layer, CRS and date: ``roads_EPSG4326_20201231.geojson``.

    ``crs`` is the CRS every layer in the file is in (see :func:`output_crs`).
    """
    day = day or dt.date.today()
    if fmt in ("csv", "xlsx"):
        # tables carry geometry as WGS 84 lon/lat whatever CRS was asked for
        tag = "" if layer in ("stats", "progress") else "_EPSG4326"
    else:
        tag = f"_{crs_tag(crs)}"
    return f"{layer}{tag}_{day:%Y%m%d}.{_SUFFIX[fmt]}"


def output_crs(layers: Mapping[str, gpd.GeoDataFrame], fmt: str, crs: str | CRS | None = None) -> CRS | None:
    """The CRS every layer has in the file :func:`layers_bytes` writes with these arguments.

    ``crs`` when given; otherwise EPSG:4326, except for a GeoPackage, which keeps the CRS
    its layers share (CRSError when they differ); ``None`` only for no layers at all.
    """
    if crs is not None:
        return parse_crs(crs)
    if fmt != "gpkg":
        return parse_crs("EPSG:4326")
    return check_layers_crs(layers)


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
    or, by default, the CRS they share (checked first: CRSError when they differ)."""
    check_layers_crs(layers)
    with atomic_path(out) as tmp:
        for name, gdf in layers.items():
            try:
                pyogrio.write_dataframe(_to(gdf, crs), tmp, layer=name, driver="GPKG")
            except (DataSourceError, OSError) as exc:
                reason = str(exc).replace(str(tmp), str(out))
                raise SourceError("source.layer_unwritable", file=str(out), layer=name, reason=reason) from exc
    log.info("GeoPackage %s: %s", out, ", ".join(layers))


def gpkg_bytes(layers: Mapping[str, gpd.GeoDataFrame], *, crs: str | CRS | None = None) -> bytes:
    """:func:`write_gpkg` as bytes, for a download."""
    with scratch_dir("nanguan-export-") as tmp:
        path = tmp / "export.gpkg"
        write_gpkg(layers, path, crs=crs)
        return path.read_bytes()


#: Most bytes a text field of a Shapefile's .dbf holds.
DBF_TEXT_BYTES = 254


def _check_encodable(gdf: gpd.GeoDataFrame, layer: str, encoding: str) -> None:
    """Refuse text ``encoding`` cannot hold (GDAL would silently write ``?`` instead), and text
    longer than a .dbf field holds (GDAL would cut it)."""
    for column in gdf.columns:
        if column == gdf.geometry.name or not pd.api.types.is_string_dtype(gdf[column]):
            continue
        for value in gdf[column].dropna().unique():
            try:
                size = len(str(value).encode(encoding))
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start : exc.end]
                raise SourceError(
                    "export.unencodable", layer=layer, column=column, value=value, char=bad, encoding=encoding
                ) from exc
            if size > DBF_TEXT_BYTES:
                raise SourceError("export.text_too_long", layer=layer, column=column, size=size, start=str(value)[:20])


def shapefile_zip_bytes(
    layers: Mapping[str, gpd.GeoDataFrame], *, crs: str | CRS = "EPSG:4326", encoding: str = "UTF-8"
) -> bytes:
    """Each layer as a Shapefile (.shp .shx .dbf .prj .cpg), zipped together.

    ``encoding`` is the attribute text's: UTF-8, or GBK for older ArcGIS and SuperMap. The
    ``.cpg`` says which (``UTF-8`` or code page ``936``), so every reader decodes the
    Chinese names alike.
    """
    if encoding.upper() not in EXPORT_ENCODINGS:
        raise SourceError("export.encoding", encoding=encoding, allowed=" / ".join(EXPORT_ENCODINGS))
    buf = io.BytesIO()
    with (
        scratch_dir("nanguan-shp-") as tmp,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, gdf in layers.items():
            path = tmp / f"{name}.shp"
            _check_encodable(gdf, name, encoding)
            pyogrio.write_dataframe(_to(gdf, crs), path, driver="ESRI Shapefile", encoding=encoding.upper())
            # Esri tools read code page numbers most reliably: 936 is GBK; GDAL reads it too.
            path.with_suffix(".cpg").write_text(_CPG[encoding.upper()], encoding="ascii")
            for part in sorted(tmp.glob(f"{name}.*")):
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


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def _defused(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    As OWASP recommends against CSV injection: a name such as ``=HYPERLINK("http://x","点击")``
    (or one starting with ``+``, ``-``, ``@``, a tab or a carriage return) is shown as the text
    it is, not evaluated. Only text is touched: numbers, a negative one included, stay numbers.
    Returns a copy; for CSV and XLSX only, as GeoJSON, GeoPackage and Shapefile keep values exact.
    """
    out = table.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(_defused)
    return out


def csv_bytes(table: pd.DataFrame, *, bom: bool = True) -> bytes:
    """A table as CSV (RFC 4180) in UTF-8, by default with a byte-order mark so Excel shows
    the Chinese; text that would start a formula is neutralised (:func:`formula_safe`).

    Lines end in CRLF, so a carriage return inside a value is quoted like a line feed.
    """
    text = formula_safe(table).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Tables as an Excel workbook, one sheet each (sheet names cut to Excel's 31 characters);
    text that would start a formula is neutralised (:func:`formula_safe`).

    Written by XlsxWriter in memory: no temporary file exists that a killed process could
    leave behind (openpyxl's writer keeps each sheet in one until the end). Text stays text:
    it is never turned into a formula, a number or a hyperlink.
    """
    try:
        import xlsxwriter  # noqa: F401 - the engine pandas uses
    except ImportError as exc:
        raise SourceError("export.needs_xlsxwriter") from exc
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        for name, frame in sheets.items():
            formula_safe(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()


def _labelled_layers(layers: Mapping[str, gpd.GeoDataFrame], fmt: str, encoding: str) -> dict[str, gpd.GeoDataFrame]:
    out = {name: localised_layer(gdf, name, "zh") for name, gdf in layers.items()}
    if fmt == "shp":
        # A .dbf field name holds 10 bytes: 5 Chinese characters in GBK, only 3 in UTF-8.
        for name, gdf in out.items():
            long = [c for c in gdf.columns if c != gdf.geometry.name and len(str(c).encode(encoding)) > 10]
            if long:
                raise SourceError("export.labels_too_long", layer=name, fields=tuple(long), encoding=encoding)
    return out


@logged(
    "export",
    figures=lambda data, a: {"features": sum(len(g) for g in a["layers"].values()), "bytes": len(data)},
    layer=lambda a: ",".join(a["layers"]),
    format="fmt",
    crs="crs",
)
def layers_bytes(
    layers: Mapping[str, gpd.GeoDataFrame],
    fmt: str,
    *,
    crs: str | None = None,
    encoding: str = "UTF-8",
    labels: bool = False,
    metric: CRS | None = None,
) -> bytes:
    """Layers in one of :data:`EXPORT_FORMATS`, as the app downloads and the CLI writes them.

    GeoJSON and CSV hold one layer; GeoPackage, zipped Shapefile and XLSX hold any number.
    ``crs`` defaults to EPSG:4326, except that a GeoPackage keeps the CRS its layers share.
    Tables measure lengths and areas in ``metric``, the source's metric CRS (default: the
    one :func:`geo.crs.source_metric_crs` chooses for ``layers``). Every layer must have a
    CRS, all the same one (CRSError otherwise).
    ``labels`` writes Chinese field names and value labels (名称, 状态 = 规划 …) for people's
    attribute tables instead of the codes machines read back; a Shapefile then needs GBK,
    as a .dbf field name holds 10 bytes.
    """
    metric = source_metric_crs(layers) if metric is None else metric
    if labels and fmt in ("csv", "xlsx"):
        shape = "wkt" if fmt == "csv" else "lonlat"
        tables = {
            n: localised_layer(attribute_table(g, n, geometry=shape, metric=metric), n, "zh") for n, g in layers.items()
        }
        if fmt == "csv" and len(tables) != 1:
            raise SourceError("export.one_layer", format="CSV")
        return csv_bytes(next(iter(tables.values()))) if fmt == "csv" else xlsx_bytes(tables)
    if labels:
        layers = _labelled_layers(layers, fmt, encoding)
    if fmt in ("geojson", "csv") and len(layers) != 1:
        raise SourceError("export.one_layer", format="GeoJSON" if fmt == "geojson" else "CSV")
    if fmt == "geojson":
        ((name, gdf),) = layers.items()
        return geojson_bytes(gdf, layer=name, crs=crs or "EPSG:4326")
    if fmt == "gpkg":
        return gpkg_bytes(layers, crs=crs)
    if fmt == "shp":
        return shapefile_zip_bytes(layers, crs=crs or "EPSG:4326", encoding=encoding)
    if fmt not in ("csv", "xlsx"):
        raise SourceError("export.unknown_format", format=fmt, allowed=EXPORT_FORMATS)
    shape = "wkt" if fmt == "csv" else "lonlat"
    tables = {n: attribute_table(g, n, geometry=shape, metric=metric) for n, g in layers.items()}
    return csv_bytes(next(iter(tables.values()))) if fmt == "csv" else xlsx_bytes(tables)
