"""The app in a real browser: the map draws every layer offline, toggles, tooltips, panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest

from geo.io import load_layers

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, streamlit_server
from .common import ROOT, SAMPLE

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
EXPECTED = {"districts": 14, "greenbelt": 10, "parcels": 17, "roads": 96, "pipes": 12, "facilities": 119}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


class Page:
    """An app page with the map's frame found, and every failed request recorded."""

    def __init__(self, browser: object, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1100})
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.map = self.page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
        self.map.locator("path.ng-roads").first.wait_for(timeout=60_000)

    def count(self, layer: str) -> int:
        return self.map.locator(f"path.ng-{layer}").count()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[Page]:
    p = Page(browser, server)
    yield p
    p.page.close()


def test_map_draws_every_layer_with_no_failed_request(page: Page) -> None:
    for layer, n in EXPECTED.items():
        assert page.count(layer) == n, layer
    assert page.map.locator("path.leaflet-interactive").count() == sum(EXPECTED.values())
    assert page.failed == [] and page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)


def test_leaflet_is_served_by_the_app(page: Page) -> None:
    sources = page.map.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    leaflet = [s for s in sources if s.endswith("leaflet.js")]
    assert leaflet and all("/app/static/leaflet/" in s and s.startswith("http://127.0.0.1") for s in leaflet)


def test_toggling_a_layer_removes_its_paths(page: Page) -> None:
    page.map.get_by_label(re.compile(r"道路 \(96\)")).uncheck()
    assert page.count("roads") == 0
    assert page.count("pipes") == EXPECTED["pipes"]
    legend = page.map.locator('.ng-legend [data-layer="roads"]')
    assert legend.is_hidden()
    page.map.get_by_label(re.compile(r"道路 \(96\)")).check()
    assert page.count("roads") == EXPECTED["roads"]


def test_hovering_a_road_shows_its_tooltip(page: Page) -> None:
    page.map.get_by_label(re.compile(r"公共设施")).uncheck()
    road = page.map.locator("path.ng-roads").nth(0)
    road.hover(force=True)
    tip = page.map.locator(".leaflet-tooltip")
    tip.wait_for(timeout=10_000)
    text = tip.inner_text()
    assert "甲一路（1段）" in text and "道路等级" in text and "km" in text


def test_plan_progress_panel_shows_the_figures(page: Page) -> None:
    metrics = page.page.locator('[data-testid="stMetric"]')
    metrics.first.wait_for()
    text = " ".join(metrics.all_inner_texts())
    assert "96 段" in text and "38.4 公里" in text and "278 户" in text


@pytest.fixture
def hostile_source(tmp_path: Path) -> Path:
    layers = load_layers(SAMPLE)
    roads = layers["roads"].copy()
    roads.loc[roads.index[0], "name"] = "<img src=x onerror=alert(1)>"
    path = tmp_path / "hostile.gpkg"
    for name, gdf in {**layers, "roads": roads}.items():
        gpd.GeoDataFrame(gdf).to_file(path, layer=name, driver="GPKG")
    return path


def test_hostile_names_show_as_text(browser: object, hostile_source: Path) -> None:
    with streamlit_server(NANGUAN_SOURCE=str(hostile_source)) as url:
        page = Page(browser, url)
        page.map.get_by_label(re.compile(r"公共设施")).uncheck()
        page.map.locator("path.ng-roads").nth(0).hover(force=True)
        tip = page.map.locator(".leaflet-tooltip")
        tip.wait_for(timeout=10_000)
        assert "<img src=x onerror=alert(1)>" in tip.inner_text()
        assert page.map.locator(".leaflet-tooltip img").count() == 0
        page.page.wait_for_timeout(500)
        assert page.dialogs == []
        page.page.close()


def test_clicking_a_district_selects_it(page: Page) -> None:
    for layer in ("公共设施", "绿地", "更新地块", "道路", "管线"):
        page.map.get_by_label(re.compile(layer)).uncheck()
    largest = max(
        range(EXPECTED["districts"]),
        key=lambda i: (lambda b: b["width"] * b["height"])(page.map.locator("path.ng-districts").nth(i).bounding_box()),
    )
    page.map.locator("path.ng-districts").nth(largest).click()
    caption = page.page.get_by_text("已选街道：幸福乡")
    caption.wait_for(timeout=30_000)
    assert caption.is_visible()
