"""Several sessions at once on one app server: every one is answered, right and without error.

The benchmark (``python -m bench.load``) does the same with 20 sessions on the 10,000-segment
city and reports the times; this test checks only that each session got its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import run_load

from .browser import require_chromium
from .common import write_city

pytestmark = pytest.mark.browser


def test_four_sessions_at_once_each_get_their_answer(tmp_path: Path) -> None:
    require_chromium()
    source = write_city(tmp_path / "city.gpkg", roads=1000, districts=20, targets=True)
    results = run_load(source, sessions=4, reruns=2)
    assert [r.errors for r in results] == [[]] * 4
    for r in results:
        # the statistics' TOTAL row counts every segment, the map drew, both reruns were answered
        assert r.roads == 1000 and r.drawn > 0 and len(r.reruns_s) == 2
        assert r.answered(1000, 2)
