"""The operation log: one JSON line per import, export, publish, edit and undo, no password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.edits import edit_features
from geo.export import layers_bytes
from geo.io import load_layers
from geo.oplog import configure, operation, redact
from geo.preview import apply_import, preview_import

from .common import ROOT, SAMPLE, frame, hline
from .pg import server_url
from .test_app_edits import USERS, choose, session, sign_in


def geo(*args: str, log: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m geo ARGS`` with the operation log going to ``log``."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "NANGUAN_LOG_FILE": str(log), **env}
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )


def lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work.gpkg"
    path.write_bytes(SAMPLE.read_bytes())
    return path


@pytest.fixture
def reset_log() -> Iterator[None]:
    """In-process tests configure the log; put it back as the command line leaves it."""
    yield
    configure("", "INFO")


def test_each_operation_of_the_command_line_logs_one_line(work: Path, tmp_path: Path) -> None:
    log = tmp_path / "ops.log"
    upload = tmp_path / "新路.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    total = sum(len(g) for g in load_layers(SAMPLE).values())
    steps = [
        ("export", str(SAMPLE), "--layer", "roads", "--format", "geojson", "--out", str(tmp_path / "r.geojson")),
        ("export", str(SAMPLE), "--layer", "all", "--format", "gpkg", "--out", str(tmp_path / "all.gpkg")),
        ("edit", str(work), "roads", "R001", "name=人民大街", "status=open", "--by", "张三"),
        ("undo", str(work), "1", "--by", "李四"),
        ("import", str(upload), "--as", "roads", "--into", str(work), "--by", "王五"),
        ("import", str(tmp_path / "缺.geojson"), "--as", "roads", "--into", str(work), "--by", "王五"),
    ]
    for n, args in enumerate(steps, start=1):
        geo(*args, log=log)
        assert len(lines(log)) == n, args  # one line each, failures included
    export, export_all, edit, undo, imported, failed = lines(log)
    assert {k: export[k] for k in ("event", "source", "layer", "format", "features", "result")} == {
        "event": "export",
        "source": str(SAMPLE),
        "layer": "roads",
        "format": "geojson",
        "features": 96,
        "result": "ok",
    }
    assert export["out"] == str(tmp_path / "r.geojson") and export["who"]  # the system user
    assert export_all["features"] == total and export_all["layer"] == ",".join(load_layers(SAMPLE))
    assert {k: edit[k] for k in ("event", "who", "source", "layer", "features", "changes", "result")} == {
        "event": "edit",
        "who": "张三",
        "source": str(work),
        "layer": "roads",
        "features": 1,
        "changes": 2,
        "result": "ok",
    }
    assert (undo["event"], undo["who"], undo["change"], undo["layer"], undo["changes"]) == (
        "undo",
        "李四",
        1,
        "roads",
        1,
    )
    assert {k: imported[k] for k in ("event", "who", "source", "layer", "file", "features", "result")} == {
        "event": "import",
        "who": "王五",
        "source": str(work),
        "layer": "roads",
        "file": "新路.geojson",
        "features": 1,
        "result": "ok",
    }
    assert (failed["result"], failed["file"]) == ("error", "缺.geojson") and "no such file" in str(failed["error"])
    for line in lines(log):
        assert line["ts"].endswith("Z") and isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_the_level_keeps_failures_only_or_nothing(tmp_path: Path) -> None:
    for level, expected in (("WARNING", ["error"]), ("OFF", [])):
        log = tmp_path / f"{level}.log"
        geo(
            "export",
            str(SAMPLE),
            "--layer",
            "roads",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "r.csv"),
            log=log,
            NANGUAN_LOG_LEVEL=level,
        )
        geo(
            "export", str(tmp_path / "缺.gpkg"), "--layer", "roads", "--format", "csv", log=log, NANGUAN_LOG_LEVEL=level
        )
        assert [line["result"] for line in lines(log)] == expected, level


def test_without_a_log_file_the_command_line_prints_only_its_own_lines(tmp_path: Path) -> None:
    quiet = geo(
        "export",
        str(tmp_path / "缺.gpkg"),
        "--layer",
        "roads",
        "--format",
        "csv",
        log=tmp_path / "x",
        NANGUAN_LOG_FILE="",
    )
    assert quiet.stderr.count("\n") == 1 and quiet.stderr.startswith("error: ")
    verbose = geo(
        "-v",
        "export",
        str(tmp_path / "缺.gpkg"),
        "--layer",
        "roads",
        "--format",
        "csv",
        log=tmp_path / "x",
        NANGUAN_LOG_FILE="",
    )
    shown = [json.loads(line) for line in verbose.stderr.splitlines() if line.startswith("{")]
    assert [(s["event"], s["result"]) for s in shown] == [("export", "error")]


def test_a_publish_never_logs_the_password(tmp_path: Path, work: Path) -> None:
    import psycopg
    from psycopg import sql

    url = server_url()
    password = psycopg.conninfo.conninfo_to_dict(url)["password"]
    assert password
    log = tmp_path / "ops.log"
    ok = geo("-v", "publish", str(work), url, "--schema", "logged_publish", "--replace", log=log)
    wrong = url.replace(f":{password}@", ":Wrong-Pass-123@")
    refused = geo("publish", str(work), wrong, "--schema", "logged_publish", log=log, TIANDITU_KEY="tk-secret-0042")
    try:
        assert ok.returncode == 0, ok.stderr
        assert refused.returncode == 1
        published, failed = lines(log)
        bare = url.replace(f":{password}@", "@")
        assert (published["event"], published["target"], published["schema"]) == ("publish", bare, "logged_publish")
        assert published["features"] == sum(len(g) for g in load_layers(work).values())
        assert failed["result"] == "error" and failed["target"] == bare
        everything = log.read_text(encoding="utf-8") + ok.stdout + ok.stderr + refused.stdout + refused.stderr
        for secret in (password, "Wrong-Pass-123"):
            assert secret not in everything
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier("logged_publish")))


def test_credentials_are_redacted() -> None:
    assert redact("postgresql://editor:p%40ss@db.bureau:5432/gis?schema=renewal") == (
        "postgresql://editor@db.bureau:5432/gis?schema=renewal"
    )
    assert redact("postgresql+psycopg://u:pw@h/db failed") == "postgresql+psycopg://u@h/db failed"
    assert redact("error at postgresql://planner:s3cr@t!@db.bureau/gis now") == (
        "error at postgresql://planner@db.bureau/gis now"
    )
    assert redact("postgresql://u@h/db?sslmode=require&password=s3cret") == (
        "postgresql://u@h/db?sslmode=require&password=***"
    )
    assert redact("tiles?tk=0123456789abcdef", ["0123456789abcdef"]) == "tiles?tk=***"


def test_the_apps_writes_log_through_the_core(work: Path, tmp_path: Path, reset_log: None) -> None:
    """The calls the app makes: a download, an import into the session's copy, an edit."""
    log = tmp_path / "ops.log"
    configure(str(log), "INFO", secrets=["0123456789abcdef"])
    layers = load_layers(work)
    with operation("export", source=str(work)):
        layers_bytes({"roads": layers["roads"]}, "shp", crs="EPSG:4551")
    upload = tmp_path / "roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    copy = tmp_path / "session" / "work.gpkg"
    copy.parent.mkdir()
    apply_import(
        preview_import(upload, "roads", base=work), base=work, copy=copy, mode="append", source_file="路.geojson"
    )
    edit_features(copy, "roads", ["N1", "R002"], {"status": "open"}, by="张三", note="0123456789abcdef")
    download, imported, edited = lines(log)
    assert (download["event"], download["source"], download["layer"], download["format"], download["features"]) == (
        "export",
        str(work),
        "roads",
        "shp",
        96,
    )
    assert download["bytes"] > 0 and download["who"] is None  # anyone reading may download
    assert (imported["event"], imported["source"], imported["file"], imported["mode"], imported["features"]) == (
        "import",
        str(copy),
        "路.geojson",
        "append",
        1,
    )
    assert (edited["event"], edited["who"], edited["features"], edited["changes"]) == ("edit", "张三", 2, 1)


def test_the_app_sends_an_edit_to_the_configured_log(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reset_log: None
) -> None:
    log = tmp_path / "app-ops.log"
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_SOURCE", str(work))
    monkeypatch.setenv("NANGUAN_LOG_FILE", str(log))
    at = choose(sign_in(session(USERS), "zhang", "zhang-pw"), "parcels", ["D05"], "status")
    at.selectbox(key="edit_value_code").set_value("resettled").run()
    at.button(key="edit_save").click().run()
    assert not at.error
    logged = lines(log)
    (edited,) = [line for line in logged if line["event"] == "edit"]
    # the rest: the sign-in, and the downloads the page prepared, each made once
    assert {(line["event"], line["result"]) for line in logged if line is not edited} == {
        ("sign_in", "ok"),
        ("export", "ok"),
    }
    assert {k: edited[k] for k in ("event", "who", "source", "layer", "features", "changes", "result")} == {
        "event": "edit",
        "who": "张三",
        "source": str(work),
        "layer": "parcels",
        "features": 1,
        "changes": 1,
        "result": "ok",
    }
