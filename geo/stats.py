"""Per-district statistics: kilometres, hectares, counts and households by sub-district.

Semantics (also in README.md):

- **Lengths and areas are clipped**: a road crossing two districts adds its part to each.
- **Counts, households and resettled go whole** to the district holding the largest share
  of the feature (by length, by area, or the district containing the point), so they are
  integers and sum exactly to the layer totals. A feature whose largest share lies
  outside every district counts in ``OUTSIDE``.
- **Nothing is lost**: the ``TOTAL`` row is the unclipped layer total; the ``OUTSIDE``
  row (shown when any feature or part of one lies outside all districts) holds the
  difference, so districts + OUTSIDE = TOTAL.

Speed: features wholly inside one district are found with one prepared
``contains_properly`` test per district through an STRtree and measured without any
intersection; only features that cross a district boundary are clipped.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from tqdm import tqdm

from layers import CATALOGUE

from . import _parallel
from .crs import metric_crs_for, reproject
from .errors import SourceError

__all__ = [
    "MAIN_COLUMNS",
    "OUTSIDE",
    "ROW_NAMES",
    "TOTAL",
    "Apportionment",
    "apportion",
    "district_stats",
    "select_districts",
    "stats_columns",
]

log = logging.getLogger(__name__)

OUTSIDE = "OUTSIDE"
TOTAL = "TOTAL"
#: Names of the two extra rows, Chinese and English.
ROW_NAMES: dict[str, tuple[str, str]] = {OUTSIDE: ("区外", "Outside"), TOTAL: ("合计", "Total")}

MAIN_COLUMNS: tuple[str, ...] = (
    "district_code",
    "district_name",
    "roads_count",
    "roads_km",
    "pipes_count",
    "pipes_km",
    "parcels_count",
    "parcels_ha",
    "households",
    "resettled",
    "greenbelt_count",
    "greenbelt_ha",
)

#: Breakdown columns: (layer, field, prefix) — one column per code of the field.
BREAKDOWNS: tuple[tuple[str, str, str], ...] = (
    ("roads", "status", "roads_km_"),
    ("pipes", "utility", "pipes_km_"),
    ("parcels", "kind", "parcels_ha_"),
    ("facilities", "kind", "facilities_"),
)

_M_PER_KM = 1000.0
_M2_PER_HA = 10_000.0


def stats_columns() -> list[str]:
    """All columns of :func:`district_stats`, in order."""
    columns = list(MAIN_COLUMNS)
    for layer, field, prefix in BREAKDOWNS:
        if layer == "facilities":
            columns.append("facilities_count")
        columns += [prefix + code for code in CATALOGUE[layer].field(field).codes]
    return columns


@dataclass(frozen=True)
class Apportionment:
    """How one layer's features fall into districts.

    Attributes
    ----------
    total : ndarray of float, shape (n_features,)
        Each feature's whole measure (m or m²; 0 for points).
    part_feature, part_district : ndarray of int
        One entry per (feature, district) piece; ``part_district == n_districts`` is the
        piece outside every district.
    part_amount : ndarray of float
        The measure of each piece, m or m².
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
    tree : STRtree
        Spatial index over ``geoms``.
    union : shapely geometry
        Their union, prepared: what lies outside it lies outside every district.
    """

    geoms: np.ndarray
    tree: shapely.STRtree
    union: shapely.Geometry

    @classmethod
    def build(cls, geoms: np.ndarray) -> DistrictIndex:
        """Index ``geoms`` (a metric-CRS array of non-overlapping polygons)."""
        geoms = np.asarray(geoms)
        shapely.prepare(geoms)
        union = shapely.coverage_union_all(geoms) if len(geoms) else shapely.Polygon()
        shapely.prepare(union)
        return cls(geoms, shapely.STRtree(geoms), union)

    @classmethod
    def copy_of(cls, geoms: np.ndarray) -> DistrictIndex:
        """Index a private copy of ``geoms``, safe to use in another thread."""
        return cls.build(shapely.from_wkb(shapely.to_wkb(geoms)))

    def __len__(self) -> int:
        return len(self.geoms)


def apportion(features: np.ndarray, index: DistrictIndex, kind: str) -> Apportionment:
    """Split features among districts.

    Parameters
    ----------
    features : ndarray of shapely geometries
        In the same metric CRS (metres) as the districts.
    index : DistrictIndex
        The districts.
    kind : {"length", "area", "count"}
        What to measure; ``"count"`` is for points, which go to the district containing
        them (the first one, when a point lies on a shared boundary).
    """
    districts = index.geoms
    n_feat, n_dist = len(features), len(districts)
    total = _measure(features, kind)
    owner = np.full(n_feat, n_dist, dtype=np.int64)
    if n_feat == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Apportionment(total, empty, empty, np.zeros(0), owner)
    tree = shapely.STRtree(features)

    if kind == "count":
        d_idx, f_idx = tree.query(districts, predicate="intersects")
        order = np.lexsort((d_idx, f_idx))
        f_sorted, d_sorted = f_idx[order], d_idx[order]
        first = np.r_[True, f_sorted[1:] != f_sorted[:-1]] if len(f_sorted) else np.zeros(0, bool)
        owner[f_sorted[first]] = d_sorted[first]
        zero = np.zeros(0, dtype=np.int64)
        return Apportionment(total, zero, zero, np.zeros(0), owner)

    # Wholly inside one district: no intersection needed.
    in_d, in_f = _parallel.query(tree, districts, "contains_properly")
    owner[in_f] = in_d
    inside = np.zeros(n_feat, dtype=bool)
    inside[in_f] = True

    # Crossing a boundary, or outside: clip against each district they meet. A feature
    # within the districts' union needs one clip fewer: its last piece is what remains.
    rest = np.flatnonzero(~inside)
    q_f, q_d = index.tree.query(features[rest], predicate="intersects")
    q_f = rest[q_f]
    order = np.lexsort((q_d, q_f))
    q_f, q_d = q_f[order], q_d[order]
    covered = np.zeros(n_feat, dtype=bool)
    covered[rest] = shapely.contains_properly(index.union, features[rest])
    last = np.r_[q_f[1:] != q_f[:-1], True] if len(q_f) else np.zeros(0, dtype=bool)
    remainder = last & covered[q_f]
    amounts = np.zeros(len(q_f))
    clip = ~remainder
    amounts[clip] = _measure(_parallel.intersection(features[q_f[clip]], districts[q_d[clip]]), kind)
    others = np.bincount(q_f[clip], weights=amounts[clip], minlength=n_feat)
    amounts[remainder] = total[q_f[remainder]] - others[q_f[remainder]]
    keep = amounts > 0
    q_f, q_d, amounts = q_f[keep], q_d[keep], amounts[keep]

    clipped = np.bincount(q_f, weights=amounts, minlength=n_feat)
    outside = np.where(inside, 0.0, total - clipped)
    # Float noise of a feature exactly on a boundary is not "outside".
    outside[np.abs(outside) <= 1e-9 * np.maximum(total, 1.0)] = 0.0

    if len(q_f):
        order = np.lexsort((-amounts, q_f))
        f_sorted = q_f[order]
        first = np.r_[True, f_sorted[1:] != f_sorted[:-1]]
        best_f, best_d, best_amount = f_sorted[first], q_d[order][first], amounts[order][first]
        wins = best_amount >= outside[best_f]
        owner[best_f[wins]] = best_d[wins]

    out_f = np.flatnonzero(outside != 0.0)
    part_feature = np.concatenate([in_f, q_f, out_f])
    part_district = np.concatenate([in_d, q_d, np.full(len(out_f), n_dist)])
    part_amount = np.concatenate([total[in_f], amounts, outside[out_f]])
    return Apportionment(total, part_feature, part_district, part_amount, owner)


def _per_district(index: np.ndarray, weights: np.ndarray | None, n_bins: int) -> np.ndarray:
    return np.bincount(index, weights=weights, minlength=n_bins)[:n_bins]


def _layer_columns(
    name: str, gdf: gpd.GeoDataFrame | None, districts: np.ndarray, metric: CRS
) -> dict[str, np.ndarray]:
    """The statistics columns one layer contributes, per district plus the outside bin."""
    spec = CATALOGUE[name]
    n_bins = len(districts) + 1
    zeros = np.zeros(n_bins)
    if gdf is None or gdf.empty:
        ap = None
    else:
        geoms = reproject(gdf.geometry.to_numpy(), gdf.crs, metric)
        ap = apportion(geoms, DistrictIndex.copy_of(districts), spec.measure)
    cols: dict[str, np.ndarray] = {}
    unit_div = _M_PER_KM if spec.measure == "length" else _M2_PER_HA
    suffix = "km" if spec.measure == "length" else "ha"

    def counts(mask: np.ndarray | None = None) -> np.ndarray:
        if ap is None:
            return zeros.copy()
        owners = ap.owner if mask is None else ap.owner[mask]
        return _per_district(owners, None, n_bins)

    def measured(mask: np.ndarray | None = None) -> np.ndarray:
        if ap is None:
            return zeros.copy()
        keep = np.ones(len(ap.part_feature), bool) if mask is None else mask[ap.part_feature]
        return _per_district(ap.part_district[keep], ap.part_amount[keep], n_bins) / unit_div

    if name != "facilities":
        cols[f"{name}_count"] = counts()
        cols[f"{name}_{suffix}"] = measured()
    if name == "parcels":
        for field in ("households", "resettled"):
            if ap is None or gdf is None:
                cols[field] = zeros.copy()
            else:
                values = gdf[field].fillna(0).to_numpy(dtype=float)
                cols[field] = _per_district(ap.owner, values, n_bins)
    for layer, field, prefix in BREAKDOWNS:
        if layer != name:
            continue
        if name == "facilities":
            cols["facilities_count"] = counts()
        values = None if gdf is None else gdf[field].to_numpy()
        for code in spec.field(field).codes:
            mask = None if values is None else values == code
            cols[prefix + code] = counts(mask) if name == "facilities" else measured(mask)
    return cols


def _is_integer_column(column: str) -> bool:
    return column.endswith("_count") or column in ("households", "resettled") or (column.startswith("facilities_"))


def district_stats(layers: dict[str, gpd.GeoDataFrame], *, crs: str | int | CRS | None = None) -> pd.DataFrame:
    """Lengths, areas, counts and households per district, with OUTSIDE and TOTAL rows.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Validated catalogue layers (see :func:`geo.io.load_layers`); ``districts`` is
        required, other layers may be absent (their columns are zero).
    crs : CRS-like, optional
        Metric CRS to measure in; default the CGCS2000 3-degree Gauss-Kruger zone of the
        districts' centre (EPSG:4551 for Nanguan).

    Returns
    -------
    DataFrame
        Indexed by district code, one row per district in the layer's order (zeros where
        nothing falls), then ``OUTSIDE`` when anything lies outside all districts, then
        ``TOTAL``. Columns are :func:`stats_columns`: lengths in km (``*_km``), areas in ha
        (``*_ha``), counts and households as integers.
    """
    if "districts" not in layers:
        raise SourceError("stats.no_districts")
    districts_gdf = layers["districts"]
    metric = metric_crs_for(districts_gdf, crs)
    districts = reproject(districts_gdf.geometry.to_numpy(), districts_gdf.crs, metric)
    n = len(districts)
    # Largest layers first, so the longest job starts at once and the others fill in.
    names = sorted((n_ for n_ in CATALOGUE if n_ != "districts"), key=lambda n_: -len(layers.get(n_, ())))
    columns: dict[str, np.ndarray] = {}
    # Layers are measured side by side: PROJ and GEOS release the GIL.
    with (
        ThreadPoolExecutor(_parallel.workers()) as pool,
        tqdm(total=len(names), desc="measuring", unit="layer", disable=None, leave=False) as bar,
    ):
        futures = {pool.submit(_layer_columns, name, layers.get(name), districts, metric): name for name in names}
        for future in as_completed(futures):
            columns.update(future.result())
            bar.update()
            log.info("measured %s in %s", futures[future], metric.name)

    ordered = [c for c in stats_columns() if c not in ("district_code", "district_name")]
    body = pd.DataFrame({c: columns[c] for c in ordered})
    total = body.sum(axis=0)
    codes = [*districts_gdf["code"].astype(str), OUTSIDE]
    body.index = pd.Index(codes, name="code")
    show_outside = bool((body.loc[OUTSIDE].abs() > 0).any())
    table = body.iloc[:n] if not show_outside else body
    table = pd.concat([table, total.to_frame(TOTAL).T])
    table.index.name = "code"
    for c in ordered:
        if _is_integer_column(c):
            table[c] = table[c].round().astype("int64")
    extra = [OUTSIDE, TOTAL] if show_outside else [TOTAL]
    table.insert(0, "district_name", [*districts_gdf["name"].astype(str), *(ROW_NAMES[k][0] for k in extra)])
    table.insert(0, "district_code", table.index.to_list())
    log.info("statistics for %d districts (%s)", n, "with outside parts" if show_outside else "nothing outside")
    return table


def select_districts(table: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``codes`` from a :func:`district_stats` table, with TOTAL as their sum.

    The ``OUTSIDE`` row is dropped: it belongs to no chosen district. With no codes the
    table is returned unchanged.
    """
    if not codes:
        return table
    rows = table[table.index.isin(codes)]
    total = rows.drop(columns=["district_code", "district_name"]).sum(axis=0)
    out = pd.concat([rows, total.to_frame(TOTAL).T])
    out.loc[TOTAL, ["district_code", "district_name"]] = [TOTAL, ROW_NAMES[TOTAL][0]]
    for column in rows.columns[2:]:
        out[column] = out[column].astype(rows[column].dtype)
    out.index.name = table.index.name
    return out
