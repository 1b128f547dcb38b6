"""Addresses in the data show as text in a real browser: a title, a subtitle, a name or a plan
target that reads as a web or e-mail address is not turned into a link (Streamlit's
Markdown links such text even when every punctuation character is escaped)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import expect

from display.safe import WORD_JOINER
from geo.edits import edit_features
from geo.io import dataset_info, load_layers, set_dataset_info

from .browser import streamlit_server
from .common import SAMPLE
from .hostile import _toml_string, free_text_fields
from .test_browser import Page, browser

pytestmark = pytest.mark.browser

__all__ = ["browser"]

ADDRESSES = ("https://evil.example/a", "www.evil.example/b", "mail@evil.example", "HTTP://EVIL.EXAMPLE")
TITLE = "标题 https://evil.example/title"
SUBTITLE = "见 www.evil.example/sub 或 mail@evil.example"

#: Every link on a page, but Streamlit's own (its heading anchors, the skip link).
LINKS = """() => [...document.querySelectorAll('a[href]')]
    .filter(a => !a.getAttribute('href').startsWith('#') && !a.href.startsWith(location.origin))
    .filter(a => !a.closest('.leaflet-control-attribution'))
    .map(a => a.href)"""


@pytest.fixture(scope="module")
def addressed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with addresses for the first names and free texts of every layer, the
    title, the subtitle, a plan target's label and a change's note."""
    path = tmp_path_factory.mktemp("links") / "links.gpkg"
    for name, gdf in load_layers(SAMPLE).items():
        gdf = gdf.copy()
        for f in free_text_fields(name):
            column = gdf[f].astype(object)
            for i in range(min(len(gdf), len(ADDRESSES))):
                column.iloc[i] = ADDRESSES[i]
            gdf[f] = column
        gpd.GeoDataFrame(gdf).to_file(path, layer=name, driver="GPKG")
    info = dataset_info(SAMPLE)
    first = tomllib.loads(info["targets"])["target"][0]["zh"]
    targets = info["targets"].replace(f'zh = "{first}"', f"zh = {_toml_string(ADDRESSES[0])}", 1)
    set_dataset_info(path, {**info, "title_zh": TITLE, "subtitle_zh": SUBTITLE, "targets": targets})
    road = str(load_layers(path)["roads"]["seg_id"].iloc[0])
    edit_features(path, "roads", [road], {"status": "planned"}, by=ADDRESSES[2], note=ADDRESSES[0])
    return path


@pytest.fixture
def app_page(browser: object, addressed: Path) -> Iterator[Page]:
    with streamlit_server(NANGUAN_SOURCE=str(addressed)) as url:
        page = Page(browser, url)
        yield page
        page.page.close()


def test_addresses_in_the_data_are_text_not_links(app_page: Page) -> None:
    page = app_page.page
    expect(page.locator("h1").first).to_contain_text("evil.example/title")
    title = page.locator("h1").first.inner_text().replace(WORD_JOINER, "")
    caption = page.get_by_test_id("stCaptionContainer").first.inner_text().replace(WORD_JOINER, "")
    assert title == TITLE and caption == SUBTITLE  # shown as they are, only not as links
    expect(page.locator(".ng-card-label", has_text="evil.example")).to_have_count(1)
    for summary in page.locator("[data-testid='stExpander'] summary").all():
        summary.click()  # the edits and history, the filters, the import form
    assert page.evaluate(LINKS) == []
    assert app_page.frame.evaluate(LINKS) == []
