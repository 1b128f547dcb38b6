"""The app in a real browser: the map draws every layer offline, toggles, tooltips, panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import expect

from geo.io import load_layers

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, streamlit_server
from .common import ROOT, SAMPLE

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
EXPECTED = {"districts": 14, "greenbelt": 10, "parcels": 17, "roads": 96, "pipes": 12, "facilities": 119}

# Conditions, not sleeps: every wait below is for something the page shows; the first load
# and a rerun on a shared CI machine may take a while.
expect.set_options(timeout=60_000)

#: Counts the app's finished script runs: Streamlit marks its root element with the run's
#: state, and every change of a widget's value starts a run that redraws the page.
COUNT_RUNS = """
window.__runsDone = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.getAttribute("data-test-script-state") === "notRunning" && r.oldValue !== "notRunning") {
      window.__runsDone += 1;
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ["data-test-script-state"]});
"""


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
    """An app page with the map's frame found, and every failed request recorded.

    It is ready once the first script run has finished and the map has drawn. An action
    that changes a widget's value starts a run that redraws the page; :meth:`rerun` waits
    for that run to finish, so the next action never meets a widget being redrawn.
    """

    def __init__(self, browser: object, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1100})
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.add_init_script(COUNT_RUNS)
        self.page.goto(url)
        self._wait_for_runs(0)
        expect(self.map.locator("path.ng-roads").first).to_be_attached()

    def _wait_for_runs(self, done: int) -> None:
        self.page.wait_for_function(
            """(done) => window.__runsDone > done &&
                 document.querySelector('[data-testid="stApp"]')
                   ?.getAttribute("data-test-script-state") === "notRunning" """,
            arg=done,
            timeout=60_000,
        )

    @contextmanager
    def rerun(self) -> Iterator[None]:
        """Wait, after the block, for the script run its action started to finish."""
        done = self.page.evaluate("window.__runsDone")
        yield
        self._wait_for_runs(done)

    @property
    def map(self):
        """The map's frame: the visible one while a rerun replaces it."""
        return self.page.frame_locator('iframe[title="streamlit_folium.st_folium"] >> visible=true')

    def choose(self, scope: object, label: str, option: str) -> None:
        """Pick ``option`` in the select box labelled ``label``, and wait for the run it starts.

        The box is first scrolled to the middle of the page, so its list opens in view:
        scrolling the page while the list is open closes it.
        """
        box = scope.get_by_role("combobox", name=label)
        box.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
        with self.rerun():
            box.click()
            choice = self.page.get_by_role("option", name=option, exact=True)
            expect(choice).to_be_in_viewport()
            choice.click()
        expect(box).to_have_value(option)

    def paths(self, layer: str):
        """The map's drawn features of ``layer``."""
        return self.map.locator(f"path.ng-{layer}")


@pytest.fixture
def page(browser: object, server: str) -> Iterator[Page]:
    p = Page(browser, server)
    yield p
    p.page.close()


def test_map_draws_every_layer_with_no_failed_request(page: Page) -> None:
    for layer, n in EXPECTED.items():
        expect(page.paths(layer)).to_have_count(n)
    expect(page.map.locator("path.leaflet-interactive")).to_have_count(sum(EXPECTED.values()))
    assert page.failed == [] and page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)


def test_leaflet_is_served_by_the_app(page: Page) -> None:
    sources = page.map.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    leaflet = [s for s in sources if s.endswith("leaflet.js")]
    assert leaflet and all("/app/static/leaflet/" in s and s.startswith("http://127.0.0.1") for s in leaflet)


def test_toggling_a_layer_removes_its_paths(page: Page) -> None:
    toggle = page.map.get_by_label(re.compile(r"道路 \(96\)"))
    toggle.uncheck()
    expect(page.paths("roads")).to_have_count(0)
    expect(page.paths("pipes")).to_have_count(EXPECTED["pipes"])
    expect(page.map.locator('.ng-legend [data-layer="roads"]')).to_be_hidden()
    toggle.check()
    expect(page.paths("roads")).to_have_count(EXPECTED["roads"])
    expect(page.map.locator('.ng-legend [data-layer="roads"]')).to_be_visible()


def _hover_first_road(page: Page) -> object:
    """Hover the first road with the layers drawn above it switched off; its tooltip."""
    for layer in ("公共设施", "管线"):  # drawn above the roads, some close to 甲一路
        page.map.get_by_label(re.compile(layer)).uncheck()
    expect(page.paths("facilities")).to_have_count(0)
    expect(page.paths("pipes")).to_have_count(0)
    page.paths("roads").nth(0).hover(force=True)
    tip = page.map.locator(".leaflet-tooltip")
    expect(tip).to_be_visible()
    return tip


def test_hovering_a_road_shows_its_tooltip(page: Page) -> None:
    tip = _hover_first_road(page)
    expect(tip).to_contain_text("甲一路（1段）")
    expect(tip).to_contain_text("道路等级")
    expect(tip).to_contain_text("km")


def test_plan_progress_panel_shows_the_figures(page: Page) -> None:
    metrics = page.page.locator('[data-testid="stMetric"]')
    # done against the plan: 32 of 96 segments open, 24 under way, 40 planned
    for figure in ("32 段", "目标 96 · 在建 24 · 规划 40", "278 户"):
        expect(metrics.filter(has_text=figure).first).to_be_visible()


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
        tip = _hover_first_road(page)
        expect(tip).to_contain_text("<img src=x onerror=alert(1)>")
        # the markup is text: no element was made of it anywhere, so nothing can run its onerror
        expect(page.map.locator('img[src="x"]')).to_have_count(0)
        expect(page.page.locator('img[src="x"]')).to_have_count(0)
        assert page.dialogs == []
        page.page.close()


def test_clicking_a_district_selects_it(page: Page) -> None:
    for layer in ("公共设施", "绿地", "更新地块", "道路", "管线"):
        page.map.get_by_label(re.compile(layer)).uncheck()
    for layer in ("facilities", "greenbelt", "parcels", "roads", "pipes"):
        expect(page.paths(layer)).to_have_count(0)
    districts = page.paths("districts")
    expect(districts).to_have_count(EXPECTED["districts"])
    boxes = [districts.nth(i).bounding_box() for i in range(EXPECTED["districts"])]
    largest = max(range(len(boxes)), key=lambda i: boxes[i]["width"] * boxes[i]["height"])
    with page.rerun():
        districts.nth(largest).click()
    expect(page.page.get_by_text("已选街道：幸福乡")).to_be_visible()


def test_import_an_uploaded_layer(browser: object, tmp_path: Path) -> None:
    from .common import frame, hline

    upload = tmp_path / "new_roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"], name=["新路"]).to_crs(4326).to_file(upload)
    with streamlit_server() as url:
        page = Page(browser, url)
        sidebar = page.page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("导入数据").click()
        with page.rerun():  # a new upload is a new widget value: the app runs again
            sidebar.locator('input[type="file"]').set_input_files(str(upload))
        expect(sidebar.get_by_text("new_roads.geojson")).to_be_visible()
        page.choose(sidebar, "导入为", "道路")
        with page.rerun():
            sidebar.get_by_role("button", name="导入", exact=True).click()
        expect(sidebar.get_by_text("已导入：roads 1")).to_be_visible()
        metric = page.page.locator('[data-testid="stMetric"]', has_text="存量路网条段")
        expect(metric.get_by_text("1 段")).to_be_visible()
        expect(page.map.get_by_text("道路 (1)")).to_be_visible()
        expect(page.paths("roads")).to_have_count(1)
        expect(page.paths("pipes")).to_have_count(EXPECTED["pipes"])
        page.page.close()
    assert SAMPLE.exists() and len(load_layers(SAMPLE)["roads"]) == 96


def test_downloaded_shapefile_opens_in_gdal(page: Page, tmp_path: Path) -> None:
    from .gdal import feature_count, ogrinfo

    page.choose(page.page, "格式", "Shapefile (zip)")
    expect(page.page.get_by_role("button", name="下载全部图层")).to_be_visible()
    with page.page.expect_download() as info:
        page.page.get_by_role("button", name="下载道路").click()
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
    expect(page.locator("path.leaflet-interactive")).to_have_count(sum(EXPECTED.values()))
    assert failed == []
    page.close()
