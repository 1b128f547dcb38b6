"""The app in a real browser: the map draws every layer offline, toggles, tooltips, panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

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
    cards = page.page.locator(".ng-card")
    # done against the plan: 32 of 96 segments open, 24 under way, 40 planned
    for figure in ("32 段", "目标 96 段 · 在建 24 · 规划 40", "278 户"):
        expect(cards.filter(has_text=figure).first).to_be_visible()


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


def _upload(page: Page, path: Path) -> object:
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("导入数据").click()
    sidebar.locator('input[type="file"]').set_input_files(str(path))
    sidebar.get_by_text(path.name).wait_for()
    return sidebar


def test_import_is_previewed_then_replaces_the_layer(browser: object, tmp_path: Path) -> None:
    from .common import frame, hline
    from .gdal import feature_count, ogrinfo

    upload = tmp_path / "new_roads.geojson"
    lines = [hline(0, 0, 1000), hline(60_000, 0, 500)]  # the second lies outside every sub-district
    frame("roads", lines, seg_id=["N1", "N2"], name=["新路", "远路"]).to_crs(4326).to_file(upload)
    with streamlit_server() as url:
        page = Page(browser, url)
        sidebar = _upload(page, upload)
        expect(sidebar.get_by_role("combobox", name="导入为")).to_have_value("道路")  # guessed from the file
        sidebar.get_by_role("button", name="预览", exact=True).click()
        panel = page.page.locator(".st-key-import_preview")
        expect(panel).to_contain_text("导入预览：new_roads.geojson", timeout=30_000)
        expect(panel).to_contain_text("要素数：2（“道路”现有 96）")
        expect(panel).to_contain_text("读取坐标系：WGS 84")
        expect(panel).to_contain_text("不在任何街道内：1 个要素")
        expect(panel.get_by_role("img")).to_be_visible()  # the extent sketch
        expect(panel).to_contain_text("远路")
        expect(page.map.locator("path.ng-roads")).to_have_count(EXPECTED["roads"])  # nothing replaced yet
        panel.get_by_role("button", name="替换图层").click()
        sidebar.get_by_text("已导入 new_roads.geojson：“道路”现有 2 个要素").wait_for(timeout=30_000)
        page.page.locator(".ng-card", has_text="存量路网条段").get_by_text("2 段", exact=True).wait_for()
        page.map.get_by_text("道路 (2)").wait_for()
        assert page.count("roads") == 2 and page.count("pipes") == EXPECTED["pipes"]
        expect(sidebar.get_by_role("textbox", name="数据源")).to_have_value("data/nanguan.gpkg")
        expect(page.page.get_by_text("示意数据")).to_have_count(0)  # real data now
        expect(page.page.get_by_text("Session State")).to_have_count(0)
        with page.page.expect_download() as info:
            sidebar.get_by_role("button", name="下载工作副本（GeoPackage）").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert re.fullmatch(r"nanguan_working_\d{8}\.gpkg", saved.name)
        assert feature_count(ogrinfo("-so", str(saved), "roads")) == 2
        page.page.close()
    assert SAMPLE.exists() and len(load_layers(SAMPLE)["roads"]) == 96


def test_amap_coordinates_are_flagged_and_converted(browser: object, tmp_path: Path) -> None:
    from geo.chinacoord import convert_frame

    upload = tmp_path / "高德道路.geojson"
    convert_frame(load_layers(SAMPLE)["roads"].to_crs(4326), "wgs84", "gcj02").to_file(upload)
    with streamlit_server() as url:
        page = Page(browser, url)
        sidebar = _upload(page, upload)
        sidebar.get_by_role("button", name="预览", exact=True).click()
        warning = page.page.get_by_text("这些坐标看起来是高德/腾讯 GCJ-02 经纬度坐标")
        warning.wait_for(timeout=30_000)
        page.page.get_by_role("button", name="按高德/腾讯 GCJ-02 经纬度转换后重新预览").click()
        page.page.get_by_text("读取坐标系：GCJ-02 → WGS 84").wait_for(timeout=30_000)
        expect(page.page.get_by_text("不在任何街道内：0 个要素")).to_be_visible()
        expect(warning).to_have_count(0)
        expect(sidebar.get_by_role("combobox", name="坐标系")).to_have_value("高德/腾讯 GCJ-02 经纬度")
        page.page.close()


def test_import_error_is_chinese_and_names_the_upload(browser: object, tmp_path: Path) -> None:
    from .test_errors import ENGLISH
    from .test_importer import BAD_INPUTS

    upload = BAD_INPUTS["GBK without .cpg"][0](tmp_path)
    with streamlit_server() as url:
        page = Page(browser, url)
        sidebar = _upload(page, upload)
        page.choose(sidebar, "导入为", "道路")
        sidebar.get_by_role("button", name="预览", exact=True).click()
        alert = sidebar.locator('[data-testid="stAlertContentError"]')
        alert.wait_for(timeout=30_000)
        shown = alert.inner_text()
        assert shown.startswith("roads.zip：属性文字不是 UTF-8 编码") and "GBK" in shown
        assert "/" not in shown.replace("ArcGIS/SuperMap", "") and not ENGLISH.search(shown), shown
        page.page.close()


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


#: Elements of a progress card whose text is cut off or overflows it; empty when all fit.
OVERFLOWING = """cards => cards.flatMap(card => [card, ...card.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 || getComputedStyle(e).textOverflow === 'ellipsis')
    .map(e => e.className + ': ' + e.textContent))"""


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from .common import write_city

    folder = tmp_path_factory.mktemp("cities")
    return {
        "five": write_city(folder / "five.gpkg", roads=400, districts=5, targets=True),
        "50k": write_city(folder / "city50k.gpkg", roads=50_000, districts=200, targets=True),
    }


@pytest.mark.parametrize("source", ["sample", "five", "50k"])
@pytest.mark.parametrize("width", [1400, 900])
def test_every_progress_card_fits(browser: object, cities: dict[str, Path], source: str, width: int) -> None:
    path = SAMPLE if source == "sample" else cities[source]
    with streamlit_server(NANGUAN_SOURCE=str(path)) as url:
        page = browser.new_page(viewport={"width": width, "height": 1100})
        page.goto(url)
        cards = page.locator(".ng-card")
        expect(cards).to_have_count(10, timeout=120_000)
        assert cards.evaluate_all(OVERFLOWING) == []
        text = " ".join(cards.all_inner_texts())
        assert "e+" not in text and "…" not in text
        if source == "50k":
            assert re.search(r"\b\d{1,3}(,\d{3})+ 段", text), text  # five-digit counts with separators
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".ng-progress").screenshot(path=str(ARTIFACTS / f"progress_{source}_{width}.png"))
        page.close()


def test_statistics_table_ends_at_its_total_row(page: Page) -> None:
    """The frame is as tall as its rows: the 合计 row's text sits just above its bottom edge."""
    import io

    import numpy as np
    from PIL import Image

    frame = page.page.locator('[data-testid="stDataFrame"]').first
    frame.wait_for()
    page.page.wait_for_function(
        "() => document.querySelector('[data-testid=stDataFrame] canvas')?.height > 0", timeout=30_000
    )
    image = np.asarray(Image.open(io.BytesIO(frame.screenshot())).convert("L"))
    scale = image.shape[0] / frame.bounding_box()["height"]
    text_rows = np.flatnonzero((image < 100).any(axis=1))
    gap_px = (image.shape[0] - 1 - text_rows.max()) / scale
    assert gap_px < 18, f"{gap_px:.0f} px below the last row's text: a blank row"
