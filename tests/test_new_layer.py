"""Adding a layer is one module: a copy of the project with ``layers/bus_lanes.py`` added,
and nothing else changed, knows bus lanes everywhere.

The new layer is a line layer with an underscore in its name, no ``name`` field, drawn
between roads and pipes, broken down by status and with one impact figure (its km). The
source is the sample with four bus lanes added, straight segments of known length inside
known sub-districts (EPSG:4551, metres). Every check runs the copy's real code in a
subprocess: the statistics, a plan target, the map, the impact analysis, the export read
back by GDAL, the app page through AppTest and once in Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from playwright.sync_api import expect

from layers import CATALOGUE

from .browser import streamlit_server
from .common import METRIC, ROOT, SAMPLE
from .gdal import feature_count, ogrinfo
from .test_browser import Page, browser  # noqa: F401 (the shared Chromium)

MODULE = '''
"""Bus lanes (公交专用道): a layer that only exists in a test's copy of the project."""

from __future__ import annotations

from . import _common as c
from .spec import FieldSpec, Figure, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="bus_lanes",
    zh="公交专用道",
    en="Bus lanes",
    geometry="line",
    id_field="lane_id",
    fields=(
        c.id_field("lane_id"),
        FieldSpec("route", "str", "线路", "Route", required=False, source_names=("线路", "ROUTE")),
        c.status_field(c.PLANNED, c.UNDER_CONSTRUCTION, c.OPEN),
    ),
    style=Style(by="status", weight=3.5),
    measure="length",
    unit_zh="条",
    z=35,
    breakdown=("status",),
    filters=("status",),
    impact=(Figure("measure"),),
)
'''

#: The lanes: vertices in EPSG:4551 (m), status, the sub-district holding them, length (m).
LANES: dict[str, tuple[list[tuple[float, float]], str, str, float]] = {
    # a 3-4-5 triangle's hypotenuse: 240 m east, 320 m north
    "L1": ([(446_900.0, 4_857_900.0), (447_140.0, 4_858_220.0)], "open", "220102001", 400.0),
    "L2": ([(446_800.0, 4_857_800.0), (447_012.3456, 4_857_800.0)], "planned", "220102001", 212.3456),
    "L3": ([(448_500.0, 4_857_726.0), (449_234.5678, 4_857_726.0)], "under_construction", "220102009", 734.5678),
    # 600 m north, then 800.3 m east
    "L4": ([(449_500.0, 4_854_500.0), (449_500.0, 4_855_100.0), (450_300.3, 4_855_100.0)], "open", "220102010", 1400.3),
}
#: km per sub-district, rounded as roads are (3 decimals: to the metre).
KM = {"220102001": 0.612, "220102009": 0.735, "220102010": 1.400}  # 612.3456, 734.5678, 1400.3 m
KM_OPEN = {"220102001": 0.400, "220102009": 0.000, "220102010": 1.400}
TOTAL_KM = 2.747  # 2747.2134 m
LABEL = "公交专用道"


def _ignore(folder: str, names: list[str]) -> set[str]:
    here = Path(folder)
    skip = {".venv", ".git", "artifacts", "static"} if here == ROOT else set()
    return {n for n in names if n in skip or n.endswith("_cache") or n == "__pycache__"}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project tree copied, plus ``layers/bus_lanes.py``: the only file added or changed."""
    root = tmp_path_factory.mktemp("project") / "nanguan"
    shutil.copytree(ROOT, root, ignore=_ignore)
    (root / "layers" / "bus_lanes.py").write_text(MODULE.lstrip(), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with the bus lanes added, outside the copied tree (stored in the sample's CRS)."""
    path = tmp_path_factory.mktemp("source") / "with_bus_lanes.gpkg"
    shutil.copyfile(SAMPLE, path)
    districts = gpd.read_file(SAMPLE, layer="districts").to_crs(METRIC).set_index("code")
    lanes = gpd.GeoDataFrame(
        {
            "lane_id": list(LANES),
            "route": ["1路", None, "62路", "1路"],
            "status": [status for _, status, _, _ in LANES.values()],
        },
        geometry=[shapely.LineString(xy) for xy, _, _, _ in LANES.values()],
        crs=METRIC,
    )
    for line, (_, _, code, length) in zip(lanes.geometry, LANES.values(), strict=True):
        # the hand-placed lanes lie inside their sub-districts, with their hand-computed length
        assert districts.geometry[code].contains(line) and line.length == pytest.approx(length, abs=1e-9)
    lanes.to_crs(gpd.read_file(SAMPLE, layer="roads", rows=1).crs).to_file(path, layer="bus_lanes", driver="GPKG")
    return path


def _env(copy: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(copy),
        "NANGUAN_BASEMAP": "none",
        "NANGUAN_LOG_LEVEL": "OFF",
        "PYTHONUTF8": "1",
    }


def run_in(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command run in the copy (its directory first on the path), output as text."""
    return subprocess.run(
        [sys.executable, *args], cwd=copy, env=_env(copy), capture_output=True, text=True, encoding="utf-8", check=False
    )


def geo(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m geo …`` of the copy; fails the test with its stderr unless it exits 0."""
    result = run_in(copy, "-m", "geo", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_only_the_copy_knows_the_layer_and_puts_it_mid_order(copy: Path) -> None:
    assert "bus_lanes" not in CATALOGUE
    result = run_in(copy, "-c", "import layers, json; print(json.dumps([layers.__file__, list(layers.CATALOGUE)]))")
    assert result.returncode == 0, result.stderr
    where, names = json.loads(result.stdout)
    assert Path(where).parent == copy / "layers"
    below = [n for n in CATALOGUE if CATALOGUE[n].z < 35]
    assert names == [*below, "bus_lanes", *(n for n in CATALOGUE if n not in below)]
    assert names.index("roads") < names.index("bus_lanes") < names.index("pipes")


def test_the_source_validates_and_the_statistics_give_the_hand_computed_km(copy: Path, source: Path) -> None:
    geo(copy, "validate", str(source))
    rows = list(csv.DictReader(io.StringIO(geo(copy, "stats", str(source), "--format", "csv").stdout)))
    header = list(rows[0])
    at = header.index
    assert at("roads_intact_pct") < at("bus_lanes_count") < at("bus_lanes_km") < at("pipes_count")
    assert [c for c in header if c.startswith("bus_lanes_km_")] == [
        "bus_lanes_km_planned",
        "bus_lanes_km_under_construction",
        "bus_lanes_km_open",
    ]
    by_code = {r["district_code"]: r for r in rows}
    for code, row in by_code.items():
        if code in ("OUTSIDE", "TOTAL"):
            continue
        assert float(row["bus_lanes_km"]) == KM.get(code, 0.0), code
        assert float(row["bus_lanes_km_open"]) == KM_OPEN.get(code, 0.0), code
        assert int(row["bus_lanes_count"]) == sum(1 for _, _, c, _ in LANES.values() if c == code), code
    assert float(by_code["TOTAL"]["bus_lanes_km"]) == TOTAL_KM and by_code["TOTAL"]["bus_lanes_count"] == "4"
    # rounded as roads are: to the metre, never float noise
    for column in ("roads_km", "bus_lanes_km", "bus_lanes_km_planned"):
        assert all(len(r[column].partition(".")[2]) <= 3 for r in rows), column
    assert by_code["220102001"]["bus_lanes_km_planned"] == "0.212"


PLAN = """
[[target]]
id = "bus_lane_km"
zh = "公交专用道里程"
en = "Bus lanes"
layer = "bus_lanes"
measure = "km"
value = 3.0
unit_zh = "公里"
unit_en = "km"
done = { status = "open" }
under_way = { status = "under_construction" }
"""


def test_a_plan_target_on_the_layer_counts_its_km(copy: Path, source: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    (row,) = json.loads(geo(copy, "progress", str(source), "--targets", str(plan), "--format", "json").stdout)
    # done: L1 and L4 are open, 400 + 1400.3 m; under way: L3; planned: L2
    assert (row["in_data"], row["done"], row["under_way"], row["planned"]) == (2.747, 1.8, 0.735, 0.212)
    assert row["percent_done"] == 60.0
    plan.write_text(PLAN.replace("value = 3.0", 'value = 3.0\nname_has = "1路"'), encoding="utf-8")
    refused = run_in(copy, "-m", "geo", "progress", str(source), "--targets", str(plan))
    assert refused.returncode == 1 and "name_has names unknown field 'name'" in refused.stderr, refused.stderr


def test_the_map_draws_the_layer(copy: Path, source: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    geo(copy, "map", str(source), "--out", str(out), "--lang", "zh")
    page = out.read_text(encoding="utf-8")
    order = json.loads(re.search(r'"order":(\[[^\]]*\])', page).group(1))
    assert order.index("roads") < order.index("bus_lanes") < order.index("pipes")
    payload, _ = json.JSONDecoder().raw_decode(page, page.index('{"name":"bus_lanes"'))
    assert (payload["on"], payload["total"], payload["shown"], payload["ids"]) == (True, 4, 4, list(LANES))
    assert payload["dict"]["label"] == LABEL and payload["dict"]["family"] == "line"
    assert payload["dict"]["statusNames"] == ["规划", "在建", "已通车"]
    # the tooltips' lengths, metres to 0.1, measured in the source's Gauss-Kruger zone
    assert payload["measure"] == [round(length, 1) for _, _, _, length in LANES.values()]
    assert payload["geometry"]["coords"]  # the encoded vertices travel with the layer


def test_the_impact_of_a_lane_corridor_gives_its_km(copy: Path, source: Path) -> None:
    corridor = ("--area", "bus_lanes:L3", "--buffer", "20")  # 20 m each side of the 734.5678 m lane
    summary = json.loads(geo(copy, "impact", str(source), *corridor, "--format", "json").stdout)
    assert summary["bus_lanes_count"] == 1 and summary["bus_lanes_km"] == pytest.approx(0.7345678, abs=1e-6)
    assert summary["bus_lanes_km_by_status"]["under_construction"] == pytest.approx(0.7345678, abs=1e-6)
    assert summary["features"]["bus_lanes"] == ["L3"]
    shown = run_in(
        copy,
        "-c",
        "import sys, json\n"
        "from geo.io import load_layers\n"
        "from geo.impact import feature_area, impact\n"
        "from display.draw import impact_figures\n"
        "layers = load_layers(sys.argv[1])\n"
        "result = impact(layers, feature_area(layers, 'bus_lanes:L3'), buffer_m=20)\n"
        "print(json.dumps({f.label: f.value for f in impact_figures(result, 'zh')}, ensure_ascii=False))\n",
        str(source),
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    figures = json.loads(shown.stdout)
    assert figures[LABEL] == "0.735 km"
    assert list(figures).index("道路") < list(figures).index(LABEL) < list(figures).index("管线")


def test_the_export_holds_the_lanes_as_gdal_reads_them(copy: Path, source: Path, tmp_path: Path) -> None:
    out = tmp_path / "bus_lanes.zip"
    geo(copy, "export", str(source), "--layer", "bus_lanes", "--format", "shp", "--crs", "EPSG:4551", "--out", str(out))
    shp = f"/vsizip/{out}/bus_lanes.shp"
    assert feature_count(ogrinfo("-so", "-al", shp)) == 4
    listing = ogrinfo("-al", "-q", shp)
    ids = re.findall(r"lane_id \(String\) = (\S+)", listing)
    lines = re.findall(r"LINESTRING \(([^)]*)\)", listing)
    assert ids == list(LANES) and len(lines) == 4
    for fid, text in zip(ids, lines, strict=True):
        read = [tuple(float(v) for v in pair.split()) for pair in text.split(",")]
        assert [v for xy in read for v in xy] == pytest.approx([v for xy in LANES[fid][0] for v in xy], abs=1e-3), fid
        assert shapely.LineString(read).length == pytest.approx(LANES[fid][3], abs=1e-3), fid


APPTEST = """
import json, sys
from streamlit.testing.v1 import AppTest

app = AppTest.from_file("app.py", default_timeout=300).run()
assert not app.exception, app.exception
boxes = {c.key: c.label for c in app.checkbox}
tables = [d.value for d in app.dataframe]
stats = next(t for t in tables if "区划代码" in t.columns)
print(json.dumps({
    "checkbox": boxes.get("show_bus_lanes"),
    "filters": sorted(w.key for w in app.multiselect if w.key),
    "columns": [str(c) for c in stats.columns],
    "rows": stats.astype(str).to_dict("records"),
}, ensure_ascii=False))
"""


def test_the_app_page_has_the_layer_toggle_filter_and_statistics(copy: Path, source: Path) -> None:
    env = {**_env(copy), "NANGUAN_SOURCE": str(source)}
    result = subprocess.run(
        [sys.executable, "-c", APPTEST], cwd=copy, env=env, capture_output=True, text=True, encoding="utf-8"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    page = json.loads(result.stdout.strip().splitlines()[-1])
    assert page["checkbox"] == LABEL
    assert "f_bus_lanes_status" in page["filters"]
    column = f"{LABEL} (km)"
    assert column in page["columns"]
    assert page["columns"].index("道路 (km)") < page["columns"].index(column) < page["columns"].index("管线 (km)")
    breakdown = [c for c in page["columns"] if c.startswith(f"{LABEL}·")]
    assert breakdown == [f"{LABEL}·{status} (km)" for status in ("规划", "在建", "已通车")]
    km = {r["区划代码"]: float(r[column]) for r in page["rows"]}
    assert {code: km[code] for code in KM} == KM and km["220102002"] == 0.0


@pytest.mark.browser
def test_chromium_draws_the_lanes_with_their_legend(copy: Path, source: Path, browser: object) -> None:  # noqa: F811
    with streamlit_server(root=copy, PYTHONPATH=str(copy), NANGUAN_SOURCE=str(source)) as url:
        page = Page(browser, url)
        try:
            expect(page.page.get_by_role("checkbox", name=LABEL)).to_be_checked()
            legend = page.map.locator('.ng-legend [data-layer="bus_lanes"]')
            expect(legend).to_be_attached()
            expect(legend).to_contain_text(LABEL)
            assert page.drawn()["bus_lanes"] == 4
            assert page.errors == [] and page.failed == []
        finally:
            page.page.close()
