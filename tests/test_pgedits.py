"""Edits with history on a PostGIS source: the same commands, rules and records as on a GeoPackage,
row locks against concurrent editors, and the history carried by publish and pull."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo import transfer
from geo.edits import EditConflict, edit_features
from geo.io import load_layers, read_history
from geo.postgis import parse_url

from .common import ROOT, SAMPLE, frame, hline
from .test_cli import run
from .test_postgis import plain, sql_rows


@pytest.fixture
def published(schema_url: str) -> str:
    transfer.publish(str(SAMPLE), schema_url, by="发布人")
    return schema_url


def status_of(url: str, seg: str) -> str:
    return str(load_layers(url, layers=("roads",))["roads"].set_index("seg_id").loc[seg, "status"])


def edits_only(history: pd.DataFrame) -> pd.DataFrame:
    return history[history["field"] != "(import)"].reset_index(drop=True)


def test_edit_history_undo_and_as_of_on_a_database_url(published: str) -> None:
    roads = load_layers(published, layers=("roads",))["roads"]
    seg = str(roads[roads["status"] == "under_construction"]["seg_id"].iloc[0])
    length_km = float(roads[roads["seg_id"] == seg].to_crs(4551).length.iloc[0]) / 1000
    before = {r["id"]: r for r in json.loads(run("progress", published, "--format", "json").stdout)}

    edited = run("edit", published, "roads", seg, "status=已通车", "--by", "张三", "--date", "2020-09-30")
    assert edited.returncode == 0, edited.stderr
    assert status_of(published, seg) == "open"
    after = {r["id"]: r for r in json.loads(run("progress", published, "--format", "json").stdout)}
    assert after["road_km"]["done"] - before["road_km"]["done"] == pytest.approx(length_km, abs=1e-3)
    as_of = run("progress", published, "--as-of", "2020-09-29", "--format", "json")
    assert as_of.returncode == 0, as_of.stderr
    assert {r["id"]: r for r in json.loads(as_of.stdout)}["road_km"]["done"] == before["road_km"]["done"]

    records = json.loads(run("history", published, "--layer", "roads", "--id", seg, "--format", "json").stdout)
    assert [set(r) for r in records] == [
        {"change_id", "recorded_at", "date", "by", "layer", "id", "field", "old", "new", "note"}
    ]
    (record,) = records
    assert (record["by"], record["date"], record["old"], record["new"]) == (
        "张三",
        "2020-09-30",
        "under_construction",
        "open",
    )
    layers = len(load_layers(SAMPLE))
    assert record["recorded_at"].endswith("Z") and record["change_id"] == layers + 1  # after one publish row a layer

    undone = run("undo", published, str(record["change_id"]), "--by", "李四")
    assert undone.returncode == 0, undone.stderr
    assert status_of(published, seg) == "under_construction"
    last = read_history(published).iloc[-1]
    assert (last["by"], last["old"], last["new"], last["note"]) == (
        "李四",
        "open",
        "under_construction",
        f"undo #{layers + 1}",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("roads", "R001", "status=demolished"), "'demolished' is not one of planned, under_construction, open"),
        (("parcels", "D01", "resettled=200"), "resettled (200) exceeds households (96)"),
        (("roads", "R999", "status=open"), "roads has no feature 'R999'"),
        (("roads", "R001", "colour=red"), "roads has no editable field 'colour'"),
    ],
)
def test_a_refused_edit_changes_nothing_in_the_database(published: str, args: tuple[str, ...], message: str) -> None:
    layers_before, history_before = load_layers(published), read_history(published)
    result = run("edit", published, *args, "--by", "张三")
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    pd.testing.assert_frame_equal(read_history(published), history_before)
    for name, gdf in load_layers(published).items():
        pd.testing.assert_frame_equal(gdf.drop(columns="geometry"), layers_before[name].drop(columns="geometry"))


def test_an_import_into_the_database_is_recorded(published: str, tmp_path: Path) -> None:
    extra = tmp_path / "新路.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(extra)
    result = run("import", str(extra), "--as", "roads", "--into", published, "--by", "张三")
    assert result.returncode == 0, result.stderr
    last = read_history(published).iloc[-1]
    assert (last["by"], last["layer"], last["field"], last["old"], last["new"], last["note"]) == (
        "张三",
        "roads",
        "(import)",
        "96",
        "1",
        "import 新路.geojson: 1 features",
    )


def _waiting(url: str, statement: str) -> list[int]:
    """Backends waiting for a lock while running a statement that starts with ``statement``."""
    return [
        int(r[0])
        for r in sql_rows(
            url,
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            (f"{statement}%",),
        )
    ]


def _until(condition: Callable[[], object], what: str) -> None:
    for _ in range(6000):  # polls at most about 10 minutes on a loaded machine
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_two_editors_saving_against_one_value_cannot_both_pass(published: str) -> None:
    schema = parse_url(published).schema
    shown = {"D05": {"status": "under_construction"}}
    outcome: dict[str, object] = {}

    def save(who: str, status: str) -> None:
        try:
            edit_features(published, "parcels", ["D05"], {"status": status}, by=who, expected=shown)
            outcome[who] = "saved"
        except EditConflict as exc:
            outcome[who] = exc

    with psycopg.connect(plain(published)) as holder:
        # Holding the row makes both editors reach their check at the same moment: each has
        # read the layer and waits for the row; the first to get it saves, the other must see that.
        holder.execute(f"SELECT * FROM {schema}.parcels WHERE parcel_id = 'D05' FOR UPDATE").fetchall()
        editors = [
            threading.Thread(target=save, args=("王五", "resettled")),
            threading.Thread(target=save, args=("赵六", "expropriating")),
        ]
        for t in editors:
            t.start()
        _until(lambda: len(_waiting(published, "")) == 2, "both editors wait for the row")
        holder.rollback()
    for t in editors:
        t.join()
    saved = [who for who, result in outcome.items() if result == "saved"]
    assert len(saved) == 1, outcome
    (winner,) = saved
    (loser,) = set(outcome) - {winner}
    assert isinstance(outcome[loser], EditConflict)
    assert f"parcels D05 [status] was changed by {winner} at " in str(outcome[loser])
    history = edits_only(read_history(published))
    assert history[["by", "id", "old"]].values.tolist() == [[winner, "D05", "under_construction"]]
    stored = load_layers(published, layers=("parcels",))["parcels"].set_index("parcel_id").loc["D05", "status"]
    assert stored == history["new"].iloc[0]


EDITOR = """
import sys
from geo.edits import edit_features
edit_features(sys.argv[1], "roads", ["R010", "R011"], {"name": "新名字路"}, by="editor")
"""


def test_an_editor_killed_mid_transaction_leaves_value_and_history_together(published: str) -> None:
    schema = parse_url(published).schema
    names = load_layers(published, layers=("roads",))["roads"].set_index("seg_id")["name"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with psycopg.connect(plain(published)) as holder:
        # The editor updates the names, then waits to add its history rows: killed there, it has
        # written values without their history inside its transaction.
        holder.execute(f"LOCK TABLE {schema}.change_history IN SHARE MODE")
        proc = subprocess.Popen([sys.executable, "-c", EDITOR, published], env=env, stderr=subprocess.DEVNULL)
        _until(lambda: _waiting(published, "INSERT INTO") or proc.poll() is not None, "the editor waits to record")
        assert proc.poll() is None
        (pid,) = _waiting(published, "INSERT INTO")
        held = (
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND granted AND mode = 'RowExclusiveLock' "
            "AND relation = %s::regclass"
        )
        assert sql_rows(published, held, (pid, f"{schema}.roads")) == [(1,)]  # it has updated the roads
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        holder.rollback()
    gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
    _until(lambda: sql_rows(published, gone, (pid,)) == [(0,)], "the server ends the killed editor's session")
    after = load_layers(published, layers=("roads",))["roads"].set_index("seg_id")["name"]
    assert after.loc[["R010", "R011"]].tolist() == names.loc[["R010", "R011"]].tolist()
    assert edits_only(read_history(published)).empty
    # the same edit, not killed, lands whole
    edit_features(published, "roads", ["R010", "R011"], {"name": "新名字路"}, by="editor")
    after = load_layers(published, layers=("roads",))["roads"].set_index("seg_id")["name"]
    assert after.loc[["R010", "R011"]].tolist() == ["新名字路"] * 2
    assert edits_only(read_history(published))["id"].tolist() == ["R010", "R011"]


@pytest.fixture
def role(published: str) -> Iterator[tuple[str, str]]:
    """A login role of its own (name, password), dropped with its rights after the test."""
    name, password = f"r_{secrets.token_hex(4)}", secrets.token_hex(8)
    database = make_url(published).database
    with psycopg.connect(plain(published), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {name}")
    yield name, password
    with psycopg.connect(plain(published), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def _as(url: str, name: str, password: str) -> str:
    return make_url(url).set(username=name, password=password).render_as_string(hide_password=False)


def test_a_read_only_role_reads_the_history_and_is_refused_an_edit_in_one_line(
    published: str, role: tuple[str, str]
) -> None:
    name, password = role
    schema = parse_url(published).schema
    edit_features(published, "roads", ["R001"], {"status": "open"}, by="张三")
    for grant in (
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
    ):
        sql_rows(published, grant)
    reader = _as(published, name, password)
    history = run("history", reader, "--format", "json")
    assert history.returncode == 0, history.stderr
    assert [r["by"] for r in json.loads(history.stdout)][-1] == "张三"
    refused = run("edit", reader, "roads", "R002", "status=open", "--by", "张三")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1 and password not in refused.stderr
    assert "permission denied for table roads" in refused.stderr
    assert "editing needs UPDATE on the layer tables and INSERT on change_history" in refused.stderr
    assert status_of(published, "R002") == "under_construction"
    assert len(read_history(published)) == len(load_layers(SAMPLE)) + 1  # the publish rows and one edit


def test_an_editor_role_with_the_documented_grants_edits(published: str, role: tuple[str, str]) -> None:
    name, password = role
    schema = parse_url(published).schema
    for grant in (  # as README's Roles section gives them for an editor who does not publish
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA {schema} TO {name}",
        f"GRANT INSERT ON {schema}.change_history TO {name}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
    ):
        sql_rows(published, grant)
    result = run("edit", _as(published, name, password), "roads", "R002", "status=open", "--by", "张三")
    assert result.returncode == 0, result.stderr
    assert status_of(published, "R002") == "open"
    assert edits_only(read_history(published))[["by", "id", "new"]].values.tolist() == [["张三", "R002", "open"]]


def test_history_survives_publish_and_pull(schema_url: str, tmp_path: Path) -> None:
    work = tmp_path / "work.gpkg"
    work.write_bytes(SAMPLE.read_bytes())
    first = run("edit", str(work), "roads", "R001", "status=已通车", "--by", "张三", "--date", "2020-09-30")
    assert first.returncode == 0, first.stderr
    base, schema = schema_url.split("?")[0], parse_url(schema_url).schema
    published = run("publish", str(work), base, "--schema", schema, "--by", "李四")
    assert published.returncode == 0, published.stderr
    in_file, in_db = read_history(work), read_history(schema_url)
    pd.testing.assert_frame_equal(in_db.iloc[: len(in_file)], in_file)
    publish_rows = in_db.iloc[len(in_file) :]
    assert publish_rows["layer"].tolist() == list(load_layers(work))
    assert set(publish_rows["field"]) == {"(import)"} and set(publish_rows["by"]) == {"李四"}
    assert publish_rows[publish_rows["layer"] == "roads"]["note"].tolist() == ["publish work.gpkg: 96 features"]

    second = run("edit", schema_url, "roads", "R002", "status=open", "--by", "王五", "--date", "2020-10-15")
    assert second.returncode == 0, second.stderr
    back = tmp_path / "back.gpkg"
    pulled = run("pull", schema_url, str(back))
    assert pulled.returncode == 0, pulled.stderr
    assert "roads 96" in pulled.stdout and make_url(base).password not in pulled.stdout
    pd.testing.assert_frame_equal(read_history(back), read_history(schema_url))
    both = edits_only(read_history(back))
    assert both[["by", "id", "date", "new"]].values.tolist() == [
        ["张三", "R001", "2020-09-30", "open"],
        ["王五", "R002", "2020-10-15", "open"],
    ]
    assert status_of(str(back), "R001") == "open" and status_of(str(back), "R002") == "open"
    for day in ("2020-09-29", "2020-09-30", "2020-10-15"):
        figures = [run("progress", s, "--as-of", day, "--format", "csv").stdout for s in (str(back), schema_url)]
        assert figures[0] == figures[1], day
    done = {
        day: {r["id"]: r for r in json.loads(run("progress", str(back), "--as-of", day, "--format", "json").stdout)}[
            "road_segments"
        ]["done"]
        for day in ("2020-09-29", "2020-09-30", "2020-10-15")
    }
    assert done == {"2020-09-29": 32, "2020-09-30": 33, "2020-10-15": 34}
    third = run("edit", str(back), "roads", "R003", "name=新三路", "--by", "张三")
    assert third.returncode == 0 and f"recorded #{len(read_history(schema_url)) + 1}:" in third.stdout
    again = run("pull", schema_url, str(back))
    assert again.returncode == 1 and "exists; pass --replace" in again.stderr


def test_republishing_an_older_file_keeps_the_database_edits_on_record(schema_url: str, tmp_path: Path) -> None:
    work = tmp_path / "work.gpkg"
    work.write_bytes(SAMPLE.read_bytes())
    assert run("edit", str(work), "roads", "R001", "status=已通车", "--by", "张三").returncode == 0
    base, schema = schema_url.split("?")[0], parse_url(schema_url).schema
    assert run("publish", str(work), base, "--schema", schema, "--by", "李四").returncode == 0
    edited = run("edit", schema_url, "roads", "R002", "status=open", "--by", "王五", "--date", "2020-10-15")
    assert edited.returncode == 0, edited.stderr
    # the file never saw 王五's edit: publishing it again replaces the value, not the record
    again = run("publish", str(work), base, "--schema", schema, "--by", "李四", "--replace")
    assert again.returncode == 0, again.stderr
    history = read_history(schema_url)
    assert status_of(schema_url, "R002") != "open"  # the file's value is back
    rows = history[["by", "layer", "id", "field", "new"]].values.tolist()
    edit = ["王五", "roads", "R002", "status", "open"]
    assert rows.count(edit) == 1 and rows.count(["张三", "roads", "R001", "status", "open"]) == 1
    after = rows[rows.index(edit) + 1 :]
    # then the second publish, which replaced it: one row per layer, the roads' among them
    assert [(r[2] is None or pd.isna(r[2]), r[3]) for r in after] == [(True, "(import)")] * len(load_layers(work))
    assert history["change_id"].is_monotonic_increasing and history["change_id"].is_unique
