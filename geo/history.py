"""The change history of a source: what changed, who changed it, when, and the data as it stood.

Every attribute edit and every layer import is one or more rows of the history table
(``change_history``, in the same GeoPackage, or PostGIS schema: :mod:`geo.pghistory`):
change id, when it was recorded (UTC), the date it happened in reality, who, layer,
feature id, field, old and new value (as text), and a note. An import (or a publish) is
recorded with the field ``(import)``, the old and new feature counts, and the file's name
in the note.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers import CATALOGUE

from ._gpkg import recover_journal
from .errors import RenewalError, SourceError
from .settings import Settings

__all__ = [
    "HISTORY_COLUMNS",
    "HISTORY_TABLE",
    "IMPORT_FIELD",
    "check_day",
    "check_history_dates",
    "ensure_history_table",
    "import_change",
    "insert_change",
    "now_utc",
    "read_gpkg_history",
    "record_import",
    "values_as_of",
    "write_history",
]

log = logging.getLogger(__name__)

HISTORY_TABLE = "change_history"
IMPORT_FIELD = "(import)"
HISTORY_COLUMNS: tuple[str, ...] = (
    "change_id",
    "recorded_at",
    "date",
    "by",
    "layer",
    "id",
    "field",
    "old",
    "new",
    "note",
)

_DDL = f"""
CREATE TABLE IF NOT EXISTS "{HISTORY_TABLE}" (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    date TEXT NOT NULL,
    "by" TEXT NOT NULL,
    layer TEXT NOT NULL,
    id TEXT,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    note TEXT NOT NULL DEFAULT ''
)
"""


def now_utc() -> str:
    """The time now as the history records it: UTC, to the second (``2020-09-30T08:15:00Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_change(
    layer: str, *, by: str, origin: str, before: int | None, after: int, verb: str = "import"
) -> dict[str, str | None]:
    """The history row of a layer replaced by an import (or a publish): who, what file, how many."""
    stamp = now_utc()
    return {
        "recorded_at": stamp,
        "date": stamp[:10],
        "by": by.strip() or "(unknown)",
        "layer": layer,
        "id": None,
        "field": IMPORT_FIELD,
        "old": None if before is None else str(before),
        "new": str(after),
        "note": f"{verb} {origin or '(unnamed)'}: {after} features",
    }


def ensure_history_table(con: sqlite3.Connection) -> None:
    """Create the history table in an open GeoPackage transaction, registered as attributes.

    Registering it in ``gpkg_contents`` lets GDAL, QGIS and ArcGIS list the table.
    """
    con.execute(_DDL)
    con.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        (HISTORY_TABLE, HISTORY_TABLE, "南关城市更新一张图: change history / 修改记录"),
    )


def read_gpkg_history(
    source: str | os.PathLike[str], *, layer: str | None = None, feature: str | None = None
) -> pd.DataFrame:
    """The history of a GeoPackage, oldest first (empty with the columns when none); any
    source's is :func:`geo.io.read_history`.

    Parameters
    ----------
    source : path
        A GeoPackage.
    layer, feature : str, optional
        Keep only the changes of this layer, and of this feature id.
    """
    path = Path(source)
    if not path.is_file():
        raise SourceError("import.no_file", file=path.name)
    recover_journal(path)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (HISTORY_TABLE,)
            ).fetchone()
            if not exists:
                return pd.DataFrame(columns=list(HISTORY_COLUMNS))
            where, params = [], []
            if layer is not None:
                where.append("layer = ?")
                params.append(layer)
            if feature is not None:
                where.append("id = ?")
                params.append(feature)
            sql = f'SELECT change_id, recorded_at, date, "by", layer, id, field, old, new, note FROM "{HISTORY_TABLE}"'
            sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY change_id"
            rows = con.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise SourceError("history.unreadable", file=path.name, reason=str(exc)) from exc
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    check_history_dates(frame, file=path.name)
    return frame


def _span() -> tuple[dt.date, dt.date]:
    settings = Settings.from_env()
    return settings.date_min, settings.date_max


def check_day(day: dt.date, *, what: str) -> None:
    """Refuse a change's ``day`` outside the span of sane dates (``NANGUAN_DATE_MIN`` …
    ``NANGUAN_DATE_MAX``): a year typed 0202 for 2020 would make every series since then."""
    first, last = _span()
    if not first <= day <= last:
        raise RenewalError("date.out_of_span", what=what, value=day.isoformat(), first=first, last=last)


def check_history_dates(history: pd.DataFrame, *, file: str) -> None:
    """Refuse a history any of whose changes is dated outside the span, or not a date at all.

    Such a history is not used (its series would run from year 202, or its values as of a
    day would be wrong); the first bad change is named.
    """
    if history.empty:
        return
    first, last = _span()

    def sane(text: str) -> bool:
        try:
            return first <= dt.date.fromisoformat(text) <= last
        except ValueError:
            return False

    texts = history["date"].astype(str)
    verdict = {t: sane(t) for t in texts.unique()}  # few distinct days, however long the history
    bad = ~texts.map(verdict).astype(bool)
    if bad.any():
        row = history[bad.to_numpy()].iloc[0]
        raise SourceError(
            "history.bad_date",
            file=file,
            change=int(row["change_id"]),
            layer=str(row["layer"]),
            id=str(row["id"]),
            value=str(row["date"]),
            first=first,
            last=last,
        )


def write_history(con: sqlite3.Connection, history: pd.DataFrame) -> None:
    """Copy ``history`` (another source's) into a GeoPackage in an open transaction, keeping
    its change ids; later changes are numbered after them."""
    ensure_history_table(con)
    rows = history.astype(object).where(history.notna(), None)
    names = ", ".join(f'"{c}"' for c in HISTORY_COLUMNS)
    marks = ", ".join("?" for _ in HISTORY_COLUMNS)
    con.executemany(
        f'INSERT INTO "{HISTORY_TABLE}" ({names}) VALUES ({marks})',
        [tuple(r) for r in rows[list(HISTORY_COLUMNS)].itertuples(index=False)],
    )


def _typed(value: object, dtype: str) -> object:
    """A history value (text or None) as the field's type."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if dtype == "int":
        return int(float(str(value)))
    if dtype == "float":
        return float(str(value))
    return str(value)


def values_as_of(
    layers: Mapping[str, gpd.GeoDataFrame], history: pd.DataFrame, day: dt.date
) -> dict[str, gpd.GeoDataFrame]:
    """The layers' attribute values as they stood at the end of ``day``.

    The value on a day is the old value of the first change made in reality after that
    day (by date, then by change id), else the current value. Geometries and features
    added or removed by imports are not rebuilt: imports replace whole layers.
    """
    out = dict(layers)
    if history.empty:
        return out
    later = history[(history["field"] != IMPORT_FIELD) & (history["date"].astype(str) > day.isoformat())]
    later = later.sort_values(["date", "change_id"], kind="stable")
    first = later.drop_duplicates(["layer", "id", "field"], keep="first")
    for (name, fld), changes in first.groupby(["layer", "field"], sort=False):
        if name not in out or name not in CATALOGUE or fld not in CATALOGUE[name].field_names:
            continue
        spec = CATALOGUE[name]
        gdf = out[name].copy()
        ids = gdf[spec.id_field].astype(str)
        dtype = spec.field(fld).dtype
        for fid, old in zip(changes["id"].astype(str), changes["old"], strict=True):
            gdf.loc[(ids == fid).to_numpy(), fld] = _typed(old, dtype)
        out[name] = gdf
    return out


def insert_change(con: sqlite3.Connection, change: Mapping[str, object]) -> int:
    """Add one change to a GeoPackage's history in an open transaction; its change id."""
    ensure_history_table(con)
    cur = con.execute(
        f'INSERT INTO "{HISTORY_TABLE}" (recorded_at, date, "by", layer, id, field, old, new, note) '
        "VALUES (:recorded_at, :date, :by, :layer, :id, :field, :old, :new, :note)",
        dict(change),
    )
    return int(cur.lastrowid or 0)


def record_import(con: sqlite3.Connection, layer: str, *, by: str, origin: str, before: int | None, after: int) -> int:
    """Record in an open GeoPackage transaction that ``layer`` was replaced by an import;
    the change id."""
    return insert_change(con, import_change(layer, by=by, origin=origin, before=before, after=after))
