"""Failed writes leave the target byte for byte as it was, and no temporary file behind.

Every writer (the atomic helper, import into a GeoPackage, each export format, the
statistics and progress tables, the standalone map) is made to fail after its temporary
file exists: in the writer, in the read-back validation, or at the final rename. One
export is killed with SIGKILL while it writes; the next write clears what it left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

import geo._atomic
import geo.store.gpkg
from cli import main
from geo._atomic import atomic_path, remove_stale_parts, scratch_dir, write_bytes_atomic
from geo.errors import Problem, SourceError, ValidationError
from geo.importer import import_to_copy
from geo.io import load_layers, store_layer

from .common import ROOT, SAMPLE, frame, hline

OLD = b"the file that was there\n"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path, target: Path) -> list[str]:
    """Every name in ``folder`` but ``target``'s own and the test's inputs."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{target.name}"))


@pytest.fixture
def failing_rename(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """``os.replace`` in the atomic writer fails; records the temporary files it was given."""
    seen: list[Path] = []

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(Path(src))
        assert Path(src).stat().st_size > 0, "the rename failed before anything was written"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(geo._atomic.os, "replace", replace)
    return seen


# ------------------------------------------------------------------------ the helper


def test_a_block_that_raises_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_bytes(OLD)
    with pytest.raises(RuntimeError, match="half way"), atomic_path(target) as tmp:
        tmp.write_bytes(b"new, half written")
        assert tmp.exists() and tmp.parent == tmp_path
        raise RuntimeError("half way")
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path, target) == []


def test_a_failed_rename_leaves_the_target(tmp_path: Path, failing_rename: list[Path]) -> None:
    target = tmp_path / "t.csv"
    target.write_bytes(OLD)
    with pytest.raises(OSError, match="the disk is full"):
        write_bytes_atomic(target, b"new contents")
    assert len(failing_rename) == 1 and failing_rename[0].name.startswith(".t.csv.part-")
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path, target) == []


def test_a_write_that_fails_midway_leaves_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "t.csv"
    target.write_bytes(OLD)
    real = Path.write_bytes

    def half_then_full(self: Path, data: bytes) -> int:
        real(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    with pytest.raises(OSError, match="the disk is full"):
        write_bytes_atomic(target, b"new contents, long enough to be cut")
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert leftovers(tmp_path, target) == []


def _dead_pid() -> int:
    """The id of a process that has ended."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(dead.stdout)


def test_stale_parts_of_dead_writers_only_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "t.gpkg"
    dead_pid = _dead_pid()
    stale = [tmp_path / f".t.gpkg.part-{dead_pid}-abc.gpkg", tmp_path / f".t.gpkg.part-{dead_pid}-abc.gpkg-journal"]
    alive = tmp_path / f".t.gpkg.part-{os.getppid()}-xyz.gpkg"  # our parent runs
    others = [tmp_path / ".t.gpkg.notes", tmp_path / ".u.gpkg.part-1-a.gpkg", tmp_path / "t.gpkg"]
    for path in (*stale, alive, *others):
        path.write_bytes(OLD)
    assert sorted(remove_stale_parts(target)) == sorted(stale)
    assert all(p.exists() for p in (alive, *others)) and not any(p.exists() for p in stale)


def test_scratch_folders_of_dead_processes_only_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"nanguan-shp-{_dead_pid()}-abc"
    alive = tmp_path / f"nanguan-shp-{os.getppid()}-xyz"
    other_kind = tmp_path / f"nanguan-export-{_dead_pid()}-abc"  # a killed export of another kind
    not_ours = tmp_path / f"nanguan-session-{_dead_pid()}-abc"
    for folder in (stale, alive, other_kind, not_ours):
        folder.mkdir()
        (folder / "roads.shp").write_bytes(OLD)
    with scratch_dir("nanguan-shp-") as mine:
        assert mine.parent == tmp_path and mine.name.startswith(f"nanguan-shp-{os.getpid()}.")
        assert not stale.exists() and not other_kind.exists()
        assert alive.exists() and not_ours.exists()
    assert not mine.exists()


def _start(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (field 22 of /proc/PID/stat)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc (Linux)")
def test_a_reused_pid_does_not_keep_a_dead_writers_file(tmp_path: Path) -> None:
    """A container's first process has the same pid after every restart: the start time in
    the name tells the dead writer from the process now running under its pid."""
    target = tmp_path / "t.gpkg"
    me, parent = os.getpid(), os.getppid()
    earlier = tmp_path / f".t.gpkg.part-{me}.{int(_start(me)) - 1}-abc.gpkg"  # our pid, another process
    ours = tmp_path / f".t.gpkg.part-{me}.{_start(me)}-def.gpkg"
    parents = tmp_path / f".t.gpkg.part-{parent}.{_start(parent)}-ghi.gpkg"
    nested = tmp_path / f"..t.gpkg.part-{_dead_pid()}.5-jkl.gpkg.part-{_dead_pid()}.5-mno.gpkg"
    for path in (earlier, ours, parents, nested):
        path.write_bytes(OLD)
    assert sorted(remove_stale_parts(target)) == sorted([earlier, nested])
    assert ours.exists() and parents.exists()
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(f".t.gpkg.part-{me}.{_start(me)}-")
        tmp.write_bytes(OLD)
    assert target.read_bytes() == OLD


# ---------------------------------------------------------------- import into a GeoPackage


@pytest.fixture
def work_gpkg(tmp_path: Path) -> Path:
    target = tmp_path / "work.gpkg"
    shutil.copyfile(SAMPLE, target)
    return target


def test_import_failing_its_read_back_leaves_the_geopackage(work_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(work_gpkg)
    checked: list[Path] = []

    def refuse(path: Path, **_: object) -> None:
        checked.append(Path(path))
        assert len(gpd.read_file(path, layer="roads")) == 1, "the new layer is in the temporary copy"
        raise ValidationError([Problem("roads", "R1", "geometry", "read back differently")])

    monkeypatch.setattr(geo.store.gpkg, "load_layers", refuse)
    with pytest.raises(ValidationError, match="read back differently"):
        store_layer(frame("roads", [hline(0, 0, 250)]), "roads", work_gpkg)
    assert checked and checked[0].parent == work_gpkg.parent
    assert digest(work_gpkg) == before
    assert leftovers(work_gpkg.parent, work_gpkg) == []


def test_import_failing_at_the_rename_leaves_the_geopackage(work_gpkg: Path, failing_rename: list[Path]) -> None:
    before = digest(work_gpkg)
    with pytest.raises(OSError, match="the disk is full"):
        store_layer(frame("roads", [hline(0, 0, 250)]), "roads", work_gpkg)
    assert failing_rename
    assert digest(work_gpkg) == before
    assert leftovers(work_gpkg.parent, work_gpkg) == []


def test_import_failing_in_the_writer_leaves_the_geopackage(work_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(work_gpkg)
    real = pyogrio.write_dataframe

    def write_then_fail(gdf: gpd.GeoDataFrame, path: Path, **options: object) -> None:
        real(gdf, path, **options)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(geo.store.gpkg.pyogrio, "write_dataframe", write_then_fail)
    with pytest.raises(SourceError, match="the disk is full"):
        store_layer(frame("roads", [hline(0, 0, 250)]), "roads", work_gpkg)
    assert digest(work_gpkg) == before
    assert leftovers(work_gpkg.parent, work_gpkg) == []


def test_import_into_a_session_copy_fails_cleanly(tmp_path: Path, failing_rename: list[Path]) -> None:
    upload = tmp_path / "new_roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    copy = tmp_path / "session.gpkg"
    copy.write_bytes(OLD)
    with pytest.raises(OSError, match="the disk is full"):
        import_to_copy(upload, "roads", base=SAMPLE, copy=copy)
    assert copy.read_bytes() == OLD
    assert leftovers(tmp_path, copy) == []
    assert len(load_layers(SAMPLE)["roads"]) == 96


# ------------------------------------------------------------------ the command line


WRITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "export geojson": ("out.geojson", ("export", str(SAMPLE), "--layer", "roads", "--format", "geojson")),
    "export gpkg": ("out.gpkg", ("export", str(SAMPLE), "--layer", "all", "--format", "gpkg", "--crs", "EPSG:4551")),
    "export shp": ("out.zip", ("export", str(SAMPLE), "--layer", "parcels", "--format", "shp", "--encoding", "GBK")),
    "export csv": ("out.csv", ("export", str(SAMPLE), "--layer", "roads", "--format", "csv")),
    "export xlsx": ("out.xlsx", ("export", str(SAMPLE), "--layer", "all", "--format", "xlsx")),
    "export stats csv": ("out.csv", ("export", str(SAMPLE), "--layer", "stats", "--format", "csv")),
    "export stats xlsx": ("out.xlsx", ("export", str(SAMPLE), "--layer", "stats", "--format", "xlsx")),
    "export progress csv": ("out.csv", ("export", str(SAMPLE), "--layer", "progress", "--format", "csv")),
    "stats --out": ("out.csv", ("stats", str(SAMPLE), "--format", "csv")),
    "progress --out": ("out.csv", ("progress", str(SAMPLE), "--format", "csv")),
    "map --out": ("out.html", ("map", str(SAMPLE))),
}


def _old(folder: Path, case: str) -> Path:
    target = folder / WRITES[case][0]
    target.write_bytes(OLD)
    return target


def _fails_cleanly(case: str, folder: Path, capsys: pytest.CaptureFixture[str], message: str) -> None:
    target = _old(folder, case)
    assert main([*WRITES[case][1], "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert ".part-" not in err  # the temporary file is the server's business, not the user's
    assert target.read_bytes() == OLD
    assert leftovers(target.parent, target) == []


@pytest.mark.parametrize("case", WRITES)
def test_cli_write_failing_at_the_rename_leaves_the_target(
    case: str, tmp_path: Path, failing_rename: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _fails_cleanly(case, tmp_path, capsys, "the disk is full")
    assert len(failing_rename) == 1 and failing_rename[0].name.startswith(f".{WRITES[case][0]}.part-")


@pytest.mark.parametrize("case", [c for c in WRITES if c != "export gpkg"])
def test_cli_write_failing_midway_leaves_the_target(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = Path.write_bytes

    def half(self: Path, data: bytes) -> int:
        if ".part-" not in self.name:
            return real(self, data)
        real(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half)
    _fails_cleanly(case, tmp_path, capsys, "the disk is full")


def test_cli_geopackage_failing_after_a_layer_leaves_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import geo.export

    real = pyogrio.write_dataframe
    written: list[str] = []

    def second_fails(gdf: gpd.GeoDataFrame, path: Path, **options: object) -> None:
        if written:
            raise OSError(28, "No space left on device")
        real(gdf, path, **options)
        written.append(str(options["layer"]))
        assert Path(path).stat().st_size > 0

    monkeypatch.setattr(geo.export.pyogrio, "write_dataframe", second_fails)
    _fails_cleanly("export gpkg", tmp_path, capsys, "the disk is full")
    assert written == ["districts"]


# ------------------------------------------------------------------------ SIGKILL


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A city-scale source (bench data, 20,000 road segments) that takes a while to export."""
    from bench.generate import city

    path = tmp_path_factory.mktemp("big") / "city.gpkg"
    for name, gdf in city(20_000).items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG")
    return path


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``condition`` until it holds; fail if ``proc`` ends first (bounded, 300 s)."""
    deadline = time.monotonic() + 300
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the writer ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within 300 s")
        time.sleep(0.002)


@pytest.fixture
def writer() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, tmpdir: Path | None = None) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if tmpdir is not None:
            env["TMPDIR"] = str(tmpdir)
        proc = subprocess.Popen([sys.executable, "-m", "geo", *args], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_export_killed_mid_write_leaves_the_target_and_the_next_write_cleans_up(
    tmp_path: Path, big_source: Path, writer: Callable[..., subprocess.Popen[bytes]]
) -> None:
    target = tmp_path / "city.gpkg"
    target.write_bytes(OLD)

    def parts() -> list[Path]:
        return [p for p in tmp_path.iterdir() if p.name.startswith(".city.gpkg.part-")]

    args = ("export", str(big_source), "--layer", "all", "--format", "gpkg", "--crs", "EPSG:4551", "--out", str(target))
    proc = writer(*args)
    _wait_for(lambda: any(p.stat().st_size > 0 for p in parts() if p.exists()), proc, "a temporary file being written")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert target.read_bytes() == OLD
    assert parts(), "the killed writer leaves its temporary file"

    again = writer(*args)
    assert again.wait() == 0, again.stderr.read().decode() if again.stderr else ""
    assert parts() == [] and leftovers(tmp_path, target) == []
    assert len(load_layers(target)["roads"]) == 20_000


def test_shapefile_export_killed_mid_write_leaves_no_scratch_after_the_next(
    tmp_path: Path, big_source: Path, writer: Callable[..., subprocess.Popen[bytes]]
) -> None:
    scratch = tmp_path / "scratch"  # the writer's temporary directory
    scratch.mkdir()
    target = tmp_path / "city.zip"
    target.write_bytes(OLD)

    def shapefiles() -> list[Path]:
        return [p for p in scratch.glob("nanguan-shp-*/*.shp") if p.exists() and p.stat().st_size > 0]

    args = ("export", str(big_source), "--layer", "all", "--format", "shp", "--out", str(target))
    proc = writer(*args, tmpdir=scratch)
    _wait_for(lambda: bool(shapefiles()), proc, "a Shapefile being written")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert target.read_bytes() == OLD
    assert list(scratch.iterdir()), "the killed writer leaves its scratch folder"

    again = writer(*args, tmpdir=scratch)
    assert again.wait() == 0, again.stderr.read().decode() if again.stderr else ""
    assert list(scratch.iterdir()) == [] and leftovers(tmp_path, target) == []
    assert target.read_bytes()[:2] == b"PK"
