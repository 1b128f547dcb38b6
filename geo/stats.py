"""Per-district statistics: kilometres, hectares, counts and households by sub-district.

The rules (also in README.md):

- **Clipped lengths and areas**: each feature is clipped to each district (a closed
  polygon: its boundary belongs to it). A piece lying in the closure of *k* districts (a
  road on the edge two sub-districts share, or in a sliver where they overlap within the
  tolerance) counts 1/k of its measure to each, so a shared edge is never counted twice.
  For a coverage (*k* ≤ 2) this is ``share_d = M(P_d) - ½ Σ_j M(P_d ∩ P_j)`` with
  ``P_d = feature ∩ district d``. Polygon areas are not affected by edges, which have none.
- **OUTSIDE is measured**: the part of each feature outside the union of all districts.
- **TOTAL is the layer's own measure**, unclipped; after every computation the districts
  plus OUTSIDE must equal TOTAL to 1e-9 relative, or :class:`~geo.errors.BalanceError` is
  raised (an internal error, never printed as a figure).
- **Whole counts**: a feature's count and its ``sums`` fields (households, resettled) go
  whole to the district holding its largest share; ties go to the lowest district code;
  OUTSIDE takes the feature only when its outside part is larger than every district's
  share. A point goes to the district containing it; a point on a shared boundary to the
  lowest code.
- **Districts must form a coverage** (:mod:`geo.coverage`): overlaps above the tolerance
  are refused.

Which columns exist comes from the catalogue (:func:`stats_schema`): each layer says what
it is measured by, which coded fields break the measure down and which fields are summed.
This module measures; the table, its balance check and its OUTSIDE and TOTAL rows are
made in :mod:`geo.statstable`, as for the database engine (:mod:`geo.sqlstats`). The
table's names (``OUTSIDE``, ``TOTAL``, :func:`stats_schema`, :func:`select_districts` …)
are importable from here too.

Speed: features wholly inside one district are found with one prepared
``contains_properly`` test per district through an STRtree and measured without any
intersection; only features meeting a district boundary are clipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE, LayerSpec, units_layer

from . import _parallel
from .coverage import DEFAULT_TOLERANCE_M2, check_coverage
from .crs import reproject, source_metric_crs
from .errors import SourceError
from .statstable import (
    BALANCE_RTOL,
    OUTSIDE,
    PER_UNIT,
    TOTAL,
    StatColumn,
    assemble_table,
    fill_ratios,
    schema_of,
    select_districts,
    stats_columns,
    stats_schema,
)

__all__ = [
    "OUTSIDE",
    "TOTAL",
    "Apportionment",
    "DistrictIndex",
    "StatColumn",
    "apportion",
    "district_stats",
    "fill_ratios",
    "schema_of",
    "select_districts",
    "stats_columns",
    "stats_schema",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Apportionment:
    """How one layer's features fall into districts.

    Attributes
    ----------
    total : ndarray of float, shape (n_features,)
        Each feature's whole measure (m or m²; 0 for points).
    part_feature, part_district : ndarray of int
        One entry per (feature, district) piece with a share; ``part_district ==
        n_districts`` is the piece outside every district.
    part_amount : ndarray of float
        The share of each piece, m or m² (1/k of what lies on k districts).
    owner : ndarray of int, shape (n_features,)
        The district holding each feature's largest share, ``n_districts`` for outside.
    """

    total: np.ndarray
    part_feature: np.ndarray
    part_district: np.ndarray
    part_amount: np.ndarray
    owner: np.ndarray


def _measure(geoms: np.ndarray, kind: str) -> np.ndarray:
    if kind == "length":
        return shapely.length(geoms)
    if kind == "area":
        return shapely.area(geoms)
    return np.zeros(len(geoms))


@dataclass(frozen=True)
class DistrictIndex:
    """District geometries prepared for one measuring thread.

    GEOS builds a prepared geometry's indexes lazily, so prepared geometries are not
    shared between threads: each thread indexes its own copy (:meth:`copy_of`).

    Attributes
    ----------
    geoms : ndarray of shapely geometries
        The districts in a metric CRS, prepared.
    rank : ndarray of int
        Each district's rank by code (0 for the lowest), for breaking ties.
    tree : STRtree
        Spatial index over ``geoms``.
    union : shapely geometry
        Their union, prepared: what lies outside it lies outside every district.
    touching : ndarray of int
        Sorted keys ``i * n + j`` (i < j) of the district pairs that share an edge or
        overlap: the only pairs whose pieces of one feature can overlap in length.
    shared : ndarray of shapely geometries
        What each pair of ``touching`` shares: its edge, or the sliver where it overlaps.
    overlapping : ndarray of int
        Keys of the pairs that overlap in area (slivers within the tolerance).
    """

    geoms: np.ndarray
    rank: np.ndarray
    tree: shapely.STRtree
    union: shapely.Geometry
    touching: np.ndarray
    shared: np.ndarray
    overlapping: np.ndarray

    @classmethod
    def build(cls, geoms: np.ndarray, rank: np.ndarray | None = None) -> DistrictIndex:
        """Index ``geoms``, a metric-CRS array of districts forming a coverage."""
        geoms = np.asarray(geoms)
        n = len(geoms)
        rank = np.arange(n) if rank is None else np.asarray(rank)
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        shared = shapely.intersection(geoms[a], geoms[b]) if len(a) else np.zeros(0, dtype=object)
        area = shapely.area(shared)
        line = shapely.length(shared)
        near = (line > 0) | (area > 0)
        keys = a[near] * n + b[near]
        order = np.argsort(keys)
        touching, shared = keys[order], shared[near][order]
        overlapping = np.sort(a[area > 0] * n + b[area > 0])
        # The general union, not coverage_union_all: real boundaries are seldom noded alike
        # (a vertex on a neighbour's edge), and then a coverage union is undefined.
        union = shapely.union_all(geoms) if n else shapely.Polygon()
        shapely.prepare(geoms)
        shapely.prepare(union)
        return cls(geoms, rank, tree, union, touching, shared, overlapping)

    @classmethod
    def copy_of(cls, geoms: np.ndarray, rank: np.ndarray | None = None) -> DistrictIndex:
        """Index a private copy of ``geoms``, safe to use in another thread."""
        return cls.build(shapely.from_wkb(shapely.to_wkb(geoms)), rank)

    def __len__(self) -> int:
        return len(self.geoms)


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(sorted_keys) else np.zeros(0, int)


def _pairs_within_groups(starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (p, q), p < q, of elements in the same group of a grouped array."""
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = np.repeat(np.r_[starts[1:], n], np.diff(np.r_[starts, n]))
    after = ends - np.arange(n) - 1  # how many later elements share each one's group
    firsts = np.repeat(np.arange(n), after)
    offsets = np.arange(len(firsts)) - np.repeat(np.cumsum(after) - after, after)
    return firsts, firsts + offsets + 1


def _owners(
    feature: np.ndarray,
    district: np.ndarray,
    share: np.ndarray,
    outside: np.ndarray,
    rank: np.ndarray,
    owner: np.ndarray,
) -> None:
    """Set ``owner`` of each feature with pieces: the largest share, ties to the lowest code.

    A share within 1e-9 relative of the largest counts as a tie (a parcel cut exactly in
    half measures its halves with float noise). OUTSIDE wins only when strictly larger.
    """
    if not len(feature):
        return
    n_feat = len(owner)
    best = np.zeros(n_feat)
    np.maximum.at(best, feature, share)
    tied = share >= best[feature] * (1 - BALANCE_RTOL)
    f, d = feature[tied], district[tied]
    order = np.lexsort((rank[d], f))
    f, d = f[order], d[order]
    first = _group_starts(f)
    wins = best[f[first]] >= outside[f[first]]
    owner[f[first][wins]] = d[first][wins]


def apportion(features: np.ndarray, index: DistrictIndex, kind: str) -> Apportionment:
    """Split features among districts by the rules of this module.

    Parameters
    ----------
    features : ndarray of shapely geometries
        In the same metric CRS (metres) as the districts.
    index : DistrictIndex
        The districts.
    kind : {"length", "area", "count"}
        What to measure; ``"count"`` is for points, which go to the district containing
        them (the lowest code when a point lies on a shared boundary).
    """
    districts = index.geoms
    n_feat, n_dist = len(features), len(districts)
    total = _measure(features, kind)
    owner = np.full(n_feat, n_dist, dtype=np.int64)
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    if n_feat == 0 or n_dist == 0:
        out_f = np.flatnonzero(total > 0)
        return Apportionment(total, out_f, np.full(len(out_f), n_dist), total[out_f], owner)
    tree = shapely.STRtree(features)

    if kind == "count":
        d_idx, f_idx = tree.query(districts, predicate="intersects")
        _owners(f_idx, d_idx, np.ones(len(f_idx)), np.zeros(n_feat), index.rank, owner)
        return Apportionment(total, empty_i, empty_i, empty_f, owner)

    # Wholly inside one district's interior: no intersection needed.
    in_d, in_f = _parallel.query(tree, districts, "contains_properly")
    owner[in_f] = in_d
    inside = np.zeros(n_feat, dtype=bool)
    inside[in_f] = True

    # Meeting a boundary, or outside: clip against each district met. A feature within
    # the districts' union needs one clip fewer: its last piece follows from the others.
    rest = np.flatnonzero(~inside)
    q_f, q_d = index.tree.query(features[rest], predicate="intersects")
    q_f = rest[q_f]
    order = np.lexsort((q_d, q_f))
    q_f, q_d = q_f[order], q_d[order]
    starts = _group_starts(q_f)
    covered = np.zeros(n_feat, dtype=bool)
    covered[rest] = shapely.contains_properly(index.union, features[rest])
    last = np.zeros(len(q_f), dtype=bool)
    last[np.r_[starts[1:], len(q_f)][: len(starts)] - 1] = True
    remainder = last & covered[q_f]
    clip = ~remainder
    pieces = np.full(len(q_f), None, dtype=object)
    pieces[clip] = _parallel.intersection(features[q_f[clip]], districts[q_d[clip]])
    amounts = np.zeros(len(q_f))
    amounts[clip] = _measure(pieces[clip], kind)

    # What lies in the closure of two districts counts half to each (inclusion-exclusion).
    p, q = _pairs_within_groups(starts, len(q_f))
    keys = np.minimum(q_d[p], q_d[q]) * n_dist + np.maximum(q_d[p], q_d[q])
    near = np.isin(keys, index.overlapping if kind == "area" else index.touching)
    p, q, keys = p[near], q[near], keys[near]
    shared = np.zeros(len(p))
    if len(p):
        # P_p ∩ P_q = f ∩ d ∩ j = P_p ∩ (what d and j share): a short edge, not a district.
        # p < q, so p is never a remainder piece and its geometry is at hand.
        between = index.shared[np.searchsorted(index.touching, keys)]
        shared = _measure(_parallel.intersection(pieces[p], between), kind)
    per_feature = np.bincount(q_f[clip], weights=amounts[clip], minlength=n_feat)
    overlaps = np.bincount(q_f[p], weights=shared, minlength=n_feat)
    amounts[remainder] = total[q_f[remainder]] - per_feature[q_f[remainder]] + overlaps[q_f[remainder]]
    shares = amounts.copy()
    np.subtract.at(shares, p, shared / 2)
    np.subtract.at(shares, q, shared / 2)

    outside = np.zeros(n_feat)
    met = np.zeros(n_feat, dtype=bool)
    met[q_f] = True
    loose = rest[~met[rest]]
    outside[loose] = total[loose]
    crossing = rest[met[rest] & ~covered[rest]]
    if len(crossing):
        outside[crossing] = _measure(shapely.difference(features[crossing], index.union), kind)
    # Float noise of the remainder, or of a feature exactly on the outer boundary.
    scale = np.maximum(total[q_f], 1.0)
    shares[np.abs(shares) <= 1e-12 * scale] = 0.0

    keep = shares > 0
    q_f, q_d, shares = q_f[keep], q_d[keep], shares[keep]
    _owners(q_f, q_d, shares, outside, index.rank, owner)

    out_f = np.flatnonzero(outside > 0)
    part_feature = np.concatenate([in_f, q_f, out_f])
    part_district = np.concatenate([in_d, q_d, np.full(len(out_f), n_dist)])
    part_amount = np.concatenate([total[in_f], shares, outside[out_f]])
    return Apportionment(total, part_feature, part_district, part_amount, owner)


def _layer_columns(
    spec: LayerSpec, columns: list[StatColumn], gdf: gpd.GeoDataFrame | None, index: DistrictIndex
) -> dict[str, tuple[np.ndarray, float]]:
    """One layer's columns: values per district plus the outside bin, and the layer's total.

    ``gdf`` is already in the metric CRS. The total is what the layer itself holds,
    computed without the apportionment, for the balance check.
    """
    n_bins = len(index) + 1
    out: dict[str, tuple[np.ndarray, float]] = {}
    if gdf is None or gdf.empty:
        return {c.name: (np.zeros(n_bins), 0.0) for c in columns}
    geoms = gdf.geometry.to_numpy()
    ap = apportion(geoms, index, spec.measure)
    whole = _measure(geoms, spec.measure)
    for col in columns:
        if col.code is None:
            mask = np.ones(len(gdf), dtype=bool)
        elif col.field in gdf.columns:
            mask = (gdf[col.field] == col.code).to_numpy(bool)
        else:  # an optional coded field the layer does not hold: nothing has that code
            mask = np.zeros(len(gdf), dtype=bool)
        if col.kind == "count":
            values = np.bincount(ap.owner[mask], minlength=n_bins).astype(float)
            total = float(mask.sum())
        elif col.kind == "sum":
            numbers = pd.to_numeric(gdf[col.field]).fillna(0).to_numpy(dtype=float)
            values = np.bincount(ap.owner, weights=numbers, minlength=n_bins)
            total = float(numbers.sum())
        else:
            divisor = PER_UNIT[col.kind]
            keep = mask[ap.part_feature]
            values = np.bincount(ap.part_district[keep], weights=ap.part_amount[keep], minlength=n_bins) / divisor
            total = float(whole[mask].sum()) / divisor
        out[col.name] = (values, total)
    return out


def district_stats(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    crs: str | int | CRS | None = None,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    catalogue: Mapping[str, LayerSpec] | None = None,
    on_layer: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Lengths, areas, counts and households per district, with OUTSIDE and TOTAL rows.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Validated catalogue layers in one CRS (see :func:`geo.io.load_layers`); the
        statistics units (``districts``) are required, other layers may be absent (their
        columns are zero).
    crs : CRS-like, optional
        Metric CRS to measure in; default :func:`geo.crs.source_metric_crs` (the CGCS2000
        3-degree Gauss-Kruger zone of the source's centre, EPSG:4551 for Nanguan).
    tolerance_m2 : float
        Largest overlap between two districts accepted, m²; larger ones are refused.
    catalogue : mapping, optional
        The layer catalogue (default :data:`layers.CATALOGUE`).
    on_layer : callable, optional
        Called with each layer's name when it has been measured (for a progress bar).

    Returns
    -------
    DataFrame
        Indexed by district code, one row per district in the layer's order (zeros where
        nothing falls), then ``OUTSIDE`` when anything lies outside all districts, then
        ``TOTAL``, the layers' own unclipped figures. Columns are :func:`stats_columns`:
        lengths in km (``*_km``), areas in ha (``*_ha``), counts and sums as int64. The
        two extra rows have an empty ``district_name``: the words are the caller's.
        ``attrs`` carries the column metadata (``"schema"``, read it with
        :func:`schema_of`), the tolerated coverage flaws (``"warnings"``, one line each)
        and the metric CRS measured in (``"crs"``), all plain JSON values.

    Raises
    ------
    SourceError
        Without the districts layer.
    CRSError
        When a layer has no CRS, or layers differ in CRS.
    CoverageError
        When districts overlap by more than ``tolerance_m2``.
    BalanceError
        When a column's districts and OUTSIDE do not add up to its TOTAL (internal error).
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    units = units_layer(dict(catalogue))
    if units.name not in layers:
        raise SourceError("stats.no_units", layer=units.name)
    present = {n: g for n, g in layers.items() if n in catalogue}
    metric = source_metric_crs(present, crs)
    districts_gdf = layers[units.name]
    codes = districts_gdf[units.id_field].astype(str).tolist()
    districts = reproject(districts_gdf.geometry.to_numpy(), districts_gdf.crs, metric)
    warnings = check_coverage(districts, codes, tolerance_m2=tolerance_m2, layer=units.name)
    rank = np.argsort(np.argsort(np.array(codes, dtype=object), kind="stable"), kind="stable")
    schema = stats_schema(catalogue)
    by_layer: dict[str, list[StatColumn]] = {}
    for col in schema:
        if col.measured:
            by_layer.setdefault(col.layer, []).append(col)

    def measure(name: str) -> dict[str, tuple[np.ndarray, float]]:
        gdf = layers.get(name)
        if gdf is not None and not gdf.empty:
            gdf = gdf.set_geometry(reproject(gdf.geometry.to_numpy(), gdf.crs, metric), crs=metric)
        return _layer_columns(catalogue[name], by_layer[name], gdf, DistrictIndex.copy_of(districts, rank))

    # Largest layers first, so the longest job starts at once and the others fill in.
    names = sorted(by_layer, key=lambda n_: -len(layers.get(n_, ())))
    results: dict[str, tuple[np.ndarray, float]] = {}
    # Layers are measured side by side: PROJ and GEOS release the GIL.
    with ThreadPoolExecutor(_parallel.workers()) as pool:
        futures = {pool.submit(measure, name): name for name in names}
        for future in as_completed(futures):
            results.update(future.result())
            log.info("measured %s in %s", futures[future], metric.name)
            if on_layer is not None:
                on_layer(futures[future])

    return assemble_table(
        {name: values for name, (values, _) in results.items()},
        {name: total for name, (_, total) in results.items()},
        codes=codes,
        names=districts_gdf["name"].astype(str).tolist(),
        schema=schema,
        crs=metric,
        warnings=warnings,
    )
