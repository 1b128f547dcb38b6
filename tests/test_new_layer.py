"""A seventh layer is one new module in ``layers/``: everything else picks it up.

The test copies the ``layers`` package, adds one module declaring a toy point layer
(wells, 水井) and, in a fresh interpreter that imports that copy, shows that statistics,
validation, filters, the app's filter widgets, the map and the exports all know it, with
no change anywhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from .common import ROOT

TOY = '''
"""Wells (水井): a toy layer that only exists in this test."""

from .spec import Choice, FieldSpec, LayerSpec, Style

SPEC = LayerSpec(
    name="wells",
    zh="水井",
    en="Wells",
    geometry="point",
    id_field="well_id",
    fields=(
        FieldSpec("well_id", "str", "编号", "ID"),
        FieldSpec("name", "str", "名称", "Name"),
        FieldSpec(
            "kind",
            "str",
            "类型",
            "Kind",
            choices=(Choice("deep", "深井", "Deep", ("深水井",), "#123456"), Choice("shallow", "浅井", "Shallow")),
        ),
    ),
    style=Style(by="kind"),
    measure="count",
    unit_zh="口",
    z=60,
    breakdown=("kind",),
    filters=("kind",),
)
'''

CHECK = """
import io, json, sys
import geopandas as gpd, pyogrio, shapely
from layers import CATALOGUE
from geo.errors import ValidationError
from geo.validate import conform
from geo.stats import district_stats
from geo.filters import Filter, apply_filter
from geo.export import layers_bytes
from display.mapbuild import MapOptions, build_map
from streamlit.testing.v1 import AppTest

assert list(CATALOGUE)[-1] == "wells", list(CATALOGUE)
districts = gpd.GeoDataFrame(
    {"code": ["A", "B"], "name": ["甲", "乙"], "kind": ["街道", "街道"]},
    geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], crs=4551,
)
raw = gpd.GeoDataFrame(
    {"well_id": ["W1", "W2", "W3"], "name": ["一号井", "二号井", "三号井"], "kind": ["深水井", "浅井", "deep"]},
    geometry=[shapely.Point(10, 10), shapely.Point(1500, 10), shapely.Point(1600, 10)], crs=4551,
)
wells = conform(raw, CATALOGUE["wells"])
assert wells["kind"].tolist() == ["deep", "shallow", "deep"]
try:
    conform(raw.assign(kind=["dry", "deep", "deep"]), CATALOGUE["wells"])
    raise SystemExit("an unknown kind was accepted")
except ValidationError as exc:
    assert "wells W1 [kind]" in str(exc), exc
layers = {"districts": districts, "wells": wells}
table = district_stats(layers)
assert table.loc["A", "wells_deep"] == 1
assert table.loc["B", ["wells_count", "wells_deep", "wells_shallow"]].tolist() == [2, 1, 1]
shown = apply_filter(layers, Filter(values=(("wells", "kind", ("shallow",)),)))
assert shown["wells"]["well_id"].tolist() == ["W2"]
html = build_map(layers, MapOptions(basemap="none")).get_root().render()
has = lambda words: words in html or json.dumps(words)[1:-1] in html
assert has('"label":"水井"') and has('"name":"wells","on":true,"total":3') and has("一号井"), "the map lacks the wells"
back = pyogrio.read_dataframe(io.BytesIO(layers_bytes({"wells": wells}, "gpkg")), layer="wells")
assert back["well_id"].tolist() == ["W1", "W2", "W3"]
app = AppTest.from_file(sys.argv[1], default_timeout=120).run()
assert not app.exception, app.exception
keys = {w.key for w in app.multiselect}
assert "f_wells_kind" in keys, keys
assert "show_wells" in {c.key for c in app.checkbox}
print("ok")
"""


def test_a_new_module_is_a_new_layer_everywhere(tmp_path: Path) -> None:
    copy = tmp_path / "pkg"
    shutil.copytree(ROOT / "layers", copy / "layers", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "layers" / "wells.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(ROOT)]), "NANGUAN_BASEMAP": "none"}
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
