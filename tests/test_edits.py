"""Edits with history: validated, recorded with the data in one transaction, undoable, as of a day."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo.edits import EditConflict, EditError, edit_features, undo_change
from geo.io import load_layers, read_history
from geo.progress import load_targets, plan_progress

from .common import ROOT, SAMPLE, frame, hline
from .test_cli import run

TARGETS = ROOT / "data" / "targets.toml"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work.gpkg"
    path.write_bytes(SAMPLE.read_bytes())
    return path


def _road(path: Path, status: str) -> tuple[str, float]:
    """The first road of ``status`` and its length in metres (EPSG:4551)."""
    roads = load_layers(path, layers=("roads",))["roads"]
    row = roads[roads["status"] == status].iloc[0:1]
    return str(row["seg_id"].iloc[0]), float(row.to_crs(4551).length.iloc[0])


def test_opening_a_road_moves_done_by_its_length(work: Path) -> None:
    seg, length_m = _road(work, "under_construction")
    before = plan_progress(load_layers(work), load_targets(TARGETS)).loc["road_km"]
    result = run("edit", str(work), "roads", seg, "status=已通车", "--by", "张三", "--date", "2020-09-30")
    assert result.returncode == 0, result.stderr
    after = plan_progress(load_layers(work), load_targets(TARGETS)).loc["road_km"]
    assert after["done"] - before["done"] == pytest.approx(length_m / 1000, rel=1e-9)
    assert before["under_way"] - after["under_way"] == pytest.approx(length_m / 1000, rel=1e-9)
    day_before = run("progress", str(work), "--as-of", "2020-09-29", "--format", "json")
    rows = {r["id"]: r for r in json.loads(day_before.stdout)}
    # the command line writes km to the metre (3 decimals)
    assert rows["road_km"]["done"] == pytest.approx(before["done"], abs=5e-4)
    on_the_day = json.loads(run("progress", str(work), "--as-of", "2020-09-30", "--format", "json").stdout)
    assert {r["id"]: r for r in on_the_day}["road_km"]["done"] == pytest.approx(after["done"], abs=5e-4)


def test_history_has_the_documented_keys(work: Path) -> None:
    run("edit", str(work), "parcels", "D02", "resettled=70", "status=已回迁", "--by", "李四", "--note", "十月回迁")
    records = json.loads(run("history", str(work), "--format", "json").stdout)
    assert [set(r) for r in records] == [
        {"change_id", "recorded_at", "date", "by", "layer", "id", "field", "old", "new", "note"}
    ] * 2
    assert [(r["field"], r["old"], r["new"]) for r in records] == [
        ("resettled", "61", "70"),
        ("status", "under_construction", "resettled"),
    ]
    assert {r["by"] for r in records} == {"李四"} and records[0]["note"] == "十月回迁"
    assert records[0]["recorded_at"].endswith("Z") and records[0]["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    only = json.loads(run("history", str(work), "--layer", "roads", "--format", "json").stdout)
    assert only == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("roads", "R001", "status=demolished"), "'demolished' is not one of planned, under_construction, open"),
        (("parcels", "D01", "resettled=200"), "resettled (200) exceeds households (96)"),
        (("parcels", "D01", "households=-3"), "below the minimum 0"),
        (("roads", "R999", "status=open"), "roads has no feature 'R999'"),
        (("roads", "R001", "colour=red"), "roads has no editable field 'colour'"),
        (("roads", "R001", "seg_id=R002"), "roads has no editable field 'seg_id'"),
        (("parcels", "D01", "households=many"), "'many' is not a number"),
    ],
)
def test_a_refused_edit_changes_nothing(work: Path, args: tuple[str, ...], message: str) -> None:
    before = work.read_bytes()
    result = run("edit", str(work), *args, "--by", "张三")
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert work.read_bytes() == before
    assert read_history(work).empty


def test_the_second_editor_of_a_changed_value_is_refused_with_the_first_ones_name(work: Path) -> None:
    shown = {"D05": {"status": "under_construction"}}
    edit_features(work, "parcels", ["D05"], {"status": "resettled"}, by="王五", expected=shown)
    before = work.read_bytes()
    with pytest.raises(EditConflict, match=r"parcels D05 \[status\] was changed by 王五 at .*Z to 'resettled'"):
        edit_features(work, "parcels", ["D05"], {"status": "expropriating"}, by="赵六", expected=shown)
    assert work.read_bytes() == before
    assert load_layers(work, layers=("parcels",))["parcels"].set_index("parcel_id").loc["D05", "status"] == "resettled"


def test_undo_is_a_change_too(work: Path) -> None:
    (change,) = edit_features(work, "roads", ["R010"], {"name": "新名字路"}, by="张三")
    run_undo = run("undo", str(work), str(change.change_id), "--by", "李四")
    assert run_undo.returncode == 0, run_undo.stderr
    roads = load_layers(work, layers=("roads",))["roads"].set_index("seg_id")
    assert roads.loc["R010", "name"] == change.old
    history = read_history(work)
    assert history[["by", "old", "new", "note"]].iloc[-1].tolist() == ["李四", "新名字路", change.old, "undo #1"]
    with pytest.raises(EditError, match="no change #99"):
        undo_change(work, 99, by="李四")


def test_an_import_is_recorded(work: Path, tmp_path: Path) -> None:
    extra = tmp_path / "新路.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(extra)
    result = run("import", str(extra), "--as", "roads", "--into", str(work), "--by", "张三")
    assert result.returncode == 0, result.stderr
    last = read_history(work).iloc[-1]
    assert (last["by"], last["layer"], last["field"], last["old"], last["new"]) == (
        "张三",
        "roads",
        "(import)",
        "96",
        "1",
    )
    assert last["note"] == "import 新路.geojson: 1 features"


EDITOR = """
import sys
from geo.edits import edit_features
path, ids = sys.argv[1], sys.argv[2:]
for i in range(1000):
    seg = ids[i % len(ids)]
    edit_features(path, "roads", [seg], {"name": f"路{i}"}, by="editor")
"""


def test_a_killed_editor_leaves_values_and_history_together(work: Path) -> None:
    ids = [f"R{i:03d}" for i in range(1, 31)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", EDITOR, str(work), *ids], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with sqlite3.connect(f"file:{work}?mode=ro", uri=True) as con:
            try:
                count = con.execute("SELECT count(*) FROM change_history").fetchone()[0]
            except sqlite3.OperationalError:
                count = 0
        if count >= 20:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    history = read_history(work)
    assert len(history) >= 20
    names = load_layers(work, layers=("roads",))["roads"].set_index("seg_id")["name"]
    last = history.groupby("id").last()
    for seg in ids:
        if seg in last.index:
            assert names.loc[seg] == last.loc[seg, "new"], seg
        else:
            assert not names.loc[seg].startswith("路"), seg
