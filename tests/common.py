"""Tiny hand-computable geometries and a frame builder for the tests.

Everything is built in EPSG:4551 (metres) around a point in Changchun, so a 100 m square
is 10,000 m² and a 1 km line is 1,000 m, then stored in whatever CRS a test asks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import Transformer

from layers import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "nanguan.gpkg"
METRIC = "EPSG:4551"

#: Origin of the test geometries, metres in EPSG:4551 (near 125.35E, 43.85N).
X0, Y0 = 447_700.0, 4_857_400.0


def square(x: float, y: float, side_m: float) -> shapely.Polygon:
    """An axis-aligned square with its lower-left corner ``(x, y)`` metres from the origin."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + side_m, Y0 + y + side_m)


def hline(x: float, y: float, length_m: float) -> shapely.LineString:
    """A west-east line starting ``(x, y)`` metres from the origin."""
    return shapely.LineString([(X0 + x, Y0 + y), (X0 + x + length_m, Y0 + y)])


def point(x: float, y: float) -> shapely.Point:
    """A point ``(x, y)`` metres from the origin."""
    return shapely.Point(X0 + x, Y0 + y)


DEFAULTS: dict[str, dict[str, Any]] = {
    "districts": {"name": "测试街道", "kind": "街道"},
    "roads": {
        "name": "测试路",
        "road_class": "local",
        "status": "open",
        "project": None,
        "condition": None,
        "surveyed": None,
    },
    "pipes": {"name": "测试管线", "utility": "water", "status": "complete", "diam_mm": 300.0},
    "parcels": {"name": "测试地块", "kind": "shantytown", "status": "planned", "households": 10, "resettled": 0},
    "greenbelt": {"name": "测试绿地", "kind": "park", "status": "existing"},
    "facilities": {"name": "测试泵站", "kind": "pump_station", "status": "existing"},
    "rivers": {"name": "测试河", "kind": "main"},
    "monitoring_points": {"name": "测试断面", "river": "测试河", "wq_class": "III", "sampled": "2019-12-10"},
    "areas": {"name": "测试区域", "kind": "showcase", "quote": "打造极具特色的精品示范区域"},
}


ID_PREFIX = {
    "districts": "X",
    "roads": "R",
    "pipes": "P",
    "parcels": "D",
    "greenbelt": "G",
    "facilities": "F",
    "rivers": "W",
    "monitoring_points": "S",
    "areas": "A",
}


def frame(
    layer: str, geoms: list[shapely.Geometry], *, crs: str | None = METRIC, **columns: list[Any]
) -> gpd.GeoDataFrame:
    """A valid frame of ``layer`` with one feature per geometry.

    Ids are ``<ID_PREFIX>1``, ``2`` …; other fields take :data:`DEFAULTS` unless given as
    lists in ``columns``.
    """
    spec = CATALOGUE[layer]
    n = len(geoms)
    data: dict[str, list[Any]] = {spec.id_field: [f"{ID_PREFIX[layer]}{i}" for i in range(1, n + 1)]}
    for key, value in DEFAULTS[layer].items():
        data[key] = [value] * n
    data.update(columns)
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=METRIC)
    if crs is None:
        return gdf.set_crs(None, allow_override=True)
    return gdf if crs == METRIC else gdf.to_crs(crs)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Longitude and latitude of a point ``(x, y)`` metres from the origin."""
    return Transformer.from_crs(METRIC, 4326, always_xy=True).transform(X0 + x, Y0 + y)


def write_city(path: Path, *, roads: int, districts: int, targets: bool) -> Path:
    """A generated city (``bench.generate``) as a GeoPackage at ``path``; with ``targets``,
    the sample's plan copied beside it as ``<name>.targets.toml``."""
    from bench.generate import city

    for name, gdf in city(roads, n_districts=districts).items():
        gdf.to_file(path, layer=name, driver="GPKG")
    if targets:
        text = (ROOT / "data" / "targets.toml").read_text(encoding="utf-8")
        path.with_name(f"{path.stem}.targets.toml").write_text(text, encoding="utf-8")
    return path
