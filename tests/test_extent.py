"""The import preview's sketch (display/extent.py): the file over the sub-districts, in a
budget whatever the file holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import shapely

from display.extent import MAX_SHAPES, extent_svg

from .common import frame, lonlat, square

SVG = "{http://www.w3.org/2000/svg}"


def drawn(svg: str) -> tuple[list[ET.Element], list[ET.Element]]:
    """The sub-districts' and the features' elements."""
    groups = ET.fromstring(svg).findall(f"{SVG}g")
    return (list(groups[0]), list(groups[1])) if len(groups) == 2 else ([], list(groups[0]))


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)])


def test_a_few_features_are_drawn_each(districts: gpd.GeoDataFrame) -> None:
    roads = frame("roads", [shapely.LineString([(447_800, 4_857_500), (448_600, 4_857_900)])])
    parcels = frame("parcels", [square(100, 100, 200), square(500, 100, 200)])
    for layer, n in ((roads, 1), (parcels, 2)):
        under, over = drawn(extent_svg(districts, layer))
        assert len(under) == 2 and len(over) == n


def test_three_hundred_thousand_points_make_a_small_sketch(districts: gpd.GeoDataFrame) -> None:
    """Drawn one by one they made 57 MB of SVG sent to the browser."""
    rng = np.random.default_rng(1)
    lon, lat = lonlat(0, 0)
    xy = np.column_stack([lon + rng.uniform(0, 0.02, 300_000), lat + rng.uniform(0, 0.01, 300_000)])
    points = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=4326)
    svg = extent_svg(districts, points)
    under, over = drawn(svg)
    assert len(svg) < 200_000, len(svg)
    assert len(under) == 2 and 1_000 < len(over) <= MAX_SHAPES
    xs = [float(c.get("cx")) for c in over]
    assert max(xs) - min(xs) > 150  # spread over the sketch, not the first few points


def test_an_outline_of_a_hundred_thousand_vertices_is_simplified(districts: gpd.GeoDataFrame) -> None:
    lon, lat = lonlat(500, 500)
    angles = np.linspace(0, 2 * np.pi, 100_000, endpoint=False)
    ring = np.column_stack([lon + 0.005 * np.cos(angles), lat + 0.005 * np.sin(angles)])
    area = gpd.GeoDataFrame(geometry=[shapely.Polygon(ring)], crs=4326)
    svg = extent_svg(districts, area)
    (outline,) = drawn(svg)[1]
    assert len(svg) < 20_000 and outline.tag == f"{SVG}path"
