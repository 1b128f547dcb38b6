"""How precisely figures are written out: lengths to the metre, areas to the square metre.

Measuring runs in full float precision; tables are rounded only where they leave the
program (CSV, JSON, the page), so a file never carries float noise such as
``6.600000000010361``. Lengths in km keep 3 decimals (1 m), areas in ha 4 decimals
(1 m²); counts and households are whole numbers; percentages (the road intact rate,
``roads_intact_pct``, a ``pct:`` target) keep 1 decimal. Each figure
is rounded on its own, so a rounded TOTAL may differ from the sum of the rounded rows by
the last decimal. A column's unit is the one its statistics schema gives (the catalogue's,
carried by the table), never guessed from its name: a layer ``bus_lanes`` has km columns
too.
"""

from __future__ import annotations

import pandas as pd

from .stats import schema_of

__all__ = ["DECIMALS", "PERCENT_DECIMALS", "column_unit", "round_progress", "round_stats"]

PERCENT_DECIMALS = 1
#: Decimals kept per unit: km to the metre, ha to the square metre, % to 0.1.
DECIMALS: dict[str, int] = {"km": 3, "ha": 4, "count": 0, "sum": 0, "pct": PERCENT_DECIMALS}


def column_unit(column: str, table: pd.DataFrame | None = None) -> str | None:
    """The unit of a statistics column, ``km``, ``ha`` or ``pct``, or None (counts, sums, keys).

    Parameters
    ----------
    column : str
        The column's name (``roads_km_open``).
    table : DataFrame, optional
        The statistics table it belongs to, whose schema says what each column measures
        (default: the catalogue's columns).
    """
    kinds = {c.name: c.kind for c in schema_of(table if table is not None else pd.DataFrame())}
    kind = kinds.get(column)
    return kind if kind in ("km", "ha", "pct") else None


def _round(values: pd.Series, decimals: int) -> pd.Series:
    # + 0.0 turns a rounded -0.0 into 0.0
    return values.astype(float).round(decimals) + 0.0


def round_stats(table: pd.DataFrame) -> pd.DataFrame:
    """A statistics table with km columns to 3 decimals, ha columns to 4 and
    percentages (``roads_intact_pct``) to 1 (a copy)."""
    out = table.copy()
    for column in out.columns:
        unit = column_unit(str(column), table)
        if unit is not None:
            out[column] = _round(out[column], DECIMALS[unit])
    return out


def round_progress(frame: pd.DataFrame) -> pd.DataFrame:
    """A plan-progress table with each figure to its measure's precision (a copy).

    ``target``, ``in_data``, ``done``, ``under_way`` and ``planned`` follow the row's
    ``measure`` (km 3 decimals, ha 4, counts and sums whole, a ``pct:`` rate 1; NaN stays
    NaN); ``percent_done`` keeps 1 decimal.
    """
    out = frame.copy()
    decimals = out["measure"].map(lambda m: DECIMALS[str(m).split(":")[0]])
    for column in ("target", "in_data", "done", "under_way", "planned"):
        out[column] = [round(float(v), int(d)) + 0.0 for v, d in zip(out[column], decimals, strict=True)]
    out["percent_done"] = _round(out["percent_done"], PERCENT_DECIMALS)
    return out
