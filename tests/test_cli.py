"""The command line through its real entry point: output, exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo.stats import stats_columns

from .common import ROOT, SAMPLE, frame, hline


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", check=False
    )


def test_stats_csv_has_every_column_and_the_plan_totals() -> None:
    result = run("stats", str(SAMPLE), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == stats_columns()
    total = rows[-1]
    assert total["district_code"] == "TOTAL"
    assert (total["roads_count"], total["pipes_count"], total["resettled"]) == ("96", "12", "278")
    assert float(total["roads_km"]) == pytest.approx(38.4, abs=0.05)
    assert float(total["pipes_km"]) == pytest.approx(15.5, abs=0.05)
    assert len(rows) == 15
    assert result.stderr == ""  # no progress bar when piped


def test_stats_json() -> None:
    result = run("stats", str(SAMPLE), "--format", "json")
    records = json.loads(result.stdout)
    assert records[0]["district_name"] == "南岭街道"
    assert records[-1]["households"] == sum(r["households"] for r in records[:-1])


def test_stats_table_is_aligned_for_people() -> None:
    result = run("stats", str(SAMPLE))
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["district_code", "district_name", "roads_count"]
    assert "合计" in lines[-1] and "38.40" in lines[-1]
    assert "roads_km_open" not in lines[0]
    assert "roads_km_open" in run("stats", str(SAMPLE), "--wide").stdout


def test_stats_out_file_with_bom_for_excel(tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    result = run("stats", str(SAMPLE), "--format", "csv", "--out", str(out))
    assert result.returncode == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdistrict_code,")
    assert "南岭街道" in out.read_text(encoding="utf-8-sig")


def test_stats_with_an_explicit_crs() -> None:
    result = run("stats", str(SAMPLE), "--format", "csv", "--crs", "EPSG:4530")
    total = list(csv.DictReader(io.StringIO(result.stdout)))[-1]
    assert float(total["roads_km"]) == pytest.approx(38.4, abs=0.05)


def test_progress() -> None:
    result = run("progress", str(SAMPLE), "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert float(rows["road_segments"]["actual"]) == 96
    assert float(rows["resettled"]["difference"]) == 0


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
    assert result.stderr.startswith("error: 1 problem found: districts X1 [geometry]: is a LineString")
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
