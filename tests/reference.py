"""The sample's statistics per sub-district worked out by hand geometry, not by the code under test.

The sample's sub-districts are the Voronoi cells of their seeds (``DISTRICT_SEEDS`` in
``data/build_sample.py``) clipped to the outline, and every feature lies inside the outline,
so a place belongs to the sub-district whose seed is nearest. Along a straight segment
``p(t) = a + t·(b - a)`` the nearest seed can change only where
``|p(t) - s_i|² = |p(t) - s_j|²``, which is linear in ``t``: each segment is cut there and
each piece goes to the seed nearest its middle. A polygon's part in a cell is the polygon
clipped by the half-planes nearer ``s_i`` than each ``s_j`` (Sutherland-Hodgman), measured
by the shoelace formula. No district polygon, no GEOS clip and nothing of ``geo/`` is used
for the figures: only the seeds, the stored coordinates and pyproj to EPSG:4551.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from itertools import pairwise
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.statstable import TOTAL, StatColumn, stats_schema

from .common import ROOT, SAMPLE, X0, Y0

__all__ = ["assert_rows_match", "line_shares", "polygon_shares", "sample_reference", "tolerance"]

_TO_M = Transformer.from_crs(4326, 4551, always_xy=True)


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "data" / "build_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metres(lonlat: np.ndarray) -> np.ndarray:
    """EPSG:4551 coordinates (m) of an (n, 2) array of longitudes and latitudes, from the
    tests' origin in Changchun: small numbers keep the shoelace products exact."""
    x, y = _TO_M.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x - X0, y - Y0])


def nearest(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Index of the nearest seed of each point; ties to the first (seeds are in code order)."""
    return np.argmin(((points[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)


def line_shares(xy: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Metres of the polyline ``xy`` nearest each seed."""
    out = np.zeros(len(seeds))
    i, j = np.triu_indices(len(seeds), 1)
    for a, b in pairwise(xy):
        d = b - a
        # |a - s_i|² - |a - s_j|² + 2t d·(s_j - s_i) = 0
        lhs = 2 * (seeds[j] - seeds[i]) @ d
        rhs = ((a - seeds[j]) ** 2).sum(axis=1) - ((a - seeds[i]) ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = rhs / lhs
        cuts = np.unique(np.r_[0.0, t[(t > 0) & (t < 1)], 1.0])
        middles = a + ((cuts[:-1] + cuts[1:]) / 2)[:, None] * d
        np.add.at(out, nearest(middles, seeds), np.diff(cuts) * float(np.hypot(*d)))
    return out


def shoelace(ring: np.ndarray) -> float:
    """Area (m²) of a closed or open ring of vertices."""
    if len(ring) < 3:
        return 0.0
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def _clip(ring: np.ndarray, normal: np.ndarray, limit: float) -> np.ndarray:
    """Sutherland-Hodgman: the part of ``ring`` where ``p·normal <= limit``."""
    out: list[np.ndarray] = []
    for k in range(len(ring)):
        p, q = ring[k], ring[(k + 1) % len(ring)]
        fp, fq = p @ normal - limit, q @ normal - limit
        if fp <= 0:
            out.append(p)
        if fp * fq < 0:
            out.append(p + (q - p) * (fp / (fp - fq)))
    return np.array(out).reshape(-1, 2)


def polygon_shares(ring: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Square metres of the convex polygon ``ring`` nearest each seed."""
    out = np.zeros(len(seeds))
    for i, s in enumerate(seeds):
        part = ring
        for j, other in enumerate(seeds):
            if j != i and len(part):
                # nearer s than other: 2p·(other - s) <= |other|² - |s|²
                part = _clip(part, 2 * (other - s), float(other @ other - s @ s))
        out[i] = shoelace(part)
    return out


def _measures(gdf: gpd.GeoDataFrame, measure: str, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's (features, seeds) shares — metres, square metres or its point — and
    its whole measure worked out without cutting it (0 for points)."""
    shares, whole = np.zeros((len(gdf), len(seeds))), np.zeros(len(gdf))
    for f, geom in enumerate(gdf.geometry):
        for part in shapely.get_parts(geom):
            if measure == "length":
                xy = metres(shapely.get_coordinates(part))
                shares[f] += line_shares(xy, seeds)
                whole[f] += float(np.hypot(*np.diff(xy, axis=0).T).sum())
            elif measure == "area":
                assert not part.interiors, "the hand clip knows no holes"
                ring = metres(shapely.get_coordinates(part.exterior)[:-1])
                shares[f] += polygon_shares(ring, seeds)
                whole[f] += shoelace(ring)
            else:
                shares[f, nearest(metres(shapely.get_coordinates(part)), seeds)[0]] += 1.0
    if measure != "count":  # the cut pieces add up to the whole: the hand geometry holds
        np.testing.assert_allclose(shares.sum(axis=1), whole, rtol=1e-9)
    return shares, whole


@cache
def sample_reference() -> pd.DataFrame:
    """Every measured column of the statistics for ``data/nanguan.gpkg``, by hand geometry.

    Indexed by district code in the sample's order, then ``TOTAL``: the features' own
    figures (their uncut lengths and areas, their number, their summed fields). km and ha
    as the statistics give them; counts and sums whole, to the district of the largest
    share (ties to the lowest code); ratios from each row's breakdown sums. Cached: treat
    it as read-only.
    """
    codes = gpd.read_file(SAMPLE, layer="districts")["code"].astype(str).tolist()
    order = sorted(codes)
    seeds = metres(np.array([_builder().DISTRICT_SEEDS[c] for c in order]))
    schema = stats_schema()
    columns: dict[str, np.ndarray] = {}
    for layer in dict.fromkeys(c.layer for c in schema if c.measured):
        gdf = gpd.read_file(SAMPLE, layer=layer)
        kinds = {c.kind for c in schema if c.layer == layer}
        measure = "length" if "km" in kinds else "area" if "ha" in kinds else "count"
        shares, whole = _measures(gdf, measure, seeds)
        owner = np.argmax(shares >= shares.max(axis=1, keepdims=True) * (1 - 1e-9), axis=1)
        for col in (c for c in schema if c.layer == layer and c.measured):
            mask = np.ones(len(gdf), bool) if col.code is None else (gdf[col.field] == col.code).to_numpy(bool)
            if col.kind == "count":
                per, total = np.bincount(owner[mask], minlength=len(seeds)).astype(float), float(mask.sum())
            elif col.kind == "sum":
                numbers = gdf[col.field].fillna(0).to_numpy(float)
                per, total = np.bincount(owner, weights=numbers, minlength=len(seeds)), float(numbers.sum())
            else:
                unit = 1000.0 if col.kind == "km" else 10_000.0
                per, total = shares[mask].sum(axis=0) / unit, float(whole[mask].sum()) / unit
            by_code = dict(zip(order, per, strict=True))
            columns[col.name] = np.array([*(by_code[c] for c in codes), total])
    table = pd.DataFrame(columns, index=pd.Index([*codes, TOTAL], name="code"))
    for col in schema:
        if col.kind == "pct":
            table[col.name] = _ratio(table, col, schema)
    return table


def _ratio(table: pd.DataFrame, col: StatColumn, schema: tuple[StatColumn, ...]) -> pd.Series:
    parts = [c for c in schema if c.layer == col.layer and c.field == col.field and c.kind in ("km", "ha")]
    whole = table[[c.name for c in parts]].sum(axis=1)
    part = table[[c.name for c in parts if c.code in col.codes]].sum(axis=1)
    return (100 * part / whole).where(whole > 0)


def tolerance(column: str, *, written: bool = True) -> float:
    """How far a figure may be from the reference: as written, half its last decimal (km to
    the metre, ha to the square metre, % to 0.1); unrounded, a millimetre or a square
    millimetre (float noise of the two ways of clipping); counts exactly."""
    kind = next(c.kind for c in stats_schema() if c.name == column)
    steps = {"km": 0.0005, "ha": 0.00005, "pct": 0.05} if written else {"km": 1e-6, "ha": 1e-10, "pct": 1e-6}
    return steps.get(kind, 0.0) + 1e-9


def assert_rows_match(
    rows: dict[str, dict[str, object]], reference: pd.DataFrame, columns: list[str], *, written: bool = True
) -> None:
    """``rows`` (district code -> column -> value: as written, a string, number or None; or
    unrounded, ``written=False``) against ``reference``, every district and TOTAL."""
    assert list(rows) == reference.index.tolist()  # no OUTSIDE: every feature lies inside
    for code, row in rows.items():
        for column in columns:
            want, got = float(reference.loc[code, column]), row[column]
            empty = got in ("", None) or (isinstance(got, float) and np.isnan(got))
            if np.isnan(want):
                assert empty, (code, column, got)
            else:
                assert not empty, (code, column, got, want)
                off = abs(float(str(got)) - want)
                assert off <= tolerance(column, written=written), (code, column, got, want)
