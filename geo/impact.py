"""Impact analysis: what a drawn area, a road corridor or a buffered point would touch.

A planner sketching an expropriation zone asks how many households, how many hectares of
which parcels, how much road, pipe and greenbelt it takes. :func:`impact` answers for one
area, measured in the source's metric CRS (CGCS2000 Gauss-Kruger, EPSG:4551 for Nanguan):

- the area's size, and its hectares in each sub-district it meets;
- per layer, the features it touches: a line or polygon whose length or area inside is
  positive, a point inside or on the edge;
- lengths (km) and areas (ha) inside, by status, utility or kind;
- households and resettled of the touched parcels, each parcel counted by the share of its
  area inside, summed, then rounded half-up; the whole-parcel figures beside them.

An area is given in WGS 84 (lon/lat) unless it carries its own CRS. A line or a point needs
a buffer (metres on each side: a 40 m buffer around a road makes an 80 m corridor). An area
from outside (a file, a drawing sent by the browser) is held to the import limits
(:class:`geo.limits.Limits`): its size before it is decoded, its vertices (all parts
together: they become one area) before it is parsed, its parts once it is.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely import wkt as shapely_wkt
from shapely.errors import GEOSException

from layers import CATALOGUE, LayerSpec, units_layer

from ._names import file_label
from .crs import parse_crs, reproject, source_metric_crs
from .errors import AreaError, CRSError, SourceError
from .limits import Limits, check_vertices

__all__ = [
    "FEATURE_COLUMNS",
    "NOISE",
    "SUMS",
    "UNITS_LAYER",
    "Impact",
    "breakdown_field",
    "check_area",
    "context_areas",
    "feature_area",
    "impact",
    "is_feature_ref",
    "parse_area",
    "read_area",
    "round_half_up",
]

log = logging.getLogger(__name__)


def breakdown_field(spec: LayerSpec) -> str:
    """The coded field a layer's impact is broken down by.

    The layer's first statistics breakdown (roads by status, pipes by utility, parcels and
    facilities by kind), else the field it is coloured by (greenbelt by kind).
    """
    return spec.breakdown[0] if spec.breakdown else spec.style.by


#: The statistics units (sub-districts): the area's hectares are given per unit.
UNITS_LAYER: str = units_layer().name
#: Whole-number fields of the catalogue (``households``, ``resettled``), each counted by the
#: share of a feature's area inside.
SUMS: tuple[str, ...] = tuple(dict.fromkeys(f for spec in CATALOGUE.values() for f in spec.sums))
#: Columns of :attr:`Impact.features`, one row per touched feature.
FEATURE_COLUMNS: tuple[str, ...] = ("layer", "id", "name", "category", "inside", "whole", "unit", "share", *SUMS)
UNITS: dict[str, tuple[str, float]] = {"length": ("km", 1000.0), "area": ("ha", 10_000.0), "count": ("count", 1.0)}
WGS84 = CRS.from_epsg(4326)
_QUAD_SEGS = 16
#: Margin around the area when picking candidate features in their own CRS, metres.
_MARGIN_M = 50.0
_DECIMALS = 6
#: Lengths (m) and areas (m²) inside at or below this are float noise of an edge touched.
NOISE = 1e-3
_DEFAULT_LIMITS = Limits()
#: A GeoJSON position: a bracket opening on a number (each vertex has one, nothing else does).
_POSITION = re.compile(rb"\[\s*[-+]?\.?\d")
_POSITION_TEXT = re.compile(_POSITION.pattern.decode())


def round_half_up(value: float) -> int:
    """``value`` rounded to the nearest integer, halves away from zero (2.5 -> 3).

    Float noise below 1e-9 is dropped first, so 22.4999999999 from an area ratio is 22.5.
    """
    return int(Decimal(repr(round(value, 9))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _geometry_of(obj: object, name: str) -> list[shapely.Geometry]:
    """The geometries of a GeoJSON object (geometry, Feature or FeatureCollection)."""
    if not isinstance(obj, dict) or "type" not in obj:
        raise AreaError("area.not_geometry", file=name)
    if obj["type"] == "FeatureCollection":
        return [g for f in obj.get("features") or [] for g in _geometry_of(f, name)]
    if obj["type"] == "Feature":
        return [] if obj.get("geometry") is None else _geometry_of(obj["geometry"], name)
    try:
        return [shapely.geometry.shape(obj)]
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise AreaError("area.bad_geojson", file=name, reason=str(exc)) from exc


def check_area(data: bytes | str, *, name: str, limits: Limits = _DEFAULT_LIMITS) -> None:
    """Refuse an area's text before it is decoded or parsed: above ``limits.upload_mb``, or
    with more than ``limits.vertices`` vertices in all (GeoJSON positions, or WKT points).

    Counting runs over the text without building anything, so a million-vertex outline
    costs no more than its text."""
    size_mb = len(data) / 1e6
    if size_mb > limits.upload_mb:
        raise AreaError("import.too_big", file=name, size_mb=size_mb, limit_mb=limits.upload_mb)
    if isinstance(data, bytes):
        json_like = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
        count = sum(1 for _ in _POSITION.finditer(data)) if json_like else data.count(b",") + 1
    else:
        json_like = data.lstrip("\ufeff \t\r\n")[:1] == "{"
        count = sum(1 for _ in _POSITION_TEXT.finditer(data)) if json_like else data.count(",") + 1
    if count > limits.vertices:
        raise AreaError("area.too_many_vertices", file=name, count=count, limit=limits.vertices)


def parse_area(text: str, *, name: str = "the area", limits: Limits = _DEFAULT_LIMITS) -> gpd.GeoSeries:
    """An area from GeoJSON text or WKT.

    Parameters
    ----------
    text : str
        A GeoJSON geometry, Feature or FeatureCollection (lon/lat, or the CRS its ``crs``
        member names), or WKT in WGS 84 (``POLYGON ((125.3 43.8, …))``).
    name : str
        What to call the input in messages: the user's file name.
    limits : Limits
        The most it may hold (:func:`check_area`; its parts at most ``limits.features``).

    Returns
    -------
    GeoSeries
        The geometries, with their CRS.
    """
    check_area(text, name=name, limits=limits)
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise AreaError("area.empty_text", file=name)
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise AreaError("area.not_json", file=name, reason=exc.msg, line=exc.lineno) from exc
        crs = WGS84
        declared = ((obj.get("crs") or {}).get("properties") or {}).get("name") if isinstance(obj, dict) else None
        if declared:
            crs = parse_crs(declared)
        parts = _geometry_of(obj, name)
        if len(parts) > limits.features:
            raise AreaError("import.too_many_features", file=name, limit=limits.features)
        check_vertices(np.asarray(parts, dtype=object), limits, shown=name)
        return gpd.GeoSeries(parts, crs=crs)
    try:
        geom = shapely_wkt.loads(stripped)
    except (GEOSException, ValueError) as exc:
        raise AreaError("area.not_wkt", file=name) from exc
    return gpd.GeoSeries([geom], crs=WGS84)


def is_feature_ref(value: str) -> bool:
    """Whether ``value`` names a feature of the catalogue as ``LAYER:ID`` (``areas:A04``)."""
    name, sep, fid = value.partition(":")
    return bool(sep) and bool(fid) and name in CATALOGUE


def context_areas(layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> dict[str, str]:
    """The context polygons a planner can take as the area, by reference and name:
    ``{"areas:A04": "重点区域 · 重庆路商圈"}``; a layer without names is named by its ids."""
    out: dict[str, str] = {}
    for spec in CATALOGUE.values():
        gdf = layers.get(spec.name)
        if spec.context and spec.geometry == "polygon" and gdf is not None:
            names = gdf["name"] if "name" in gdf else gdf[spec.id_field]
            for fid, name in zip(gdf[spec.id_field].astype(str), names.astype(str), strict=True):
                out[f"{spec.name}:{fid}"] = f"{spec.label(lang)} · {name}"
    return out


def feature_area(layers: Mapping[str, gpd.GeoDataFrame], ref: str) -> gpd.GeoSeries:
    """The geometry of the feature ``LAYER:ID`` as an area: a key area (``areas:A04``, 重庆路商圈),
    a parcel or a road (with a buffer), in its layer's CRS.

    Raises
    ------
    AreaError
        When the source has no such layer or no feature with that id; the message lists a few
        of the ids it has.
    """
    name, _, fid = ref.partition(":")
    spec = CATALOGUE[name]
    gdf = layers.get(name)
    if gdf is None or gdf.empty:
        raise AreaError("area.no_layer", ref=ref, layer=name, what_en=spec.en.lower())
    ids = gdf[spec.id_field].astype(str)
    chosen = gdf.geometry[(ids == fid).to_numpy()]
    if chosen.empty:
        more = " …" if len(ids) > 5 else ""
        raise AreaError("area.no_feature", ref=ref, layer=name, id=fid, known=tuple(ids.head(5)), more=more)
    return gpd.GeoSeries(chosen.to_numpy(), crs=gdf.crs)


def read_area(value: str, *, limits: Limits = _DEFAULT_LIMITS) -> gpd.GeoSeries:
    """The area named on the command line: a GeoJSON file, or WKT in WGS 84, held to ``limits``."""
    path = Path(value)
    try:
        looks_like_file = path.suffix.lower() in (".geojson", ".json") or (len(value) < 260 and path.is_file())
        if not looks_like_file:
            return parse_area(value, name="the WKT area", limits=limits)
        if not path.is_file():
            raise SourceError("area.no_file", file=value)
        size_mb = path.stat().st_size / 1e6
    except OSError as exc:
        if isinstance(exc, SourceError):
            raise
        reason = (exc.strerror or type(exc).__name__).lower()
        raise SourceError("import.bad_name", file=file_label(value), reason=reason) from None
    if size_mb > limits.upload_mb:
        raise AreaError("import.too_big", file=path.name, size_mb=size_mb, limit_mb=limits.upload_mb)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AreaError("area.not_utf8", file=path.name) from exc
    return parse_area(text, name=path.name, limits=limits)


def _area_polygon(area: gpd.GeoSeries | shapely.Geometry, buffer_m: float, metric: CRS) -> shapely.Geometry:
    """The area to analyse, in ``metric``: polygons as given, lines and points buffered."""
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise AreaError("area.bad_buffer", buffer_m=buffer_m)
    series = area if isinstance(area, gpd.GeoSeries) else gpd.GeoSeries([area], crs=WGS84)
    if series.crs is None:
        raise CRSError("area.no_crs")
    geoms = np.asarray([g for g in series if g is not None and not g.is_empty], dtype=object)
    if len(geoms) == 0:
        raise AreaError("area.empty")
    invalid = [shapely.is_valid_reason(g) for g in geoms if not shapely.is_valid(g)]
    if invalid:
        raise AreaError("area.invalid", reason=invalid[0])
    if series.crs.is_geographic:
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
            raise AreaError("area.not_lonlat")
    parts = reproject(geoms, series.crs, metric)
    polygonal = np.array([g.geom_type in ("Polygon", "MultiPolygon") for g in parts])
    if buffer_m == 0 and not polygonal.all():
        raise AreaError("area.needs_buffer")
    if buffer_m > 0:
        parts = shapely.buffer(parts, buffer_m, quad_segs=_QUAD_SEGS)
    polygon = shapely.union_all(parts)
    if polygon.is_empty or polygon.area <= 0:
        raise AreaError("area.no_extent")
    return polygon


def _candidates(gdf: gpd.GeoDataFrame, polygon: shapely.Geometry, metric: CRS) -> np.ndarray:
    """Positions of the features that may meet the area, found in the layer's own CRS.

    The area is widened by a margin before it is projected, so that an edge that is straight
    in metres but curved in degrees cannot miss a feature; the exact test is in metres.
    """
    zone = shapely.segmentize(polygon.buffer(_MARGIN_M, quad_segs=2), 100.0)
    own = reproject(np.array([zone]), metric, gdf.crs)[0]
    return np.sort(gdf.sindex.query(own, predicate="intersects"))


def _layer_rows(name: str, gdf: gpd.GeoDataFrame, polygon: shapely.Geometry, metric: CRS) -> pd.DataFrame:
    spec = CATALOGUE[name]
    unit, _ = UNITS[spec.measure]
    pos = _candidates(gdf, polygon, metric)
    geoms = reproject(gdf.geometry.to_numpy()[pos], gdf.crs, metric)
    if spec.measure == "count":
        hit = shapely.intersects(polygon, geoms)
        whole = inside = np.ones(len(geoms))
    else:
        measure = shapely.length if spec.measure == "length" else shapely.area
        whole = measure(geoms)
        inside = measure(shapely.intersection(geoms, polygon))
        hit = inside > NOISE
    rows = gdf.iloc[pos[hit]]
    frame = pd.DataFrame(
        {
            "layer": name,
            "id": rows[spec.id_field].astype(str).to_numpy(),
            "name": rows["name"].astype(str).to_numpy() if "name" in rows else "",
            "category": "" if spec.units else rows[breakdown_field(spec)].astype(str).to_numpy(),
            "inside": inside[hit],
            "whole": whole[hit],
            "unit": "m" if spec.measure == "length" else "m2" if spec.measure == "area" else unit,
            "share": inside[hit] / whole[hit],
        }
    )
    for column in SUMS:
        frame[column] = rows[column].fillna(0).to_numpy(dtype=float) if column in spec.sums else np.nan
    return frame


@dataclass(frozen=True)
class Impact:
    """What an area touches.

    Attributes
    ----------
    area : shapely geometry
        The analysed polygon (buffer applied), in ``crs``.
    crs : CRS
        The metric CRS everything is measured in.
    buffer_m : float
        The buffer applied, metres.
    features : DataFrame
        One row per touched feature (:data:`FEATURE_COLUMNS`): ``category`` (its code of
        :func:`breakdown_field`), ``inside`` and ``whole`` in ``unit`` (``m``, ``m2`` or
        ``count``), ``share`` = inside / whole, and the feature's whole :data:`SUMS`
        (``households``, ``resettled``; NaN for layers without them).
    units_m2 : dict of str to float
        The area's square metres in each sub-district it meets, by code.
    """

    area: shapely.Geometry
    crs: CRS
    buffer_m: float
    features: pd.DataFrame
    units_m2: dict[str, float] = field(default_factory=dict)

    @property
    def area_ha(self) -> float:
        """The area's size, hectares."""
        return float(self.area.area) / 10_000.0

    @property
    def touches_data(self) -> bool:
        """Whether the area meets any sub-district or feature at all."""
        return bool(self.units_m2) or not self.features.empty

    def ids(self, layer: str) -> list[str]:
        """The ids of the touched features of ``layer``, in the layer's order."""
        return self.features.loc[self.features["layer"] == layer, "id"].tolist()

    def touched(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
        """The touched features of each layer of ``layers`` (sub-districts left out)."""
        return {
            name: gdf[gdf[CATALOGUE[name].id_field].astype(str).isin(self.ids(name))]
            for name, gdf in layers.items()
            if name != UNITS_LAYER
        }

    def summary(self) -> dict[str, object]:
        """The report as one JSON-ready object (see README for the keys)."""
        out: dict[str, object] = {"area_ha": round(self.area_ha, _DECIMALS), "buffer_m": self.buffer_m}
        out["crs"] = f"EPSG:{self.crs.to_epsg()}" if self.crs.to_epsg() else self.crs.name
        f = self.features
        measured = [spec for spec in CATALOGUE.values() if not spec.units]
        for spec in measured:
            rows = f[f["layer"] == spec.name]
            unit, div = UNITS[spec.measure]
            out[f"{spec.name}_count"] = len(rows)
            if spec.measure != "count":
                out[f"{spec.name}_{unit}"] = round(float(rows["inside"].sum()) / div, _DECIMALS)
            for column in spec.sums:
                out[column] = round_half_up(float((rows[column] * rows["share"]).sum()))
                out[f"{column}_whole"] = int(rows[column].sum())
            by = breakdown_field(spec)
            per_code = rows.groupby("category")["inside"].sum()
            key = f"{spec.name}_by_{by}" if spec.measure == "count" else f"{spec.name}_{unit}_by_{by}"
            out[key] = {
                code: int(per_code.get(code, 0))
                if spec.measure == "count"
                else round(float(per_code.get(code, 0.0)) / div, _DECIMALS)
                for code in spec.field(by).codes
            }
        out[f"{UNITS_LAYER}_ha"] = {code: round(m2 / 10_000.0, _DECIMALS) for code, m2 in self.units_m2.items()}
        out["touches_data"] = self.touches_data
        out["features"] = {UNITS_LAYER: list(self.units_m2), **{spec.name: self.ids(spec.name) for spec in measured}}
        return out

    def area_frame(self) -> gpd.GeoDataFrame:
        """The area with its summary figures as properties, in WGS 84."""
        props = {k: v for k, v in self.summary().items() if not isinstance(v, dict | list)}
        return gpd.GeoDataFrame([props], geometry=[self.area], crs=self.crs).to_crs(WGS84)


def impact(
    layers: Mapping[str, gpd.GeoDataFrame],
    area: gpd.GeoSeries | shapely.Geometry,
    *,
    buffer_m: float = 0.0,
    crs: str | int | CRS | None = None,
) -> Impact:
    """What ``area`` touches in ``layers``.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Validated catalogue layers (see :func:`geo.io.load_layers`); absent layers touch
        nothing.
    area : GeoSeries or shapely geometry
        Polygons, lines or points; a GeoSeries carries its CRS, a bare geometry is in WGS 84
        (lon/lat). Several geometries are united.
    buffer_m : float
        Distance around the area, metres (on each side of a line); required for lines and
        points.
    crs : CRS-like, optional
        Metric CRS to measure in; default the source's CGCS2000 Gauss-Kruger zone.

    Returns
    -------
    Impact
        Everything the area touches; an area outside all data gives zeros and
        ``touches_data`` False.

    Raises
    ------
    AreaError
        The area is empty, invalid, has no extent, or is a line or point without a buffer.
    """
    metric = source_metric_crs(layers, crs)
    polygon = _area_polygon(area, float(buffer_m), metric)
    shapely.prepare(polygon)
    frames = [
        _layer_rows(name, layers[name], polygon, metric)
        for name in CATALOGUE
        if name != UNITS_LAYER and name in layers and not layers[name].empty
    ]
    frames = [f for f in frames if not f.empty]
    features = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FEATURE_COLUMNS))
    units_m2: dict[str, float] = {}
    if UNITS_LAYER in layers and not layers[UNITS_LAYER].empty:
        d = _layer_rows(UNITS_LAYER, layers[UNITS_LAYER], polygon, metric)
        units_m2 = dict(zip(d["id"], d["inside"].astype(float), strict=True))
    result = Impact(polygon, metric, float(buffer_m), features, units_m2)
    log.info(
        "impact of %.2f ha in %s: %d features touched in %d sub-districts",
        result.area_ha,
        metric.name,
        len(features),
        len(units_m2),
    )
    return result
