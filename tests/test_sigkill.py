"""Nothing is lost when a writer is killed outright, wherever it is killed.

Each write the project makes (an export in every format, an import into a GeoPackage, an
edit and its undo, a publish and an import into PostGIS) is run under
``tests/killpoint.py``, which numbers the calls of the primitives it writes through and
sends the process SIGKILL just before the N-th. A first run kills nothing and lists the
steps; then the command is killed before each of them in turn (at most :data:`MOST_KILLS`
points, spread over the steps with every kind of primitive among them). After every kill the
previous file, or schema, is there byte for byte (or row for row) and reads back with
GDAL's ``ogrinfo`` or the app's own reader; after the next complete run of the command no
temporary file, scratch folder, SQLite journal or staging schema is left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.edits import edit_features
from geo.io import load_layers, read_history
from geo.transfer import publish

from .common import ROOT, SAMPLE, frame, hline
from .gdal import feature_count, ogrinfo
from .pg import server_url

#: Most kill points tried per command (a command of more steps is killed at a spread of them).
MOST_KILLS = 10
DISTRICT = "220102001"  # a sub-district holding 3 of the sample's 96 roads


@dataclass(frozen=True)
class Run:
    """One run of a command under the kill-point driver."""

    returncode: int
    steps: list[str]
    stderr: str


class Driver:
    """Runs ``python -m geo`` under :mod:`tests.killpoint`, with its own temporary directory."""

    def __init__(self, folder: Path) -> None:
        self.logs = folder / "steps"
        self.scratch = folder / "tmp"
        self.logs.mkdir(parents=True)
        self.scratch.mkdir(parents=True)
        self.runs = 0

    def __call__(self, args: Sequence[str], *, kill_at: int = 0, spill: bool = False) -> Run:
        self.runs += 1
        steps = self.logs / f"{self.runs}.txt"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(self.scratch)}
        command = [sys.executable, "-m", "tests.killpoint", str(steps), str(kill_at), "1" if spill else "0", *args]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        lines = steps.read_text().splitlines() if steps.exists() else []
        return Run(done.returncode, [line.split()[1] for line in lines], done.stderr)


@pytest.fixture
def driver(tmp_path: Path) -> Driver:
    return Driver(tmp_path / "driver")


def kill_points(steps: list[str], most: int = MOST_KILLS) -> list[int]:
    """Step numbers (1-based) to kill before: the first and the last, the first of each kind
    of primitive, and others evenly spread over the rest, ``most`` in all (more when the
    kinds alone are more)."""
    chosen = {1, len(steps)} | {steps.index(kind) + 1 for kind in dict.fromkeys(steps)}
    rest = [n for n in range(1, len(steps) + 1) if n not in chosen]
    room = min(len(rest), max(0, most - len(chosen)))
    if room:
        chosen |= {rest[round(i * (len(rest) - 1) / max(1, room - 1))] for i in range(room)}
    return sorted(chosen)


def kill_everywhere(
    driver: Driver,
    args: Sequence[str],
    *,
    setup: Callable[[], None],
    intact: Callable[[str], None],
    spill: bool = False,
) -> list[str]:
    """Kill ``args`` before each chosen step; ``intact(where)`` checks after every kill.

    ``setup`` makes the state before the command (again after the run that lists the
    steps). Returns the steps killed before, as ``"<n> <primitive>"``.
    """
    setup()
    listing = driver(args, spill=spill)
    assert listing.returncode == 0, listing.stderr
    assert listing.steps, "the command took no write step"
    setup()
    killed = []
    for n in kill_points(listing.steps):
        run = driver(args, kill_at=n, spill=spill)
        where = f"killed before step {n} of {len(listing.steps)} ({listing.steps[n - 1]})"
        assert run.returncode == -9, f"{where}: the command ended with {run.returncode}: {run.stderr}"
        assert run.steps[-1] == listing.steps[n - 1], f"{where}: the steps differ from the listing"
        intact(where)
        killed.append(f"{n} {listing.steps[n - 1]}")
    return killed


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def others(folder: Path, *keep: Path) -> list[str]:
    """Names in ``folder`` other than ``keep``: what a write left behind."""
    return sorted(p.name for p in folder.iterdir() if p not in keep)


# ------------------------------------------------------------------------ exports


def _roads_in(path: Path, fmt: str) -> int:
    """How many roads a file written by ``export`` holds, read back by GDAL or pandas."""
    if fmt == "geojson":
        return feature_count(ogrinfo("-so", "-al", str(path)))
    if fmt == "gpkg":
        return feature_count(ogrinfo("-so", str(path), "roads"))
    if fmt == "shp":
        return feature_count(ogrinfo("-so", f"/vsizip/{path}", "roads"))
    if fmt == "csv":
        return len(pd.read_csv(path, encoding="utf-8-sig"))
    return len(pd.read_excel(path, sheet_name="roads"))


EXPORTS = {"geojson": "roads", "gpkg": "all", "shp": "all", "csv": "roads", "xlsx": "all"}


@pytest.mark.parametrize("fmt", EXPORTS)
def test_an_export_killed_at_any_step_leaves_the_previous_file(fmt: str, tmp_path: Path, driver: Driver) -> None:
    out = tmp_path / "out" / f"export.{'zip' if fmt == 'shp' else fmt}"
    out.parent.mkdir()
    args = ["export", str(SAMPLE), "--layer", EXPORTS[fmt], "--format", fmt, "--out", str(out)]
    previous: dict[str, str] = {}

    def setup() -> None:
        # the previous file: the same export of one sub-district, as a planner made it last week
        made = driver([*args, "--district", DISTRICT])
        assert made.returncode == 0, made.stderr
        assert _roads_in(out, fmt) == 3
        previous["digest"] = digest(out)

    def intact(where: str) -> None:
        assert digest(out) == previous["digest"], f"{where}: the previous file changed"
        assert _roads_in(out, fmt) == 3, where

    killed = kill_everywhere(driver, args, setup=setup, intact=intact)
    assert any("os.replace" in k for k in killed) and any(k.split()[1] == "tempfile.mkstemp" for k in killed)
    again = driver(args)
    assert again.returncode == 0, again.stderr
    assert _roads_in(out, fmt) == 96
    assert others(out.parent, out) == [], "temporary files left beside the export"
    assert others(driver.scratch) == [], "scratch folders left in the temporary directory"


# ------------------------------------------------------------------------ GeoPackage writes


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder / "work.gpkg"


def _road_names(path: Path) -> pd.Series:
    return load_layers(path, layers=("roads",))["roads"].set_index("seg_id")["name"]


def test_an_import_killed_at_any_step_leaves_the_geopackage(work: Path, tmp_path: Path, driver: Driver) -> None:
    upload = tmp_path / "新路.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    args = ["import", str(upload), "--as", "roads", "--into", str(work), "--by", "张三"]
    before = digest(SAMPLE)

    def setup() -> None:
        shutil.copyfile(SAMPLE, work)

    def intact(where: str) -> None:
        assert digest(work) == before, f"{where}: the GeoPackage changed"
        assert feature_count(ogrinfo("-so", str(work), "roads")) == 96, where
        assert len(_road_names(work)) == 96 and read_history(work).empty, where

    killed = kill_everywhere(driver, args, setup=setup, intact=intact)
    assert {"shutil.copyfile", "pyogrio.write_dataframe", "sqlite3.execute", "os.replace"} <= {
        k.split()[1] for k in killed
    }
    again = driver(args)
    assert again.returncode == 0, again.stderr
    assert _road_names(work).index.tolist() == ["N1"]
    assert read_history(work)["field"].tolist() == ["(import)"]
    assert others(work.parent, work) == [], "temporary files left beside the GeoPackage"
    assert others(driver.scratch) == []


def test_an_import_creating_a_geopackage_killed_at_any_step_leaves_nothing(
    work: Path, tmp_path: Path, driver: Driver
) -> None:
    upload = tmp_path / "roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    args = ["import", str(upload), "--as", "roads", "--into", str(work), "--create"]

    def setup() -> None:
        work.unlink(missing_ok=True)

    def intact(where: str) -> None:
        assert not work.exists(), f"{where}: a half-made GeoPackage appeared"

    kill_everywhere(driver, args, setup=setup, intact=intact)
    assert driver(args).returncode == 0
    assert _road_names(work).index.tolist() == ["N1"]
    assert others(work.parent, work) == []


@pytest.mark.parametrize("spill", [False, True], ids=["small edit", "pages spilled before COMMIT"])
def test_an_edit_killed_at_any_step_leaves_values_and_history_as_they_were(
    spill: bool, work: Path, driver: Driver
) -> None:
    args = ["edit", str(work), "roads", "R001", "name=人民大街", "status=open", "--by", "张三"]
    before = digest(SAMPLE)
    old = _road_names(SAMPLE)["R001"]

    def setup() -> None:
        shutil.copyfile(SAMPLE, work)

    def intact(where: str) -> None:
        # the app's reader first: read-only, it must not stumble on what the killed editor left
        assert _road_names(work)["R001"] == old, where
        assert read_history(work).empty, where
        assert others(work.parent, work) == [], f"{where}: the killed edit's journal is still there"
        assert digest(work) == before, f"{where}: the GeoPackage is not byte for byte as before"

    killed = kill_everywhere(driver, args, setup=setup, intact=intact, spill=spill)
    assert killed[-1].endswith("sqlite3.execute")  # the last step is the COMMIT
    again = driver(args, spill=spill)
    assert again.returncode == 0, again.stderr
    assert _road_names(work)["R001"] == "人民大街"
    assert read_history(work)[["field", "new"]].values.tolist() == [["name", "人民大街"], ["status", "open"]]
    assert others(work.parent, work) == []


def test_an_undo_killed_at_any_step_leaves_the_edit(work: Path, driver: Driver) -> None:
    args = ["undo", str(work), "1", "--by", "李四"]
    state: dict[str, str] = {}

    def setup() -> None:
        shutil.copyfile(SAMPLE, work)
        edit_features(work, "roads", ["R001"], {"name": "人民大街"}, by="张三")
        state["digest"] = digest(work)

    def intact(where: str) -> None:
        assert _road_names(work)["R001"] == "人民大街", where
        assert len(read_history(work)) == 1, where
        assert others(work.parent, work) == [], where
        assert digest(work) == state["digest"], where

    kill_everywhere(driver, args, setup=setup, intact=intact, spill=True)
    assert driver(args).returncode == 0
    assert _road_names(work)["R001"] == _road_names(SAMPLE)["R001"]
    assert read_history(work)["note"].tolist() == ["", "undo #1"]
    assert others(work.parent, work) == []


# ------------------------------------------------------------------------ PostGIS


def _content(url: str) -> str:
    """A digest of every layer of a PostGIS schema: ids, values and geometry, in id order."""
    h = hashlib.sha256()
    for name, gdf in load_layers(url).items():
        h.update(name.encode())
        h.update(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).to_csv(index=False).encode())
        h.update(b"".join(shapely.to_wkb(gdf.geometry.to_numpy(), output_dimension=2)))
    return h.hexdigest()


def _staging_schemas(db_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_stage\\_%'").fetchall()
    return [str(r[0]) for r in rows]


def publish_afresh(db_url: str, schema: str) -> None:
    """The sample published into a new ``schema``: the same state however often it is made
    (a publish over an existing schema keeps that schema's history, which would grow)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    publish(str(SAMPLE), db_url, schema=schema)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """The test server's URL and a fresh schema name, dropped afterwards."""
    import secrets

    import psycopg
    from psycopg import sql

    url, name = server_url(), f"k_{secrets.token_hex(5)}"
    yield url, name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def test_a_publish_killed_at_any_step_leaves_the_schema(pg_schema: tuple[str, str], work: Path, driver: Driver) -> None:
    db_url, schema = pg_schema
    shutil.copyfile(SAMPLE, work)
    edit_features(work, "roads", ["R001"], {"name": "人民大街"}, by="张三")  # the new data differs
    url = f"{db_url}?schema={schema}"
    args = ["publish", str(work), db_url, "--schema", schema, "--replace"]
    state: dict[str, str] = {}
    stray_before = _staging_schemas(db_url)

    def setup() -> None:
        publish_afresh(db_url, schema)
        state["content"] = _content(url)

    def intact(where: str) -> None:
        assert _content(url) == state["content"], f"{where}: the published schema changed"
        assert _staging_schemas(db_url) == stray_before, f"{where}: a staging schema is left"

    killed = kill_everywhere(driver, args, setup=setup, intact=intact)
    assert {"psycopg.execute", "psycopg.copy", "psycopg.commit"} <= {k.split()[1] for k in killed}
    assert driver(args).returncode == 0
    assert load_layers(url)["roads"].set_index("seg_id").loc["R001", "name"] == "人民大街"
    assert _content(url) != state["content"] and _staging_schemas(db_url) == stray_before


def test_an_import_into_postgis_killed_at_any_step_leaves_the_table(
    pg_schema: tuple[str, str], tmp_path: Path, driver: Driver
) -> None:
    db_url, schema = pg_schema
    upload = tmp_path / "roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    url = f"{db_url}?schema={schema}"
    args = ["import", str(upload), "--as", "roads", "--into", url]
    state: dict[str, str] = {}

    def setup() -> None:
        publish_afresh(db_url, schema)
        state["content"] = _content(url)

    def intact(where: str) -> None:
        assert _content(url) == state["content"], f"{where}: the schema changed"

    kill_everywhere(driver, args, setup=setup, intact=intact)
    assert driver(args).returncode == 0
    roads = load_layers(url, layers=("roads",))["roads"]
    assert isinstance(roads, gpd.GeoDataFrame) and roads["seg_id"].tolist() == ["N1"]
    assert others(driver.scratch) == []


def test_a_frozen_publish_does_not_keep_the_readers_waiting(
    pg_schema: tuple[str, str], work: Path, driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publisher frozen just before its COMMIT (SIGSTOP: its connection open, as when its
    network is cut) has dropped the old schema inside its transaction and holds its locks;
    the server ends that transaction after ``NANGUAN_DB_WRITE_IDLE_S`` and readers get the
    old data."""
    import psycopg

    db_url, schema = pg_schema
    shutil.copyfile(SAMPLE, work)
    edit_features(work, "roads", ["R001"], {"name": "人民大街"}, by="张三")
    publish_afresh(db_url, schema)
    url = f"{db_url}?schema={schema}"
    before = _content(url)
    args = ["publish", str(work), db_url, "--schema", schema, "--replace"]
    listing = driver(args)
    publish_afresh(db_url, schema)
    assert listing.steps[-1] == "psycopg.commit"
    monkeypatch.setenv("NANGUAN_DB_WRITE_IDLE_S", "1")
    steps = driver.logs / "frozen.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(driver.scratch)}
    command = [sys.executable, "-m", "tests.killpoint", str(steps), f"stop:{len(listing.steps)}", "0", *args]
    frozen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (steps.exists() and steps.read_text().endswith("SIGSTOP\n")):
            assert frozen.poll() is None, "the publisher ended before its COMMIT"
            assert time.monotonic() < deadline, "the publisher did not reach its COMMIT within 300 s"
            time.sleep(0.01)
        with psycopg.connect(db_url) as conn:
            conn.execute("SET statement_timeout = '120s'")  # a failure, not a hang, if the lock stays
            roads = conn.execute(f'SELECT count(*) FROM "{schema}".roads').fetchone()
        assert roads == (96,)
        assert _content(url) == before and _staging_schemas(db_url) == []
    finally:
        frozen.kill()
        frozen.wait()
