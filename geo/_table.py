"""Aligned plain-text tables that line up with Chinese characters in a terminal."""

from __future__ import annotations

import unicodedata

import pandas as pd

__all__ = ["display_width", "text_table"]


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(value: object, decimals: int) -> str:
    if isinstance(value, float) and value != value:  # NaN: no value (a rate with nothing surveyed)
        return "—"
    if isinstance(value, float):
        return f"{value:,.{decimals}f}"
    if isinstance(value, int):
        return f"{value:,d}"
    return str(value)


def text_table(frame: pd.DataFrame, *, decimals: int = 2) -> str:
    """``frame`` (its columns, not its index) as an aligned table; numbers right-aligned."""
    headers = [str(c) for c in frame.columns]
    rows = [
        [_cell(v.item() if hasattr(v, "item") else v, decimals) for v in row] for row in frame.itertuples(index=False)
    ]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = []
        for text, width, right in zip(cells, widths, numeric, strict=True):
            pad = " " * (width - display_width(text))
            out.append(pad + text if right else text + pad)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
