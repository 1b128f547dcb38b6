"""Attribute edits of a source, validated, recorded in its history, undoable.

An edit changes fields of one feature or several (``status``, ``households``,
``resettled``, ``name`` …) of a GeoPackage or a PostGIS schema alike. It is checked
against the catalogue (allowed values, whole numbers, ``resettled <= households``), on the
rows as stored when the save begins; a refused edit changes nothing. The new values and
their history rows are written in one transaction (SQLite's, or PostgreSQL's with the
rows locked ``FOR UPDATE``, :mod:`geo.pghistory`), so a killed editor leaves either the
old values or the new ones with their history, never one without the other. An edit made
against values that have changed since they were shown is refused, naming who changed
them and when (optimistic locking).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from layers import CATALOGUE, LayerSpec

from .errors import RenewalError, SourceError
from .history import IMPORT_FIELD, check_day, now_utc
from .oplog import logged
from .store import Source, open_source
from .validate import normalise_values, problems

__all__ = ["Change", "EditConflict", "EditError", "edit_features", "undo_change"]

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


@logged(
    "edit",
    figures=lambda changes, _: {"changes": len(changes)},
    who="by",
    source="source",
    layer="layer",
    features=lambda a: len(a["ids"]),
)
def edit_features(
    source: str | os.PathLike[str] | Source,
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
    source : path, str or Source
        A GeoPackage, or a ``postgresql://`` URL.
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
    src = open_source(source)
    gdf = src.layers(only=(layer,)).get(layer)
    if gdf is None:
        raise SourceError("source.no_layer", file=src.name, layer=layer)
    current = gdf.set_index(gdf[spec.id_field].astype(str), drop=False)
    missing = [i for i in ids if i not in current.index]
    if missing:
        raise EditError("edit.no_feature", layer=layer, id=missing[0])

    if date is not None:
        check_day(date, what=f"{layer} {ids[0]}" if len(ids) == 1 else f"{layer} ({len(ids)})")
    stamp, day = now_utc(), (date or dt.datetime.now(dt.UTC).date()).isoformat()
    changes: list[Change] = []
    with src.edit() as store:
        # The rows as stored now, locked: the checks below see what the save will change.
        wanted = {*new, *(n for shown in (expected or {}).values() for n in shown)}
        wanted |= {n for rule in spec.rules if wanted & {rule.field, rule.limit} for n in (rule.field, rule.limit)}
        locked = [n for n in editable if n in wanted]
        stored = store.lock_rows(layer, locked, ids)
        gone = [i for i in ids if i not in stored]
        if gone:
            raise EditError("edit.no_feature", layer=layer, id=gone[0])
        for fid in ids:
            for name, shown in (expected or {}).get(fid, {}).items():
                if _as_text(stored[fid].get(name)) != _as_text(shown):
                    who = store.last_change(layer, fid, name)
                    shown_now = {"layer": layer, "id": fid, "field": name, "value": stored[fid].get(name)}
                    if who:
                        raise EditConflict("edit.conflict_by", by=who[0], at=who[1], **shown_now)
                    raise EditConflict("edit.conflict", **shown_now)
        after = current.loc[list(ids)].copy()
        for name in locked:
            after[name] = [stored[fid][name] for fid in ids]
        for name, value in new.items():
            after[name] = value
        found = problems(normalise_values(after, spec), spec)
        if found:
            raise EditError("edit.refused", first=found[0], more=len(found) - 1)
        for fid in ids:
            for name, value in new.items():
                if _as_text(stored[fid][name]) == _as_text(value):
                    continue
                store.update(layer, fid, name, value)
                change = {
                    "recorded_at": stamp,
                    "date": day,
                    "by": by.strip(),
                    "layer": layer,
                    "id": fid,
                    "field": name,
                    "old": _as_text(stored[fid][name]),
                    "new": _as_text(value),
                    "note": note,
                }
                changes.append(Change(change_id=store.insert(change), **change))  # type: ignore[arg-type]
    log.info("edit by %s: %s %s, %d changes", by, layer, ",".join(ids), len(changes))
    return changes


@logged("undo", figures=lambda changes, _: {"changes": len(changes)}, who="by", source="source", change="change_id")
def undo_change(
    source: str | os.PathLike[str] | Source, change_id: int, *, by: str, note: str = ""
) -> list[Change]:
    """Revert one change, itself recorded as a change; refused when the field has moved on."""
    src = open_source(source)
    history = src.history()
    row = history[history["change_id"] == change_id]
    if row.empty:
        raise EditError("edit.no_change", file=src.name, change=change_id)
    layer, fid, field, old, new = row.iloc[0][["layer", "id", "field", "old", "new"]]
    if field == IMPORT_FIELD:
        raise EditError("edit.undo_import", change=change_id)
    return edit_features(
        src, layer, [fid], {field: old}, by=by, note=note or f"undo #{change_id}", expected={fid: {field: new}}
    )
