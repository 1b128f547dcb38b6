"""The command line through its real entry point: output, exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geo.stats import stats_columns
from layers import LAYER_NAMES

from .common import ROOT, SAMPLE, frame, hline
from .reference import assert_rows_match, sample_reference


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_stats_csv_has_every_column_and_the_hand_worked_figures() -> None:
    """Every row and column of the CSV against hand geometry (tests/reference.py), not the
    plan's totals the sample was scaled to. Catches a CSV writer that drops, shifts or
    misrounds a column or a row, on top of any wrong figure of the engine."""
    result = run("stats", str(SAMPLE), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == stats_columns()
    reference = sample_reference()
    assert_rows_match({r["district_code"]: r for r in rows}, reference, list(reference.columns))
    assert result.stderr == ""  # no progress bar when piped


def test_stats_give_the_intact_rate_river_km_and_sections() -> None:
    """The rate, river km and sections per sub-district against hand geometry, not against
    the same row's breakdown or the rows' sum they are made from. Catches a rate taken as
    the mean of the districts' rates (or over all roads, surveyed or not), and river km
    or sections counted in the wrong district."""
    result = run("stats", str(SAMPLE), "--format", "csv")
    rows = {r["district_code"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    reference = sample_reference()
    # written to 0.1 %, like every percentage leaving the program
    columns = ["roads_intact_pct", "rivers_count", "rivers_km", "monitoring_points_count"]
    assert_rows_match(rows, reference, columns)
    assert rows["220102007"]["roads_intact_pct"] == ""  # 曙光街道: no surveyed road, no rate
    table = run("stats", str(SAMPLE)).stdout.splitlines()
    assert "roads_intact_pct" in table[0] and "—" in next(line for line in table if "曙光街道" in line)


def test_stats_json() -> None:
    """Households are whole numbers in JSON, each in the district holding the parcel's
    largest part (hand geometry), not checked against the rows' sum TOTAL is made from."""
    result = run("stats", str(SAMPLE), "--format", "json")
    records = json.loads(result.stdout)
    assert records[0]["district_name"] == "南岭街道"
    reference = sample_reference()
    assert [r["households"] for r in records] == reference["households"].astype(int).tolist()
    assert all(type(r["households"]) is int for r in records)


def test_stats_table_is_aligned_for_people() -> None:
    result = run("stats", str(SAMPLE))
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["district_code", "district_name", "greenbelt_count"]
    assert "合计" in lines[-1] and f"{sample_reference().loc['TOTAL', 'roads_km']:,.2f}" in lines[-1]
    assert "roads_km_open" not in lines[0]
    assert "roads_km_open" in run("stats", str(SAMPLE), "--wide").stdout


def test_stats_out_file_with_bom_for_excel(tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    result = run("stats", str(SAMPLE), "--format", "csv", "--out", str(out))
    assert result.returncode == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdistrict_code,")
    assert "南岭街道" in out.read_text(encoding="utf-8-sig")


def test_stats_with_an_explicit_crs() -> None:
    """EPSG:4530 is the same Gauss-Kruger zone with the zone number in its eastings, so every
    district's figures are those of hand geometry in EPSG:4551. Catches an option CRS taken
    for the data's CRS (reprojecting from it) or measured in without reprojecting."""
    result = run("stats", str(SAMPLE), "--format", "csv", "--crs", "EPSG:4530")
    rows = {r["district_code"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert_rows_match(rows, sample_reference(), ["roads_km", "parcels_ha", "facilities_count"])


def test_progress() -> None:
    result = run("progress", str(SAMPLE), "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert list(rows["road_segments"]) == [
        "id",
        "label_zh",
        "label_en",
        "unit_zh",
        "unit_en",
        "measure",
        "target",
        "in_data",
        "done",
        "under_way",
        "planned",
        "percent_done",
    ]
    assert [float(rows["road_segments"][k]) for k in ("done", "under_way", "planned")] == [32, 24, 40]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stats", "missing.gpkg"), "error: missing.gpkg: no such file; pass the path of a GeoPackage (.gpkg)\n"),
        (
            ("stats", "requirements.txt"),
            "error: requirements.txt: not a GeoPackage (not an SQLite file); export the data as .gpkg\n",
        ),
        (
            ("stats", str(SAMPLE), "--crs", "EPSG:4326"),
            "error: WGS 84 is in degrees; measure in a projected CRS such as EPSG:4551\n",
        ),
        (
            ("stats", str(SAMPLE), "--crs", "EPSG:3857"),
            "error: WGS 84 / Pseudo-Mercator distorts lengths and areas; "
            "measure in a Gauss-Kruger CRS such as EPSG:4551\n",
        ),
        (
            ("progress", str(SAMPLE), "--targets", "nope.toml"),
            "error: nope.toml: cannot read the targets file (No such file or directory)\n",
        ),
    ],
)
def test_errors_are_one_line_and_exit_1(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_invalid_layer_is_reported_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.gpkg"
    frame("districts", [hline(0, 0, 10)]).to_file(path, layer="districts")
    result = run("stats", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}: 1 problem found: districts X1 [geometry]: is a LineString")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_missing_districts_layer(tmp_path: Path) -> None:
    path = tmp_path / "roads_only.gpkg"
    frame("roads", [hline(0, 0, 10)]).to_file(path, layer="roads")
    result = run("stats", str(path))
    assert (result.returncode, result.stderr) == (
        1,
        "error: the source has no 'districts' layer; statistics need the sub-district boundaries\n",
    )


def test_failed_out_leaves_the_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    out.write_text("old", encoding="utf-8")
    result = run("stats", "missing.gpkg", "--out", str(out))
    assert result.returncode == 1 and out.read_text(encoding="utf-8") == "old"


@pytest.mark.parametrize("args", [(), ("stats",), ("stats", str(SAMPLE), "--format", "xml"), ("frobnicate",)])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "usage: python -m geo" in result.stderr


def test_validate_sample_and_foreign_file(tmp_path: Path) -> None:
    result = run("validate", str(SAMPLE))
    assert result.returncode == 0
    assert result.stdout.startswith("ok: ") and "roads 96" in result.stdout
    bad = tmp_path / "bad.geojson"
    frame("roads", [hline(0, 0, 10), hline(0, 5, 10)], status=["规划", "demolished"]).to_crs(4326).to_file(bad)
    result = run("validate", str(bad), "--layer", "roads")
    assert result.returncode == 1
    assert result.stdout == (
        "roads R2 [status]: 'demolished' is not one of planned, under_construction, open (or their Chinese names)\n"
    )
    assert result.stderr.startswith("error: 1 problem found")


def test_import_then_stats(tmp_path: Path) -> None:
    target = tmp_path / "work.gpkg"
    target.write_bytes(SAMPLE.read_bytes())
    extra = tmp_path / "new_roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"], status=["在建"]).to_crs(4326).to_file(extra)
    result = run("import", str(extra), "--as", "roads", "--into", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported 1 features into {target} as roads\n"
    total = list(csv.DictReader(io.StringIO(run("stats", str(target), "--format", "csv").stdout)))[-1]
    assert total["roads_count"] == "1" and float(total["roads_km"]) == pytest.approx(1.0, abs=1e-6)


def test_import_fix_reports_repaired_ids(tmp_path: Path) -> None:
    import shapely

    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    gdf = frame("greenbelt", [shapely.affinity.translate(bowtie, 447_700.0, 4_857_400.0)])
    src = tmp_path / "green.gpkg"
    gdf.to_file(src, layer="greenbelt")
    target = tmp_path / "t.gpkg"
    refused = run("import", str(src), "--as", "greenbelt", "--into", str(target), "--create")
    assert refused.returncode == 1 and "invalid geometry" in refused.stderr and not target.exists()
    fixed = run("import", str(src), "--as", "greenbelt", "--into", str(target), "--fix", "--create")
    assert fixed.returncode == 0 and fixed.stdout.endswith("repaired geometries: G1\n")


def test_import_into_a_missing_file_needs_create(tmp_path: Path) -> None:
    src = tmp_path / "new_roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(src)
    target = tmp_path / "typo.gpkg"
    refused = run("import", str(src), "--as", "roads", "--into", str(target))
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: {target}: no such GeoPackage; pass --create to make a new one\n",
    )
    assert not target.exists()
    made = run("import", str(src), "--as", "roads", "--into", str(target), "--create")
    assert made.returncode == 0, made.stderr
    assert made.stdout == f"imported 1 features into {target} as roads\n"


def test_errors_in_chinese() -> None:
    result = run("--lang", "zh", "stats", "missing.gpkg")
    assert (result.returncode, result.stderr) == (1, "错误：missing.gpkg：文件不存在，请给出 GeoPackage（.gpkg）文件\n")


def test_problems_in_chinese(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    frame("roads", [hline(0, 0, 10), hline(0, 5, 10)], status=["规划", "demolished"]).to_crs(4326).to_file(bad)
    result = run("--lang", "zh", "validate", str(bad), "--layer", "roads")
    assert result.stdout == "道路 R2 [状态]：“demolished”不是允许的取值（规划、在建、已通车）\n"
    assert result.stderr.startswith("错误：发现 1 个问题：道路 R2 [状态]")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("--layer", "roads", "--format", "geojson"), "roads.geojson"),
        (("--layer", "all", "--format", "gpkg", "--crs", "EPSG:4551"), "all.gpkg"),
        (("--layer", "parcels", "--format", "shp", "--encoding", "GBK", "--crs", "EPSG:4490"), "parcels.zip"),
        (("--layer", "stats", "--format", "csv"), "stats.csv"),
        (("--layer", "stats", "--format", "xlsx"), "stats.xlsx"),
        (("--layer", "all", "--format", "xlsx"), "layers.xlsx"),
        (("--layer", "roads", "--format", "csv", "--district", "220102013"), "roads.csv"),
    ],
)
def test_export_formats(tmp_path: Path, args: tuple[str, ...], name: str) -> None:
    out = tmp_path / name
    result = run("export", str(SAMPLE), *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n" and out.stat().st_size > 0


def test_export_district_filter_and_default_name(tmp_path: Path) -> None:
    result = run("export", str(SAMPLE), "--layer", "roads", "--format", "csv", "--district", "220102013", cwd=tmp_path)
    name = result.stdout.removeprefix("wrote ").strip()
    assert re.fullmatch(r"roads_EPSG4326_\d{8}\.csv", name)
    rows = list(csv.DictReader(io.StringIO((tmp_path / name).read_text(encoding="utf-8-sig"))))
    assert 50 <= len(rows) < 96 and {"seg_id", "length_m", "wkt"} <= set(rows[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--layer", "stats", "--format", "shp"), "--layer stats is a table: use --format csv or xlsx"),
        (("--layer", "all", "--format", "geojson"), "GeoJSON holds one layer: name it with --layer"),
    ],
)
def test_export_usage_mistakes(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run("export", str(SAMPLE), *args, "--out", str(tmp_path / "x"))
    assert result.returncode == 1 and result.stderr == f"error: {message}\n"


def test_map_writes_a_standalone_page(tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = run("map", str(SAMPLE), "--out", str(out), "--lang", "en")
    assert result.returncode == 0
    page = out.read_text(encoding="utf-8")
    assert "<title>Nanguan urban-renewal map</title>" in page and "<script src=" not in page


def test_progress_bar_on_a_terminal() -> None:
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    # a terminal 100 columns wide (a fresh pty has none, and tqdm draws to the width)
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo", "stats", str(SAMPLE), "--format", "csv"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert proc.wait() == 0
    assert b"measuring" in seen and b"layer" in seen


def test_map_colours_roads_by_condition(tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = run("map", str(SAMPLE), "--out", str(out), "--colour-by", "roads=condition")
    assert result.returncode == 0, result.stderr
    page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), out.read_text(encoding="utf-8"))
    # roads coloured by condition: its names and colours, 严重破损 red
    assert (
        '"by":"condition","byNames":["完好","轻度破损","严重破损"],"byColors":["#2e7d32","#f9a825","#c62828"]' in page
    )
    wrong = run("map", str(SAMPLE), "--out", str(out), "--colour-by", "roads=kind")
    assert wrong.returncode == 2 and "choose from 'roads=condition'" in wrong.stderr


def _layer_epsg(path: Path) -> dict[str, int]:
    """EPSG code of each layer's SRS as GDAL's ogrinfo reads it from the file."""
    from .gdal import ogrinfo

    listing = ogrinfo("-so", "-al", str(path))
    blocks = listing.split("\nLayer name: ")[1:]
    return {b.split("\n", 1)[0]: int(re.findall(r'ID\["EPSG",(\d+)\]', b)[-1]) for b in blocks}


@pytest.fixture(scope="module")
def gk_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with every layer in EPSG:4551, as a city's GIS keeps it."""
    import geopandas as gpd

    from geo.io import load_layers

    path = tmp_path_factory.mktemp("gk") / "gk.gpkg"
    for name, gdf in load_layers(SAMPLE).items():
        gpd.GeoDataFrame(gdf).to_crs(4551).to_file(path, layer=name, driver="GPKG")
    return path


@pytest.mark.parametrize(("crs", "epsg"), [((), 4551), (("--crs", "EPSG:4326"), 4326), (("--crs", "EPSG:4530"), 4530)])
def test_geopackage_name_says_the_crs_of_every_layer(tmp_path: Path, gk_source: Path, crs: tuple, epsg: int) -> None:
    result = run("export", str(gk_source), "--layer", "all", "--format", "gpkg", *crs, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name = result.stdout.removeprefix("wrote ").strip()
    assert re.fullmatch(rf"all_EPSG{epsg}_\d{{8}}\.gpkg", name)
    srs = _layer_epsg(tmp_path / name)
    assert set(srs) == set(LAYER_NAMES)
    assert set(srs.values()) == {epsg}


def test_geopackage_of_layers_in_different_crss_is_refused(tmp_path: Path, gk_source: Path) -> None:
    import geopandas as gpd

    mixed = tmp_path / "mixed.gpkg"
    for name in ("districts", "roads"):
        gdf = gpd.read_file(gk_source, layer=name)
        gdf.to_crs(4490 if name == "roads" else 4551).to_file(mixed, layer=name, driver="GPKG")
    result = run("export", str(mixed), "--layer", "all", "--format", "gpkg", cwd=tmp_path)
    assert result.returncode == 1 and "layer 'roads' is in EPSG:4490" in result.stderr, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mixed.gpkg"]


FORMULA_NAME = '=HYPERLINK("http://x","点击")'


@pytest.fixture(scope="module")
def formula_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with two sub-districts named like spreadsheet formulas."""
    import geopandas as gpd

    from geo.io import load_layers

    path = tmp_path_factory.mktemp("formula") / "formula.gpkg"
    for name, gdf in load_layers(SAMPLE).items():
        if name == "districts":
            gdf = gdf.copy()
            gdf.loc[gdf.index[:2], "name"] = [FORMULA_NAME, "-1"]
        gpd.GeoDataFrame(gdf).to_file(path, layer=name, driver="GPKG")
    return path


def test_stats_csv_neutralises_formulas(tmp_path: Path, formula_source: Path) -> None:
    out = tmp_path / "stats.csv"
    for result, text in (
        (run("stats", str(formula_source), "--format", "csv"), None),
        (run("stats", str(formula_source), "--format", "csv", "--out", str(out)), "file"),
        (run("export", str(formula_source), "--layer", "stats", "--format", "csv", "--out", str(out)), "file"),
    ):
        assert result.returncode == 0, result.stderr
        body = out.read_text(encoding="utf-8-sig") if text else result.stdout
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [r["district_name"] for r in rows[:2]] == ["'" + FORMULA_NAME, "'-1"]
        assert_rows_match({r["district_code"]: r for r in rows}, sample_reference(), ["roads_km"])
    records = json.loads(run("stats", str(formula_source), "--format", "json").stdout)
    assert [r["district_name"] for r in records[:2]] == [FORMULA_NAME, "-1"]


def test_stats_xlsx_cells_are_text(tmp_path: Path, formula_source: Path) -> None:
    import openpyxl

    out = tmp_path / "stats.xlsx"
    result = run("export", str(formula_source), "--layer", "stats", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    sheet = openpyxl.load_workbook(out)["stats"]
    header = [c.value for c in sheet[1]]
    name, km = header.index("district_name") + 1, header.index("roads_km") + 1
    cells = [sheet.cell(row=r, column=name) for r in (2, 3)]
    assert [c.value for c in cells] == ["'" + FORMULA_NAME, "'-1"]
    assert [c.data_type for c in cells] == ["s", "s"]
    assert sheet.cell(row=2, column=km).data_type == "n"


def test_history_csv_neutralises_formulas(tmp_path: Path) -> None:
    work = tmp_path / "work.gpkg"
    work.write_bytes(SAMPLE.read_bytes())
    edit = run("edit", str(work), "parcels", "D02", "resettled=70", "--by", "@admin", "--note", FORMULA_NAME)
    assert edit.returncode == 0, edit.stderr
    rows = list(csv.DictReader(io.StringIO(run("history", str(work), "--format", "csv").stdout)))
    assert (rows[-1]["by"], rows[-1]["note"], rows[-1]["new"]) == ("'@admin", "'" + FORMULA_NAME, "70")
    records = json.loads(run("history", str(work), "--format", "json").stdout)
    assert (records[-1]["by"], records[-1]["note"]) == ("@admin", FORMULA_NAME)


def test_export_with_chinese_labels(tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    result = run("export", str(SAMPLE), "--layer", "stats", "--format", "csv", "--chinese-labels", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["区划代码", "街道乡镇", "绿地数", "绿地 (ha)"]
    assert rows[-1][:3] == ["", "合计", "10"]
    plain = run("export", str(SAMPLE), "--layer", "stats", "--format", "csv", "--out", str(out))
    assert plain.returncode == 0 and out.read_text(encoding="utf-8-sig").splitlines()[-1].startswith("TOTAL,")
