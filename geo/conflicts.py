"""Plan-conflict checks across layers: where one layer's plan runs into another's.

Each check is a :class:`Rule`, data rather than code: two sides (a layer and the codes of
one of its fields that pick its features) and what the overlap is measured by. The rules of
the renewal plan are declared by the layer modules (:class:`layers.Conflict`, on the layer
of side ``a``) and gathered, in catalogue order, in :data:`RULES`; :func:`find_conflicts`
runs any tuple of them.
Every conflict names both features, the rule's kind and the measured overlap, in the
source's metric CRS (CGCS2000 Gauss-Kruger, EPSG:4551 for Nanguan).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE

from . import _parallel
from .crs import reproject, source_metric_crs
from .impact import NOISE

__all__ = ["COLUMNS", "RULES", "Rule", "Side", "find_conflicts", "rule_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Side:
    """The features of one layer a rule looks at.

    Parameters
    ----------
    layer : str
        Catalogue layer name.
    field : str or None
        Coded field that picks the features; None takes them all.
    codes : tuple of str
        The codes of ``field`` that are picked.
    """

    layer: str
    field: str | None = None
    codes: tuple[str, ...] = ()

    def pick(self, gdf: gpd.GeoDataFrame) -> np.ndarray:
        """Which features of ``gdf`` this side takes, as a boolean mask."""
        if self.field is None:
            return np.ones(len(gdf), dtype=bool)
        return gdf[self.field].astype(str).isin(self.codes).to_numpy()


@dataclass(frozen=True)
class Rule:
    """One conflict check: features of ``a`` that overlap features of ``b``.

    Parameters
    ----------
    kind : str
        Identifier of the check (``"parcel_on_greenbelt"``).
    zh, en : str
        What the conflict is, for people.
    a, b : Side
        The two sides; the overlap is ``a ∩ b``.
    measure : {"area", "length", "count"}
        The overlap's measure: m² of two polygons, m of a line in a polygon, or 1 for a
        point inside (or on the edge of) a polygon.
    color : str
        Colour of the conflict on the map.
    """

    kind: str
    zh: str
    en: str
    a: Side
    b: Side
    measure: Literal["area", "length", "count"]
    color: str = "#d50000"

    def label(self, lang: str) -> str:
        """What the conflict is, in ``lang``."""
        return self.zh if lang == "zh" else self.en


def _rules() -> tuple[Rule, ...]:
    """The catalogue's conflicts (each layer module declares its own), in catalogue order."""
    return tuple(
        Rule(
            c.kind,
            c.zh,
            c.en,
            Side(spec.name, c.pick.field, c.pick.codes),
            Side(c.other, c.other_pick.field, c.other_pick.codes),
            c.measure,
            c.color,
        )
        for spec in CATALOGUE.values()
        for c in spec.conflicts
    )


#: The plan's conflict rules, as the layer modules declare them.
RULES: tuple[Rule, ...] = _rules()

#: Columns of :func:`find_conflicts`, before the geometry.
COLUMNS: tuple[str, ...] = ("kind", "layer_a", "id_a", "layer_b", "id_b", "overlap", "unit")
_UNIT = {"area": "m2", "length": "m", "count": "count"}


def rule_for(kind: str, rules: tuple[Rule, ...] = RULES) -> Rule:
    """The rule called ``kind``; KeyError naming the known kinds otherwise."""
    for rule in rules:
        if rule.kind == kind:
            return rule
    raise KeyError(f"unknown conflict kind {kind!r}; known: {', '.join(r.kind for r in rules)}")


def _empty(metric: CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs=metric)


def _project_picked(gdf: gpd.GeoDataFrame, picked: np.ndarray, metric: CRS) -> np.ndarray:
    """``gdf``'s geometries in ``metric`` where ``picked``, None elsewhere."""
    out = np.full(len(gdf), None, dtype=object)
    out[picked] = reproject(gdf.geometry.to_numpy()[picked], gdf.crs, metric)
    return out


def _check(
    rule: Rule, layers: Mapping[str, gpd.GeoDataFrame], projected: Mapping[str, np.ndarray], metric: CRS
) -> gpd.GeoDataFrame:
    """The conflicts of one rule, overlap geometries in ``metric`` (``projected`` holds the layers in it)."""
    if rule.a.layer not in projected or rule.b.layer not in projected:
        return _empty(metric)
    pick_a, pick_b = rule.a.pick(layers[rule.a.layer]), rule.b.pick(layers[rule.b.layer])
    ga, gb = projected[rule.a.layer][pick_a], projected[rule.b.layer][pick_b]
    ia, ib = shapely.STRtree(gb).query(ga, predicate="intersects") if len(ga) and len(gb) else ([], [])
    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    if rule.measure == "count":
        pieces = ga[ia]
        overlap = np.ones(len(ia))
    else:
        pieces = _parallel.intersection(ga[ia], gb[ib])
        overlap = shapely.area(pieces) if rule.measure == "area" else shapely.length(pieces)
    keep = overlap > (0 if rule.measure == "count" else NOISE)
    ia, ib, pieces, overlap = ia[keep], ib[keep], pieces[keep], overlap[keep]
    ids_a = layers[rule.a.layer][CATALOGUE[rule.a.layer].id_field].astype(str).to_numpy()[pick_a]
    ids_b = layers[rule.b.layer][CATALOGUE[rule.b.layer].id_field].astype(str).to_numpy()[pick_b]
    return gpd.GeoDataFrame(
        {
            "kind": rule.kind,
            "layer_a": rule.a.layer,
            "id_a": ids_a[ia],
            "layer_b": rule.b.layer,
            "id_b": ids_b[ib],
            "overlap": overlap,
            "unit": _UNIT[rule.measure],
        },
        geometry=pieces,
        crs=metric,
    )


def find_conflicts(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: tuple[Rule, ...] = RULES,
    crs: str | int | CRS | None = None,
) -> gpd.GeoDataFrame:
    """Every conflict of ``rules`` in ``layers``.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Validated catalogue layers; a rule whose layers are absent finds nothing.
    rules : tuple of Rule
        The checks to run (default :data:`RULES`).
    crs : CRS-like, optional
        Metric CRS to measure in; default the source's CGCS2000 Gauss-Kruger zone.

    Returns
    -------
    GeoDataFrame
        One row per conflicting pair, in rule order then by ``id_a`` and ``id_b``:
        :data:`COLUMNS` (``overlap`` in ``unit``: ``m2``, ``m`` or ``count``) and the
        overlap's geometry, in the metric CRS.
    """
    metric = source_metric_crs(layers, crs)
    wanted: dict[str, np.ndarray] = {}
    for side in (side for rule in rules for side in (rule.a, rule.b) if side.layer in layers):
        wanted[side.layer] = wanted.get(side.layer, False) | side.pick(layers[side.layer])
    # Only the features some rule picks are projected, each once, layers side by side
    # (PROJ releases the GIL); the others stay None and are never looked at.
    with ThreadPoolExecutor(_parallel.workers()) as pool:
        geoms = pool.map(lambda item: _project_picked(layers[item[0]], item[1], metric), wanted.items())
        projected = dict(zip(wanted, geoms, strict=True))
    found = [_check(rule, layers, projected, metric) for rule in rules]
    frame = pd.concat(found, ignore_index=True) if found else _empty(metric)
    order = {rule.kind: i for i, rule in enumerate(rules)}
    frame = frame.assign(_rule=frame["kind"].map(order)).sort_values(["_rule", "id_a", "id_b"], kind="stable")
    out = gpd.GeoDataFrame(frame.drop(columns="_rule").reset_index(drop=True), geometry="geometry", crs=metric)
    log.info("%d conflicts found by %d checks in %s", len(out), len(rules), metric.name)
    return out
