"""Each app session's temporary folder: removed with its owner, or by age."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from geo.sessions import PREFIX, SessionFolder, remove_stale_sessions


def test_a_session_folder_goes_with_its_owner(tmp_path: Path) -> None:
    folder = SessionFolder(base=tmp_path)
    path = folder.path
    (path / "uploads").mkdir()
    (path / "uploads" / "roads.geojson").write_text("{}", encoding="utf-8")
    assert path.parent == tmp_path and path.name.startswith(PREFIX)
    del folder
    gc.collect()
    assert not path.exists()


def _aged(path: Path, hours: float) -> Path:
    path.mkdir()
    (path / "roads.gpkg").write_bytes(b"x")
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_folders_unused_for_longer_than_the_age_are_removed(tmp_path: Path) -> None:
    old = _aged(tmp_path / f"{PREFIX}old", 25)
    fresh = _aged(tmp_path / f"{PREFIX}fresh", 23)
    other = _aged(tmp_path / "nanguan-export-1-old", 100)  # not a session's: left alone
    assert remove_stale_sessions(24, base=tmp_path) == [old]
    assert not old.exists() and fresh.exists() and other.exists()


def test_touching_a_folder_keeps_it(tmp_path: Path) -> None:
    folder = SessionFolder(base=tmp_path)
    then = time.time() - 48 * 3600
    os.utime(folder.path, (then, then))
    folder.touch()
    assert remove_stale_sessions(24, base=tmp_path) == [] and folder.path.is_dir()
    folder.remove()
    assert not folder.path.exists()
