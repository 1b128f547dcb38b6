"""Measuring in metres: planar in Gauss-Kruger, checked against the ellipsoid."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS, Proj

from geo.measure import areas_m2, geodesic_areas_m2, geodesic_lengths_m, lengths_m

from .common import frame, hline, square


def test_hand_computed_values_from_any_crs() -> None:
    lines = frame("roads", [hline(0, 0, 1000)], crs="EPSG:4326")
    squares = frame("parcels", [square(0, 0, 100)], crs="EPSG:4326")
    assert lengths_m(lines).iloc[0] == pytest.approx(1000.0, abs=1e-6)
    assert areas_m2(squares).iloc[0] == pytest.approx(10_000.0, abs=1e-4)


def test_web_mercator_would_be_wrong() -> None:
    squares = frame("parcels", [square(0, 0, 100)])
    lat = squares.to_crs(4326).geometry.iloc[0].centroid.y
    mercator = squares.to_crs(3857).area.iloc[0]
    # Mercator scales both axes by sec(latitude) (on the sphere, within 0.5 % on the ellipsoid)
    assert mercator / areas_m2(squares).iloc[0] == pytest.approx(1 / math.cos(math.radians(lat)) ** 2, rel=5e-3)


def _scale_factors(gdf: gpd.GeoDataFrame, epsg: int) -> np.ndarray:
    """Gauss-Kruger point scale factor of ``epsg`` at each feature's centroid."""
    centres = gdf.to_crs(4551).geometry.centroid.to_crs(4490)
    factors = Proj(CRS.from_epsg(epsg)).get_factors(centres.x.to_numpy(), centres.y.to_numpy())
    return np.asarray(factors.meridional_scale)


@pytest.mark.parametrize("layer", ["roads", "pipes"])
def test_sample_lengths_are_the_ellipsoids_times_the_zones_scale(
    sample: dict[str, gpd.GeoDataFrame], layer: str
) -> None:
    """Planar / ellipsoidal length is the zone's scale factor, to 1e-5; the wrong zone fails.

    EPSG:4551 (CM 126E) stretches Nanguan by about 4e-5, EPSG:4550 (CM 123E) by about 4.4e-4:
    a 0.1 % tolerance could not tell them apart, 1e-5 does.
    """
    gdf = sample[layer]
    ratio = (lengths_m(gdf) / geodesic_lengths_m(gdf)).to_numpy()
    assert ratio == pytest.approx(_scale_factors(gdf, 4551), abs=1e-5)
    assert np.abs(ratio - _scale_factors(gdf, 4550)).min() > 1e-4


@pytest.mark.parametrize("layer", ["districts", "parcels", "greenbelt"])
def test_sample_areas_agree_with_the_ellipsoid(sample: dict[str, gpd.GeoDataFrame], layer: str) -> None:
    planar, ellipsoidal = areas_m2(sample[layer]), geodesic_areas_m2(sample[layer])
    assert (abs(planar / ellipsoidal - 1) < 0.001).all()
