"""Reading and writing any source by its location, for callers that hold a path or a URL.

Each function opens the source (:func:`geo.store.open_source`) and asks it; code that works
with one source opens it once and calls its methods instead. The GeoPackage itself is read
and written in :mod:`geo.store.gpkg`, PostGIS in :mod:`geo.store.postgis`.
"""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd

from .store import Source, open_source
from .store.gpkg import check_gpkg_path, set_dataset_info

__all__ = [
    "check_gpkg_path",
    "dataset_info",
    "list_source_layers",
    "load_layers",
    "read_history",
    "read_layer",
    "set_dataset_info",
    "store_layer",
]

Location = str | os.PathLike[str] | Source


def list_source_layers(source: Location) -> list[str]:
    """Names of the tables of a GeoPackage or PostGIS schema, spatial or not."""
    return open_source(source).table_names()


def read_layer(source: Location, layer: str) -> gpd.GeoDataFrame:
    """One table of a source as read, before validation."""
    return open_source(source).read_table(layer)


def load_layers(source: Location, *, layers: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The catalogue layers a source holds, each validated and normalised.

    Parameters
    ----------
    source : path-like, str or Source
        A GeoPackage, or a ``postgresql://`` URL.
    layers : tuple of str, optional
        Only these layers (default: every catalogue layer present).

    Returns
    -------
    dict of str to GeoDataFrame
        By layer name, in catalogue order; layers the source does not have are absent.
        Geometries keep the source CRS.

    Raises
    ------
    SourceError
        The source cannot be read.
    ValidationError
        Any layer breaks its spec; the problems of all layers together.
    """
    return open_source(source).layers(only=layers)


def dataset_info(source: Location) -> dict[str, str]:
    """The key/value metadata table (``dataset_info``) of a source; empty when absent."""
    return open_source(source).info()


def store_layer(gdf: gpd.GeoDataFrame, layer: str, target: Location, *, by: str = "", origin: str = "") -> None:
    """Replace (or add) one layer of a GeoPackage or PostGIS schema, atomically.

    The GeoPackage is copied beside itself, the layer written into the copy and read back
    through the validating loader, and only then does the copy replace the original; a
    failure at any step leaves ``target`` byte for byte as it was. A layer in another CRS
    than the target's other layers is reprojected to theirs, so a source has one CRS.
    The replacement is recorded in the target's change history (who: ``by``, what file:
    ``origin``, how many features), in the same copy, so the record and the data land together.
    In PostGIS the table is replaced in one transaction (:func:`geo.postgis.store_layer`),
    reprojected likewise, and recorded in the schema's change history in that transaction.
    """
    open_source(target).write_layer(gdf, layer, by=by, origin=origin)


def read_history(source: Location, *, layer: str | None = None, feature: str | None = None) -> pd.DataFrame:
    """The change history of a source, oldest first (empty with the columns when none).

    Parameters
    ----------
    source : path, str or Source
        A GeoPackage, or a ``postgresql://`` URL.
    layer, feature : str, optional
        Keep only the changes of this layer, and of this feature id.
    """
    return open_source(source).history(layer=layer, feature=feature)
