"""Checking a layer against its spec, reporting every problem at once.

:func:`conform` is the single gate all data passes through, from the sample
GeoPackage, an import or a database: it maps Chinese aliases to codes, casts types, and
raises one :class:`~geo.errors.ValidationError` listing every problem.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import LayerSpec
from layers.spec import FieldSpec

from .errors import Problem, ValidationError

__all__ = ["conform", "inspect", "normalise_values", "problems"]

log = logging.getLogger(__name__)

#: Ways registers write a date: 2020-06-30, 2020/6/30, 2020.6.30, 2020年6月30日, 20200630.
_DATE_TEXT = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))")

_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}


def _is_present(value: object) -> bool:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return False
    return not (isinstance(value, str) and not value.strip())


def _present_mask(values: pd.Series) -> np.ndarray:
    """Which entries hold a value: not null and not blank text."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        stripped = values.astype("str").str.strip()
        return (stripped.notna() & stripped.ne("")).to_numpy(dtype=bool)
    return values.notna().to_numpy(dtype=bool)


def _clean_text(values: pd.Series) -> pd.Series:
    """Text with surrounding white space removed; blank and null become missing (NaN)."""
    text = values.astype("str").str.strip()
    return text.where(text.ne(""))


def _to_codes(values: pd.Series, aliases: dict[str, str]) -> pd.Series:
    """Clean text with every accepted spelling replaced by its code.

    Coded fields hold a handful of distinct values, so the lookup runs once per distinct
    value rather than once per feature.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([aliases.get(str(u).lower(), u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")


def _iso_date(value: object) -> object:
    """A date, or text spelling one, as ``YYYY-MM-DD``; anything else unchanged."""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    match = _DATE_TEXT.fullmatch(str(value))
    if match is None:
        return value
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return value


def _to_iso_dates(values: pd.Series) -> pd.Series:
    """Dates (date, datetime or text in a common spelling) as ``YYYY-MM-DD`` text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype("str")
    codes, uniques = pd.factorize(_clean_text(values.astype(object)), use_na_sentinel=True)
    mapped = np.array([_iso_date(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")


def _is_iso_date(text: str) -> bool:
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


class _Ids:
    """Feature labels for messages, made only for the rows that have a problem."""

    def __init__(self, gdf: gpd.GeoDataFrame, spec: LayerSpec) -> None:
        self._col = gdf[spec.id_field] if spec.id_field in gdf.columns else None

    def __getitem__(self, i: int | np.integer) -> str:
        value = None if self._col is None else self._col.iloc[i]
        return str(value).strip() if _is_present(value) else f"#{i + 1}"


def _value(value: object) -> object:
    """A value as a message quotes it: a plain Python value."""
    return value.item() if isinstance(value, np.generic) else value


def normalise_values(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Clean the text fields and map accepted spellings of coded fields to their codes.

    Text loses surrounding white space and blank text becomes missing; ``"规划"`` or
    ``" Planned "`` become ``"planned"``; dates (``2020/6/30``, a spreadsheet's date cell)
    become ``"2020-06-30"``. Values that match nothing are left as they are,
    for :func:`problems` to report; numeric fields are not touched. Returns a copy.
    """
    out = gdf.copy()
    for f in spec.fields:
        if f.dtype != "str" or f.name not in out.columns:
            continue
        if f.date:
            out[f.name] = _to_iso_dates(out[f.name])
            continue
        text = _clean_text(out[f.name])
        out[f.name] = _to_codes(text, f.alias_map()) if f.choices else text
    return out


def _check_field(values: pd.Series, f: FieldSpec, spec: LayerSpec, ids: _Ids) -> Iterator[Problem]:
    present = values.notna().to_numpy(dtype=bool) if f.dtype == "str" else _present_mask(values)
    if f.required:
        for i in np.flatnonzero(~present):
            yield Problem(spec.name, ids[i], f.name, "missing_value")
    if f.dtype in ("int", "float"):
        numbers = pd.to_numeric(values.where(present), errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(present & np.isnan(numbers)):
            yield Problem(spec.name, ids[i], f.name, "not_number", {"value": _value(values.iloc[i])})
        ok = present & ~np.isnan(numbers)
        if f.dtype == "int":
            for i in np.flatnonzero(ok & (np.floor(numbers) != numbers)):
                yield Problem(spec.name, ids[i], f.name, "not_whole", {"value": _value(values.iloc[i])})
        if f.minimum is not None:
            for i in np.flatnonzero(ok & (numbers < f.minimum)):
                yield Problem(
                    spec.name, ids[i], f.name, "below_minimum", {"value": _value(values.iloc[i]), "minimum": f.minimum}
                )
    if f.date:
        for i in np.flatnonzero(present):
            if not _is_iso_date(str(values.iloc[i])):
                yield Problem(spec.name, ids[i], f.name, "not_date", {"value": _value(values.iloc[i])})
    if f.choices:
        allowed = values.isin(f.codes).to_numpy(dtype=bool)
        labels = tuple(c.zh for c in f.choices)
        for i in np.flatnonzero(present & ~allowed):
            yield Problem(
                spec.name,
                ids[i],
                f.name,
                "not_allowed",
                {"value": _value(values.iloc[i]), "codes": f.codes, "labels": labels},
            )


def problems(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[Problem]:
    """Every way ``gdf`` breaks ``spec``; empty when it conforms.

    Checks: CRS present; geometry present, valid, non-empty and of the layer's family;
    required fields present and filled; values in the allowed set; numbers numeric,
    whole where counts, not below their minimum; ids unique; and the layer's cross-field
    rules (``resettled <= households``). Expects coded values already normalised.
    """
    found: list[Problem] = []
    if gdf.crs is None:
        found.append(Problem(spec.name, None, None, "no_crs"))
    ids = _Ids(gdf, spec)
    geoms = gdf.geometry.array
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(missing | empty):
        found.append(Problem(spec.name, ids[i], "geometry", "empty_geometry"))
    present = ~(missing | empty)
    allowed = [_TYPE_IDS[t] for t in spec.geom_types]
    for i in np.flatnonzero(present & ~np.isin(types, allowed)):
        name = geoms[i].geom_type
        allowed_types = " or ".join(spec.geom_types)
        found.append(
            Problem(spec.name, ids[i], "geometry", "wrong_geometry", {"found": name, "allowed": allowed_types})
        )
    valid = shapely.is_valid(geoms)
    for i in np.flatnonzero(present & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        found.append(Problem(spec.name, ids[i], "geometry", "invalid_geometry", {"reason": reason}))

    for f in spec.fields:
        if f.name not in gdf.columns:
            if f.required:
                found.append(Problem(spec.name, None, f.name, "field_missing"))
            continue
        found.extend(_check_field(gdf[f.name], f, spec, ids))

    if spec.id_field in gdf.columns:
        col = gdf[spec.id_field]
        dup = col[col.notna().to_numpy() & col.duplicated(keep="first").to_numpy()]
        for v in dict.fromkeys(dup.astype(str)):
            found.append(Problem(spec.name, v, spec.id_field, "duplicate_id"))

    for rule in spec.rules:
        if {rule.field, rule.limit} <= set(gdf.columns):
            value = pd.to_numeric(gdf[rule.field], errors="coerce")
            limit = pd.to_numeric(gdf[rule.limit], errors="coerce")
            for i in np.flatnonzero(((value > limit) & (limit >= 0)).fillna(False).to_numpy()):
                found.append(
                    Problem(
                        spec.name,
                        ids[i],
                        rule.field,
                        "above_limit",
                        {
                            "field": rule.field,
                            "value": value.iloc[i],
                            "limit": rule.limit,
                            "limit_value": limit.iloc[i],
                        },
                    )
                )
    return found


def _cast(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Give each catalogue field its storage type; other columns are kept as they are.

    Counts become nullable integers (``Int64``), other numbers ``float64``, text the
    pandas string type with missing values as NaN.
    """
    out = gdf.copy()
    for f in spec.fields:
        if f.name not in out.columns:
            out[f.name] = None
        if f.dtype == "int":
            out[f.name] = pd.to_numeric(out[f.name]).astype("Int64")
        elif f.dtype == "float":
            out[f.name] = pd.to_numeric(out[f.name]).astype("float64")
        else:
            out[f.name] = out[f.name].astype("str")
    first = list(spec.field_names)
    rest = [c for c in out.columns if c not in first and c != out.geometry.name]
    return out[[*first, *rest, out.geometry.name]]


def inspect(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Normalise ``gdf`` to ``spec`` and list its problems, without raising.

    Returns
    -------
    (GeoDataFrame, list of Problem)
        When there are no problems, a copy with coded values mapped to codes, fields cast
        to their types (counts as nullable integers), catalogue fields first and the CRS
        unchanged; otherwise the normalised copy as it is, with the problems.
    """
    normal = normalise_values(gdf, spec)
    found = problems(normal, spec)
    if found:
        return normal, found
    log.info("layer %s: %d features conform", spec.name, len(normal))
    return _cast(normal, spec), found


def conform(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Normalise ``gdf`` to ``spec`` (see :func:`inspect`) or raise with every problem.

    Raises
    ------
    ValidationError
        Listing every problem found.
    """
    normal, found = inspect(gdf, spec)
    ValidationError.collect(found)
    return normal
