"""Two sessions of the app never see each other's data, a browser user opens only the
offered sources, and the temporary folders of ended sessions go."""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo._names import file_label, stored_name
from geo.sessions import PREFIX

from .common import ROOT, SAMPLE, lonlat, write_city
from .hostile import shown
from .untrusted import Listener, disguised, leaks, secret_file


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two different cities, each as the bytes of a GeoPackage, uploaded under one name."""
    folder = tmp_path_factory.mktemp("cities")
    return {
        "a": write_city(folder / "a.gpkg", roads=400, districts=5, targets=False).read_bytes(),
        "b": write_city(folder / "b.gpkg", roads=300, districts=4, targets=False).read_bytes(),
    }


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary directory, for the app, is ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    return tmp_path


def session() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


def open_upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Upload a GeoPackage and open it as the session's source."""
    at.file_uploader(key="upload").set_value((name, data, "application/geopackage+sqlite3")).run()
    assert at.selectbox(key="import_as").value == "source"
    return at.button(key="do_preview").click().run()


def roads_total(at: AppTest) -> int:
    return int(at.dataframe[0].value.iloc[-1]["道路数"])


def test_two_sessions_uploading_files_of_one_name_each_see_their_own(tmp_dir: Path, cities: dict[str, bytes]) -> None:
    first, second = session(), session()
    open_upload(first, "city.gpkg", cities["a"])
    open_upload(second, "city.gpkg", cities["b"])
    for _ in range(2):  # and again on the next rerun of each, after the other's
        assert not first.exception and not second.exception
        assert roads_total(first) == 400 and roads_total(second) == 300
        assert len(first.dataframe[0].value) == 5 + 2 and len(second.dataframe[0].value) == 4 + 2
        first.run()
        second.run()
    folders = {at.session_state["workdir"].path for at in (first, second)}
    assert len(folders) == 2 and all(f.parent == tmp_dir and f.name.startswith(PREFIX) for f in folders)
    # neither session is offered the other's file
    assert first.selectbox(key="source").options == second.selectbox(key="source").options == ["nanguan.gpkg"]
    # a session that ends takes its folder with it; the other keeps its own
    mine, theirs = first.session_state["workdir"].path, second.session_state["workdir"].path
    del first
    gc.collect()
    assert not mine.exists() and theirs.is_dir()
    assert roads_total(second.run()) == 300


@pytest.mark.parametrize(
    "crafted",
    [
        "../../../../etc/passwd",
        "data/../data/../../nanguan.gpkg",
        "OTHER",
        "file://OTHER",
        "postgresql://postgres@127.0.0.1:1/postgres?schema=public",
    ],
)
def test_a_crafted_source_is_refused(
    crafted: str, tmp_dir: Path, cities: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_dir / "other.gpkg"
    other.write_bytes(cities["a"])
    crafted = crafted.replace("OTHER", str(other))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["source"] = crafted
    at.run()
    assert not at.exception and roads_total(at) == 96  # a query parameter is not read
    assert Path(at.selectbox(key="source").value).resolve() == SAMPLE
    # a widget value put in the session's state by the request
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["source"] = crafted
    at.run()
    assert not at.exception and roads_total(at) == 96
    assert any("只能打开列表中的数据源" in w.value for w in at.sidebar.warning)
    assert Path(at.selectbox(key="source").value).resolve() == SAMPLE
    open_upload(at, "city.gpkg", cities["b"])  # the upload's working copy is of the offered source
    assert Path(at.session_state["working"]["base"]).resolve() == SAMPLE and roads_total(at) == 300


def test_an_upload_named_to_escape_its_folder_stays_in_it(tmp_dir: Path) -> None:
    at = session()
    for name in ("../../escape.geojson", "/etc/absolute.geojson"):
        at.file_uploader(key="upload").set_value((name, b"{}", "application/geo+json")).run()
        assert not at.exception
    saved = sorted(p.relative_to(tmp_dir) for p in tmp_dir.rglob("*") if p.is_file())
    folder = at.session_state["workdir"].path.relative_to(tmp_dir)
    names = ("../../escape.geojson", "/etc/absolute.geojson")
    assert saved == sorted(folder / "uploads" / stored_name(n) for n in names)
    assert all(p.name.startswith("upload-") and p.suffix == ".geojson" for p in saved)


def test_a_new_session_removes_folders_unused_for_longer_than_the_age(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def folder(name: str, hours: float) -> Path:
        path = tmp_dir / name
        (path / "uploads").mkdir(parents=True)
        then = time.time() - hours * 3600
        os.utime(path, (then, then))
        return path

    stale, fresh, other = folder(f"{PREFIX}stale", 3), folder(f"{PREFIX}fresh", 1), folder("other", 3)
    monkeypatch.setenv("NANGUAN_SESSION_MAX_AGE_H", "2")
    at = session()
    assert not at.exception
    assert not stale.exists() and fresh.exists() and other.exists()


# ----------------------------------------------------------------------------- files from outside

LONG_NAME = "南关区人民大街南段绿化带及周边棚户区改造项目征收范围" * 4 + "终稿.geojson"  # 114 characters


def preview(at: AppTest, name: str, data: bytes, layer: str) -> list[str]:
    """Upload ``data`` as ``name``, preview it as ``layer``; the import box's errors as shown."""
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    at.selectbox(key="import_as").set_value(layer).run()
    at.button(key="do_preview").click().run()
    assert not at.exception, at.exception
    return [shown(e.value) for e in at.sidebar.error]


def test_a_disguised_vrt_upload_is_refused_in_one_line(tmp_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The attack on the server's files and network, through the page: refused in one line
    naming the file as uploaded, with no byte of the secret, and the listener never asked."""
    folder = tmp_path_factory.mktemp("attack")
    secret = secret_file(folder)
    at = session()
    with Listener() as listener:
        for target in (f"CSV:{secret}", f"CSV:/vsicurl/{listener.url}/secrets.csv"):
            for ending, path in disguised(folder / target[-8:].replace("/", "_"), target).items():
                if ending == ".shp":
                    continue  # the page takes a Shapefile zipped (and refuses a .shp before any code runs)
                name = f"设施{ending}"
                errors = preview(at, name, path.read_bytes(), "facilities")
                assert len(errors) == 1 and "\n" not in errors[0], (name, errors)
                assert errors[0].startswith(name) and "文件内容不是" in errors[0], errors
                assert str(tmp_dir) not in errors[0] and not leaks(errors[0])
                page = " ".join(shown(str(e.value)) for e in (*at.sidebar.markdown, *at.markdown, *at.caption))
                assert not leaks(page)
                assert "preview" not in at.session_state
        assert listener.requests == []


def test_an_upload_of_any_name_is_read_and_named_as_sent(tmp_dir: Path) -> None:
    """A 114-character Chinese name (342 bytes, valid on Windows) and a Windows path with
    ``..`` (Streamlit itself refuses a NUL): the server keeps the file under a short name of
    its own; the page names it as sent, cut, and never shows the session's folder."""
    lon, lat = lonlat(0, 0)
    feature = {
        "type": "Feature",
        "properties": {"fac_id": "F1", "name": "泵站", "kind": "pump_station", "status": "existing"},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    good = json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False).encode()
    at = session()
    for name in (LONG_NAME, "..\\..\\设施 (1).geojson"):
        assert preview(at, name, good, "facilities") == []
        assert at.session_state["preview"][1] == file_label(name)
        errors = preview(at, name, b"{", "facilities")  # a broken one: the message names it
        assert len(errors) == 1 and errors[0].startswith(file_label(name)), errors
        assert str(tmp_dir) not in errors[0] and "nanguan-session-" not in errors[0]
    assert file_label(LONG_NAME) == LONG_NAME[:59] + "…" and file_label("..\\..\\设施 (1).geojson") == "设施 (1).geojson"
