"""Shared fixtures: the sample data loaded once per session."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.io import load_layers

from .common import SAMPLE
from .pg import db_url, free_port, schema_url

__all__ = ["db_url", "free_port", "sample", "schema_url"]


@pytest.fixture(scope="session")
def sample() -> dict[str, gpd.GeoDataFrame]:
    """The bundled sample GeoPackage, loaded and validated."""
    return load_layers(SAMPLE)
