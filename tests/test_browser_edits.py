"""Editing in a real browser: a planner signed in by the proxy's header opens a road, and the
map's colour of it, the change table and the progress card follow."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from geo.io import load_layers, read_history
from layers import CATALOGUE

from .browser import streamlit_server
from .common import SAMPLE
from .test_browser import Page, browser  # noqa: F401 (the shared Chromium)

pytestmark = pytest.mark.browser

HEADER = "X-Remote-User"
SEG = "R001"  # 甲一路（1段）, under construction in the sample
COLOURS = {c.code: c.color for c in CATALOGUE["roads"].field("status").choices}


class _SignedIn:
    """A browser whose pages carry the header the intranet's reverse proxy sets."""

    def __init__(self, browser: object, user: str) -> None:  # noqa: F811 (the fixture above)
        self.browser, self.user = browser, user

    def new_page(self, **options: object) -> object:
        page = self.browser.new_page(**options)
        page.set_extra_http_headers({HEADER: self.user})
        return page


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work.gpkg"
    shutil.copyfile(SAMPLE, path)
    return path


@pytest.fixture
def page(browser: object, work: Path) -> Iterator[Page]:  # noqa: F811 (the fixture above)
    # the browser plays the proxy on this machine: its header is believed from 127.0.0.1
    with streamlit_server(
        NANGUAN_SOURCE=str(work), NANGUAN_AUTH_HEADER=HEADER, NANGUAN_TRUSTED_PROXIES="127.0.0.1"
    ) as url:
        p = Page(_SignedIn(browser, "zhangsan"), url)
        yield p
        p.page.close()


def road_colour(page: Page) -> str:
    """The colour the map's script gives the road on its canvas."""
    return page.frame.evaluate(
        """(seg) => { const st = nanguan.state(window.map), i = st.layers.roads.data.ids.indexOf(seg);
            return st.cache.roads.fg.getLayers().find(l => l._ngIndex === i).options.color; }""",
        SEG,
    )


def pixels_of(page: Page, colour: str) -> int:
    """Pixels of ``colour`` (drawn at the roads' opacity 0.9 on the white map) in a box around the road."""
    from PIL import Image

    frame = page.page.locator('iframe[title="streamlit_folium.st_folium"] >> visible=true')
    frame.scroll_into_view_if_needed()
    index = page.frame.evaluate("(seg) => nanguan.state(window.map).layers.roads.data.ids.indexOf(seg)", SEG)
    x, y = page.point_on("roads", index)
    box = frame.bounding_box()
    shot = np.asarray(Image.open(io.BytesIO(frame.screenshot())).convert("RGB")).astype(float)
    scale = shot.shape[1] / box["width"]
    col, row = int((x - box["x"]) * scale), int((y - box["y"]) * scale)
    image = shot[row - 15 : row + 15, col - 15 : col + 15]
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    seen = 0.9 * rgb + 0.1 * 255
    return int((np.abs(image - seen).max(axis=2) < 24).sum())


def test_opening_a_road_in_the_app_recolours_it_and_the_panels_follow(page: Page, work: Path) -> None:
    cards = page.page.locator(".ng-card")
    expect(cards.filter(has_text="32 段").first).to_be_visible()
    page.switch_off("facilities", "pipes")  # drawn above the roads
    index = page.frame.evaluate("(seg) => nanguan.state(window.map).layers.roads.data.ids.indexOf(seg)", SEG)
    page.hover("roads", index)  # zoomed in on the road, so no neighbour is in the box read below
    page.page.mouse.move(1, 1)  # off the road again: hovering thickens it
    assert road_colour(page) == COLOURS["under_construction"]
    assert pixels_of(page, COLOURS["under_construction"]) > 0 and pixels_of(page, COLOURS["open"]) == 0

    page.page.get_by_text("编辑与修改记录").click()  # opens in the browser, no run
    expect(page.page.get_by_role("combobox", name="图层")).to_be_visible()
    page.choose(page.page, "图层", "道路")
    features = page.page.get_by_role("combobox", name="要素（可多选）")
    with page.rerun():
        features.click()
        page.page.get_by_role("option", name=f"{SEG} 甲一路（1段）").click()
    page.page.keyboard.press("Escape")
    page.choose(page.page, "字段", "状态")
    page.choose(page.page, "新值", "已通车")
    with page.rerun():
        page.page.get_by_role("button", name="保存修改").click()

    expect(page.page.get_by_text("已保存 1 项修改（zhangsan）")).to_be_visible()
    expect(cards.filter(has_text="33 段").first).to_be_visible()
    page.settled()
    page.frame.wait_for_function(
        """([seg, colour]) => { const st = nanguan.state(window.map), i = st.layers.roads.data.ids.indexOf(seg);
            const p = st.cache.roads.fg.getLayers().find(l => l._ngIndex === i);
            return p && p.options.color === colour; }""",
        arg=[SEG, COLOURS["open"]],
    )
    assert pixels_of(page, COLOURS["open"]) > 0 and pixels_of(page, COLOURS["under_construction"]) == 0
    changes = page.page.locator('[data-testid="stDataFrame"]', has_text="change_id")
    expect(changes).to_contain_text("zhangsan")
    expect(changes).to_contain_text("under_construction")
    assert read_history(work)[["by", "id", "new"]].values.tolist() == [["zhangsan", SEG, "open"]]
    assert load_layers(work, layers=("roads",))["roads"].set_index("seg_id").loc[SEG, "status"] == "open"
    assert page.errors == [] and page.failed == []
