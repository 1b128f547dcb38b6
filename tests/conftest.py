"""Shared fixtures: the sample data loaded once per session."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.io import load_layers

from .common import SAMPLE


@pytest.fixture(scope="session")
def sample() -> dict[str, gpd.GeoDataFrame]:
    """The bundled sample GeoPackage, loaded and validated."""
    return load_layers(SAMPLE)
