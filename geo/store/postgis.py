"""The PostGIS backend: a source that is one schema of the bureau's database.

:class:`PostgisSource` is a :class:`geo.store.Source` over the existing implementation:
the connection and URLs (:mod:`geo._pg`), reading and writing the layers and what the tool
owns (:mod:`geo.postgis`, :mod:`geo._pgowner`), the change history (:mod:`geo.pghistory`)
and the statistics measured in the database (:mod:`geo.sqlstats`: only result rows travel).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from layers import CATALOGUE, LAYER_NAMES

from .. import pghistory, postgis, sqlstats
from .._pg import GEOMETRY_COLUMN, Database, _require_schema, connect, mask_url
from ..coverage import DEFAULT_TOLERANCE_M2
from ..crs import source_metric_crs
from ..errors import SourceError
from ..filters import Filter
from ..progress import Target, parse_targets, plan_progress
from .base import Source

__all__ = ["PostgisSource"]

log = logging.getLogger(__name__)


class PostgisSource:
    """A PostGIS schema as a source (the methods are :class:`geo.store.Source`'s).

    Attributes
    ----------
    db : Database
        Where to connect and which schema holds the layers.
    location : str
        The URL as given (may hold a password: never show it; use :attr:`name`).
    name : str
        The URL with its password masked and the schema named.
    """

    is_database = True

    def __init__(self, db: Database, location: str | None = None) -> None:
        self.db = db
        self.location = db.url if location is None else location
        self.name = db.masked

    def __repr__(self) -> str:
        return f"PostgisSource({self.name!r})"

    def __str__(self) -> str:
        return mask_url(self.location)

    def mask(self, text: str) -> str:
        return mask_url(text)

    def stamp(self) -> tuple[str, int, int]:
        # Watching a shared database costs a query; a reader that re-reads it on demand
        # keys on its own count of re-readings (the app's reload button).
        return (self.location, 0, 0)

    def exists(self) -> bool:
        return True  # connecting says when it is not there

    def table_names(self) -> list[str]:
        return postgis.list_tables(self.db)

    def read_table(self, table: str) -> gpd.GeoDataFrame:
        return postgis.read_layer(self.db, table)

    def layers(self, *, only: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
        return postgis.load_layers(self.db, layers=only)

    def info(self) -> dict[str, str]:
        return postgis.dataset_info(self.db)

    def history(self, *, layer: str | None = None, feature: str | None = None) -> pd.DataFrame:
        return pghistory.read_history(self.db, layer=layer, feature=feature)

    def write_layer(self, gdf: gpd.GeoDataFrame, layer: str, *, by: str = "", origin: str = "") -> None:
        postgis.store_layer(gdf, layer, self.db, by=by, origin=origin)

    def edit(self) -> contextlib.AbstractContextManager[pghistory.PgStore]:
        return pghistory.transaction(self.db)

    def metric_crs(
        self, override: str | int | CRS | None = None, *, layers: Mapping[str, gpd.GeoDataFrame] | None = None
    ) -> CRS:
        if layers is not None:
            return source_metric_crs(layers, override)
        # only each layer's extent leaves the server (geo.sqlstats.source_metric_srid)
        with connect(self.db) as conn:
            _require_schema(conn, self.db)
            rows = conn.execute(
                "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = %s AND f_geometry_column = %s",
                (self.db.schema, GEOMETRY_COLUMN),
            ).fetchall()
            srids = {str(name): int(srid) for name, srid in rows}
            present = {name: srids[name] for name in CATALOGUE if name in srids}
            return sqlstats.source_metric_srid(conn, self.db, present, override)

    def stats(
        self,
        *,
        crs: str | int | CRS | None = None,
        flt: Filter | None = None,
        tolerance_m2: float = DEFAULT_TOLERANCE_M2,
        on_layer: Callable[[str], None] | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    ) -> pd.DataFrame:
        # measured where the data is; layers read elsewhere are not needed
        return sqlstats.district_stats(
            self.db, crs=crs, flt=flt or Filter(), tolerance_m2=tolerance_m2, on_layer=on_layer
        )

    def progress(
        self,
        targets: list[Target],
        *,
        crs: str | int | CRS | None = None,
        layers: Mapping[str, gpd.GeoDataFrame] | None = None,
        as_of: dt.date | None = None,
    ) -> pd.DataFrame:
        if as_of is None:
            return sqlstats.plan_progress(self.db, targets, crs=crs)
        # the figures of a past day are rebuilt from the history, in Python
        read = dict(layers) if layers is not None else self.layers()
        return plan_progress(read, targets, crs=crs, as_of=as_of, history=self.history())

    def targets(self) -> list[Target] | None:
        inline = self.info().get("targets")
        return parse_targets(inline, where=f"{mask_url(self.location)} (dataset_info)") if inline else None

    def targets_file(self) -> Path | None:
        return None  # a database's plan travels in its dataset_info only

    def replaced_by_publish(self) -> dict[str, int]:
        """What a publish into this schema would replace: features of each of the tool's
        layers there (:func:`geo.postgis.replaced_by_publish`)."""
        return postgis.replaced_by_publish(self.db)

    def publish(self, source: Source, *, replace: bool = False, by: str = "") -> dict[str, int]:
        """Validate every layer of ``source`` and write them, with its ``dataset_info`` and change
        history, into this schema in one transaction (:func:`geo.postgis.publish_layers`).

        Returns
        -------
        dict of str to int
            Features written per layer.
        """
        layers = source.layers()
        if not layers:
            raise SourceError("source.no_catalogue_layer", file=mask_url(source.location), layers=LAYER_NAMES)
        postgis.publish_layers(
            layers,
            self.db,
            info=source.info(),
            replace=replace,
            history=source.history(),
            by=by,
            origin=source.name,
        )
        return {name: len(gdf) for name, gdf in layers.items()}
