"""Moving a whole source between a GeoPackage and the bureau's PostGIS database.

:func:`publish` validates every layer of a source (a GeoPackage, or another schema) and
writes them with their ``dataset_info`` and change history into a PostGIS schema in one
transaction (:func:`geo.postgis.publish_layers`, which writes only where the tool owns
what it replaces); :func:`pull` is the way back, a schema into a new GeoPackage written
atomically, history and change ids included. Above both backends, so neither imports
the other.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from layers import LAYER_NAMES

from . import pghistory, postgis
from ._atomic import atomic_path
from .errors import SourceError
from .export import write_gpkg
from .history import write_history
from .io import dataset_info as source_info
from .io import load_layers as load_source_layers
from .io import read_history, set_dataset_info
from .oplog import logged
from .postgis import is_database_url, mask_url, parse_url, publish_layers

__all__ = ["publish", "pull"]

log = logging.getLogger(__name__)


@logged(
    "publish",
    figures=lambda written, _: {"layer": ",".join(written), "features": sum(written.values())},
    who="by",
    source="source",
    target="url",
    schema="schema",
)
def publish(source: str, url: str, *, schema: str | None = None, replace: bool = False, by: str = "") -> dict[str, int]:
    """Validate every layer of ``source`` and publish them, with its change history, into a PostGIS schema.

    The publish itself is recorded in the history: one row per layer, by ``by``.

    Returns
    -------
    dict of str to int
        Features written per layer.
    """

    db = parse_url(url, schema=schema)
    layers = load_source_layers(source)
    if not layers:
        raise SourceError("source.no_catalogue_layer", file=mask_url(source), layers=LAYER_NAMES)

    publish_layers(
        layers,
        db,
        info=source_info(source),
        replace=replace,
        history=read_history(source),
        by=by,
        origin=parse_url(source).masked if is_database_url(source) else Path(source).name,
    )
    return {name: len(gdf) for name, gdf in layers.items()}


@logged(
    "export",
    figures=lambda written, _: {"layer": ",".join(written), "features": sum(written.values())},
    source="url",
    schema="schema",
    format=lambda _: "gpkg",
    out="target",
)
def pull(
    url: str, target: str | os.PathLike[str], *, schema: str | None = None, replace: bool = False
) -> dict[str, int]:
    """Write every layer of a PostGIS source, its ``dataset_info`` and its change history into
    a new GeoPackage ``target`` (replaced atomically: a failure leaves an existing file as it was).

    The history keeps its change ids, so edits made later in the GeoPackage number on.

    Returns
    -------
    dict of str to int
        Features written per layer.
    """

    db = parse_url(url, schema=schema)
    out = Path(target)
    if out.exists() and not replace:
        raise SourceError("pull.exists", file=out.name)
    if out.exists() and (out.is_dir() or out.open("rb").read(16) != b"SQLite format 3\x00"):
        # --replace replaces a GeoPackage, never another kind of file a typo named
        raise SourceError("pull.not_gpkg", file=out.name)
    layers = postgis.load_layers(db)
    if not layers:
        raise SourceError("source.no_catalogue_layer", file=db.masked, layers=LAYER_NAMES)

    info, history = postgis.dataset_info(db), pghistory.read_history(db)
    with atomic_path(out) as tmp:
        write_gpkg(layers, tmp)
        if info:
            set_dataset_info(tmp, info)
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("BEGIN")
            write_history(con, history)
            con.execute("COMMIT")
        finally:
            con.close()
    log.info("pulled %s into %s with %d changes", db.masked, out.name, len(history))
    return {name: len(gdf) for name, gdf in layers.items()}
