"""A copy of the sample whose every free-text value is hostile: markup, scripts, templates,
Markdown, bidirectional controls, 10,000-character names and spreadsheet formulas.

Built on the fly from ``data/nanguan.gpkg`` (whatever layers it holds), so it follows the
sample when the sample changes.
"""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import geopandas as gpd

from display.safe import WORD_JOINER
from geo.edits import edit_features
from geo.io import dataset_info, load_layers, set_dataset_info
from layers import CATALOGUE

from .common import SAMPLE

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
JS_URL = "javascript:alert(3)"
TEMPLATE = "{{ 7*7 }} ${7*7} {% raw %}"
MARKDOWN = "**粗** [点我](javascript:alert(4)) ![图](http://127.0.0.1:9/x.png) $x^2$ :red[红] <b>b</b>"
RTL = "\u202eabc\u200bdef\u200d"
LONG = "长" * 10_000
FORMULA = '=HYPERLINK("http://127.0.0.1:9","点击")'

#: Every hostile value, in the order they are given to the features of each layer.
VALUES: tuple[str, ...] = (IMG, SCRIPT, JS_URL, TEMPLATE, MARKDOWN, RTL, LONG, FORMULA, "+1", "-1", "@SUM(A1)")
#: The title and subtitle the hostile source gives itself.
TITLE = "**标题** " + IMG
SUBTITLE = "[副标题](javascript:alert(5)) " + SCRIPT + " $y$ " + RTL


def free_text_fields(layer: str) -> list[str]:
    """The catalogue's free-text fields of ``layer`` (no id, no coded value, no date)."""
    spec = CATALOGUE[layer]
    return [f.name for f in spec.fields if f.dtype == "str" and not (f.choices or f.date) and f.name != spec.id_field]


def hostile_layers() -> dict[str, gpd.GeoDataFrame]:
    """The sample's layers with :data:`VALUES` written into the free-text fields of their
    first features: names in order, other text fields in reverse order."""
    out = {}
    for name, gdf in load_layers(SAMPLE).items():
        gdf = gdf.copy()
        for f in free_text_fields(name):
            column = gdf[f].astype(object)
            for i in range(min(len(gdf), len(VALUES))):
                column.iloc[i] = VALUES[i] if f == "name" else VALUES[-1 - i]
            gdf[f] = column
        out[name] = gdf
    return out


def write_hostile(path: Path) -> Path:
    """The hostile copy of the sample as a GeoPackage at ``path``, with a hostile title,
    subtitle and plan-target labels in its ``dataset_info``, and an edit recorded by a
    hostile name with a hostile note in its change history."""
    for name, gdf in hostile_layers().items():
        gpd.GeoDataFrame(gdf).to_file(path, layer=name, driver="GPKG")
    info = dataset_info(SAMPLE)
    plan = tomllib.loads(info["targets"])
    labels = {t["zh"]: v for t, v in zip(plan["target"], (IMG, MARKDOWN, LONG, RTL), strict=False)}
    targets = info["targets"]
    for old, new in labels.items():
        targets = targets.replace(f'zh = "{old}"', f"zh = {_toml_string(new)}", 1)
    set_dataset_info(
        path, {**info, "title_zh": TITLE, "title_en": TITLE, "subtitle_zh": SUBTITLE, "subtitle_en": SUBTITLE}
    )
    set_dataset_info(path, {"targets": targets})
    roads = CATALOGUE["roads"].id_field
    first = str(load_layers(path)["roads"][roads].iloc[0])
    edit_features(path, "roads", [first], {"status": "planned"}, by=IMG, note=MARKDOWN)
    return path


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def shown(markdown: str) -> str:
    """What Markdown escaped by :func:`display.safe.md` shows: its backslash escapes
    resolved, as CommonMark resolves them, and without the invisible word joiners that keep
    addresses from becoming links."""
    return re.sub(r"\\([" + re.escape(string.punctuation) + r"])", r"\1", markdown).replace(WORD_JOINER, "")


__all__ = [
    "FORMULA",
    "IMG",
    "JS_URL",
    "LONG",
    "MARKDOWN",
    "RTL",
    "SCRIPT",
    "SUBTITLE",
    "TEMPLATE",
    "TITLE",
    "VALUES",
    "free_text_fields",
    "hostile_layers",
    "shown",
    "write_hostile",
]
