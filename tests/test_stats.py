"""Per-district statistics against values computed by hand or by an independent overlay.

No expectation here is derived from the table under test: shared edges, OUTSIDE and
TOTAL are checked against lengths and areas worked out on paper, or measured with plain
shapely/geopandas operations on the inputs.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo.stats
from geo.errors import BalanceError, CoverageError, CRSError, SourceError
from geo.stats import OUTSIDE, TOTAL, Apportionment, district_stats, select_districts, stats_columns

from .common import ROOT, X0, Y0, frame, hline, point, square

# Two 1 km districts side by side: A is x 0..1000, B is x 1000..2000 (metres).
DISTRICTS = frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)], code=["A", "B"], name=["甲街道", "乙街道"])


def vline(x: float, y: float, length_m: float) -> shapely.LineString:
    """A south-north line starting ``(x, y)`` metres from the origin."""
    return shapely.LineString([(X0 + x, Y0 + y), (X0 + x, Y0 + y + length_m)])


def stats(**layers: gpd.GeoDataFrame) -> pd.DataFrame:
    return district_stats({"districts": DISTRICTS, **layers})


def test_columns_in_the_documented_order() -> None:
    table = stats()
    assert list(table.columns[:17]) == [
        "district_code",
        "district_name",
        "greenbelt_count",
        "greenbelt_ha",
        "parcels_count",
        "parcels_ha",
        "households",
        "resettled",
        "rivers_count",
        "rivers_km",
        "roads_count",
        "roads_km",
        "roads_intact_pct",
        "pipes_count",
        "pipes_km",
        "facilities_count",
        "monitoring_points_count",
    ]
    assert not any(c.startswith("areas_") for c in table.columns)  # context, not measured
    assert list(table.columns) == stats_columns()
    assert "roads_km_open" in table.columns and "pipes_km_heat" in table.columns
    assert "parcels_ha_shantytown" in table.columns and "facilities_pump_station" in table.columns


def test_every_district_present_with_zeros_and_no_outside_row() -> None:
    table = stats()
    assert table.index.tolist() == ["A", "B", TOTAL]
    assert (table.drop(columns=["district_code", "district_name", "roads_intact_pct"]) == 0).all().all()
    assert table["roads_intact_pct"].isna().all()  # no surveyed road: no rate, not 0 %
    assert table["roads_count"].dtype == np.int64
    assert table.loc[TOTAL, "district_name"] == ""  # the words belong to the page, not geo/


def test_a_1_km_line_split_300_700() -> None:
    table = stats(roads=frame("roads", [hline(700, 500, 1000)]))
    assert table.loc["A", "roads_km"] == pytest.approx(0.3, abs=1e-9)
    assert table.loc["B", "roads_km"] == pytest.approx(0.7, abs=1e-9)
    assert table.loc["B", "roads_km_open"] == pytest.approx(0.7, abs=1e-9)
    assert table.loc[["A", "B"], "roads_count"].tolist() == [0, 1]
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, abs=1e-9)


def test_a_road_on_the_shared_edge_counts_half_to_each_side() -> None:
    table = stats(roads=frame("roads", [vline(1000, 0, 1000)]))
    assert table.loc[["A", "B"], "roads_km"].tolist() == pytest.approx([0.5, 0.5], abs=1e-12)
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, abs=1e-12)
    assert OUTSIDE not in table.index
    # the whole count goes to one side: a tie, so the lowest code
    assert table.loc[["A", "B"], "roads_count"].tolist() == [1, 0]


def test_half_on_the_edge_half_outside() -> None:
    table = stats(roads=frame("roads", [vline(1000, 500, 1000)]))
    assert table.loc[["A", "B", OUTSIDE], "roads_km"].tolist() == pytest.approx([0.25, 0.25, 0.5], abs=1e-12)
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(1.0, abs=1e-12)
    # OUTSIDE's 0.5 km ties with nothing: it is larger than either side's 0.25
    assert table.loc[OUTSIDE, "roads_count"] == 1


def test_a_road_along_the_outer_boundary_is_inside() -> None:
    table = stats(roads=frame("roads", [hline(200, 0, 500)]))  # on A's southern edge
    assert table.loc["A", "roads_km"] == pytest.approx(0.5, abs=1e-12)
    assert OUTSIDE not in table.index


def test_ties_go_to_the_lowest_code_whatever_the_layer_order() -> None:
    swapped = DISTRICTS.iloc[::-1].reset_index(drop=True)
    parcels = frame("parcels", [square(950, 0, 100)], households=[20], resettled=[2])
    fac = frame("facilities", [point(1000, 500)])
    table = district_stats({"districts": swapped, "parcels": parcels, "facilities": fac})
    assert table.index.tolist()[:2] == ["B", "A"]
    assert table.loc["A", ["parcels_count", "households", "resettled", "facilities_count"]].tolist() == [1, 20, 2, 1]
    assert table.loc["B", ["parcels_count", "facilities_count"]].tolist() == [0, 0]
    assert table.loc[["A", "B"], "parcels_ha"].tolist() == pytest.approx([0.5, 0.5])


def test_counts_and_households_go_whole_to_the_largest_share() -> None:
    parcels = frame(
        "parcels",
        [square(-60, 0, 100), square(900, 0, 100), square(100, 100, 100), square(960, 300, 100)],
        households=[10, 20, 30, 40],
        resettled=[1, 2, 3, 4],
    )
    table = stats(parcels=parcels)
    # 60 % outside -> OUTSIDE; wholly in A (touching the edge); wholly in A; 40/60 -> B.
    assert table.loc[OUTSIDE, ["parcels_count", "households", "resettled"]].tolist() == [1, 10, 1]
    assert table.loc["A", ["parcels_count", "households", "resettled"]].tolist() == [2, 50, 5]
    assert table.loc["B", ["parcels_count", "households", "resettled"]].tolist() == [1, 40, 4]
    assert table.loc["B", "parcels_ha"] == pytest.approx(0.6)
    assert table.loc[OUTSIDE, "parcels_ha"] == pytest.approx(0.6)
    assert table.loc[TOTAL, ["parcels_count", "households"]].tolist() == [4, 100]


def test_points_go_to_the_district_containing_them() -> None:
    fac = frame(
        "facilities",
        [point(10, 10), point(1500, 10), point(1600, 10), point(-5, 5), point(1000, 1000)],
        kind=["pump_station", "school", "pump_station", "school", "school"],
    )
    table = stats(facilities=fac)
    # the last point is on the corner both districts share: the lowest code, A
    assert table.loc["A", ["facilities_pump_station", "facilities_school"]].tolist() == [1, 1]
    assert table.loc["B", ["facilities_count", "facilities_school", "facilities_pump_station"]].tolist() == [2, 1, 1]
    assert table.loc[OUTSIDE, "facilities_school"] == 1
    assert table.loc[TOTAL, "facilities_count"] == 5


def test_multipart_and_holed_features() -> None:
    two_parts = shapely.MultiLineString([hline(100, 100, 200), hline(1100, 100, 600)])
    ring = square(900, 400, 200)
    holed = shapely.Polygon(ring.exterior, [square(950, 450, 100).exterior])  # 4 ha - 1 ha, split in half
    table = stats(roads=frame("roads", [two_parts]), parcels=frame("parcels", [holed]))
    assert table.loc[["A", "B"], "roads_km"].tolist() == pytest.approx([0.2, 0.6])
    assert table.loc[["A", "B"], "roads_count"].tolist() == [0, 1]
    assert table.loc[["A", "B"], "parcels_ha"].tolist() == pytest.approx([1.5, 1.5])
    assert table.loc[TOTAL, "parcels_ha"] == pytest.approx(3.0)


def test_breakdowns_by_category() -> None:
    pipes = frame("pipes", [hline(0, 10, 500), hline(0, 20, 250)], utility=["heat", "gas"])
    green = frame("greenbelt", [square(1100, 100, 100)], kind=["park"])
    table = stats(pipes=pipes, greenbelt=green)
    assert table.loc["A", ["pipes_km_heat", "pipes_km_gas", "pipes_km_water"]].tolist() == pytest.approx([0.5, 0.25, 0])
    assert table.loc["B", ["greenbelt_count", "greenbelt_ha"]].tolist() == pytest.approx([1, 1.0])


def test_outside_and_total_measured_on_their_own() -> None:
    """Random roads and parcels crossing the outline: OUTSIDE and TOTAL against plain overlays."""
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
    )
    parcels = frame("parcels", [square(a, b, s) for a, b, s in zip(x, y, rng.uniform(5, 400, n), strict=True)])
    table = stats(roads=roads, parcels=parcels)
    outline = square(0, 0, 1000).union(square(1000, 0, 1000))
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(sum(g.length for g in roads.geometry) / 1000, rel=1e-12)
    assert table.loc[OUTSIDE, "roads_km"] == pytest.approx(
        sum(g.difference(outline).length for g in roads.geometry) / 1000, rel=1e-9
    )
    assert table.loc[OUTSIDE, "parcels_ha"] == pytest.approx(
        sum(g.difference(outline).area for g in parcels.geometry) / 10_000, rel=1e-9
    )
    assert table.loc[TOTAL, "roads_count"] == n


def test_agrees_with_the_naive_overlay_off_the_edges() -> None:
    rng = np.random.default_rng(3)
    n = 200
    x, y = rng.uniform(-300, 2300, n), rng.uniform(-300, 1300, n) + 0.5  # no line on y = 0 or 1000
    roads = frame("roads", [hline(a, b, ln) for a, b, ln in zip(x, y, rng.uniform(20, 800, n), strict=True)])
    table = stats(roads=roads)
    naive = gpd.overlay(roads, DISTRICTS, how="intersection", keep_geom_type=True)
    per = naive.assign(km=naive.length / 1000).groupby("code")["km"].sum()
    assert table.loc[["A", "B"], "roads_km"].to_numpy() == pytest.approx(per.loc[["A", "B"]].to_numpy(), rel=1e-9)


def _two_sample_neighbours(districts: gpd.GeoDataFrame) -> tuple[str, str, shapely.Geometry]:
    """Two sample sub-districts and the edge they share (in EPSG:4551), the longest one."""
    metric = districts.to_crs(4551)
    best: tuple[float, str, str, shapely.Geometry] | None = None
    for i in range(len(metric)):
        for j in range(i + 1, len(metric)):
            edge = shapely.line_merge(
                shapely.intersection(metric.geometry.iloc[i].boundary, metric.geometry.iloc[j].boundary)
            )
            if edge.length > 0 and (best is None or edge.length > best[0]):
                best = (edge.length, metric["code"].iloc[i], metric["code"].iloc[j], edge)
    assert best is not None
    return best[1], best[2], best[3]


def test_the_sample_edges_are_not_counted_twice(sample: dict[str, gpd.GeoDataFrame]) -> None:
    """The issue's reproduction: a road on a shared edge and one running 2 km out of the outline."""
    districts = sample["districts"]
    a, b, edge = _two_sample_neighbours(districts)
    outline = gpd.read_file(ROOT / "data" / "nanguan_outline.geojson").to_crs(4551).union_all()
    inner = districts.to_crs(4551).set_index("code").geometry.loc[a].representative_point()
    far = shapely.Point(outline.bounds[2] + 2000, inner.y)
    leaving = shapely.LineString([inner, far])
    roads = frame("roads", [edge, leaving]).to_crs(sample["roads"].crs)
    table = district_stats({"districts": districts, "roads": roads})
    outside_m = leaving.difference(outline).length
    assert outside_m > 1900
    assert table.loc[OUTSIDE, "roads_km"] == pytest.approx(outside_m / 1000, rel=1e-6)
    assert table.loc[TOTAL, "roads_km"] == pytest.approx((edge.length + leaving.length) / 1000, rel=1e-9)
    inside_b = leaving.intersection(districts.to_crs(4551).set_index("code").geometry.loc[b]).length
    assert table.loc[b, "roads_km"] == pytest.approx((edge.length / 2 + inside_b) / 1000, rel=1e-6)


def test_overlapping_districts_are_refused() -> None:
    grown = DISTRICTS.copy()
    grown.loc[0, "geometry"] = square(0, 0, 1000).buffer(300, join_style="mitre").intersection(square(-300, 0, 1600))
    with pytest.raises(CoverageError, match=r"districts A and B overlap by 300,000\.00 m²"):
        district_stats({"districts": grown, "roads": frame("roads", [hline(0, 500, 10)])})


def test_a_sliver_within_the_tolerance_is_a_warning_and_counts_half() -> None:
    sliver = DISTRICTS.copy()
    sliver.loc[0, "geometry"] = square(0, 0, 1000).union(shapely.box(X0 + 1000, Y0, X0 + 1000.0005, Y0 + 1000))
    roads = frame("roads", [hline(500, 500, 1000)])
    table = district_stats({"districts": sliver, "roads": roads})
    assert table.attrs["warnings"] == ["districts A and B overlap by 0.50 m²"]
    [chinese] = table.attrs["warnings_by_lang"]["zh"]  # for `geo stats --lang zh`
    assert "A" in chinese and "B" in chinese and "0.50" in chinese and "重叠" in chinese
    # the 0.5 mm inside both counts half to each: 500.00025 m and 499.99975 m
    assert table.loc[["A", "B"], "roads_km"].tolist() == pytest.approx([0.50000025, 0.49999975], abs=1e-12)
    with pytest.raises(CoverageError):
        district_stats({"districts": sliver, "roads": roads}, tolerance_m2=0.1)


def test_gaps_are_reported_and_what_falls_there_is_outside() -> None:
    notched = square(1000, 0, 1000).difference(square(1000, 400, 10))  # a 10 m hole against A's edge
    gap = frame("districts", [square(0, 0, 1000), notched], code=["A", "B"], name=["甲", "乙"])
    table = district_stats({"districts": gap, "roads": frame("roads", [hline(990, 405, 30)])})
    assert any("gap of 100.00 m²" in w for w in table.attrs["warnings"])
    assert table.loc[OUTSIDE, "roads_km"] == pytest.approx(0.01)


def test_layers_must_have_a_crs_and_share_it() -> None:
    roads = frame("roads", [hline(0, 0, 10)])
    with pytest.raises(CRSError, match="layer 'roads' has no CRS"):
        stats(roads=roads.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match=r"layer 'roads' is in EPSG:4326 .* but layer 'districts' is in EPSG:4551"):
        stats(roads=roads.to_crs(4326))


def test_a_broken_engine_is_caught_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = geo.stats.apportion

    def lossy(features: np.ndarray, index: geo.stats.DistrictIndex, kind: str) -> Apportionment:
        ap = real(features, index, kind)
        return Apportionment(ap.total, ap.part_feature, ap.part_district, ap.part_amount * 0.999, ap.owner)

    monkeypatch.setattr(geo.stats, "apportion", lossy)
    with pytest.raises(BalanceError, match="internal error in column roads_km"):
        stats(roads=frame("roads", [hline(700, 500, 1000)]))


def test_districts_are_required() -> None:
    with pytest.raises(SourceError, match="no 'districts' layer"):
        district_stats({"roads": frame("roads", [hline(0, 0, 10)])})


def test_intact_rate_by_length_per_district_and_in_total() -> None:
    # A: an intact road of 600 m; an intact road of 600 m crossing into B (200 m in A,
    # 400 m in B); in B a road of 500 m in minor damage; in A a road not yet surveyed.
    roads = frame(
        "roads",
        [hline(100, 500, 600), hline(800, 300, 600), hline(1200, 200, 500), hline(100, 800, 300)],
        condition=["good", "good", "minor", None],
    )
    table = stats(roads=roads)
    # A: (600 + 200) / (600 + 200) · B: 400 / (400 + 500) · TOTAL: 1200 / 1700, the ratio
    # of the totals (the districts' mean would be 72.2 %, their sum 144.4 %).
    assert table.loc["A", "roads_intact_pct"] == pytest.approx(100.0)
    assert table.loc["B", "roads_intact_pct"] == pytest.approx(100 * 400 / 900)
    assert table.loc[TOTAL, "roads_intact_pct"] == pytest.approx(100 * 1200 / 1700)
    assert table.loc["A", "roads_km_good"] == pytest.approx(0.8)
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(2.0)  # the unsurveyed road still counts as road
    chosen = select_districts(table, ("B",))
    assert chosen.loc[TOTAL, "roads_intact_pct"] == pytest.approx(100 * 400 / 900)


def test_intact_rate_counts_a_road_on_a_shared_edge_half_to_each_side() -> None:
    # An intact road of 400 m along the edge A and B share; a damaged one of 200 m in A.
    roads = frame("roads", [vline(1000, 0, 400), hline(100, 500, 200)], condition=["good", "severe"])
    table = stats(roads=roads)
    assert table.loc["A", "roads_intact_pct"] == pytest.approx(100 * 200 / 400)
    assert table.loc["B", "roads_intact_pct"] == pytest.approx(100.0)
    assert table.loc[TOTAL, "roads_intact_pct"] == pytest.approx(100 * 400 / 600)


def test_intact_rate_is_empty_where_nothing_was_surveyed() -> None:
    table = stats(roads=frame("roads", [hline(100, 500, 600)]))
    assert np.isnan(table.loc["A", "roads_intact_pct"]) and np.isnan(table.loc[TOTAL, "roads_intact_pct"])
    assert table.loc["A", "roads_km"] == pytest.approx(0.6)


def test_rivers_and_monitoring_sections_per_district() -> None:
    river = frame("rivers", [hline(500, 100, 1000)])
    sections = frame("monitoring_points", [point(600, 100), point(1400, 100), point(1500, 100)])
    table = stats(rivers=river, monitoring_points=sections)
    assert table.loc[["A", "B", TOTAL], "rivers_km"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert table.loc[["A", "B", TOTAL], "monitoring_points_count"].tolist() == [1, 2, 3]
