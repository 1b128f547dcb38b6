"""Statistics of any source: measured in the database for PostGIS, in Python otherwise.

The app and the command line call these, so a bureau database is measured where its data
is (:mod:`geo.sqlstats`: only result rows travel) and a GeoPackage by :mod:`geo.stats`.
"""

from __future__ import annotations

import os

import pandas as pd
from pyproj import CRS

from .filters import Filter, attribute_filter
from .io import load_layers
from .postgis import is_database_url, parse_url
from .progress import Target, plan_progress
from .stats import district_stats

__all__ = ["source_progress", "source_stats"]


def source_stats(
    source: str | os.PathLike[str], *, crs: str | int | CRS | None = None, flt: Filter | None = None
) -> pd.DataFrame:
    """:func:`geo.stats.district_stats` of ``source`` with ``flt``'s attribute filters applied.

    ``flt.districts`` does not change the figures; choose rows afterwards with
    :func:`geo.stats.select_districts`.
    """
    flt = flt or Filter()
    if is_database_url(source):
        from . import sqlstats

        return sqlstats.district_stats(parse_url(str(source)), crs=crs, flt=flt)
    return district_stats(attribute_filter(load_layers(source), flt), crs=crs)


def source_progress(
    source: str | os.PathLike[str], targets: list[Target], *, crs: str | int | CRS | None = None
) -> pd.DataFrame:
    """:func:`geo.progress.plan_progress` of ``source``."""
    if is_database_url(source):
        from . import sqlstats

        return sqlstats.plan_progress(parse_url(str(source)), targets, crs=crs)
    return plan_progress(load_layers(source), targets, crs=crs)
