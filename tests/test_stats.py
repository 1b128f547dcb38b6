"""Per-district statistics on hand-computable geometries, and the nothing-lost invariant."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import SourceError
from geo.stats import OUTSIDE, TOTAL, district_stats, stats_columns

from .common import frame, hline, point, square

# Two 1 km districts side by side: A is x 0..1000, B is x 1000..2000 (metres).
DISTRICTS = frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)], code=["A", "B"], name=["甲街道", "乙街道"])


def stats(**layers: gpd.GeoDataFrame) -> pd.DataFrame:
    return district_stats({"districts": DISTRICTS, **layers})


def test_columns_in_the_documented_order() -> None:
    table = stats()
    assert list(table.columns[:12]) == [
        "district_code",
        "district_name",
        "roads_count",
        "roads_km",
        "pipes_count",
        "pipes_km",
        "parcels_count",
        "parcels_ha",
        "households",
        "resettled",
        "greenbelt_count",
        "greenbelt_ha",
    ]
    assert list(table.columns) == stats_columns()
    assert "roads_km_open" in table.columns and "pipes_km_heat" in table.columns
    assert "parcels_ha_shantytown" in table.columns and "facilities_pump_station" in table.columns


def test_every_district_present_with_zeros_and_no_outside_row() -> None:
    table = stats()
    assert table.index.tolist() == ["A", "B", TOTAL]
    assert (table.drop(columns=["district_code", "district_name"]) == 0).all().all()
    assert table["roads_count"].dtype == np.int64


def test_a_1_km_line_split_300_700() -> None:
    roads = frame("roads", [hline(700, 500, 1000)])
    table = stats(roads=roads)
    assert table.loc["A", "roads_km"] == pytest.approx(0.3, abs=1e-9)
    assert table.loc["B", "roads_km"] == pytest.approx(0.7, abs=1e-9)
    assert table.loc["B", "roads_km_open"] == pytest.approx(0.7, abs=1e-9)
    assert table.loc[["A", "B"], "roads_count"].tolist() == [0, 1]
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, abs=1e-9)


def test_the_same_line_measured_from_lon_lat_data() -> None:
    table = district_stats(
        {"districts": DISTRICTS.to_crs(4326), "roads": frame("roads", [hline(700, 500, 1000)], crs="EPSG:4326")}
    )
    assert table.loc["A", "roads_km"] == pytest.approx(0.3, abs=1e-5)
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, abs=1e-6)


def test_a_100_m_square_half_outside() -> None:
    parcels = frame("parcels", [square(-50, 100, 100)], households=[10], resettled=[4])
    table = stats(parcels=parcels)
    assert table.index.tolist() == ["A", "B", OUTSIDE, TOTAL]
    assert table.loc["A", "parcels_ha"] == pytest.approx(0.5)
    assert table.loc[OUTSIDE, "parcels_ha"] == pytest.approx(0.5)
    assert table.loc[TOTAL, "parcels_ha"] == pytest.approx(1.0)
    assert table.loc[OUTSIDE, "district_name"] == "区外"


def test_counts_and_households_go_whole_to_the_largest_share() -> None:
    parcels = frame(
        "parcels",
        [square(-60, 0, 100), square(950, 0, 100), square(100, 100, 100)],
        households=[10, 20, 30],
        resettled=[1, 2, 3],
    )
    table = stats(parcels=parcels)
    # 60 % outside -> OUTSIDE; 50/50 on the A|B boundary -> the first district; wholly in A.
    assert table.loc[OUTSIDE, ["parcels_count", "households", "resettled"]].tolist() == [1, 10, 1]
    assert table.loc["A", ["parcels_count", "households", "resettled"]].tolist() == [2, 50, 5]
    assert table.loc["B", "parcels_count"] == 0
    assert table.loc["B", "parcels_ha"] == pytest.approx(0.5)
    assert table.loc[OUTSIDE, "parcels_ha"] == pytest.approx(0.6)


def test_points_go_to_the_district_containing_them() -> None:
    fac = frame(
        "facilities",
        [point(10, 10), point(1500, 10), point(1600, 10), point(-5, 5)],
        kind=["pump_station", "school", "pump_station", "school"],
    )
    table = stats(facilities=fac)
    assert table.loc["A", "facilities_pump_station"] == 1
    assert table.loc["B", ["facilities_count", "facilities_school", "facilities_pump_station"]].tolist() == [2, 1, 1]
    assert table.loc[OUTSIDE, "facilities_school"] == 1
    assert table.loc[TOTAL, "facilities_count"] == 4


def test_breakdowns_by_category() -> None:
    pipes = frame("pipes", [hline(0, 10, 500), hline(0, 20, 250)], utility=["heat", "gas"])
    green = frame("greenbelt", [square(1100, 100, 100)], kind=["park"])
    table = stats(pipes=pipes, greenbelt=green)
    assert table.loc["A", ["pipes_km_heat", "pipes_km_gas", "pipes_km_water"]].tolist() == pytest.approx([0.5, 0.25, 0])
    assert table.loc["B", ["greenbelt_count", "greenbelt_ha"]].tolist() == pytest.approx([1, 1.0])


def test_nothing_lost_on_data_crossing_the_outer_boundary() -> None:
    rng = np.random.default_rng(11)
    n = 300
    x, y = rng.uniform(-500, 2500, n), rng.uniform(-500, 1500, n)
    angle, length = rng.uniform(0, np.pi, n), rng.uniform(10, 900, n)
    lines = [
        shapely.LineString([(a, b), (a + ln * np.cos(t), b + ln * np.sin(t))])
        for a, b, t, ln in zip(x, y, angle, length, strict=False)
    ]
    roads = frame("roads", [shapely.affinity.translate(g, *square(0, 0, 1).bounds[:2]) for g in lines])
    squares = [square(a, b, s) for a, b, s in zip(x, y, rng.uniform(5, 400, n), strict=False)]
    parcels = frame("parcels", squares, households=list(rng.integers(0, 100, n)), resettled=[0] * n)
    table = stats(roads=roads, parcels=parcels)
    body = table.loc[["A", "B", OUTSIDE]]
    for col, whole in (("roads_km", roads.length.sum() / 1000), ("parcels_ha", parcels.area.sum() / 10_000)):
        assert abs(table.loc[TOTAL, col] - whole) * (1000 if col == "roads_km" else 10_000) < 1.0
        assert body[col].sum() == pytest.approx(table.loc[TOTAL, col], rel=1e-12)
    assert body["roads_count"].sum() == n == table.loc[TOTAL, "roads_count"]
    assert body["households"].sum() == parcels["households"].sum()


def test_agrees_with_the_naive_overlay() -> None:
    rng = np.random.default_rng(3)
    n = 200
    x, y = rng.uniform(-300, 2300, n), rng.uniform(-300, 1300, n)
    roads = frame("roads", [hline(a, b, ln) for a, b, ln in zip(x, y, rng.uniform(20, 800, n), strict=False)])
    table = stats(roads=roads)
    naive = gpd.overlay(roads, DISTRICTS, how="intersection", keep_geom_type=True)
    per = naive.assign(km=naive.length / 1000).groupby("code")["km"].sum()
    assert table.loc[["A", "B"], "roads_km"].to_numpy() == pytest.approx(per.loc[["A", "B"]].to_numpy(), rel=1e-9)


def test_sample_totals_match_the_plan(sample: dict[str, gpd.GeoDataFrame]) -> None:
    table = district_stats(sample)
    assert len(table) == 15 and OUTSIDE not in table.index
    total = table.loc[TOTAL]
    assert (total["roads_count"], total["pipes_count"], total["resettled"]) == (96, 12, 278)
    assert total["roads_km"] == pytest.approx(38.4, abs=0.05)
    assert total["pipes_km"] == pytest.approx(15.5, abs=0.05)
    assert total["facilities_pump_station"] == 109


def test_districts_are_required() -> None:
    with pytest.raises(SourceError, match="no 'districts' layer"):
        district_stats({"roads": frame("roads", [hline(0, 0, 10)])})
