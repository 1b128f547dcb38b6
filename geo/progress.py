"""How far the plan really is: each figure of the plan against what is done, under way and planned.

Targets are TOML, one ``[[target]]`` table each (see ``data/targets.toml`` for the keys).
A source carries its own: the ``targets`` entry of its ``dataset_info`` table (the TOML
text), or a file ``<name>.targets.toml`` beside the GeoPackage; a source with neither has
no plan to track (:func:`geo.sources.source_targets`). A target measures a selection of one layer (``where``,
``name_has``) and says which of it counts as **done** and which as **under way** (by
status); the rest of the selection is **planned**. A target without ``done`` filters
counts all it measures as done (a sum such as resettled households). Lengths and areas
are measured in the source's metric CRS, the one the statistics use.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tomllib
from collections.abc import Mapping
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

__all__ = [
    "PROGRESS_COLUMNS",
    "Target",
    "load_targets",
    "measure_target",
    "monthly_progress",
    "parse_targets",
    "plan_progress",
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
    "in_data",
    "done",
    "under_way",
    "planned",
    "percent_done",
)

Filters = dict[str, str | list[str]]


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
        Field filters of what the target is about: a code or a list of codes per field.
    name_has : str
        Text the feature name must contain; empty for no filter.
    done, under_way : dict
        Field filters of what counts as done and as under way. Without ``done`` all of
        the selection counts as done.
    """

    id: str
    zh: str
    en: str
    layer: str
    measure: str
    value: float
    unit_zh: str = ""
    unit_en: str = ""
    where: Filters = field(default_factory=dict)
    name_has: str = ""
    quote: str = ""
    done: Filters = field(default_factory=dict)
    under_way: Filters = field(default_factory=dict)


def _check_filters(path: Path | str, target: Target) -> None:
    spec = CATALOGUE[target.layer]
    for kind, filters in (("where", target.where), ("done", target.done), ("under_way", target.under_way)):
        for name, wanted in filters.items():
            if name not in spec.field_names:
                raise SourceError("targets.unknown_field", file=str(path), target=target.id, kind=kind, field=name)
            codes = spec.field(name).codes
            unknown = [w for w in ([wanted] if isinstance(wanted, str) else wanted) if codes and w not in codes]
            if unknown:
                raise SourceError(
                    "targets.unknown_code",
                    file=str(path),
                    target=target.id,
                    kind=kind,
                    field=name,
                    value=unknown[0],
                    codes=codes,
                )
    if target.name_has and "name" not in spec.field_names:  # a layer need not name its features
        raise SourceError("targets.unknown_field", file=str(path), target=target.id, kind="name_has", field="name")
    if target.measure.startswith("pct:"):
        ratios = tuple(r.name for r in spec.ratios)
        if target.measure[4:] not in ratios:
            known = ", ".join(f"pct:{r}" for r in ratios) or "-"
            raise SourceError(
                "targets.unknown_ratio",
                file=str(path),
                target=target.id,
                layer=target.layer,
                measure=target.measure,
                known=known,
            )
    elif not (target.measure in ("count", "km", "ha") or target.measure.startswith("sum:")):
        raise SourceError("targets.unknown_measure", file=str(path), target=target.id, measure=target.measure)


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
        _check_filters(path, target)
        targets.append(target)
    return targets


def targets_beside(source: str | os.PathLike[str]) -> Path:
    """Where a source's targets file would lie: ``city.gpkg`` -> ``city.targets.toml``."""
    source = Path(source)
    return source.with_name(f"{source.stem}.targets.toml")


def _matching(gdf: gpd.GeoDataFrame, filters: Filters) -> np.ndarray:
    mask = np.ones(len(gdf), dtype=bool)
    for column, wanted in filters.items():
        allowed = [wanted] if isinstance(wanted, str) else list(wanted)
        mask &= gdf[column].isin(allowed).to_numpy()
    return mask


def _selected(gdf: gpd.GeoDataFrame, target: Target) -> np.ndarray:
    mask = _matching(gdf, target.where)
    if target.name_has:
        mask &= gdf["name"].astype(str).str.contains(target.name_has, regex=False).to_numpy()
    return mask


def _amounts(gdf: gpd.GeoDataFrame, target: Target, metric: CRS) -> np.ndarray:
    """Each feature's contribution to ``target``, in the target's unit."""
    if target.measure == "count":
        return np.ones(len(gdf))
    if target.measure.startswith("sum:"):
        return pd.to_numeric(gdf[target.measure[4:]]).fillna(0).to_numpy(dtype=float)
    geoms = reproject(gdf.geometry.to_numpy(), gdf.crs, metric)
    if target.measure == "km":
        return shapely.length(geoms) / 1000.0
    return shapely.area(geoms) / 10_000.0


@dataclass(frozen=True)
class Measured:
    """One target measured: what the data holds, and how much of it is done or under way."""

    in_data: float
    done: float
    under_way: float

    @property
    def planned(self) -> float:
        """What is neither done nor under way."""
        rest = self.in_data - self.done - self.under_way
        return max(rest, 0.0) if rest == rest else 0.0  # a rate with nothing surveyed: NaN, nothing planned


def measure_target(
    layers: Mapping[str, gpd.GeoDataFrame], target: Target, *, crs: str | int | CRS | None = None
) -> Measured:
    """What the data holds for ``target``, in the target's unit (zeros when the layer is absent).

    Lengths and areas are measured in ``crs`` when given, else in the source's metric CRS
    (:func:`geo.crs.source_metric_crs`), the one the statistics use.
    """
    gdf = layers.get(target.layer)
    if gdf is None or gdf.empty:
        return Measured(0.0, 0.0, 0.0)
    metric = source_metric_crs(layers, crs)
    chosen = gdf[_selected(gdf, target)]
    if target.measure.startswith("pct:"):
        rate = _ratio(chosen, target, metric)
        return Measured(rate, rate, 0.0)
    amounts = _amounts(chosen, target, metric)
    done = _matching(chosen, target.done) if target.done else np.ones(len(chosen), dtype=bool)
    under_way = _matching(chosen, target.under_way) & ~done if target.under_way else np.zeros(len(chosen), bool)
    return Measured(float(amounts.sum()), float(amounts[done].sum()), float(amounts[under_way].sum()))


def _ratio(chosen: gpd.GeoDataFrame, target: Target, metric: CRS) -> float:
    """A catalogue ratio of the chosen features (``pct:intact``), in %; NaN when its field is empty."""
    spec = CATALOGUE[target.layer]
    ratio = next(r for r in spec.ratios if r.name == target.measure[4:])
    if ratio.field not in chosen.columns:
        return float("nan")
    geoms = reproject(chosen.geometry.to_numpy(), chosen.crs, metric)
    amount = shapely.length(geoms) if spec.measure == "length" else shapely.area(geoms)
    values = chosen[ratio.field]
    whole = float(amount[values.notna().to_numpy(bool)].sum())
    part = float(amount[values.isin(ratio.codes).to_numpy(bool)].sum())
    return 100.0 * part / whole if whole > 0 else float("nan")


def plan_progress(
    layers: Mapping[str, gpd.GeoDataFrame],
    targets: list[Target],
    *,
    crs: str | int | CRS | None = None,
    as_of: dt.date | None = None,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each target against the data: in the data, done, under way, planned.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        The source's layers, as they are now.
    targets : list of Target
        The plan's figures.
    crs : CRS-like, optional
        Metric CRS to measure in (default: the source's).
    as_of : date, optional
        Give the figures as they stood on this day, rebuilt from ``history`` (see
        :func:`geo.history.values_as_of`).
    history : DataFrame, optional
        The source's change history (:func:`geo.history.read_history`); needed with ``as_of``.

    Returns
    -------
    DataFrame
        Indexed by target id, columns :data:`PROGRESS_COLUMNS`: the target's ``measure``
        (``count``, ``km``, ``ha`` or ``sum:<field>``), the plan's ``target``, what
        the data holds (``in_data``), ``done``, ``under_way`` and ``planned`` in the
        target's unit, and ``percent_done`` = 100 * done / target (NaN for a zero target).
    """
    if as_of is not None:
        from .history import values_as_of

        layers = values_as_of(layers, history if history is not None else pd.DataFrame(), as_of)
    metric = source_metric_crs(layers, crs)
    rows = []
    for t in targets:
        m = measure_target(layers, t, crs=metric)
        percent = 100.0 * m.done / t.value if t.value else float("nan")
        rows.append(
            (
                *(t.id, t.zh, t.en, t.unit_zh, t.unit_en, t.measure, float(t.value)),
                *(m.in_data, m.done, m.under_way, m.planned, percent),
            )
        )
    frame = pd.DataFrame(rows, columns=["id", *PROGRESS_COLUMNS]).set_index("id")
    log.info("plan progress: %d targets%s", len(frame), f" as of {as_of}" if as_of else "")
    return frame


def monthly_progress(
    layers: Mapping[str, gpd.GeoDataFrame],
    targets: list[Target],
    history: pd.DataFrame,
    *,
    until: dt.date,
    not_before: dt.date,
) -> pd.DataFrame:
    """Each target's done figure at the end of every month from the first recorded change to
    ``until`` (and on ``until`` itself), as the history rebuilds it.

    Parameters
    ----------
    layers, targets : as :func:`plan_progress`.
    history : DataFrame
        The source's change history (:func:`geo.io.read_history`), not empty.
    until : date
        The last day of the series (today).
    not_before : date
        The series never starts before this day, whatever the history says (the span of
        sane dates, ``NANGUAN_DATE_MIN``): its length is bounded by the settings, not by data.

    Returns
    -------
    DataFrame
        One row per day (month ends, then ``until``), one column per target id, in the
        targets' units.
    """
    first = max(dt.date.fromisoformat(str(history["date"].min())), not_before)
    ends = [*pd.date_range(first, until, freq="ME").date, until]
    rows = {day: plan_progress(layers, targets, as_of=day, history=history)["done"] for day in ends}
    return pd.DataFrame(rows).T
