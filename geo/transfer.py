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

from ._atomic import atomic_path
from .errors import SourceError
from .export import write_gpkg
from .history import write_history
from .oplog import logged
from .store import Source, open_database, open_source
from .store.gpkg import set_dataset_info

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
def publish(
    source: str | os.PathLike[str] | Source,
    url: str,
    *,
    schema: str | None = None,
    replace: bool = False,
    by: str = "",
) -> dict[str, int]:
    """Validate every layer of ``source`` and publish them, with its change history, into a PostGIS schema.

    The publish itself is recorded in the history: one row per layer, by ``by``
    (:meth:`geo.store.PostgisSource.publish`).

    Returns
    -------
    dict of str to int
        Features written per layer.
    """
    target = open_database(url, schema=schema)
    return target.publish(open_source(source), replace=replace, by=by)


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

    db = open_database(url, schema=schema)
    out = Path(target)
    if out.exists() and not replace:
        raise SourceError("pull.exists", file=out.name)
    if out.exists() and (out.is_dir() or out.open("rb").read(16) != b"SQLite format 3\x00"):
        # --replace replaces a GeoPackage, never another kind of file a typo named
        raise SourceError("pull.not_gpkg", file=out.name)
    layers = db.layers()
    if not layers:
        raise SourceError("source.no_catalogue_layer", file=db.name, layers=LAYER_NAMES)
    info, history = db.info(), db.history()
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
    log.info("pulled %s into %s with %d changes", db.name, out.name, len(history))
    return {name: len(gdf) for name, gdf in layers.items()}
