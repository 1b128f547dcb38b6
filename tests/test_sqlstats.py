"""Statistics and plan progress computed in PostGIS equal the Python engine's."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import postgis, sqlstats, transfer
from geo.crs import source_metric_crs
from geo.filters import Filter, attribute_filter
from geo.io import load_layers
from geo.postgis import parse_url
from geo.progress import Target, load_targets, plan_progress
from geo.stats import OUTSIDE, TOTAL, district_stats

from .common import ROOT, SAMPLE, X0, Y0, frame, hline, point, square
from .reference import assert_rows_match, sample_reference

# Two 1 km districts side by side: A is x 0..1000, B is x 1000..2000 (metres).
DISTRICTS = frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)], code=["A", "B"], name=["甲街道", "乙街道"])


def vline(x: float, y: float, length_m: float) -> shapely.LineString:
    """A south-north line starting ``(x, y)`` metres from the origin."""
    return shapely.LineString([(X0 + x, Y0 + y), (X0 + x, Y0 + y + length_m)])


def in_database(url: str, **layers: gpd.GeoDataFrame) -> pd.DataFrame:
    """The statistics of ``layers`` computed in the database, checked against the Python engine."""
    layers = {"districts": DISTRICTS, **layers}
    postgis.publish_layers(layers, parse_url(url))
    ours = sqlstats.district_stats(parse_url(url))
    assert_same(ours, district_stats(layers))
    return ours


def assert_same(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    """Same index, columns, dtypes and metadata; numbers to 1e-9 relative."""
    pd.testing.assert_frame_equal(ours, reference, check_exact=False, rtol=1e-9, atol=1e-12)
    assert ours.attrs == reference.attrs


def test_the_sample_in_the_database_gives_the_hand_worked_figures(schema_url: str) -> None:
    """Every figure computed in PostGIS against hand geometry on the builder's seeds, the
    reference the Python engine is held to (tests/test_sample.py), and then against the
    Python engine. Catches what both engines could get wrong alike (the frame they share,
    its units, its TOTAL) as well as the SQL's own clip, share and owner rules."""
    transfer.publish(str(SAMPLE), schema_url)
    db = parse_url(schema_url)
    layers = load_layers(SAMPLE)
    ours = sqlstats.district_stats(db)
    reference = sample_reference()
    assert_rows_match(ours.to_dict("index"), reference, list(reference.columns), written=False)
    assert_same(ours, district_stats(layers))
    targets = load_targets(ROOT / "data" / "targets.toml")
    assert_same(sqlstats.plan_progress(db, targets), plan_progress(layers, targets))
    flt = Filter(values=(("roads", "status", ("open",)), ("parcels", "kind", ("shantytown", "expropriation"))))
    metric = source_metric_crs(layers)
    assert_same(sqlstats.district_stats(db, flt=flt), district_stats(attribute_filter(layers, flt), crs=metric))


def test_data_crossing_the_outer_boundary(schema_url: str) -> None:
    rng = np.random.default_rng(11)
    n = 300
    x, y = rng.uniform(-500, 2500, n), rng.uniform(-500, 1500, n)
    angle, length = rng.uniform(0, np.pi, n), rng.uniform(10, 900, n)
    roads = frame(
        "roads",
        [
            shapely.LineString([(X0 + a, Y0 + b), (X0 + a + ln * np.cos(t), Y0 + b + ln * np.sin(t))])
            for a, b, t, ln in zip(x, y, angle, length, strict=True)
        ],
        status=list(rng.choice(["planned", "open"], n)),
    )
    parcels = frame(
        "parcels",
        [square(a, b, s) for a, b, s in zip(x, y, rng.uniform(5, 400, n), strict=True)],
        households=list(rng.integers(0, 100, n)),
        resettled=[0] * n,
    )
    facilities = frame("facilities", [point(a, b) for a, b in zip(x, y, strict=True)])
    ours = in_database(schema_url, roads=roads, parcels=parcels, facilities=facilities)
    assert ours.loc[OUTSIDE, "roads_km"] > 0 and ours.loc[TOTAL, "roads_count"] == n


def test_a_road_along_a_shared_edge_counts_half_to_each_side(schema_url: str) -> None:
    roads = frame("roads", [vline(1000, 0, 1000)])
    table = in_database(schema_url, roads=roads)
    assert table.loc[["A", "B"], "roads_km"].tolist() == pytest.approx([0.5, 0.5], rel=1e-12)
    assert table.loc[["A", "B"], "roads_count"].tolist() == [1, 0]  # a tie goes to the lowest code
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, rel=1e-12)
    assert OUTSIDE not in table.index


def test_half_on_a_shared_edge_half_outside(schema_url: str) -> None:
    roads = frame("roads", [vline(1000, 500, 1000)])
    table = in_database(schema_url, roads=roads)
    assert table.loc[["A", "B", OUTSIDE, TOTAL], "roads_km"].tolist() == pytest.approx(
        [0.25, 0.25, 0.5, 1.0], rel=1e-12
    )
    assert table.loc[["A", "B", OUTSIDE], "roads_count"].tolist() == [0, 0, 1]


def test_points_on_a_shared_boundary_go_to_the_lowest_code(schema_url: str) -> None:
    facilities = frame("facilities", [point(1000, 500), point(1500, 500), point(-1, 0)])
    table = in_database(schema_url, facilities=facilities)
    assert table.loc[["A", "B", OUTSIDE, TOTAL], "facilities_count"].tolist() == [1, 1, 1, 3]


def test_a_filter_value_is_a_value_not_sql(schema_url: str) -> None:
    roads = frame("roads", [hline(100, 100, 500)])
    in_database(schema_url, roads=roads)
    db = parse_url(schema_url)
    hostile = "open') OR TRUE; DROP TABLE roads; --"
    table = sqlstats.district_stats(db, flt=Filter(values=(("roads", "status", (hostile,)),)))
    assert table.loc[TOTAL, "roads_count"] == 0
    assert sqlstats.district_stats(db).loc["A", "roads_km"] == pytest.approx(0.5)


def test_an_override_crs_must_be_metric(schema_url: str) -> None:
    in_database(schema_url, roads=frame("roads", [hline(100, 100, 500)]))
    db = parse_url(schema_url)
    assert sqlstats.district_stats(db, crs="EPSG:4530").loc["A", "roads_km"] == pytest.approx(0.5, rel=1e-6)
    with pytest.raises(Exception, match="degrees"):
        sqlstats.district_stats(db, crs="EPSG:4326")


def test_a_parcel_cut_in_half_by_a_shared_edge_goes_to_the_lowest_code(schema_url: str) -> None:
    parcels = frame("parcels", [square(950, 100, 100), square(1950, 100, 100)], households=[40, 7], resettled=[4, 0])
    table = in_database(schema_url, parcels=parcels)
    assert table.loc[["A", "B", OUTSIDE], "parcels_ha"].tolist() == pytest.approx([0.5, 1.0, 0.5], rel=1e-12)
    assert table.loc[["A", "B", OUTSIDE], "households"].tolist() == [40, 7, 0]  # a tie with OUTSIDE stays inside


def test_the_intact_rate_in_the_database(schema_url: str) -> None:
    # A: 600 m good + 200 m severe; B: 300 m good, 500 m not surveyed; on the shared edge
    # x = 1000, 400 m minor counts half to each side.
    roads = frame(
        "roads",
        [vline(100, 0, 600), vline(200, 0, 200), vline(1500, 0, 300), vline(1600, 0, 500), vline(1000, 0, 400)],
        condition=["good", "severe", "good", None, "minor"],
    )
    table = in_database(schema_url, roads=roads)
    assert table.loc["A", "roads_intact_pct"] == pytest.approx(100 * 600 / (600 + 200 + 200))
    assert table.loc["B", "roads_intact_pct"] == pytest.approx(100 * 300 / (300 + 200))
    # the total is the ratio of the sums, never a mean of the districts' rates
    assert table.loc[TOTAL, "roads_intact_pct"] == pytest.approx(100 * 900 / 1500)
    target = Target("intact", "道路完好率", "Intact rate", "roads", "pct:intact", 98)
    progress = sqlstats.plan_progress(parse_url(schema_url), [target])
    assert progress.loc["intact", ["in_data", "done", "under_way", "planned"]].tolist() == pytest.approx([60, 60, 0, 0])
