"""Hostile values shown as text: the Markdown escaping of the page, the tables and the
files written, on a copy of the sample whose every free-text value is hostile."""

from __future__ import annotations

import io
import re
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from display.labels import md_text
from display.safe import SHORT_CHARS, isolate, md, short
from geo.errors import SourceError, message
from geo.export import layers_bytes

from .common import ROOT
from .hostile import (
    IMG,
    LONG,
    MARKDOWN,
    RTL,
    SUBTITLE,
    TITLE,
    VALUES,
    free_text_fields,
    hostile_layers,
    shown,
    write_hostile,
)

PDI, FSI = "\u2069", "\u2068"


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_every_punctuation_character_is_escaped_and_shows_as_itself(value: str) -> None:
    escaped = md(value)
    # no punctuation character is left without its backslash: nothing can open markup
    bare = re.sub(r"\\[" + re.escape(string.punctuation) + "]", "", escaped)
    assert not set(bare) & set(string.punctuation)
    assert shown(escaped) == isolate(value)


def test_line_breaks_become_spaces_so_a_caption_stays_one_paragraph() -> None:
    assert md("甲\n\n# 乙\r\n- 丙") == "甲 \\# 乙 \\- 丙"


def test_a_right_to_left_override_is_closed_at_the_end_of_its_value() -> None:
    assert isolate("甲一路") == "甲一路"
    assert isolate(RTL) == FSI + RTL + PDI
    # a value that closes our isolate early or opens isolates of its own is closed as often
    tricky = "\u2069\u2067x\u2066y\u202e"
    assert isolate(tricky) == FSI + "\u2067x\u2066y\u202e" + PDI * 3


def test_text_for_markdown_escapes_values_but_keeps_number_formats() -> None:
    assert md_text("import_applied", "en", file="*a*.geojson", layer="Roads", n=12345) == (
        "Imported \\*a\\*\\.geojson: Roads now holds 12,345 features"
    )


def test_long_values_are_cut_for_display() -> None:
    cut = short(LONG)
    assert len(cut) == SHORT_CHARS and cut.endswith("…") and LONG.startswith(cut[:-1])
    assert short("甲一路") == "甲一路"


@pytest.fixture(scope="module")
def hostile_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile(tmp_path_factory.mktemp("hostile") / "hostile.gpkg")


def _markdown_values(at: AppTest) -> list[str]:
    """Every text the page renders as Markdown."""
    kinds = ("title", "caption", "subheader", "markdown", "error", "warning", "success", "info")
    return [e.value for kind in kinds for e in getattr(at, kind)]


@pytest.fixture
def hostile_app(hostile_source: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_SOURCE", str(hostile_source))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


def test_the_page_shows_hostile_titles_names_and_targets_as_text(hostile_app: AppTest) -> None:
    at = hostile_app
    assert not at.exception and not at.error
    assert shown(at.title[0].value) == TITLE
    assert shown(at.caption[0].value) == isolate(SUBTITLE)
    for value in _markdown_values(at):
        for hostile in (*VALUES, TITLE, SUBTITLE):
            if set(hostile) & set(string.punctuation):
                assert hostile not in value, (hostile[:40], value[:200])
    # the progress cards are HTML: escaped, the long label cut with the whole in its title
    cards = next(m.value for m in at.markdown if "ng-progress" in m.value)
    assert "<img" not in cards and "&lt;img src=x onerror=alert(1)&gt;" in cards
    assert f'title="{LONG}"' in cards and f">{short(LONG, 40)}</div>" in cards


def test_hostile_district_names_in_the_selection_caption(hostile_app: AppTest) -> None:
    districts = hostile_layers()["districts"]
    hostile = districts.iloc[: len(VALUES)]
    at = hostile_app.multiselect(key="districts").set_value(hostile["code"].tolist()).run()
    assert not at.exception
    # the options are plain text, long ones cut
    assert at.multiselect(key="districts").options[6] == short(LONG)
    caption = next(c.value for c in at.caption if shown(c.value).startswith("已选街道："))
    assert shown(caption) == "已选街道：" + "、".join(isolate(short(n)) for n in hostile["name"])
    assert IMG not in caption and MARKDOWN not in caption


def test_exports_keep_hostile_text_exactly_and_tables_defuse_formulas(tmp_path: Path) -> None:
    layers = hostile_layers()
    roads = layers["roads"]
    fields = free_text_fields("roads")
    geojson = gpd.read_file(io.BytesIO(layers_bytes({"roads": roads}, "geojson")))
    (tmp_path / "roads.gpkg").write_bytes(layers_bytes({"roads": roads}, "gpkg"))
    gpkg = pyogrio.read_dataframe(tmp_path / "roads.gpkg", layer="roads")
    # a .dbf field holds 254 bytes: the 10,000-character name is refused, not cut
    with pytest.raises(SourceError, match="30000 bytes") as refused:
        layers_bytes({"roads": roads}, "shp")
    assert message(refused.value, "zh").startswith("道路.name：取值（“长长长")
    fits = roads[(roads[fields].fillna("").map(len) < 100).all(axis=1)]
    with zipfile.ZipFile(io.BytesIO(layers_bytes({"roads": fits}, "shp"))) as z:
        z.extractall(tmp_path)
    assert pyogrio.read_dataframe(tmp_path / "roads.shp")["name"].tolist() == fits["name"].tolist()
    for read in (geojson, gpkg):
        for f in fields:
            assert read[f].tolist() == roads[f].tolist(), f
    table = pd.read_csv(io.BytesIO(layers_bytes({"roads": roads}, "csv")), encoding="utf-8-sig", dtype=str)
    for value, got in zip(roads["name"], table["name"], strict=True):
        assert got == ("'" + value if value[:1] in "=+-@" else value)
    xlsx = pd.read_excel(io.BytesIO(layers_bytes({"roads": roads}, "xlsx")), sheet_name="roads", dtype=str)
    assert xlsx["name"].tolist() == table["name"].tolist()


def test_the_standalone_map_carries_hostile_text_only_as_escaped_data(hostile_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    subprocess.run([sys.executable, "-m", "geo", "map", str(hostile_source), "--out", str(out)], cwd=ROOT, check=True)
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>alert" not in page and "{{ 7*7 }}" not in page
    assert "<title>**标题** &lt;img src=x onerror=alert(1)&gt;</title>" in page
