"""The plan's figures against what the data holds.

Targets come from a TOML file (``data/targets.toml``), one ``[[target]]`` table each; see
that file for the keys. :func:`plan_progress` measures each one in a metric CRS.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import CATALOGUE

from .crs import reproject, source_metric_crs
from .errors import SourceError

__all__ = ["PROGRESS_COLUMNS", "Target", "load_targets", "measure_target", "plan_progress"]

log = logging.getLogger(__name__)

PROGRESS_COLUMNS: tuple[str, ...] = (
    "label_zh",
    "label_en",
    "unit_zh",
    "unit_en",
    "target",
    "actual",
    "difference",
    "percent",
)


@dataclass(frozen=True)
class Target:
    """One figure of the plan.

    Attributes
    ----------
    id : str
        Short key (``"road_km"``).
    zh, en : str
        Labels.
    layer : str
        Catalogue layer measured.
    measure : str
        ``"count"``, ``"km"``, ``"ha"``, ``"sum:<field>"`` or ``"pct:<ratio>"`` (a ratio the
        layer declares, in %: ``pct:intact`` is the road intact rate).
    value : float
        The plan's figure, in the measure's unit.
    where : dict
        Field filters: a code or a list of codes per field.
    name_has : str
        Text the feature name must contain; empty for no filter.
    """

    id: str
    zh: str
    en: str
    layer: str
    measure: str
    value: float
    unit_zh: str = ""
    unit_en: str = ""
    where: dict[str, str | list[str]] = field(default_factory=dict)
    name_has: str = ""
    quote: str = ""


def load_targets(path: str | os.PathLike[str]) -> list[Target]:
    """Read the targets file; SourceError naming the file and the problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the targets file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: not valid TOML ({exc})") from exc
    targets = []
    for i, entry in enumerate(raw.get("target", []), 1):
        try:
            target = Target(**entry)
        except TypeError as exc:
            raise SourceError(f"{path}: target #{i} is malformed ({exc})") from exc
        if target.layer not in CATALOGUE:
            raise SourceError(f"{path}: target {target.id!r} names unknown layer {target.layer!r}")
        targets.append(target)
    return targets


def _selected(gdf: gpd.GeoDataFrame, target: Target) -> gpd.GeoDataFrame:
    mask = np.ones(len(gdf), dtype=bool)
    for column, wanted in target.where.items():
        allowed = [wanted] if isinstance(wanted, str) else list(wanted)
        mask &= gdf[column].isin(allowed).to_numpy()
    if target.name_has:
        mask &= gdf["name"].astype(str).str.contains(target.name_has, regex=False).to_numpy()
    return gdf[mask]


def measure_target(layers: dict[str, gpd.GeoDataFrame], target: Target, *, crs: str | int | CRS | None = None) -> float:
    """What the data holds for ``target``, in the target's unit (0 when the layer is absent).

    Lengths and areas are measured in ``crs`` when given, else in the source's metric CRS
    (:func:`geo.crs.source_metric_crs`), the one the statistics use.
    """
    gdf = layers.get(target.layer)
    if gdf is None or gdf.empty:
        return 0.0
    chosen = _selected(gdf, target)
    if target.measure == "count":
        return float(len(chosen))
    if target.measure in ("km", "ha"):
        metric = source_metric_crs(layers, crs)
        geoms = reproject(chosen.geometry.to_numpy(), gdf.crs, metric)
        if target.measure == "km":
            return float(shapely.length(geoms).sum() / 1000.0)
        return float(shapely.area(geoms).sum() / 10_000.0)
    if target.measure.startswith("sum:"):
        return float(pd.to_numeric(chosen[target.measure[4:]]).fillna(0).sum())
    if target.measure.startswith("pct:"):
        return _ratio(layers, chosen, target, crs)
    raise SourceError(
        f"target {target.id!r}: unknown measure {target.measure!r}; use count, km, ha, sum:<field> or pct:<ratio>"
    )


def _ratio(
    layers: dict[str, gpd.GeoDataFrame], chosen: gpd.GeoDataFrame, target: Target, crs: str | int | CRS | None
) -> float:
    """A catalogue ratio of the chosen features (``pct:intact``), in %; NaN when its field is empty."""
    spec = CATALOGUE[target.layer]
    name = target.measure[4:]
    ratio = next((r for r in spec.ratios if r.name == name), None)
    if ratio is None:
        known = ", ".join(f"pct:{r.name}" for r in spec.ratios) or "none"
        raise SourceError(f"target {target.id!r}: layer {target.layer!r} has no ratio {name!r} (it has: {known})")
    geoms = reproject(chosen.geometry.to_numpy(), chosen.crs, source_metric_crs(layers, crs))
    amount = shapely.length(geoms) if spec.measure == "length" else shapely.area(geoms)
    values = chosen[ratio.field]
    whole = float(amount[values.notna().to_numpy(bool)].sum())
    part = float(amount[values.isin(ratio.codes).to_numpy(bool)].sum())
    return 100.0 * part / whole if whole > 0 else float("nan")


def plan_progress(
    layers: dict[str, gpd.GeoDataFrame], targets: list[Target], *, crs: str | int | CRS | None = None
) -> pd.DataFrame:
    """Each target against the data.

    Returns
    -------
    DataFrame
        Indexed by target id, columns :data:`PROGRESS_COLUMNS`: the plan's ``target``, the
        ``actual`` figure measured, ``difference`` = actual - target, and ``percent`` =
        100 * actual / target (NaN for a zero target).
    """
    metric = source_metric_crs(layers, crs)
    rows = []
    for t in targets:
        actual = measure_target(layers, t, crs=metric)
        percent = 100.0 * actual / t.value if t.value else float("nan")
        rows.append((t.id, t.zh, t.en, t.unit_zh, t.unit_en, float(t.value), actual, actual - t.value, percent))
    frame = pd.DataFrame(rows, columns=["id", *PROGRESS_COLUMNS]).set_index("id")
    log.info("plan progress: %d targets", len(frame))
    return frame
