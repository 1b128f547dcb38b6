"""Hostile values in a real browser: the app and the standalone map of a source whose every
free-text value is markup, script, template, Markdown, a bidirectional override, a
10,000-character name or a formula show them as text: no dialog, no element made of them,
no navigation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from display.safe import isolate

from .browser import streamlit_server
from .common import ROOT
from .hostile import IMG, LONG, SUBTITLE, TEMPLATE, TITLE, write_hostile
from .test_browser import Page, browser

pytestmark = pytest.mark.browser

__all__ = ["browser"]

#: Elements the data could have made had it been taken as HTML: an image of it, a script
#: that is only its alert, a javascript: link, any element with an onerror attribute.
INJECTED = """() => [...document.querySelectorAll(
        'img[src="x"], img[src*="127.0.0.1:9"], a[href^="javascript"], [onerror], script, b')]
    .filter(e => e.tagName !== 'SCRIPT' || e.textContent.trim().startsWith('alert('))
    .filter(e => e.tagName !== 'B' || e.textContent === 'b')
    .map(e => e.outerHTML.slice(0, 120))"""

#: Where a road's first segment is, in the page, after the map is zoomed in on it (and every
#: other layer is taken off, so that no other tooltip answers); `map` is found on `window`.
ROAD_AT = """([i]) => {
    const map = Object.values(window).find(v => v && v._ng && v._ng.ready), st = map._ng;
    for (const n of Object.keys(st.layers)) if (n !== "roads") map.removeLayer(st.layers[n].group);
    const p = st.cache.roads.fg.getLayers().find(l => l._ngIndex === i);
    map.setView(p.getBounds().getCenter(), 17, {animate: false});
    let ll = p.getLatLngs();
    while (Array.isArray(ll[0])) ll = ll[0];
    const a = map.latLngToContainerPoint(ll[0]), b = map.latLngToContainerPoint(ll[1]);
    const r = map.getContainer().getBoundingClientRect();
    return [r.x + (a.x + b.x) / 2, r.y + (a.y + b.y) / 2];
}"""


AWAY = """() => { Object.values(window).find(v => v && v._ng && v._ng.ready).setView([0, 0], 17, {animate: false});
                  return 0; }"""


@pytest.fixture(scope="module")
def hostile_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile(tmp_path_factory.mktemp("hostile") / "hostile.gpkg")


def _move_until(page: object, x: float, y: float, shown: Callable[[int], None]) -> None:
    """Move the mouse to ``(x, y)`` until ``shown(timeout_ms)`` holds: the canvas drops a move
    that comes within its 32 ms hover throttle, so the mouse moves again by a pixel."""
    for i in range(20):
        page.mouse.move(x + i % 2, y)
        try:
            shown(1_000)
            return
        except AssertionError:
            continue
    shown(60_000)


def _tooltip_of_road(page: object, frame: object, index: int, offset: tuple[float, float]) -> object:
    """Hover road ``index`` and return its tooltip."""
    tip = frame.locator(".leaflet-tooltip").filter(has_text="道路等级")  # a road's, not a district's
    # first over empty ground (the map moved far away), till the last tooltip closes
    frame.evaluate(AWAY)
    _move_until(page, offset[0] + 200, offset[1] + 200, lambda t: expect(tip).to_have_count(0, timeout=t))
    x, y = frame.evaluate(ROAD_AT, [index])
    _move_until(page, offset[0] + x, offset[1] + y, lambda t: expect(tip).to_be_visible(timeout=t))
    return tip


def _check_tooltips(page: object, frame: object, offset: tuple[float, float]) -> None:
    tip = _tooltip_of_road(page, frame, 0, offset)
    expect(tip.locator("b")).to_have_text(IMG)
    tip = _tooltip_of_road(page, frame, 3, offset)
    expect(tip.locator("b")).to_have_text(TEMPLATE)  # not 49: no template ran on it
    # the 10,000-character name is cut in the tooltip, whole in its title; the tooltip stays narrow
    tip = _tooltip_of_road(page, frame, 6, offset)
    name = tip.locator("b")
    expect(name).to_have_text(LONG[:119] + "…")
    assert name.get_attribute("title") == LONG
    assert tip.bounding_box()["width"] <= 400


@pytest.fixture
def app_page(browser: object, hostile_source: Path) -> Iterator[Page]:
    with streamlit_server(NANGUAN_SOURCE=str(hostile_source)) as url:
        page = Page(browser, url)
        yield page
        page.page.close()


def test_the_app_shows_hostile_values_as_text(app_page: Page) -> None:
    page = app_page.page
    start = page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda f: f == page.main_frame and navigations.append(f.url))
    expect(page.locator("h1").first).to_have_text(TITLE)
    expect(page.get_by_test_id("stCaptionContainer").first).to_have_text(isolate(SUBTITLE))
    card = page.locator(".ng-card-label", has_text="长长长")
    expect(card).to_have_attribute("title", LONG)
    assert card.bounding_box()["height"] < 120  # a few lines, not 10,000 characters wrapped
    expect(page.locator(".ng-card-label", has_text=IMG)).to_have_count(1)
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"] >> visible=true')
    iframe.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")  # the mouse reaches it
    box = iframe.bounding_box()
    _check_tooltips(page, app_page.frame, (box["x"], box["y"]))
    assert page.evaluate(INJECTED) == [] and app_page.frame.evaluate(INJECTED) == []
    assert app_page.dialogs == [] and app_page.errors == []
    assert navigations == [] and page.url == start


def test_the_standalone_map_shows_hostile_values_as_text(browser: object, hostile_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    subprocess.run([sys.executable, "-m", "geo", "map", str(hostile_source), "--out", str(out)], cwd=ROOT, check=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    dialogs: list[str] = []
    errors: list[str] = []
    navigations: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(out.as_uri())
    page.on("framenavigated", lambda f: f == page.main_frame and navigations.append(f.url))
    page.wait_for_function("() => Object.values(window).some(v => v && v._ng && v._ng.ready)")
    assert page.title() == TITLE
    _check_tooltips(page, page.main_frame, (0, 0))
    assert page.evaluate(INJECTED) == []
    assert dialogs == [] and errors == [] and navigations == [] and page.url == out.as_uri()
    page.close()
