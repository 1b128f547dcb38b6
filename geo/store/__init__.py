"""The store: a GeoPackage or a PostGIS schema behind one :class:`Source`.

A path or a ``postgresql://`` URL is opened once, at the entry (:func:`open_source`);
what differs between a file and a database is the backend's business from then on
(:mod:`geo.store.gpkg`, :mod:`geo.store.postgis`), so no caller looks at a location again.
"""

from __future__ import annotations

import os

from .._pg import is_database_url, parse_url
from .base import EditStore, Source
from .gpkg import GpkgSource
from .postgis import PostgisSource

__all__ = ["EditStore", "GpkgSource", "PostgisSource", "Source", "database_urls", "open_database", "open_source"]


def open_source(location: str | os.PathLike[str] | Source, *, schema: str | None = None) -> Source:
    """The source at ``location``: a GeoPackage path, or a ``postgresql://`` URL.

    Parameters
    ----------
    location : path, str or Source
        A path, a URL (``postgresql://user[:password]@host[:port]/db[?schema=name]``), or a
        source already opened (returned as it is).
    schema : str, optional
        For a URL: the schema instead of the URL's own (see :func:`geo.postgis.parse_url`).

    Raises
    ------
    SourceError
        A URL that names no database, or a schema name that is not allowed. Nothing is read
        yet: a missing file or an unreachable server is found by the first read.
    """
    if not isinstance(location, str | os.PathLike):
        return location  # opened already
    if is_database_url(location):
        return open_database(str(location), schema=schema)
    return GpkgSource(location)


def open_database(url: str, *, schema: str | None = None) -> PostgisSource:
    """The PostGIS source at ``url`` (refused in one line when ``url`` is not a database URL)."""
    return PostgisSource(parse_url(url, schema=schema), location=url)


def database_urls(values: object) -> list[str]:
    """The database URLs among ``values`` (a command's arguments): what a log must never show."""
    items = values if isinstance(values, list | tuple) else [values]
    return [v for v in items if isinstance(v, str) and is_database_url(v)]
