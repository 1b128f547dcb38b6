"""Time impact analysis and the conflict checks against the naive geopandas way, in one run.

``python -m bench.impact [--roads 100000] [--repeat 5]`` generates the city
(``python -m bench.generate``) if needed, loads it once, then times, in this process:

- ``impact`` of a 1 km² square at the city's centre and of a 5 km corridor through it
  (a 20 m buffer each side: 40 m wide), against the naive way: reproject every layer to
  EPSG:4551 and ``geopandas.overlay`` it with the area, points by ``sjoin``;
- ``find_conflicts`` on the whole city, against ``geopandas.overlay`` of the two sides of
  each rule (``sjoin`` for points);

and the same as whole processes (``python -m geo impact`` / ``conflicts``, start-up and
reading included) beside the floor (``python -m bench.floor``: read and reproject only). It
checks that both ways agree and prints Markdown tables: the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.conflicts import RULES, find_conflicts
from geo.impact import impact, round_half_up
from geo.io import load_layers

from .generate import CENTRE_X, CENTRE_Y, METRIC
from .run import OUT, ROOT, median_run

CORRIDOR_HALF_WIDTH_M = 20.0


def areas() -> dict[str, tuple[gpd.GeoSeries, float]]:
    """The two areas of the benchmark, in EPSG:4551, with their buffers (m)."""
    square = shapely.box(CENTRE_X - 500, CENTRE_Y - 500, CENTRE_X + 500, CENTRE_Y + 500)
    line = shapely.LineString([(CENTRE_X - 2500, CENTRE_Y - 300), (CENTRE_X + 2500, CENTRE_Y + 300)])
    line = shapely.LineString([line.interpolate(0), line.interpolate(5000)])
    return {
        "1 km² square": (gpd.GeoSeries([square], crs=METRIC), 0.0),
        "5 km corridor, 40 m wide": (gpd.GeoSeries([line], crs=METRIC), CORRIDOR_HALF_WIDTH_M),
    }


def naive_impact(layers: dict[str, gpd.GeoDataFrame], area: gpd.GeoSeries, buffer_m: float) -> dict[str, float]:
    """The notebook way: every layer reprojected, overlaid with the area, measured."""
    shape = area.buffer(buffer_m, quad_segs=16) if buffer_m else area
    zone = gpd.GeoDataFrame(geometry=shape.to_crs(METRIC))
    out: dict[str, float] = {"area_ha": float(zone.area.sum()) / 1e4}
    for name in ("roads", "pipes"):
        pieces = gpd.overlay(layers[name].to_crs(METRIC), zone, how="intersection", keep_geom_type=True)
        out[f"{name}_km"] = float(pieces.length.sum()) / 1000
    for name in ("parcels", "greenbelt"):
        whole = layers[name].to_crs(METRIC)
        whole = whole.assign(_whole=whole.area)
        pieces = gpd.overlay(whole, zone, how="intersection", keep_geom_type=True)
        out[f"{name}_ha"] = float(pieces.area.sum()) / 1e4
        if name == "parcels":
            share = pieces.area / pieces["_whole"]
            out["households"] = round_half_up(float((pieces["households"] * share).sum()))
    points = gpd.sjoin(layers["facilities"].to_crs(METRIC), zone, predicate="intersects")
    out["facilities_count"] = float(points.index.nunique())
    return out


def naive_conflicts(layers: dict[str, gpd.GeoDataFrame]) -> tuple[int, float]:
    """The notebook way: overlay (or sjoin) the two sides of every rule; pairs and overlap sum."""
    pairs, total = 0, 0.0
    for rule in RULES:
        a = layers[rule.a.layer][rule.a.pick(layers[rule.a.layer])].to_crs(METRIC)
        b = layers[rule.b.layer][rule.b.pick(layers[rule.b.layer])].to_crs(METRIC)
        if rule.measure == "count":
            joined = gpd.sjoin(a, b, predicate="intersects")
            pairs += len(joined)
            total += len(joined)
            continue
        pieces = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
        amount = pieces.area if rule.measure == "area" else pieces.length
        amount = amount[amount > 1e-3]
        pairs += len(amount)
        total += float(amount.sum())
    return pairs, total


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls of ``fn``, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roads", type=int, default=100_000, help="road segments of the city (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the median is reported)")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    py = sys.executable
    data = OUT / f"city_{args.roads}.gpkg"
    if not data.exists():
        generate = [py, "-m", "bench.generate", "--roads", str(args.roads), "--out", str(data)]
        subprocess.run(generate, cwd=ROOT, check=True)
    start = time.perf_counter()
    layers = load_layers(data)
    load_s = time.perf_counter() - start
    print(f"{args.roads:,} road segments; loading and validating the city took {load_s:.2f} s\n")
    print("| in process | ours s | naive s | naive / ours | features touched | agree |")
    print("|---|---:|---:|---:|---:|---|")
    for label, (area, buffer_m) in areas().items():
        ours_s, result = timed(lambda a=area, b=buffer_m: impact(layers, a, buffer_m=b), args.repeat)
        naive_s, naive = timed(lambda a=area, b=buffer_m: naive_impact(layers, a, b), args.repeat)
        summary = result.summary()
        agree = all(np.isclose(summary[k], v, rtol=1e-6, atol=1e-9) for k, v in naive.items())
        print(
            f"| impact, {label} | {ours_s:.3f} | {naive_s:.3f} | {naive_s / ours_s:.0f}× | "
            f"{len(result.features):,} | {'yes' if agree else f'NO: {summary} vs {naive}'} |"
        )
    ours_s, found = timed(lambda: find_conflicts(layers), args.repeat)
    naive_s, (pairs, total) = timed(lambda: naive_conflicts(layers), max(1, args.repeat // 2))
    agree = len(found) == pairs and np.isclose(float(found["overlap"].sum()), total, rtol=1e-9)
    print(
        f"| conflicts, whole city | {ours_s:.3f} | {naive_s:.3f} | {naive_s / ours_s:.1f}× | {len(found):,} conflicts "
        f"| {'yes' if agree else f'NO: {len(found)} vs {pairs}'} |"
    )
    counts = pd.Series(found["kind"]).value_counts().reindex([r.kind for r in RULES], fill_value=0)
    print("\nconflicts by kind: " + ", ".join(f"{k} {n:,}" for k, n in counts.items()))

    square = Path(OUT / "square.wkt")
    square.write_text(areas()["1 km² square"][0].to_crs(4326).iloc[0].wkt, encoding="utf-8")
    print("\n| whole process | s | / floor |")
    print("|---|---:|---:|")
    floor, _ = median_run([py, "-m", "bench.floor", str(data)], args.repeat)
    print(f"| floor (read and reproject) | {floor:.2f} | 1.00 |")
    commands = {
        "`geo impact`, 1 km² square": ["impact", str(data), "--area", square.read_text(encoding="utf-8")],
        "`geo conflicts`": ["conflicts", str(data), "--format", "csv"],
    }
    for label, cmd in commands.items():
        wall, _ = median_run([py, "-m", "geo", *cmd], args.repeat)
        print(f"| {label} | {wall:.2f} | {wall / floor:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
