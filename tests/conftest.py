"""Shared fixtures: the sample data loaded once per session."""

from __future__ import annotations

import os

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, settings

from geo.io import load_layers
from ui.signin import _throttle

from .common import SAMPLE
from .pg import db_url, free_port, schema_url

__all__ = ["db_url", "free_port", "sample", "schema_url"]


@pytest.fixture(autouse=True)
def no_failed_sign_ins() -> None:
    """Each test starts with no failed sign-in on record: the record is the server's, shared
    by every session in the process, and the app's tests all come from one address."""
    _throttle.clear()


@pytest.fixture(scope="session")
def sample() -> dict[str, gpd.GeoDataFrame]:
    """The bundled sample GeoPackage, loaded and validated."""
    return load_layers(SAMPLE)


# Hypothesis profiles of the fuzz tests (tests/test_fuzz.py): "ci" is bounded and
# deterministic, with no example database; "long" is a campaign, remembering its failures
# in .hypothesis/. Chosen by NANGUAN_FUZZ_PROFILE.
settings.register_profile(
    "ci",
    max_examples=75,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
settings.load_profile(os.environ.get("NANGUAN_FUZZ_PROFILE", "ci"))
