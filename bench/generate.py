"""A deterministic city-scale dataset for the statistics benchmark.

``python -m bench.generate --roads 100000 --out bench/out/city_100k.gpkg`` writes all six
catalogue layers in EPSG:4326 over a 40 km x 40 km square near Changchun: 200 Voronoi
districts tiling the square, and roads, pipes, parcels, greenbelt and facilities scattered
over a slightly larger square, so that some features cross the outer boundary. Parcels,
greenbelt, pipes and facilities scale with the road count (20 %, 5 %, 5 %, 10 %), which
gives the issue's 100,000 segments, 20,000 parcels and 5,000 greenbelt polygons at the
default size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from layers import CATALOGUE

CENTRE_X, CENTRE_Y = 447_700.0, 4_857_400.0  # EPSG:4551, near Nanguan
HALF_M = 20_000.0
SPREAD_M = 21_000.0  # features spread a little past the districts
METRIC = "EPSG:4551"


def districts(rng: np.random.Generator, n: int) -> gpd.GeoDataFrame:
    """``n`` Voronoi cells tiling the square."""
    square = shapely.box(CENTRE_X - HALF_M, CENTRE_Y - HALF_M, CENTRE_X + HALF_M, CENTRE_Y + HALF_M)
    xy = np.column_stack(
        [rng.uniform(CENTRE_X - HALF_M, CENTRE_X + HALF_M, n), rng.uniform(CENTRE_Y - HALF_M, CENTRE_Y + HALF_M, n)]
    )
    seeds = shapely.points(xy)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=square.buffer(1000))
    geoms = shapely.intersection(np.asarray(cells.geoms), square)
    return gpd.GeoDataFrame(
        {"code": [f"B{i:04d}" for i in range(n)], "name": [f"街道{i:03d}" for i in range(n)], "kind": "街道"},
        geometry=geoms,
        crs=METRIC,
    )


def _starts(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [
            rng.uniform(CENTRE_X - SPREAD_M, CENTRE_X + SPREAD_M, n),
            rng.uniform(CENTRE_Y - SPREAD_M, CENTRE_Y + SPREAD_M, n),
        ]
    )


def lines(rng: np.random.Generator, n: int, min_m: float, max_m: float) -> np.ndarray:
    """``n`` three-vertex lines of ``min_m`` to ``max_m`` metres, random direction."""
    start = _starts(rng, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    half = rng.uniform(min_m, max_m, n) / 2
    bend = angle + rng.uniform(-0.3, 0.3, n)
    mid = start + np.column_stack([np.cos(angle), np.sin(angle)]) * half[:, None]
    end = mid + np.column_stack([np.cos(bend), np.sin(bend)]) * half[:, None]
    coords = np.stack([start, mid, end], axis=1).reshape(-1, 2)
    return shapely.linestrings(coords, indices=np.repeat(np.arange(n), 3))


def rectangles(rng: np.random.Generator, n: int, min_m: float, max_m: float) -> np.ndarray:
    """``n`` rotated rectangles with sides of ``min_m`` to ``max_m`` metres."""
    centre = _starts(rng, n)
    w, h = rng.uniform(min_m, max_m, n) / 2, rng.uniform(min_m, max_m, n) / 2
    a = rng.uniform(0, np.pi, n)
    c, s = np.cos(a), np.sin(a)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)
    local = corners[None, :, :] * np.stack([w, h], axis=1)[:, None, :]
    rot = np.stack(
        [
            local[..., 0] * c[:, None] - local[..., 1] * s[:, None],
            local[..., 0] * s[:, None] + local[..., 1] * c[:, None],
        ],
        axis=-1,
    )
    coords = (rot + centre[:, None, :]).reshape(-1, 2)
    rings = shapely.linearrings(coords, indices=np.repeat(np.arange(n), 5))
    return shapely.polygons(rings)


def features(rng: np.random.Generator, layer: str, geoms: np.ndarray, **columns: object) -> gpd.GeoDataFrame:
    """A layer of ``geoms`` with ids, its label as name, and random codes in every coded field."""
    spec = CATALOGUE[layer]
    n = len(geoms)
    data: dict[str, object] = {spec.id_field: [f"{layer[:2].upper()}{i}" for i in range(n)], "name": spec.zh}
    for f in spec.fields:
        if f.choices:
            data[f.name] = np.asarray(f.codes, dtype=object)[rng.integers(0, len(f.codes), n)]
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=METRIC)


def city(n_roads: int, *, n_districts: int = 200, seed: int = 2020) -> dict[str, gpd.GeoDataFrame]:
    """All six layers, in EPSG:4326, with ``n_districts`` districts."""
    rng = np.random.default_rng(seed)
    n_parcels, n_green, n_pipes, n_fac = n_roads // 5, n_roads // 20, n_roads // 20, n_roads // 10
    households = rng.integers(0, 500, n_parcels)
    out = {
        "districts": districts(rng, n_districts),
        "roads": features(rng, "roads", lines(rng, n_roads, 50, 800), project=None),
        "pipes": features(rng, "pipes", lines(rng, n_pipes, 200, 3000), diam_mm=300.0),
        "parcels": features(
            rng,
            "parcels",
            rectangles(rng, n_parcels, 30, 300),
            households=households,
            resettled=(households * rng.uniform(0, 1, n_parcels)).astype(int),
        ),
        "greenbelt": features(rng, "greenbelt", rectangles(rng, n_green, 40, 600)),
        "facilities": features(rng, "facilities", shapely.points(_starts(rng, n_fac))),
    }
    return {name: gdf.to_crs(4326) for name, gdf in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roads", type=int, default=100_000, help="road segments (default 100000)")
    parser.add_argument("--districts", type=int, default=200, help="districts tiling the square (default 200)")
    parser.add_argument("--out", type=Path, required=True, help="GeoPackage to write (replaced)")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.unlink(missing_ok=True)
    for name, gdf in city(args.roads, n_districts=args.districts).items():
        gdf.to_file(args.out, layer=name, driver="GPKG")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
