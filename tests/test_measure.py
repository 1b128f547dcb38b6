"""Measuring in metres: planar in Gauss-Kruger, checked against the ellipsoid."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.measure import areas_m2, geodesic_areas_m2, geodesic_lengths_m, lengths_m

from .common import frame, hline, square


def test_hand_computed_values_from_any_crs() -> None:
    lines = frame("roads", [hline(0, 0, 1000)], crs="EPSG:4326")
    squares = frame("parcels", [square(0, 0, 100)], crs="EPSG:4326")
    assert lengths_m(lines).iloc[0] == pytest.approx(1000.0, abs=1e-6)
    assert areas_m2(squares).iloc[0] == pytest.approx(10_000.0, abs=1e-4)


def test_web_mercator_would_be_wrong() -> None:
    squares = frame("parcels", [square(0, 0, 100)])
    mercator = squares.to_crs(3857).area.iloc[0]
    assert mercator / areas_m2(squares).iloc[0] == pytest.approx(1.93, abs=0.01)


@pytest.mark.parametrize("layer", ["roads", "pipes"])
def test_sample_lengths_agree_with_the_ellipsoid(sample: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    planar, ellipsoidal = lengths_m(sample[layer]).sum(), geodesic_lengths_m(sample[layer]).sum()
    assert abs(planar / ellipsoidal - 1) < 0.001


@pytest.mark.parametrize("layer", ["districts", "parcels", "greenbelt"])
def test_sample_areas_agree_with_the_ellipsoid(sample: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    planar, ellipsoidal = areas_m2(sample[layer]), geodesic_areas_m2(sample[layer])
    assert (abs(planar / ellipsoidal - 1) < 0.001).all()
