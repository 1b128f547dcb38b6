"""The app in a real browser: the map draws every layer offline, toggles, tooltips, panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from geo.io import load_layers

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, streamlit_server
from .common import ROOT, SAMPLE

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
EXPECTED = {
    "districts": 14,
    "areas": 11,
    "greenbelt": 10,
    "parcels": 17,
    "rivers": 2,
    "roads": 96,
    "pipes": 12,
    "facilities": 119,
    "monitoring_points": 5,
}


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
        self.map.locator("path.ng-roads").first.wait_for(timeout=60_000)

    @property
    def map(self):
        """The map's frame: the visible one while a rerun replaces it."""
        return self.page.frame_locator('iframe[title="streamlit_folium.st_folium"] >> visible=true')

    def choose(self, scope: object, label: str, option: str) -> None:
        """Pick ``option`` in the select box labelled ``label``."""
        box = scope.get_by_role("combobox", name=label)
        choice = self.page.get_by_role("option", name=option, exact=True)
        for _ in range(5):  # a rerun may redraw the box while it opens
            box.focus()
            box.press("ArrowDown")
            try:
                choice.wait_for(timeout=3_000)
                break
            except PlaywrightTimeout:
                continue
        choice.click()

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


@pytest.mark.parametrize(("layer", "label"), [("areas", "重点区域"), ("rivers", "河流"), ("monitoring_points", "水体断面")])
def test_toggling_each_new_layer(page: Page, layer: str, label: str) -> None:
    toggle = page.map.get_by_label(f"{label} ({EXPECTED[layer]})")
    legend = page.map.locator(f'.ng-legend [data-layer="{layer}"]')
    assert legend.is_visible()
    toggle.uncheck()
    assert page.count(layer) == 0
    assert legend.is_hidden()
    assert page.count("roads") == EXPECTED["roads"]
    toggle.check()
    assert page.count(layer) == EXPECTED[layer]
    assert legend.is_visible()


def test_clicking_a_key_area_shows_the_plan_sentence(page: Page) -> None:
    area = page.map.locator("path.ng-areas").nth(EXPECTED["areas"] - 1)  # 绕城以南区域, clear of the works
    area.click(force=True)
    popup = page.map.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "绕城以南区域" in text and "储备用地" in text and "绕城高速以南区域总体规划" in text
    assert page.map.locator(".ng-label", has_text="绕城以南区域").count() == 1


def test_hovering_a_road_shows_its_tooltip(page: Page) -> None:
    for layer in ("公共设施", "管线"):  # drawn above the roads, some close to 甲一路
        page.map.get_by_label(re.compile(layer)).uncheck()
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
    assert "道路完好率" in text and "69.39 %" in text and "目标 98 %" in text


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
        for layer in ("公共设施", "管线"):
            page.map.get_by_label(re.compile(layer)).uncheck()
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


def test_import_an_uploaded_layer(browser: object, tmp_path: Path) -> None:
    from .common import frame, hline

    upload = tmp_path / "new_roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"], name=["新路"]).to_crs(4326).to_file(upload)
    with streamlit_server() as url:
        page = Page(browser, url)
        sidebar = page.page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("导入数据").click()
        sidebar.locator('input[type="file"]').set_input_files(str(upload))
        sidebar.get_by_text("new_roads.geojson").wait_for()
        page.choose(sidebar, "导入为", "道路")
        sidebar.get_by_role("button", name="导入", exact=True).click()
        sidebar.get_by_text("已导入：roads 1").wait_for(timeout=30_000)
        page.page.locator('[data-testid="stMetric"]', has_text="存量路网条段").get_by_text("1 段").wait_for()
        page.map.get_by_text("道路 (1)").wait_for()
        assert page.count("roads") == 1 and page.count("pipes") == EXPECTED["pipes"]
        page.page.close()
    assert SAMPLE.exists() and len(load_layers(SAMPLE)["roads"]) == 96


def test_downloaded_shapefile_opens_in_gdal(page: Page, tmp_path: Path) -> None:
    from .gdal import feature_count, ogrinfo

    page.choose(page.page, "格式", "Shapefile (zip)")
    page.page.get_by_role("button", name="下载全部图层").wait_for()  # the rerun for the new format is done
    button = page.page.get_by_role("button", name="下载道路")
    with page.page.expect_download() as info:
        button.click()
    download = info.value
    assert re.fullmatch(r"roads_EPSG4326_\d{8}\.zip", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert feature_count(ogrinfo("-so", "-al", f"/vsizip/{path}/roads.shp")) == 96


def test_standalone_map_opens_offline(browser: object, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "map.html"
    subprocess.run([sys.executable, "-m", "geo", "map", str(SAMPLE), "--out", str(out)], cwd=ROOT, check=True)
    page = browser.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(out.as_uri())
    page.locator("path.ng-roads").first.wait_for()
    assert page.locator("path.leaflet-interactive").count() == sum(EXPECTED.values())
    assert failed == []
    page.close()
