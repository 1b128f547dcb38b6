"""Checking a layer against its spec, reporting every problem at once.

:func:`conform` is the single gate all data passes through, from the sample
GeoPackage, an import or a database: it maps Chinese aliases to codes, casts types, and
raises one :class:`~geo.errors.ValidationError` listing every problem.
"""

from __future__ import annotations

import logging
import math
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


def _feature_ids(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[str]:
    """Feature labels for messages: the id when present, else the row number."""
    if spec.id_field in gdf.columns:
        ids = gdf[spec.id_field].tolist()
    else:
        ids = [None] * len(gdf)
    return [str(v) if _present(v) else f"#{i + 1}" for i, v in enumerate(ids)]


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if value is pd.NA or value is pd.NaT:
        return False
    return not (isinstance(value, str) and value.strip() == "")


def normalise_values(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Map accepted spellings (``"规划"``, ``" Planned "``) of coded fields to their codes.

    Values that match nothing are left as they are, for :func:`problems` to report.
    Returns a copy; the input is not changed.
    """
    out = gdf.copy()
    for f in spec.fields:
        if not f.choices or f.name not in out.columns:
            continue
        aliases = f.alias_map()
        out[f.name] = [aliases.get(str(v).strip().lower(), v) if _present(v) else None for v in out[f.name]]
    return out


def _check_field(values: pd.Series, f: FieldSpec, spec: LayerSpec, ids: list[str]) -> Iterator[Problem]:
    allowed = set(f.codes)
    for fid, v in zip(ids, values.tolist(), strict=True):
        if not _present(v):
            if f.required:
                yield Problem(spec.name, fid, f.name, "required value is missing")
            continue
        if f.dtype in ("int", "float"):
            try:
                number = float(v)
            except (TypeError, ValueError):
                yield Problem(spec.name, fid, f.name, f"{v!r} is not a number")
                continue
            if f.dtype == "int" and not number.is_integer():
                yield Problem(spec.name, fid, f.name, f"{v!r} is not a whole number")
            if f.minimum is not None and number < f.minimum:
                yield Problem(spec.name, fid, f.name, f"{v!r} is below the minimum {f.minimum:g}")
        if allowed and str(v) not in allowed:
            yield Problem(spec.name, fid, f.name, f"{v!r} is not one of {', '.join(f.codes)} (or their Chinese names)")


def problems(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[Problem]:
    """Every way ``gdf`` breaks ``spec``; empty when it conforms.

    Checks: CRS present; geometry present, valid, non-empty and of the layer's family;
    required fields present and filled; values in the allowed set; numbers numeric,
    whole where counts, not below their minimum; ids unique; and for parcels
    ``0 <= resettled <= households``. Expects coded values already normalised.
    """
    found: list[Problem] = []
    if gdf.crs is None:
        found.append(Problem(spec.name, None, None, "has no CRS; name one (for example EPSG:4326)"))
    ids = _feature_ids(gdf, spec)
    geoms = gdf.geometry.array
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    types = shapely.get_type_id(geoms)
    type_names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )
    for i in np.flatnonzero(missing | empty):
        found.append(Problem(spec.name, ids[i], "geometry", "geometry is empty"))
    present = ~(missing | empty)
    for i in np.flatnonzero(present):
        name = type_names[types[i]]
        if name not in spec.geom_types:
            found.append(
                Problem(spec.name, ids[i], "geometry", f"is a {name}; this layer takes {' or '.join(spec.geom_types)}")
            )
    valid = shapely.is_valid(geoms)
    for i in np.flatnonzero(present & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        found.append(Problem(spec.name, ids[i], "geometry", f"invalid geometry: {reason}"))

    for f in spec.fields:
        if f.name not in gdf.columns:
            if f.required:
                found.append(Problem(spec.name, None, f.name, "required field is missing"))
            continue
        found.extend(_check_field(gdf[f.name], f, spec, ids))

    if spec.id_field in gdf.columns:
        col = gdf[spec.id_field]
        dup = col[col.map(_present) & col.astype(str).duplicated(keep="first")]
        for v in dict.fromkeys(dup.astype(str)):
            found.append(Problem(spec.name, v, spec.id_field, "duplicate id"))

    if spec.name == "parcels" and {"households", "resettled"} <= set(gdf.columns):
        hh = pd.to_numeric(gdf["households"], errors="coerce")
        rs = pd.to_numeric(gdf["resettled"], errors="coerce")
        for i in np.flatnonzero(((rs > hh) & (hh >= 0)).fillna(False).to_numpy()):
            found.append(
                Problem(
                    spec.name, ids[i], "resettled", f"resettled ({rs.iloc[i]:g}) exceeds households ({hh.iloc[i]:g})"
                )
            )
    return found


def _cast(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Give each catalogue field its storage type; other columns are kept as they are."""
    out = gdf.copy()
    for f in spec.fields:
        if f.name not in out.columns:
            out[f.name] = None
        if f.dtype == "int":
            out[f.name] = pd.to_numeric(out[f.name]).astype("Int64")
        elif f.dtype == "float":
            out[f.name] = pd.to_numeric(out[f.name]).astype("float64")
        else:
            out[f.name] = [str(v).strip() if _present(v) else None for v in out[f.name]]
            out[f.name] = out[f.name].astype("object")
    first = list(spec.field_names)
    rest = [c for c in out.columns if c not in first and c != out.geometry.name]
    return out[first + rest + [out.geometry.name]]


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
