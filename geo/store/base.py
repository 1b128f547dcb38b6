"""What every source is: the :class:`Source` protocol and the :class:`EditStore` of an edit.

Kept apart from the package's ``__init__`` so the backends can name the protocol without
importing the package that imports them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from ..filters import Filter
from ..progress import Target

__all__ = ["EditStore", "Source"]


class EditStore(Protocol):
    """Where an edit reads and writes: a GeoPackage or a PostGIS schema, in one transaction."""

    def lock_rows(self, layer: str, fields: Sequence[str], ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """The stored ``fields`` of those features ``ids`` that exist, locked until the end."""
        ...

    def last_change(self, layer: str, fid: str, field: str) -> tuple[str, str] | None:
        """Who made the latest recorded change of one field, and when (UTC)."""
        ...

    def update(self, layer: str, fid: str, field: str, value: object) -> None:
        """Set one field of one feature."""
        ...

    def insert(self, change: Mapping[str, object]) -> int:
        """Add one history row; its change id."""
        ...


class Source(Protocol):
    """A data source opened once (:func:`geo.store.open_source`): a GeoPackage or a PostGIS schema.

    Whether it is a file or a database is decided when it is opened; callers ask it, never
    its location, for what differs.
    """

    @property
    def location(self) -> str:
        """The path or URL as given (a URL may hold a password: show :attr:`name`)."""
        ...

    @property
    def name(self) -> str:
        """The source as messages and the page show it: a file's name without its folder, a
        database's URL with the password masked and the schema named."""
        ...

    @property
    def is_database(self) -> bool:
        """Whether the source is a shared database (whose data others change: it can be re-read)."""
        ...

    def mask(self, text: str) -> str:
        """``text`` (a message) as safe to show: the password of every database URL in it hidden."""
        ...

    def stamp(self) -> tuple[str, int, int]:
        """A cache key that changes when the data does: ``(location, mtime_ns, size)`` for a
        file (zeros when it is missing); ``(location, 0, 0)`` for a database, whose
        re-readings the caller counts itself."""
        ...

    def exists(self) -> bool:
        """Whether there is a source to read or add to (a database is taken to be there)."""
        ...

    def table_names(self) -> list[str]:
        """Names of the tables the source holds, spatial or not."""
        ...

    def read_table(self, table: str) -> gpd.GeoDataFrame:
        """One table as read, before validation."""
        ...

    def layers(self, *, only: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
        """The catalogue layers the source holds (``only`` these), validated, in catalogue
        order, in the source's CRS; ValidationError with the problems of all layers."""
        ...

    def info(self) -> dict[str, str]:
        """The key/value ``dataset_info`` table; empty when absent."""
        ...

    def history(self, *, layer: str | None = None, feature: str | None = None) -> pd.DataFrame:
        """The change history, oldest first (empty with the columns when none); only
        ``layer``'s changes, and ``feature``'s, when given."""
        ...

    def write_layer(self, gdf: gpd.GeoDataFrame, layer: str, *, by: str = "", origin: str = "") -> None:
        """Replace (or add) one layer atomically, reprojected to the source's CRS, the
        replacement recorded in the history (who: ``by``, what file: ``origin``)."""
        ...

    def edit(self) -> contextlib.AbstractContextManager[EditStore]:
        """One write transaction for an edit, committed when the block ends."""
        ...

    def metric_crs(
        self, override: str | int | CRS | None = None, *, layers: Mapping[str, gpd.GeoDataFrame] | None = None
    ) -> CRS:
        """The one metric CRS the whole source is measured in (:func:`geo.crs.source_metric_crs`),
        decided once per opened source; ``override`` instead when given. ``layers``: the
        source's layers as already read, so they are not read again to decide it."""
        ...

    def stats(
        self,
        *,
        crs: str | int | CRS | None = None,
        flt: Filter | None = None,
        tolerance_m2: float = ...,
        on_layer: Callable[[str], None] | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    ) -> pd.DataFrame:
        """:func:`geo.stats.district_stats` with ``flt``'s attribute filters applied, in
        :meth:`metric_crs`; a database measures itself (``layers`` unused)."""
        ...

    def progress(
        self,
        targets: list[Target],
        *,
        crs: str | int | CRS | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
        as_of: dt.date | None = None,
    ) -> pd.DataFrame:
        """:func:`geo.progress.plan_progress` of the source; ``as_of`` rebuilds a past day
        from the history."""
        ...

    def targets(self) -> list[Target] | None:
        """The plan the source carries: the ``targets`` entry of its ``dataset_info``, else
        (for a file) ``<name>.targets.toml`` beside it; None when it names none."""
        ...

    def targets_file(self) -> Path | None:
        """Where a targets file beside the source would lie; None for a database."""
        ...
