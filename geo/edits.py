"""Attribute edits of a GeoPackage source, validated, recorded in its history, undoable.

An edit changes fields of one feature or several (``status``, ``households``,
``resettled``, ``name`` …). It is checked against the catalogue first (allowed values,
whole numbers, ``resettled <= households``); a refused edit changes nothing. The new
values and their history rows are written in one SQLite transaction, so a killed editor
leaves either the old values or the new ones with their history, never one without the
other. An edit made against values that have changed since they were shown is refused,
naming who changed them and when (optimistic locking).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from layers import CATALOGUE, LayerSpec

from ._gpkg import register_gpkg_functions
from .errors import RenewalError, SourceError
from .history import IMPORT_FIELD, ensure_history_table
from .io import load_layers
from .validate import normalise_values, problems

__all__ = ["Change", "EditConflict", "EditError", "edit_features", "record_import", "undo_change"]

log = logging.getLogger(__name__)


class EditError(RenewalError, ValueError):
    """An edit refused: unknown layer, feature or field, or a value the catalogue forbids."""


class EditConflict(EditError):
    """An edit made against values someone else has changed since they were shown."""


@dataclass(frozen=True)
class Change:
    """One recorded change of one field of one feature."""

    change_id: int
    recorded_at: str
    date: str
    by: str
    layer: str
    id: str | None
    field: str
    old: str | None
    new: str | None
    note: str


def _as_text(value: object) -> str | None:
    """A value as the history stores it: text, or None for missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(spec: LayerSpec, name: str, value: object) -> object:
    """A new value as the field stores it; EditError when it is not one."""
    f = spec.field(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            raise EditError("edit.value_required", layer=spec.name, field=name)
        return None
    if f.dtype == "str":
        text = str(value).strip()
        return f.alias_map().get(text.lower(), text) if f.choices else text
    try:
        number = float(str(value).strip())
    except ValueError:
        raise EditError("edit.not_number", layer=spec.name, field=name, value=value) from None
    if f.dtype == "int":
        if not number.is_integer():
            raise EditError("edit.not_whole", layer=spec.name, field=name, value=value)
        return int(number)
    return number


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    register_gpkg_functions(con)
    con.execute("BEGIN IMMEDIATE")  # one writer at a time; readers go on
    return con


def _last_change(con: sqlite3.Connection, layer: str, fid: str, field: str) -> tuple[str, str] | None:
    exists = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='change_history'").fetchone()
    if not exists:
        return None
    row = con.execute(
        'SELECT "by", recorded_at FROM change_history WHERE layer = ? AND id = ? AND field = ? '
        "ORDER BY change_id DESC LIMIT 1",
        (layer, fid, field),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def _insert(con: sqlite3.Connection, change: dict[str, str | None]) -> Change:
    ensure_history_table(con)
    cur = con.execute(
        'INSERT INTO change_history (recorded_at, date, "by", layer, id, field, old, new, note) '
        "VALUES (:recorded_at, :date, :by, :layer, :id, :field, :old, :new, :note)",
        change,
    )
    return Change(change_id=int(cur.lastrowid or 0), **change)  # type: ignore[arg-type]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def edit_features(
    source: str | os.PathLike[str],
    layer: str,
    ids: Sequence[str],
    values: Mapping[str, object],
    *,
    by: str,
    date: dt.date | None = None,
    note: str = "",
    expected: Mapping[str, Mapping[str, object]] | None = None,
) -> list[Change]:
    """Set ``values`` on the features ``ids`` of ``layer``, recording each change.

    Parameters
    ----------
    source : path
        The GeoPackage.
    layer : str
        Catalogue layer.
    ids : sequence of str
        Feature ids (the layer's id field).
    values : mapping of field to value
        New values; coded fields accept their Chinese names (``已通车``).
    by : str
        Who makes the change (required).
    date : date, optional
        When it happened in reality (default: today, UTC).
    note : str
        Why, or where the information comes from.
    expected : mapping of id to {field: value}, optional
        The values the editor was shown; when any has changed since, the edit is refused.

    Returns
    -------
    list of Change
        The recorded changes (fields whose value did not change are not recorded).

    Raises
    ------
    EditError
        Unknown layer, feature or field, a value the catalogue refuses, or no name in ``by``.
    EditConflict
        When ``expected`` values have changed since they were shown.
    """
    path = Path(source)
    if layer not in CATALOGUE:
        raise EditError("edit.unknown_layer", layer=layer, layers=tuple(CATALOGUE))
    spec = CATALOGUE[layer]
    if not by.strip():
        raise EditError("edit.no_author")
    editable = [f for f in spec.field_names if f != spec.id_field]
    for name in values:
        if name not in editable:
            raise EditError("edit.not_editable", layer=layer, field=name, fields=tuple(editable))
    if not ids:
        raise EditError("edit.no_ids")
    new = {name: _parse(spec, name, value) for name, value in values.items()}
    gdf = load_layers(path, layers=(layer,)).get(layer)
    if gdf is None:
        raise SourceError("source.no_layer", file=path.name, layer=layer)
    current = gdf.set_index(gdf[spec.id_field].astype(str), drop=False)
    missing = [i for i in ids if i not in current.index]
    if missing:
        raise EditError("edit.no_feature", layer=layer, id=missing[0])
    after = current.loc[list(ids)].copy()
    for name, value in new.items():
        after[name] = value
    found = problems(normalise_values(after, spec), spec)
    if found:
        raise EditError("edit.refused", first=found[0], more=len(found) - 1)

    stamp, day = _now(), (date or dt.datetime.now(dt.UTC).date()).isoformat()
    columns = ", ".join(f'"{n}"' for n in new)
    con = _connect(path)
    try:
        changes: list[Change] = []
        for fid in ids:
            row = con.execute(f'SELECT {columns} FROM "{layer}" WHERE "{spec.id_field}" = ?', (fid,)).fetchone()
            if row is None:
                raise EditError("edit.no_feature", layer=layer, id=fid)
            stored = dict(zip(new, row, strict=True))
            for name, shown in (expected or {}).get(fid, {}).items():
                if _as_text(stored.get(name)) != _as_text(shown):
                    who = _last_change(con, layer, fid, name)
                    since = f" by {who[0]} at {who[1]}" if who else ""
                    raise EditConflict(
                        f"{layer} {fid} [{name}] was changed{since} to {stored.get(name)!r} after you opened it; "
                        "reload and make your change again"
                    )
            for name, value in new.items():
                if _as_text(stored[name]) == _as_text(value):
                    continue
                con.execute(f'UPDATE "{layer}" SET "{name}" = ? WHERE "{spec.id_field}" = ?', (value, fid))
                change = {
                    "recorded_at": stamp,
                    "date": day,
                    "by": by.strip(),
                    "layer": layer,
                    "id": fid,
                    "field": name,
                    "old": _as_text(stored[name]),
                    "new": _as_text(value),
                    "note": note,
                }
                changes.append(_insert(con, change))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    log.info("edit by %s: %s %s, %d changes", by, layer, ",".join(ids), len(changes))
    return changes


def undo_change(source: str | os.PathLike[str], change_id: int, *, by: str, note: str = "") -> list[Change]:
    """Revert one change, itself recorded as a change; refused when the field has moved on."""
    path = Path(source)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        try:
            row = con.execute(
                "SELECT layer, id, field, old, new FROM change_history WHERE change_id = ?", (change_id,)
            ).fetchone()
        except sqlite3.OperationalError:
            row = None
    if row is None:
        raise EditError("edit.no_change", file=path.name, change=change_id)
    layer, fid, field, old, new = row
    if field == IMPORT_FIELD:
        raise EditError("edit.undo_import", change=change_id)
    return edit_features(
        path, layer, [fid], {field: old}, by=by, note=note or f"undo #{change_id}", expected={fid: {field: new}}
    )


def record_import(
    con: sqlite3.Connection, layer: str, *, by: str, origin: str, before: int | None, after: int
) -> Change:
    """Record in an open GeoPackage transaction that ``layer`` was replaced by an import."""
    stamp = _now()
    change = {
        "recorded_at": stamp,
        "date": stamp[:10],
        "by": by or "(unknown)",
        "layer": layer,
        "id": None,
        "field": IMPORT_FIELD,
        "old": None if before is None else str(before),
        "new": str(after),
        "note": f"import {origin}: {after} features",
    }
    return _insert(con, change)
