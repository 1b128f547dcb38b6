"""CRS contract and the choice of the metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from geo.crs import (
    check_layers_crs,
    gk_zone_epsg,
    metric_crs_for,
    parse_crs,
    reproject,
    require_metric,
    source_metric_crs,
)
from geo.errors import CRSError
from geo.export import attribute_table
from geo.progress import Target, plan_progress
from geo.stats import district_stats

from .common import frame, hline


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(125.35, 4551), (126.0, 4551), (124.4, 4550), (116.4, 4548), (121.47, 4549), (75.0, 4534), (135.0, 4554)],
)
def test_gk_zone_for_chinese_cities(lon: float, epsg: int) -> None:
    assert gk_zone_epsg(lon) == epsg
    assert f"CM {3 * round(lon / 3)}E" in CRS.from_epsg(epsg).name


def test_outside_china_is_refused() -> None:
    with pytest.raises(CRSError, match="outside China's Gauss-Kruger zones"):
        gk_zone_epsg(2.35)


def test_metric_crs_from_data_in_any_crs() -> None:
    gdf = frame("roads", [hline(0, 0, 100)])
    assert metric_crs_for(gdf).to_epsg() == 4551
    assert metric_crs_for(gdf.to_crs(4326)).to_epsg() == 4551
    assert metric_crs_for(gdf.to_crs(4530)).to_epsg() == 4551


def test_override_must_be_metric() -> None:
    gdf = frame("roads", [hline(0, 0, 100)])
    assert metric_crs_for(gdf, "EPSG:4530").to_epsg() == 4530
    with pytest.raises(CRSError, match="in degrees"):
        metric_crs_for(gdf, "EPSG:4326")
    with pytest.raises(CRSError, match="distorts lengths and areas"):
        require_metric(CRS.from_epsg(3857))


def test_no_crs_is_refused() -> None:
    gdf = gpd.GeoDataFrame(geometry=[hline(0, 0, 1)])
    with pytest.raises(CRSError, match="has no CRS"):
        metric_crs_for(gdf)


def test_unknown_crs() -> None:
    with pytest.raises(CRSError, match="unknown CRS 'EPSG:99999'"):
        parse_crs("EPSG:99999")


def _straddling() -> dict[str, gpd.GeoDataFrame]:
    """Districts and roads on both sides of 124.5E, the edge between GK zones 41 and 42."""
    west = shapely.box(124.40, 43.80, 124.50, 43.90)
    east = shapely.box(124.50, 43.80, 124.62, 43.90)
    districts = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name": ["西", "东"], "kind": ["街道", "街道"]}, geometry=[west, east], crs=4490
    )
    road = shapely.LineString([(124.41, 43.85), (124.49, 43.85)])
    roads = gpd.GeoDataFrame(
        {"seg_id": ["R1"], "name": ["跨带路"], "road_class": ["local"], "status": ["open"], "project": [None]},
        geometry=[road],
        crs=4490,
    )
    return {"districts": districts, "roads": roads}


def test_a_source_straddling_a_zone_edge_is_measured_in_one_zone() -> None:
    layers = _straddling()
    # The source's centre is 124.51E (zone CM 126E); the road alone, west of 124.5E, would
    # choose CM 123E, where it measures 2.4e-5 shorter: every measure must use the source's.
    assert metric_crs_for(layers["roads"]).to_epsg() == 4550
    assert source_metric_crs(layers).to_epsg() == 4551
    metric = source_metric_crs(layers)
    in_4550 = layers["roads"].to_crs(4550).length.iloc[0]
    stats = district_stats(layers)
    table = attribute_table(layers["roads"], "roads", metric=metric)
    target = Target("km", "路", "road", "roads", "km", 1.0)
    by_stats = stats.loc["TOTAL", "roads_km"] * 1000
    assert by_stats == pytest.approx(table["length_m"].iloc[0], abs=1e-3)
    assert by_stats == pytest.approx(plan_progress(layers, [target]).loc["km", "in_data"] * 1000, rel=1e-12)
    assert stats.attrs["crs"] == "EPSG:4551"
    assert abs(by_stats / in_4550 - 1) > 2e-5  # the zones differ enough for this test to fail


def test_layers_without_a_crs_or_in_different_crss_are_refused_by_name() -> None:
    layers = _straddling()
    with pytest.raises(CRSError, match="layer 'roads' has no CRS"):
        source_metric_crs({**layers, "roads": layers["roads"].set_crs(None, allow_override=True)})
    with pytest.raises(
        CRSError, match=r"layer 'roads' is in EPSG:4326 \(WGS 84\) but layer 'districts' is in EPSG:4490"
    ):
        check_layers_crs({"districts": layers["districts"], "roads": layers["roads"].to_crs(4326)})


def test_an_operation_chosen_per_point_is_used_as_it_is() -> None:
    # PROJ's definition of this operation is a placeholder until it transforms a point.
    moved = reproject(np.array([shapely.Point(-100.0, 40.0)]), CRS.from_epsg(4267), CRS.from_epsg(4326))
    assert moved[0].distance(shapely.Point(-100.0, 40.0)) < 0.001  # NAD27 -> WGS 84 moves by metres


def test_coordinates_proj_cannot_transform_give_one_line() -> None:
    with pytest.raises(CRSError, match=r"^cannot transform from EPSG:4326 \(WGS 84\) to EPSG:4551 .*: [^\n]*$"):
        reproject(np.array([shapely.Point(1e9, 40.0)]), CRS.from_epsg(4326), CRS.from_epsg(4551))
