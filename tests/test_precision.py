"""Figures leave the program rounded: km to the metre, ha to the square metre."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys

import pandas as pd

from geo.precision import column_unit, round_progress, round_stats

from .common import ROOT, SAMPLE


def test_round_stats_to_metres_and_square_metres() -> None:
    table = pd.DataFrame(
        {
            "district_code": ["A"],
            "roads_km": [6.600000000010361],
            "parcels_ha_shantytown": [0.123456789],
            "households": [3],
        }
    )
    out = round_stats(table)
    assert out.iloc[0].tolist() == ["A", 6.6, 0.1235, 3]
    assert [column_unit(c) for c in table.columns] == [None, "km", "ha", None]


def test_a_new_line_layer_with_an_underscore_is_rounded_by_its_schema() -> None:
    """The unit comes from the table's schema: ``bus_lanes_km`` was read as unit "lanes"."""
    from dataclasses import asdict

    from geo.stats import StatColumn

    table = pd.DataFrame({"district_code": ["A"], "bus_lanes_km": [1.000123456789006], "bus_lanes_count": [2]})
    table.attrs["schema"] = [
        asdict(StatColumn("district_code", "districts", "key")),
        asdict(StatColumn("bus_lanes_km", "bus_lanes", "km")),
        asdict(StatColumn("bus_lanes_count", "bus_lanes", "count")),
    ]
    assert column_unit("bus_lanes_km", table) == "km" and column_unit("bus_lanes_count", table) is None
    assert round_stats(table)["bus_lanes_km"].tolist() == [1.0]


def test_round_progress_by_measure() -> None:
    frame = pd.DataFrame(
        {
            "measure": ["km", "count", "ha"],
            "target": [38.4, 96.0, 70.0],
            "in_data": [38.40000000001, 96.0, 69.99984],
            "done": [13.08120000004, 32.0, 69.99984],
            "under_way": [8.6000000001, 24.0, 0.0],
            "planned": [16.71880000001, 40.0, -0.00001],
            "percent_done": [34.06562500001, 33.33333333, 99.99977],
        }
    )
    out = round_progress(frame)
    assert out["in_data"].tolist() == [38.4, 96.0, 69.9998]
    assert out["done"].tolist() == [13.081, 32.0, 69.9998]
    assert out["planned"].tolist() == [16.719, 40.0, 0.0]
    assert str(out["planned"].iloc[2]) == "0.0"  # no -0.0
    assert out["percent_done"].tolist() == [34.1, 33.3, 100.0]


def test_cli_csv_has_no_float_noise() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "geo", "stats", str(SAMPLE), "--format", "csv", "--wide"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[-1]["district_code"] == "TOTAL"
    for row in rows:
        for column, value in row.items():
            unit = column_unit(column)
            if unit is not None:
                decimals = len(value.partition(".")[2])
                assert decimals <= {"km": 3, "ha": 4, "pct": 1}[unit], (column, value)
            elif column.endswith("count") or column in ("households", "resettled"):
                assert re.fullmatch(r"\d+", value), (column, value)
