"""Statistics of any source: measured in the database for PostGIS, in Python otherwise.

The app and the command line call these, so a bureau database is measured where its data
is (:mod:`geo.sqlstats`: only result rows travel) and a GeoPackage by :mod:`geo.stats`;
which one is the opened source's choice (:class:`geo.store.Source`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from .coverage import DEFAULT_TOLERANCE_M2
from .filters import Filter
from .progress import Target
from .store import Source, open_source

__all__ = ["source_progress", "source_stats", "source_targets"]


def source_stats(
    source: str | os.PathLike[str] | Source,
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
    return open_source(source).stats(crs=crs, flt=flt, tolerance_m2=tolerance_m2, on_layer=on_layer, layers=layers)


def source_progress(
    source: str | os.PathLike[str] | Source,
    targets: list[Target],
    *,
    crs: str | int | CRS | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> pd.DataFrame:
    """:func:`geo.progress.plan_progress` of ``source`` (``layers`` as in :func:`source_stats`)."""
    return open_source(source).progress(targets, crs=crs, layers=layers)


def source_targets(source: str | os.PathLike[str] | Source) -> list[Target] | None:
    """The plan a source carries, or None when it names none.

    The ``targets`` entry of its ``dataset_info`` table (TOML text, so it travels with
    copies of the file) comes first, then, for a GeoPackage, a ``<name>.targets.toml`` file
    beside it.
    """
    return open_source(source).targets()
