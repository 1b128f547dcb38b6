"""Dates within reason: a year typed 0202 for 2020, or 1920, never reaches a history, and a
history that holds one (written by another tool) is refused on every path that reads it."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.edits import edit_features
from geo.errors import RenewalError, SourceError
from geo.io import read_history

from .common import ROOT, SAMPLE
from .hostile import shown
from .test_cli import run


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "nanguan.gpkg"
    shutil.copyfile(SAMPLE, path)
    return path


def _changes(path: Path) -> int:
    return len(read_history(path))


@pytest.mark.parametrize("day", ["0202-01-01", "1920-05-04", f"{dt.date.today().year + 2}-01-01"])
def test_an_edit_dated_outside_the_span_is_refused_and_changes_nothing(work: Path, day: str) -> None:
    before, content = _changes(work), work.read_bytes()
    result = run("edit", str(work), "roads", "R001", "status=open", "--by", "张三", "--date", day)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert day in result.stderr and "roads R001" in result.stderr and "outside" in result.stderr
    zh = run("--lang", "zh", "edit", str(work), "roads", "R001", "status=open", "--by", "张三", "--date", day)
    assert "年份是否写错" in zh.stderr
    assert _changes(work) == before and work.read_bytes() == content


def test_the_span_is_a_setting_and_its_edges_are_inside(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit_features(work, "roads", ["R001"], {"status": "open"}, by="张三", date=dt.date(1949, 1, 1))
    with pytest.raises(RenewalError, match="1948-12-31"):
        edit_features(work, "roads", ["R001"], {"status": "planned"}, by="张三", date=dt.date(1948, 12, 31))
    monkeypatch.setenv("NANGUAN_DATE_MIN", "1900-01-01")
    edit_features(work, "roads", ["R001"], {"status": "planned"}, by="张三", date=dt.date(1920, 5, 4))
    assert read_history(work)["date"].tolist()[-2:] == ["1949-01-01", "1920-05-04"]


def crafted(work: Path, day: str) -> int:
    """Give the source a change dated ``day`` as another tool would write it; its id."""
    edit_features(work, "roads", ["R002"], {"status": "open"}, by="张三", date=dt.date(2020, 6, 1))
    con = sqlite3.connect(work)
    try:
        (change,) = con.execute("SELECT max(change_id) FROM change_history").fetchone()
        con.execute("UPDATE change_history SET date = ? WHERE change_id = ?", (day, change))
        con.commit()
    finally:
        con.close()
    return int(change)


@pytest.mark.parametrize("day", ["0202-01-01", "1920-01-01", "2020-13-45"])
def test_a_history_holding_such_a_date_is_refused_where_it_is_read(work: Path, day: str) -> None:
    change = crafted(work, day)
    with pytest.raises(SourceError, match=f"change #{change} \\(roads R002\\) is dated '{day}'"):
        read_history(work)
    for args in (("history", str(work)), ("undo", str(work), str(change), "--by", "李四")):
        result = run(*args)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert f"#{change}" in result.stderr and day in result.stderr


def test_the_app_loads_a_source_with_such_a_history_and_says_so(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crafted(work, "0202-01-01")
    monkeypatch.setenv("NANGUAN_SOURCE", str(work))
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.dataframe, "the statistics are still shown"
    warnings = " ".join(shown(w.value) for w in at.warning)
    assert "0202-01-01" in warnings and "修改记录不予使用" in warnings
    assert not at.get("arrow_line_chart")  # no series since year 202
