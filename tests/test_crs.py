"""CRS contract and the choice of the metric CRS."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import CRS

from geo.crs import gk_zone_epsg, metric_crs_for, parse_crs, require_metric
from geo.errors import CRSError

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
