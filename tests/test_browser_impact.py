"""Impact analysis in a real browser: draw a polygon by clicks, or upload an area, and see the panel follow."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .test_browser import EXPECTED, Page, browser, server  # noqa: F401 (the shared Chromium and app fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: object, server: str) -> Iterator[Page]:  # noqa: F811 (the fixtures above)
    p = Page(browser, server)
    yield p
    p.page.close()


#: Where the test polygon's corners fall on the map, as fractions of its width and height.
CORNERS = [(0.35, 0.3), (0.65, 0.3), (0.65, 0.7), (0.35, 0.7)]


def metric(page: Page, label: str) -> object:
    return page.page.locator('[data-testid="stMetric"]', has_text=label)


def test_drawing_a_polygon_updates_the_impact_panel(page: Page) -> None:
    expect(metric(page, "涉及户数")).to_have_count(0)
    page.map.locator("a.ng-draw-polygon").click()
    canvas = page.map.locator(".leaflet-container")
    # The whole map in view first: a click outside the viewport would scroll the page between
    # two points and place the next one elsewhere.
    canvas.evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
    box = canvas.bounding_box()
    assert box["y"] + box["height"] <= page.page.viewport_size["height"]
    corners = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in CORNERS]
    for x, y in corners[:-1]:
        page.page.mouse.click(x, y)
    with page.rerun():  # the finished shape is reported to the app, which runs again
        page.page.mouse.dblclick(*corners[-1])
    expect(metric(page, "涉及户数")).to_be_visible()
    expect(metric(page, "范围面积")).to_contain_text(re.compile(r"[1-9][\d,]*\.\d\d ha"))
    expect(page.map.locator("path.ng-area")).to_have_count(1)
    assert page.map.locator("path.ng-touched").count() > 0
    assert page.drawn() == EXPECTED  # the clicks that placed points selected no sub-district
    assert page.errors == [] and page.failed == []


def test_uploading_an_area_gives_the_same_figures_as_the_command_line(page: Page, tmp_path: Path) -> None:
    area = tmp_path / "征收范围.geojson"
    ring = [[125.30, 43.78], [125.35, 43.78], [125.35, 43.83], [125.30, 43.83], [125.30, 43.78]]
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    with page.rerun():
        page.page.get_by_role("region", name="上传范围（GeoJSON）").locator('input[type="file"]').set_input_files(
            str(area)
        )
    expect(page.page.get_by_text("范围：征收范围.geojson")).to_be_visible()
    expect(metric(page, "范围面积")).to_contain_text("2,235.34 ha")
    expect(metric(page, "涉及户数")).to_contain_text("9")
    expect(page.map.locator("path.ng-area")).to_have_count(1)
