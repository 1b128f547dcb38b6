"""A full disk ends in one line naming no temporary path, every file as it was.

The disk is a real one: a small tmpfs mounted for the test (root only: CI runs as root;
elsewhere the tests skip with the reason), filled up to a few kilobytes before the write.
For the database, a tablespace on such a tmpfs takes the tables a publish writes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from geo.io import load_layers

from .common import SAMPLE, frame, hline
from .pg import server_url
from .test_cli import run


def _need_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the disk-full tests mount a tmpfs and need root")
        pytest.skip("the disk-full tests mount a tmpfs and need root")


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 4 MB tmpfs that the database server's user can reach too, unmounted afterwards."""
    _need_root()
    mount = Path(tempfile.mkdtemp(prefix="small-disk-"))
    mount.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=755", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def fill(disk: Path, *, leave: int) -> None:
    """Fill ``disk`` with one file until about ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler.bin").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _one_clean_line(stderr: str, disk: Path) -> None:
    """The error is the last line (an import says first what it replaces), naming no path."""
    *said, error = stderr.splitlines()
    assert len(said) <= 1 and all(line.startswith("import replaces") for line in said), stderr
    assert error.startswith("error: the disk is full") and "every file is as it was" in error
    assert str(disk) not in error and ".part" not in stderr and "Traceback" not in stderr


def test_an_export_onto_a_full_disk_leaves_the_old_file(small_disk: Path) -> None:
    out = small_disk / "all.gpkg"
    out.write_bytes(b"the export of yesterday")
    fill(small_disk, leave=16_000)
    before = _listing(small_disk)
    result = run("export", str(SAMPLE), "--layer", "all", "--format", "gpkg", "--out", str(out))
    assert result.returncode == 1
    _one_clean_line(result.stderr, small_disk)
    assert _listing(small_disk) == before  # nothing left beside it, the old file whole


def test_an_import_onto_a_full_disk_leaves_the_geopackage(small_disk: Path, tmp_path: Path) -> None:
    target = small_disk / "nanguan.gpkg"
    shutil.copyfile(SAMPLE, target)
    upload = tmp_path / "roads.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    fill(small_disk, leave=16_000)
    before = _listing(small_disk)
    result = run("import", str(upload), "--as", "roads", "--into", str(target), "--yes")
    assert result.returncode == 1
    _one_clean_line(result.stderr, small_disk)
    assert _listing(small_disk) == before
    zh = run("--lang", "zh", "import", str(upload), "--as", "roads", "--into", str(target), "--yes")
    assert "磁盘已满" in zh.stderr and ".part" not in zh.stderr


def test_a_stats_table_onto_a_full_disk(small_disk: Path) -> None:
    out = small_disk / "stats.csv"
    out.write_text("yesterday's table\n")
    fill(small_disk, leave=0)
    result = run("stats", str(SAMPLE), "--format", "csv", "--out", str(out))
    assert result.returncode == 1
    _one_clean_line(result.stderr, small_disk)
    assert out.read_text() == "yesterday's table\n"


@pytest.fixture
def tiny_tablespace(small_disk: Path) -> Iterator[str]:
    """A tablespace on the small disk, with the disk nearly full; its name."""
    base = server_url()
    name = f"tiny_{secrets.token_hex(3)}"
    where = small_disk / "pg"
    where.mkdir()
    shutil.chown(where, "postgres", "postgres")
    libpq = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(where))))
    fill(small_disk, leave=200_000)
    try:
        yield name
    finally:
        (small_disk / "filler.bin").unlink(missing_ok=True)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(name)))


def test_a_publish_onto_a_full_database_disk_changes_nothing(tiny_tablespace: str, schema_url: str) -> None:
    assert run("publish", str(SAMPLE), schema_url).returncode == 0
    before = load_layers(schema_url)
    # the same database, with every table the publish makes put on the full disk
    onto_tiny = f"{schema_url}&options=-c%20default_tablespace%3D{tiny_tablespace}"
    result = run("publish", str(SAMPLE), onto_tiny, "--replace", "--yes")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "the database server's disk is full; nothing was changed" in result.stderr
    after = load_layers(schema_url)
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}


@pytest.mark.browser
def test_an_upload_onto_a_full_disk_says_so_in_one_line(small_disk: Path, tmp_path: Path) -> None:
    """The app keeps uploads in its session folder, under the system's temporary directory:
    with that disk full, the planner reads one line in Chinese, no path, and the page goes on."""
    from playwright.sync_api import expect

    from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, streamlit_server
    from .test_browser import Page, _upload

    require_chromium()
    from playwright.sync_api import sync_playwright

    upload = tmp_path / "道路.geojson"
    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(upload)
    with streamlit_server(TMPDIR=str(small_disk)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = Page(browser, url)
        fill(small_disk, leave=0)
        sidebar = _upload(page, upload)
        alert = sidebar.locator('[data-testid="stAlertContentError"]')
        expect(alert).to_be_visible()
        shown = alert.inner_text()
        assert "磁盘已满" in shown and "\n" not in shown.strip(), shown
        assert str(small_disk) not in shown and "nanguan-session-" not in shown
        assert [p.name for p in small_disk.rglob("*") if p.is_file()] == ["filler.bin"]  # no half-written upload
        expect(page.page.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # the statistics stay
        browser.close()
