"""GCJ-02 and BD-09 conversions against published values and their own inverses."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.chinacoord import (
    CHINA_BOUNDS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_frame,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CRSError

from .common import frame, hline

GEOD = Geod(ellps="WGS84")

# Reference values for Beijing (116.404, 39.915), as printed by the widely used
# coordtransform libraries' documentation.
BEIJING = (116.404, 39.915)


def test_wgs84_to_gcj02_published_value() -> None:
    lon, lat = wgs84_to_gcj02(*BEIJING)
    assert (float(lon), float(lat)) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)


def test_gcj02_to_bd09_published_value() -> None:
    lon, lat = gcj02_to_bd09(*BEIJING)
    assert (float(lon), float(lat)) == pytest.approx((116.41036949371029, 39.92133699351022), abs=1e-12)


def test_bd09_to_gcj02_close_to_the_published_approximation() -> None:
    # The published one-step formula is approximate; ours inverts exactly, within 10 cm of it.
    lon, lat = bd09_to_gcj02(*BEIJING)
    _, _, dist = GEOD.inv(float(lon), float(lat), 116.39762729119315, 39.90865673957631)
    assert dist < 0.1


def test_gcj02_offset_in_changchun_is_hundreds_of_metres() -> None:
    lon, lat = wgs84_to_gcj02(125.35, 43.85)
    _, _, dist = GEOD.inv(125.35, 43.85, float(lon), float(lat))
    assert 100 < dist < 1000


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [(wgs84_to_gcj02, gcj02_to_wgs84), (gcj02_to_bd09, bd09_to_gcj02), (wgs84_to_bd09, bd09_to_wgs84)],
)
def test_round_trips_better_than_a_centimetre(forward, inverse) -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(74, 135, 2000), rng.uniform(18, 53, 2000)
    back_lon, back_lat = inverse(*forward(lon, lat))
    _, _, dist = GEOD.inv(lon, lat, back_lon, back_lat)
    assert dist.max() < 0.01
    assert back_lon.shape == lon.shape


def test_points_outside_china_pass_through() -> None:
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    assert np.array_equal(wgs84_to_gcj02(lon, lat)[0], lon)
    assert np.array_equal(gcj02_to_wgs84(lon, lat)[1], lat)


def test_whole_frames_are_converted_and_keep_attributes() -> None:
    roads = frame("roads", [hline(0, 0, 1000)], crs="EPSG:4326")
    gcj = convert_frame(roads, "wgs84", "gcj02")
    assert gcj["name"].tolist() == roads["name"].tolist()
    assert gcj.crs == roads.crs
    expected = np.column_stack(wgs84_to_gcj02(*shapely.get_coordinates(roads.geometry).T))
    assert np.allclose(shapely.get_coordinates(gcj.geometry), expected, atol=0)
    back = convert_frame(gcj, "gcj02", "wgs84")
    assert np.allclose(shapely.get_coordinates(back.geometry), shapely.get_coordinates(roads.geometry), atol=1e-9)


def test_frames_must_be_lon_lat() -> None:
    with pytest.raises(CRSError, match="needs lon/lat data"):
        convert_frame(frame("roads", [hline(0, 0, 10)]), "wgs84", "gcj02")


WEST, SOUTH, EAST, NORTH = CHINA_BOUNDS
#: Sweeps across each edge of the region: along the edge at three places, across it ±0.03°
#: (2-3 km, beyond the offset's reach) in steps of 1e-5° (about 1 m).
ACROSS = np.arange(-0.03, 0.03, 1e-5)
SWEEPS = {
    f"{edge} at {along}": (np.full_like(ACROSS, fixed) + ACROSS, np.full_like(ACROSS, along))
    if edge in ("west", "east")
    else (np.full_like(ACROSS, along), np.full_like(ACROSS, fixed) + ACROSS)
    for edge, fixed, places in (
        ("west", WEST, (10.0, 40.0, 55.0)),
        ("east", EAST, (10.0, 40.0, 55.0)),
        ("south", SOUTH, (80.0, 110.0, 135.0)),
        ("north", NORTH, (80.0, 110.0, 135.0)),
    )
    for along in places
}


@pytest.mark.parametrize("key", SWEEPS)
def test_points_inside_round_trip_across_the_edge(key: str) -> None:
    lon, lat = SWEEPS[key]
    inside = in_china(lon, lat)
    assert 0 < inside.sum() < len(lon)
    for forward, inverse in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back_lon, back_lat = inverse(*forward(lon, lat))
        _, _, dist = GEOD.inv(lon[inside], lat[inside], back_lon[inside], back_lat[inside])
        assert dist.max() < 0.01, forward.__name__


@pytest.mark.parametrize("key", SWEEPS)
def test_points_outside_pass_unchanged_across_the_edge(key: str) -> None:
    lon, lat = SWEEPS[key]
    outside = ~in_china(lon, lat)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(gcj_lon[outside], lon[outside]) and np.array_equal(gcj_lat[outside], lat[outside])
    # beyond the offset's reach (under 0.012°) nothing could have moved onto them
    far = outside & (np.abs(ACROSS) > 0.012)
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    assert far.sum() > 1000
    assert np.array_equal(back_lon[far], lon[far]) and np.array_equal(back_lat[far], lat[far])


@pytest.mark.parametrize("key", SWEEPS)
def test_inverse_is_continuous_across_the_edge(key: str) -> None:
    # GCJ-02 inputs swept across the edge: the inverse moves with its input, except for one
    # step where it leaves the image of the inside for the untouched outside, no larger
    # than the offset itself; every output maps back onto its input, or is a point GCJ-02
    # cannot produce (inside the edge, in the gap the offset opens) passed through unchanged.
    lon, lat = SWEEPS[key]
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    _, _, steps = GEOD.inv(back_lon[:-1], back_lat[:-1], back_lon[1:], back_lat[1:])
    _, _, input_steps = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    jumps = steps > 1.5 * input_steps
    assert jumps.sum() <= 1
    assert steps.max() < 1000
    again_lon, again_lat = wgs84_to_gcj02(back_lon, back_lat)
    _, _, miss = GEOD.inv(lon, lat, again_lon, again_lat)
    unchanged = (back_lon == lon) & (back_lat == lat)
    assert np.all((miss < 0.01) | (unchanged & in_china(lon, lat)))


def test_importer_and_conversion_share_one_region() -> None:
    from geo.importer import check_coordinates

    inside = gpd.GeoDataFrame(geometry=[shapely.Point(EAST - 0.001, 45.0)], crs="EPSG:4326")
    check_coordinates(inside, where="t.csv")
    assert float(wgs84_to_gcj02(EAST - 0.001, 45.0)[0]) != EAST - 0.001
    outside = gpd.GeoDataFrame(geometry=[shapely.Point(EAST + 0.001, 45.0)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="outside China"):
        check_coordinates(outside, where="t.csv")
    assert float(wgs84_to_gcj02(EAST + 0.001, 45.0)[0]) == EAST + 0.001
