"""GCJ-02 and BD-09 conversions against published values and their own inverses."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.chinacoord import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_frame,
    gcj02_to_bd09,
    gcj02_to_wgs84,
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
