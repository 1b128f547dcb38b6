"""The table both engines fill: rows, zeros, OUTSIDE and TOTAL, and the balance check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS

from geo.errors import BalanceError
from geo.statstable import OUTSIDE, TOTAL, assemble_table, chart_columns, stats_columns, stats_schema

SCHEMA = stats_schema()
MEASURED = [c.name for c in SCHEMA if c.measured]


def table(parts: dict[str, list[float]], totals: dict[str, float]) -> pd.DataFrame:
    """The table of two districts, B listed before A, with every other column zero."""
    full = {name: np.array(parts.get(name, [0.0, 0.0, 0.0])) for name in MEASURED}
    sums = {name: totals.get(name, 0.0) for name in MEASURED}
    return assemble_table(full, sums, codes=["B", "A"], names=["乙", "甲"], schema=SCHEMA, crs=CRS(4551))


def test_every_district_in_the_order_given_with_zeros_and_the_measured_total() -> None:
    """Catches districts re-sorted, a district nothing falls in left out, or an OUTSIDE row
    shown when nothing lies outside."""
    out = table({"roads_km": [0.0, 1.5, 0.0], "roads_count": [0, 2, 0]}, {"roads_km": 1.5, "roads_count": 2})
    assert out.index.tolist() == ["B", "A", TOTAL]
    assert out.loc["B", "roads_km"] == 0 and out.loc["A", "roads_km"] == 1.5 and out.loc[TOTAL, "roads_km"] == 1.5
    assert out["roads_count"].dtype == np.int64 and out.loc[TOTAL, "roads_count"] == 2
    assert out["district_name"].tolist() == ["乙", "甲", ""]
    assert out.attrs["crs"] == "EPSG:4551" and out.attrs["warnings"] == []


def test_outside_shows_when_any_column_has_something_there() -> None:
    """Catches OUTSIDE dropped when only a column other than the first holds it."""
    out = table({"facilities_count": [0, 0, 1]}, {"facilities_count": 1})
    assert out.index.tolist() == ["B", "A", OUTSIDE, TOTAL]
    assert out.loc[OUTSIDE, "facilities_count"] == 1 and out.loc[OUTSIDE, "district_name"] == ""


@pytest.mark.parametrize(
    ("column", "parts", "total"),
    [("roads_km", [0.2, 0.7, 0.0], 1.0), ("parcels_count", [1, 1, 0], 3), ("households", [5, 5, 0], 11)],
)
def test_parts_that_miss_the_total_withhold_the_table(column: str, parts: list[float], total: float) -> None:
    """Either engine losing a piece, a feature or a household: one error with its code, so
    it is worded in the user's language by both engines alike (the database engine's used to
    be English text of its own)."""
    with pytest.raises(BalanceError) as raised:
        table({column: parts}, {column: total})
    assert raised.value.code == "stats.unbalanced"
    assert f"internal error in column {column}" in str(raised.value)


def test_lengths_balance_to_float_noise_counts_exactly() -> None:
    """Catches a check so strict that float noise withholds a correct table."""
    out = table({"roads_km": [0.1, 0.2, 0.0]}, {"roads_km": 0.3})
    assert out.loc[TOTAL, "roads_km"] == 0.3


def test_the_charts_are_the_columns_the_layers_ask_for_and_no_breakdown() -> None:
    """Roads chart their km (not roads_km_open nor the count), parcels their households (not
    resettled), in drawing order; a table without a column charts nothing of it."""
    table = pd.DataFrame(columns=stats_columns())
    assert [c.name for c in chart_columns(table)] == ["households", "roads_km"]
    assert [c.name for c in chart_columns(table.drop(columns=["households"]))] == ["roads_km"]
