"""Impact analysis in a real browser: draw a polygon by clicks and see the panel and map follow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from .browser import streamlit_server
from .test_browser import Page, browser

pytestmark = pytest.mark.browser

__all__ = ["browser"]


@pytest.fixture(scope="module")
def page(browser: object) -> Iterator[Page]:
    with streamlit_server() as url:
        p = Page(browser, url)
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
