"""Statistics of any source: measured in the database for PostGIS, in Python otherwise.

The app and the command line call these, so a bureau database is measured where its data
is (:mod:`geo.sqlstats`: only result rows travel) and a GeoPackage by :mod:`geo.stats`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from .coverage import DEFAULT_TOLERANCE_M2
from .crs import source_metric_crs
from .filters import Filter, attribute_filter
from .io import load_layers
from .postgis import is_database_url, parse_url
from .progress import Target, plan_progress
from .stats import district_stats

__all__ = ["source_progress", "source_stats"]


def source_stats(
    source: str | os.PathLike[str],
    *,
    crs: str | int | CRS | None = None,
    flt: Filter | None = None,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    on_layer: Callable[[str], None] | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> pd.DataFrame:
    """:func:`geo.stats.district_stats` of ``source`` with ``flt``'s attribute filters applied.

    Measured in the source's metric CRS (chosen from all its layers, unfiltered) unless
    ``crs`` is given. ``flt.districts`` does not change the figures; choose rows afterwards
    with :func:`geo.stats.select_districts`. ``layers``: a file source's layers as already
    read (the app's cache), so they are not read again; a database measures its own.
    """
    flt = flt or Filter()
    if is_database_url(source):
        from . import sqlstats

        db = parse_url(str(source))
        return sqlstats.district_stats(db, crs=crs, flt=flt, tolerance_m2=tolerance_m2, on_layer=on_layer)
    read = dict(layers) if layers is not None else load_layers(source)
    metric = source_metric_crs(read, crs)
    return district_stats(attribute_filter(read, flt), crs=metric, tolerance_m2=tolerance_m2, on_layer=on_layer)


def source_progress(
    source: str | os.PathLike[str],
    targets: list[Target],
    *,
    crs: str | int | CRS | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> pd.DataFrame:
    """:func:`geo.progress.plan_progress` of ``source`` (``layers`` as in :func:`source_stats`)."""
    if is_database_url(source):
        from . import sqlstats

        return sqlstats.plan_progress(parse_url(str(source)), targets, crs=crs)
    return plan_progress(dict(layers) if layers is not None else load_layers(source), targets, crs=crs)
