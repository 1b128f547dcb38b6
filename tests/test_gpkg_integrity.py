"""A damaged GeoPackage gives no figures: refused in one line by the CLI, the core, the
importer and the app, where GDAL alone would read up to the damage and count short."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import SourceError
from geo.io import load_layers

from .common import ROOT, SAMPLE
from .test_cli import run


def _page_of(path: Path, name: str, kind: str) -> tuple[int, int]:
    """The number of the first ``kind`` ('leaf' …) page of table or index ``name``, and the page size."""
    con = sqlite3.connect(path)
    try:
        row = con.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno LIMIT 1", (name, kind)
        ).fetchone()
        (size,) = con.execute("PRAGMA page_size").fetchone()
    finally:
        con.close()
    assert row is not None, f"{name} has no {kind} page"
    return int(row[0]), int(size)


def damaged(tmp_path: Path, name: str, *, at: int = 1000, length: int = 1500) -> Path:
    """A copy of the sample whose first leaf page of ``name`` has ``length`` bytes
    overwritten from byte ``at`` of the page, as a bad sector or a cut copy leaves it."""
    out = tmp_path / "nanguan.gpkg"
    shutil.copyfile(SAMPLE, out)
    page, size = _page_of(out, name, "leaf")
    with out.open("r+b") as fh:
        fh.seek((page - 1) * size + at)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(length)))
    return out


@pytest.fixture(params=["roads", "sqlite_autoindex_gpkg_contents_1"], ids=["data page", "index page"])
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    # an index page is small: its damage starts near its header
    return damaged(tmp_path, request.param, at=1000 if request.param == "roads" else 8, length=1500)


def test_gdal_alone_reads_a_damaged_data_page_short(tmp_path: Path) -> None:
    """Why the check exists: without it the roads layer counts short and nobody is told."""
    path = damaged(tmp_path, "roads")
    read = len(pyogrio.read_dataframe(path, layer="roads", use_arrow=True))  # as the source reader reads
    assert read < 96


def test_the_core_refuses_a_damaged_geopackage(broken: Path) -> None:
    with pytest.raises(SourceError, match="the GeoPackage is damaged"):
        load_layers(broken)


@pytest.mark.parametrize("command", [["stats"], ["validate"], ["progress"]])
def test_the_command_line_refuses_it_in_one_line(broken: Path, command: list[str]) -> None:
    result = run(command[0], str(broken), *command[1:])
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("\n") == 1 and "is damaged" in result.stderr
    assert result.stdout == ""  # no figure at all
    zh = run("--lang", "zh", command[0], str(broken)) if command == ["stats"] else None
    if zh is not None:
        assert "文件已损坏" in zh.stderr and zh.returncode == 1


def test_an_import_from_a_damaged_geopackage_is_refused(broken: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.gpkg"
    shutil.copyfile(SAMPLE, target)
    before = target.read_bytes()
    result = run("import", str(broken), "--as", "roads", "--table", "roads", "--into", str(target), "--yes")
    assert result.returncode == 1 and "is damaged" in result.stderr
    assert target.read_bytes() == before


def test_a_file_repaired_in_place_is_read_again(tmp_path: Path) -> None:
    """The check is kept per version of the file: a restored file is not refused forever."""
    path = damaged(tmp_path, "roads")
    with pytest.raises(SourceError):
        load_layers(path)
    shutil.copyfile(SAMPLE, path)
    assert len(load_layers(path)["roads"]) == 96


def test_the_app_shows_no_figures_of_a_damaged_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = damaged(tmp_path, "roads")
    monkeypatch.setenv("NANGUAN_SOURCE", str(path))
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("文件已损坏" in e for e in errors), errors
    assert not at.dataframe  # no statistics table
    assert str(tmp_path) not in " ".join(errors)  # the server's folder is not named
