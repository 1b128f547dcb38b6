"""The plan's figures against what the data holds.

Targets are TOML, one ``[[target]]`` table each (see ``data/targets.toml`` for the keys).
A source carries its own: the ``targets`` entry of its ``dataset_info`` table (the TOML
text), or a file ``<name>.targets.toml`` beside the GeoPackage; a source with neither has
no plan to track (:func:`source_targets`). :func:`plan_progress` measures each target in a
metric CRS.
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
from pyproj import CRS

from layers import CATALOGUE

from .errors import SourceError
from .measure import to_metric

__all__ = [
    "PROGRESS_COLUMNS",
    "Target",
    "load_targets",
    "measure_target",
    "parse_targets",
    "plan_progress",
    "source_targets",
    "targets_beside",
]

log = logging.getLogger(__name__)

PROGRESS_COLUMNS: tuple[str, ...] = (
    "label_zh",
    "label_en",
    "unit_zh",
    "unit_en",
    "measure",
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
        ``"count"``, ``"km"``, ``"ha"`` or ``"sum:<field>"``.
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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError("targets.unreadable", file=str(path), reason=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise SourceError("targets.not_toml", file=str(path), reason=str(exc)) from exc
    return parse_targets(text, where=str(path))


def parse_targets(text: str, *, where: str) -> list[Target]:
    """Targets from TOML ``text``; ``where`` names its origin in errors."""
    path = where
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError("targets.not_toml", file=str(path), reason=str(exc)) from exc
    targets = []
    for i, entry in enumerate(raw.get("target", []), 1):
        try:
            target = Target(**entry)
        except TypeError as exc:
            raise SourceError("targets.malformed", file=str(path), index=i, reason=str(exc)) from exc
        if target.layer not in CATALOGUE:
            raise SourceError("targets.unknown_layer", file=str(path), target=target.id, layer=target.layer)
        targets.append(target)
    return targets


def source_targets(source: str | os.PathLike[str]) -> list[Target] | None:
    """The plan a GeoPackage carries, or None when it names none.

    The ``targets`` entry of its ``dataset_info`` table (TOML text, so it travels with
    copies of the file) comes first, then a ``<name>.targets.toml`` file beside it.
    """
    from .io import dataset_info

    source = Path(source)
    inline = dataset_info(source).get("targets")
    if inline:
        return parse_targets(inline, where=f"{source} (dataset_info)")
    beside = targets_beside(source)
    return load_targets(beside) if beside.exists() else None


def targets_beside(source: str | os.PathLike[str]) -> Path:
    """Where a source's targets file would lie: ``city.gpkg`` -> ``city.targets.toml``."""
    source = Path(source)
    return source.with_name(f"{source.stem}.targets.toml")


def _selected(gdf: gpd.GeoDataFrame, target: Target) -> gpd.GeoDataFrame:
    mask = np.ones(len(gdf), dtype=bool)
    for column, wanted in target.where.items():
        allowed = [wanted] if isinstance(wanted, str) else list(wanted)
        mask &= gdf[column].isin(allowed).to_numpy()
    if target.name_has:
        mask &= gdf["name"].astype(str).str.contains(target.name_has, regex=False).to_numpy()
    return gdf[mask]


def measure_target(layers: dict[str, gpd.GeoDataFrame], target: Target, *, crs: str | int | CRS | None = None) -> float:
    """What the data holds for ``target``, in the target's unit (0 when the layer is absent)."""
    gdf = layers.get(target.layer)
    if gdf is None or gdf.empty:
        return 0.0
    chosen = _selected(gdf, target)
    if target.measure == "count":
        return float(len(chosen))
    if target.measure == "km":
        return float(to_metric(chosen, crs).length.sum() / 1000.0) if len(chosen) else 0.0
    if target.measure == "ha":
        return float(to_metric(chosen, crs).area.sum() / 10_000.0) if len(chosen) else 0.0
    if target.measure.startswith("sum:"):
        return float(pd.to_numeric(chosen[target.measure[4:]]).fillna(0).sum())
    raise SourceError("targets.unknown_measure", target=target.id, measure=target.measure)


def plan_progress(
    layers: dict[str, gpd.GeoDataFrame], targets: list[Target], *, crs: str | int | CRS | None = None
) -> pd.DataFrame:
    """Each target against the data.

    Returns
    -------
    DataFrame
        Indexed by target id, columns :data:`PROGRESS_COLUMNS`: the target's ``measure``
        (``count``, ``km``, ``ha`` or ``sum:<field>``), the plan's ``target``, the
        ``actual`` figure measured, ``difference`` = actual - target, and ``percent`` =
        100 * actual / target (NaN for a zero target).
    """
    rows = []
    for t in targets:
        actual = measure_target(layers, t, crs=crs)
        percent = 100.0 * actual / t.value if t.value else float("nan")
        rows.append(
            (t.id, t.zh, t.en, t.unit_zh, t.unit_en, t.measure, float(t.value), actual, actual - t.value, percent)
        )
    frame = pd.DataFrame(rows, columns=["id", *PROGRESS_COLUMNS]).set_index("id")
    log.info("plan progress: %d targets", len(frame))
    return frame
