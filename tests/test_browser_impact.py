"""Impact analysis in a real browser: draw a polygon by clicks and see the panel and map follow."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .browser import streamlit_server
from .test_browser import Page, browser  # noqa: F401 (the shared Chromium fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@pytest.fixture
def page(browser: object, server: str) -> Iterator[Page]:
    p = Page(browser, server)
    yield p
    p.page.close()


def test_drawing_a_polygon_updates_the_impact_panel(page: Page) -> None:
    panel = page.page.locator('[data-testid="stMetric"]', has_text="涉及户数")
    assert panel.count() == 0
    page.map.locator("a.ng-draw-polygon").click()
    canvas = page.map.locator(".leaflet-container")
    box = canvas.bounding_box()
    w, h = box["width"], box["height"]
    corners = [(0.35, 0.3), (0.65, 0.3), (0.65, 0.7), (0.35, 0.7)]
    for x, y in corners[:-1]:
        canvas.click(position={"x": w * x, "y": h * y})
    x, y = corners[-1]
    canvas.dblclick(position={"x": w * x, "y": h * y})
    panel.wait_for(timeout=60_000)
    area = page.page.locator('[data-testid="stMetric"]', has_text="范围面积")
    assert re.search(r"[1-9][\d,]*\.\d\d ha", area.inner_text())
    page.map.locator("path.ng-area").wait_for(timeout=60_000)
    assert page.map.locator("path.ng-touched").count() > 0
    assert page.errors == [] and page.failed == []


def test_uploading_an_area_gives_the_same_figures_as_the_command_line(page: Page, tmp_path: Path) -> None:
    area = tmp_path / "征收范围.geojson"
    ring = [[125.30, 43.78], [125.35, 43.78], [125.35, 43.83], [125.30, 43.83], [125.30, 43.78]]
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    page.page.get_by_role("region", name="上传范围（GeoJSON）").locator('input[type="file"]').set_input_files(str(area))
    page.page.get_by_text("范围：征收范围.geojson").wait_for(timeout=60_000)
    area_card = page.page.locator('[data-testid="stMetric"]', has_text="范围面积")
    expect(area_card).to_contain_text("2,235.34 ha", timeout=60_000)
    households = page.page.locator('[data-testid="stMetric"]', has_text="涉及户数")
    expect(households).to_contain_text("9")
    page.map.locator("path.ng-area").wait_for(timeout=60_000)
