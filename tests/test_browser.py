"""The app in a real browser: the map draws every layer offline, toggles, tooltips, panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from bench.load import COUNT_RUNS  # counts the app's finished script runs
from geo.io import load_layers
from geo.progress import load_targets
from layers import CATALOGUE

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

# Conditions, not sleeps: every wait below is for something the page shows; the first load
# and a rerun on a shared CI machine may take a while.
expect.set_options(timeout=60_000)


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
        expect(self.map.locator(".ng-legend")).to_be_attached()
        self.settled()

    def _wait_for_runs(self, done: int) -> None:
        self.page.wait_for_function(
            """(done) => window.__runsDone > done &&
                 document.querySelector('[data-testid="stApp"]')
                   ?.getAttribute("data-test-script-state") === "notRunning" """,
            arg=done,
            timeout=60_000,
        )

    def idle(self) -> None:
        """Wait until the map has reported its view once and the run that report started is over.

        The map sends its view after it draws, which starts a run that redraws the sidebar:
        a select list opened during that run closes again.
        """
        self.frame.wait_for_function("() => !!(window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.previous_data)")
        self.page.wait_for_function(
            """() => document.querySelector('[data-testid="stApp"]')
                       ?.getAttribute("data-test-script-state") === "notRunning" """
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
        self.idle()
        choice = self.page.get_by_role("option", name=option, exact=True)
        with self.rerun():
            # The map may still report its view once more (on a cold start its script is
            # slow), and the run that starts redraws the sidebar and closes an open list;
            # nothing on the page says whether such a report is still to come. So the list
            # is opened again, at most three times, when it is not showing or closes under
            # the click.
            for attempt in range(3):
                self.idle()
                box.click()
                try:
                    expect(choice).to_be_in_viewport(timeout=10_000)
                    choice.click(timeout=10_000)
                    break
                except (AssertionError, PlaywrightTimeoutError):
                    if attempt == 2:
                        raise
        expect(box).to_have_value(option)

    @property
    def frame(self):
        """The map's frame as a Playwright Frame, to run script in."""
        handle = self.page.locator('iframe[title="streamlit_folium.st_folium"] >> visible=true').element_handle()
        return handle.content_frame()

    def settled(self, **on: bool) -> None:
        """Wait until the map has drawn its last payload, with layers ``on`` as given."""
        self.frame.wait_for_function(
            """on => {
                const st = window.map && window.map._ng;
                if (!st || !st.ready) return false;
                return Object.entries(on).every(([n, v]) => st.layers[n] && st.layers[n].data.on === v
                    && window.map.hasLayer(st.layers[n].group) === v);
            }""",
            arg=on,
            timeout=60_000,
        )

    def drawn(self) -> dict[str, int]:
        """Features of each layer on the map's canvas (paths held by the canvas renderer)."""
        return self.frame.evaluate("() => nanguan.drawn(window.map)")

    def point_on(self, layer: str, index: int = 0) -> tuple[float, float]:
        """Page coordinates of a point on feature ``index`` of ``layer``: where its name is
        written on the map (a polygon's inside point, a line's middle) for a layer that names
        its features, else the middle of its first segment."""
        x, y = self.frame.evaluate(
            """([name, i]) => {
                const map = window.map, st = nanguan.state(map), p = st.cache[name].fg.getLayers()
                    .find(l => l._ngIndex === i);
                let a, b;
                if (st.layers[name].group._ngLabels) {  // a named feature: where its name sits
                    const m = st.layers[name].group._ngLabels.getLayers().find(l => l._ngIndex === i);
                    a = b = map.latLngToContainerPoint(m.getLatLng());
                } else {
                    let ll = p.getLatLngs();
                    while (Array.isArray(ll[0])) ll = ll[0];
                    a = map.latLngToContainerPoint(ll[0]);
                    b = map.latLngToContainerPoint(ll[1]);
                }
                return [(a.x + b.x) / 2, (a.y + b.y) / 2];
            }""",
            [layer, index],
        )
        box = self.page.locator('iframe[title="streamlit_folium.st_folium"] >> visible=true').bounding_box()
        return box["x"] + x, box["y"] + y

    def hover(self, layer: str, index: int = 0) -> None:
        """Move the mouse onto a feature, with the map zoomed in on it so no neighbour is near."""
        self.frame.evaluate(
            """([name, i]) => { const map = window.map, st = nanguan.state(map);
                const p = st.cache[name].fg.getLayers().find(l => l._ngIndex === i);
                map.setView(p.getBounds().getCenter(), 17, {animate: false}); return 0; }""",
            [layer, index],
        )
        x, y = self.point_on(layer, index)
        self.page.mouse.move(x, y)

    def switch_off(self, *layers: str) -> None:
        """Untick layers in the map's own control, each after the rerun the last one caused."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        for name in layers:
            label = CATALOGUE[name].zh
            self.map.get_by_label(re.compile(label)).uncheck()
            expect(sidebar.get_by_role("checkbox", name=label, exact=True)).not_to_be_checked(timeout=30_000)
            self.settled(**{name: False})

    def count(self, layer: str) -> int:
        return self.drawn().get(layer, 0)


@pytest.fixture
def page(browser: object, server: str) -> Iterator[Page]:
    p = Page(browser, server)
    yield p
    p.page.close()


def test_map_draws_every_layer_with_no_failed_request(page: Page) -> None:
    assert page.drawn() == EXPECTED
    # the canvas holds drawn pixels, and there is one canvas, not a DOM path per feature
    assert page.map.locator("canvas").count() == 1 and page.map.locator("path.leaflet-interactive").count() == 0
    assert (
        page.frame.evaluate(
            """() => { const c = document.querySelector(".leaflet-overlay-pane canvas");
                   const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++; return n; }"""
        )
        > 10_000
    )
    assert page.failed == [] and page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)


def test_leaflet_and_the_map_script_are_served_by_the_app(page: Page) -> None:
    sources = page.map.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    ours = [s for s in sources if s.endswith(("leaflet.js", "nanguan/map.js"))]
    assert len(ours) == 2 and all("/app/static/" in s and s.startswith("http://127.0.0.1") for s in ours)


def test_the_layer_control_and_the_sidebar_are_one_state(page: Page) -> None:
    page.switch_off("roads")
    page.settled(roads=False)
    assert page.count("roads") == 0 and page.count("pipes") == EXPECTED["pipes"]
    assert page.map.locator('.ng-legend [data-layer="roads"]').count() == 0
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("checkbox", name="道路", exact=True).check(force=True)
    page.settled(roads=True)
    assert page.count("roads") == EXPECTED["roads"]
    expect(page.map.get_by_label(re.compile(r"道路 \(96\)"))).to_be_checked()


def test_the_view_survives_a_rerun_and_a_new_mount(page: Page) -> None:
    page.map.locator(".leaflet-control-zoom-in").click()
    page.frame.wait_for_function("() => window.map.getZoom() >= 12")
    zoom = page.frame.evaluate("() => window.map.getZoom()")
    # the new view has gone to the app (the component sent it) before the language changes
    page.frame.wait_for_function("z => window.__GLOBAL_DATA__.previous_data.zoom === z", arg=zoom)
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("English").click()
    page.map.get_by_text("Legend").wait_for(timeout=60_000)
    page.settled()
    assert page.frame.evaluate("() => window.map.getZoom()") == zoom


def test_a_filter_keeps_its_choice_across_a_language_switch(page: Page) -> None:
    roads = load_layers(SAMPLE)["roads"]
    not_open = int((roads["status"] != "open").sum())  # 64 of the 96 segments
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("筛选", exact=True).click()
    box = sidebar.get_by_role("combobox", name="道路 · 状态")
    box.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    page.idle()
    with page.rerun():  # the last tag (已通车) removed from the filter
        box.click()
        page.page.keyboard.press("Backspace")
    page.settled()
    assert page.count("roads") == not_open
    page.page.keyboard.press("Escape")
    with page.rerun():
        sidebar.get_by_text("English").click()
    page.map.get_by_text("Legend").wait_for(timeout=60_000)
    page.settled()
    # the same two statuses, now in English, and the map still shows their roads
    english = sidebar.locator(".st-key-f_roads_status")
    expect(english).to_contain_text("Roads · Status")
    expect(english).to_contain_text("Planned")
    expect(english).to_contain_text("Under construction")
    expect(english).not_to_contain_text("规划")
    assert page.count("roads") == not_open
    with page.rerun():
        sidebar.get_by_text("中文").click()
    page.map.get_by_text("图例").wait_for(timeout=60_000)  # the map mounted afresh in Chinese
    page.settled()
    assert page.count("roads") == not_open


@pytest.mark.parametrize("layer", ["areas", "rivers", "monitoring_points"])
def test_toggling_each_new_layer(page: Page, layer: str) -> None:
    legend = page.map.locator(f'.ng-legend [data-layer="{layer}"]')
    expect(legend).to_be_visible()
    page.switch_off(layer)
    assert page.count(layer) == 0 and page.count("roads") == EXPECTED["roads"]
    expect(legend).to_have_count(0)
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("checkbox", name=CATALOGUE[layer].zh, exact=True).check(force=True)
    page.settled(**{layer: True})
    assert page.count(layer) == EXPECTED[layer]
    expect(legend).to_be_visible()


def test_clicking_a_key_area_shows_the_plan_sentence(page: Page) -> None:
    last = EXPECTED["areas"] - 1  # 绕城以南区域, clear of the works
    assert page.frame.evaluate(f"() => nanguan.state(window.map).layers.areas.data.cols.name[{last}]") == "绕城以南区域"
    page.frame.evaluate(
        f"""() => {{ const map = window.map, st = nanguan.state(map);
                   const p = st.cache.areas.fg.getLayers().find(l => l._ngIndex === {last});
                   map.fitBounds(p.getBounds(), {{animate: false}}); return 0; }}"""
    )
    page.page.locator('iframe[title="streamlit_folium.st_folium"] >> visible=true').scroll_into_view_if_needed()
    x, y = page.point_on("areas", last)
    popup = page.map.locator(".leaflet-popup-content")
    with page.rerun():  # a click on the map is news for the app, which runs again
        page.page.mouse.click(x, y)
        expect(popup).to_contain_text("绕城以南区域")
    expect(popup).to_contain_text("绕城以南区域")  # still open after that run
    text = popup.inner_text()
    assert "储备用地" in text and "绕城高速以南区域总体规划" in text
    assert page.map.locator(".ng-label", has_text="绕城以南区域").count() == 1


def test_hovering_a_road_shows_its_tooltip(page: Page) -> None:
    page.switch_off("facilities", "pipes")  # drawn above the roads, some close to 甲一路
    page.hover("roads", 0)
    tip = page.map.locator(".leaflet-tooltip")
    tip.wait_for(timeout=10_000)
    text = tip.inner_text()
    assert "甲一路（1段）" in text and "道路等级" in text and "km" in text


def test_plan_progress_panel_shows_the_figures(page: Page) -> None:
    cards = page.page.locator(".ng-card")
    # done against the plan: 32 of 96 segments open, 24 under way, 40 planned
    for figure in ("32 段", "目标 96 段 · 在建 24 · 规划 40", "278 户"):
        expect(cards.filter(has_text=figure).first).to_be_visible()
    # the intact rate against its 98 % floor
    for figure in ("道路完好率", "69.4 %", "目标 98.0 %"):
        expect(cards.filter(has_text=figure).first).to_be_visible()


def test_clicking_a_district_fits_and_selects_it(page: Page) -> None:
    page.switch_off("facilities", "greenbelt", "parcels", "roads", "pipes")
    page.map.locator(".leaflet-control-zoom-out").click()  # the whole of 幸福乡 in view
    page.frame.wait_for_function("() => window.map.getZoom() === 10")
    largest = page.frame.evaluate("() => nanguan.state(window.map).layers.districts.data.cols.name.indexOf('幸福乡')")
    x, y = page.point_on("districts", largest)
    page.page.mouse.click(x, y)
    caption = page.page.get_by_text("已选街道：幸福乡")
    caption.wait_for(timeout=30_000)
    page.settled()
    # the map shows the whole district, not one point of it, and its neighbours stay drawn
    fits = page.frame.evaluate(
        """i => { const map = window.map, st = nanguan.state(map);
                  const p = st.cache.districts.fg.getLayers().find(l => l._ngIndex === i);
                  return [map.getBounds().contains(p.getBounds()), map.getZoom()]; }""",
        largest,
    )
    assert fits[0] and fits[1] <= 14
    assert page.count("districts") == EXPECTED["districts"]


@pytest.fixture
def budget_page(browser: object) -> Iterator[Page]:
    with streamlit_server(NANGUAN_MAP_FEATURES="100") as url:
        p = Page(browser, url)
        yield p
        p.page.close()


def test_over_the_budget_the_map_says_how_many_it_shows(budget_page: Page) -> None:
    note = budget_page.map.locator(".ng-message", has_text="显示")
    note.wait_for(timeout=30_000)
    drawn = sum(budget_page.drawn().values())
    total = sum(EXPECTED.values())
    assert note.inner_text() == f"显示 {drawn} / {total} 个要素（上限 100）：放大或移动地图以查看其余要素"
    assert budget_page.count("districts") == 14 and drawn <= 100


def _upload(page: Page, path: Path) -> object:
    sidebar = page.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("导入数据").click()
    with page.rerun():  # a new upload is a new widget value: the app runs again
        sidebar.locator('input[type="file"]').set_input_files(str(path))
    expect(sidebar.get_by_text(path.name)).to_be_visible()
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
        with page.rerun():
            sidebar.get_by_role("button", name="预览", exact=True).click()
        panel = page.page.locator(".st-key-import_preview")
        expect(panel).to_contain_text("导入预览：new_roads.geojson", timeout=30_000)
        expect(panel).to_contain_text("要素数：2（“道路”现有 96）")
        expect(panel).to_contain_text("读取坐标系：WGS 84")
        expect(panel).to_contain_text("不在任何街道内：1 个要素")
        expect(panel.get_by_role("img")).to_be_visible()  # the extent sketch
        expect(panel).to_contain_text("远路")
        page.settled()
        assert page.count("roads") == EXPECTED["roads"]  # nothing replaced yet
        with page.rerun():
            panel.get_by_role("button", name="替换图层").click()
        expect(sidebar.get_by_text("已导入 new_roads.geojson：“道路”现有 2 个要素")).to_be_visible()
        card = page.page.locator(".ng-card", has_text="存量路网条段")
        expect(card.get_by_text("2 段", exact=True)).to_be_visible()
        expect(page.map.get_by_text("道路 (2)")).to_be_visible()
        page.settled()
        assert page.count("roads") == 2 and page.count("pipes") == EXPECTED["pipes"]
        expect(sidebar.get_by_role("combobox", name="数据源")).to_have_value("nanguan.gpkg")  # never a temp path
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
        # the layer is guessed from the file (a run of its own): preview only once it shows
        expect(sidebar.get_by_role("combobox", name="导入为")).to_have_value("道路")
        with page.rerun():
            sidebar.get_by_role("button", name="预览", exact=True).click()
        warning = page.page.get_by_text("这些坐标看起来是高德/腾讯 GCJ-02 经纬度坐标")
        expect(warning).to_be_visible()
        with page.rerun():
            page.page.get_by_role("button", name="按高德/腾讯 GCJ-02 经纬度转换后重新预览").click()
        expect(page.page.get_by_text("读取坐标系：GCJ-02 → WGS 84")).to_be_visible()
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
        with page.rerun():
            sidebar.get_by_role("button", name="预览", exact=True).click()
        alert = sidebar.locator('[data-testid="stAlertContentError"]')
        expect(alert).to_be_visible()
        shown = alert.inner_text()
        assert shown.startswith("roads.zip：属性文字不是 UTF-8 编码") and "GBK" in shown
        assert "/" not in shown.replace("ArcGIS/SuperMap", "") and not ENGLISH.search(shown), shown
        page.page.close()


def test_a_disguised_vrt_upload_is_refused_and_shows_no_secret(browser: object, tmp_path: Path) -> None:
    """A virtual-layer file named 设施.geojson, reading a secret of the server and an address
    inside its network: one line of refusal in Chinese, nothing of the secret anywhere on the
    page, and no request made."""
    from .untrusted import Listener, disguised, leaks, secret_file

    secret = secret_file(tmp_path)
    with Listener() as listener, streamlit_server() as url:
        for target, folder in ((f"CSV:{secret}", "file"), (f"CSV:/vsicurl/{listener.url}/secrets.csv", "url")):
            upload = disguised(tmp_path / folder, target, tag="设施")[".geojson"]
            page = Page(browser, url)
            sidebar = _upload(page, upload)
            page.choose(sidebar, "导入为", "道路")  # any layer: the file is refused before its fields are read
            with page.rerun():
                sidebar.get_by_role("button", name="预览", exact=True).click()
            alert = sidebar.locator('[data-testid="stAlertContentError"]')
            expect(alert).to_be_visible()
            shown = alert.inner_text()
            assert shown.startswith("设施.geojson：文件内容不是 GeoJSON 格式") and "\n" not in shown.strip(), shown
            assert str(tmp_path) not in shown and "nanguan-session-" not in shown
            expect(page.page.locator(".st-key-import_preview")).to_have_count(0)
            assert not leaks(page.page.content())
            page.page.close()
    assert listener.requests == []


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


def test_standalone_map_opens_offline_and_decodes_to_15_cm(browser: object, tmp_path: Path) -> None:
    import subprocess
    import sys

    import numpy as np
    import shapely

    out = tmp_path / "map.html"
    subprocess.run([sys.executable, "-m", "geo", "map", str(SAMPLE), "--out", str(out)], cwd=ROOT, check=True)
    page = browser.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(out.as_uri())
    page.wait_for_function("() => Object.values(window).some(v => v && v._ng && v._ng.ready)")
    assert page.title() == "南关城市更新一张图"
    drawn = page.evaluate("() => nanguan.drawn(Object.values(window).find(v => v && v._ng))")
    assert drawn == EXPECTED and failed == []
    assert page.locator(".ng-legend summary").inner_text() == "图例"
    size = page.evaluate("() => [document.querySelector('.folium-map').offsetHeight, window.innerHeight]")
    assert size[0] == size[1]
    # the browser's decoding gives back the sample's coordinates within 0.15 m
    lines = page.evaluate(
        """() => { const st = Object.values(window).find(v => v && v._ng)._ng;
                   return nanguan.decodeGeometry(st.layers.roads.data.geometry, "line"); }"""
    )
    roads = load_layers(SAMPLE)["roads"]
    decoded = [shapely.LineString([(c["lng"], c["lat"]) for c in f[0]]) for f in lines]
    got = gpd.GeoSeries(decoded, crs=4326).to_crs(4551)
    want = roads.to_crs(4551).geometry
    xa, xb = shapely.get_coordinates(got.to_numpy()), shapely.get_coordinates(want.to_numpy())
    assert np.hypot(*(xa - xb).T).max() < 0.15
    page.close()


def _standalone(browser: object, tmp_path: Path, *extra: str) -> object:
    import subprocess
    import sys

    out = tmp_path / "map.html"
    subprocess.run([sys.executable, "-m", "geo", "map", str(SAMPLE), "--out", str(out), *extra], cwd=ROOT, check=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(out.as_uri())
    page.wait_for_function("() => Object.values(window).some(v => v && v._ng && v._ng.ready)")
    return page


def test_a_basemap_that_cannot_load_says_so_on_the_map(browser: object, tmp_path: Path) -> None:
    page = _standalone(browser, tmp_path, "--basemap", "osm")
    note = page.locator(".ng-tile-error")
    note.wait_for(timeout=30_000)
    assert "底图无法加载" in note.inner_text() and "无底图" in note.inner_text()
    page.close()


def test_the_legend_lists_each_value_once_and_folds_away(browser: object, tmp_path: Path) -> None:
    page = _standalone(browser, tmp_path)
    legend = page.locator(".ng-legend")
    sections = legend.locator(".ng-legend-layer")
    assert sections.count() == len(EXPECTED)
    for i in range(len(EXPECTED)):
        items = sections.nth(i).locator(".ng-item").all_inner_texts()
        assert items and len(items) == len(set(items)), items
    parcels = legend.locator('[data-layer="parcels"] .ng-item').all_inner_texts()
    assert parcels.count("规划") == 1
    legend.locator("summary").click()
    expect(sections.first).to_be_hidden()
    legend.locator("summary").click()
    expect(sections.first).to_be_visible()
    page.close()


def test_points_grow_as_one_zooms_in(browser: object, tmp_path: Path) -> None:
    page = _standalone(browser, tmp_path)
    radius = """() => { const m = Object.values(window).find(v => v && v._ng);
                        return m._ng.cache.facilities.fg.getLayers()[0].getRadius(); }"""
    small = page.evaluate(radius)
    page.evaluate("() => { Object.values(window).find(v => v && v._ng).setZoom(16, {animate: false}); return 0; }")
    page.wait_for_function(f"() => ({radius})() > {small}")
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
        # every source here carries the plan's targets: one card each
        expect(cards).to_have_count(len(load_targets(ROOT / "data" / "targets.toml")), timeout=120_000)
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
