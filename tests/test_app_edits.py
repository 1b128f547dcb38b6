"""Editing in the app: identity required, values checked, a stale save refused with a name."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.auth import hash_password
from geo.io import load_layers, read_history

from .common import ROOT, SAMPLE
from .hostile import shown
from .test_app import cards
from .test_pgedits import published, role
from .test_postgis import sql_rows

__all__ = ["published", "role"]  # the database fixtures, used here too

USERS = {
    "zhang": {"name": "张三", "password_hash": hash_password("zhang-pw")},
    "li": {"name": "李四", "password_hash": hash_password("li-pw")},
}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bureau.gpkg"
    path.write_bytes(SAMPLE.read_bytes())
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_SOURCE", str(path))
    return path


def session(users: dict[str, dict[str, str]] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if users is not None:
        at.secrets["users"] = users
    return at.run()


def sign_in(at: AppTest, login: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(login)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label in ("登录", "Sign in")).click()
    return at.run()


def choose(at: AppTest, layer: str, ids: list[str], field: str) -> AppTest:
    at.selectbox(key="edit_layer").set_value(layer).run()
    at.multiselect(key="edit_ids").set_value(ids).run()
    at.selectbox(key="edit_field").set_value(field).run()
    return at


def test_without_editors_the_app_is_read_only(work: Path) -> None:
    at = session()
    assert any("只读" in c.value for c in at.caption)
    assert "edit_save" not in {b.key for b in at.button}


def test_a_wrong_password_is_refused(work: Path) -> None:
    at = sign_in(session(USERS), "zhang", "guess")
    assert [e.value for e in at.error] == ["用户名或密码不正确"]
    assert "edit_save" not in {b.key for b in at.button}


def test_two_planners_editing_one_parcel(work: Path) -> None:
    first, second = sign_in(session(USERS), "zhang", "zhang-pw"), sign_in(session(USERS), "li", "li-pw")
    for at in (first, second):
        choose(at, "parcels", ["D05"], "status")
    first.selectbox(key="edit_value_code").set_value("resettled").run()
    second.selectbox(key="edit_value_code").set_value("expropriating").run()
    first.button(key="edit_save").click().run()
    assert not first.error and any("张三" in s.value for s in first.success)
    second.button(key="edit_save").click().run()
    assert len(second.error) == 1 and "张三" in second.error[0].value
    assert load_layers(work, layers=("parcels",))["parcels"].set_index("parcel_id").loc["D05", "status"] == "resettled"
    assert read_history(work)[["by", "id", "new"]].values.tolist() == [["张三", "D05", "resettled"]]


def test_a_refused_value_says_why_and_changes_nothing(work: Path) -> None:
    at = choose(sign_in(session(USERS), "zhang", "zhang-pw"), "parcels", ["D01"], "resettled")
    at.text_input(key="edit_value_text").input("500").run()
    before = work.read_bytes()
    at.button(key="edit_save").click().run()
    assert "回迁户数（500）超过户数（96）" in shown(at.error[0].value)  # in the page's language
    assert work.read_bytes() == before


def test_the_progress_panel_follows_an_edit(work: Path) -> None:
    at = choose(sign_in(session(USERS), "zhang", "zhang-pw"), "roads", ["R001"], "status")
    assert cards(at)["存量路网条段"][0] == "32 段"
    at.selectbox(key="edit_value_code").set_value("open").run()
    at.button(key="edit_save").click().run()
    assert cards(at)["存量路网条段"][0] == "33 段"
    assert any("张三" in s.value for s in at.success)
    history = next(d.value for d in at.dataframe if "change_id" in d.value.columns)
    assert history[["by", "layer", "id", "old", "new"]].values.tolist() == [
        ["张三", "roads", "R001", "under_construction", "open"]
    ]


@pytest.fixture
def bureau(schema_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from geo import transfer

    transfer.publish(str(SAMPLE), schema_url)
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_DB_URL", schema_url)
    return schema_url


def on_database(at: AppTest, url: str) -> AppTest:
    at.selectbox(key="source").set_value(url).run()
    assert not at.exception and not at.error
    return at


def test_editing_the_bureau_database_in_the_app(bureau: str) -> None:
    at = on_database(sign_in(session(USERS), "zhang", "zhang-pw"), bureau)
    choose(at, "roads", ["R001"], "status")
    assert cards(at)["存量路网条段"][0] == "32 段"
    at.selectbox(key="edit_value_code").set_value("open").run()
    at.button(key="edit_save").click().run()
    assert not at.error and any("张三" in s.value for s in at.success)
    assert cards(at)["存量路网条段"][0] == "33 段"  # measured in the database again
    assert load_layers(bureau, layers=("roads",))["roads"].set_index("seg_id").loc["R001", "status"] == "open"
    history = next(d.value for d in at.dataframe if "change_id" in d.value.columns)
    assert history[["by", "layer", "id", "old", "new"]].values.tolist()[0] == [
        "张三",
        "roads",
        "R001",
        "under_construction",
        "open",
    ]


def test_two_planners_editing_one_parcel_in_the_database(bureau: str) -> None:
    first = on_database(sign_in(session(USERS), "zhang", "zhang-pw"), bureau)
    second = on_database(sign_in(session(USERS), "li", "li-pw"), bureau)
    for at in (first, second):
        choose(at, "parcels", ["D05"], "status")
    first.selectbox(key="edit_value_code").set_value("resettled").run()
    second.selectbox(key="edit_value_code").set_value("expropriating").run()
    first.button(key="edit_save").click().run()
    second.button(key="edit_save").click().run()
    assert len(second.error) == 1 and "张三" in second.error[0].value
    assert (
        load_layers(bureau, layers=("parcels",))["parcels"].set_index("parcel_id").loc["D05", "status"] == "resettled"
    )
    edits = read_history(bureau)
    assert edits[edits["field"] != "(import)"][["by", "id", "new"]].values.tolist() == [["张三", "D05", "resettled"]]


def test_a_read_only_database_role_is_refused_in_one_line(
    published: str, role: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.engine import make_url

    from geo.postgis import parse_url

    name, password = role
    schema = parse_url(published).schema
    sql_rows(published, f"GRANT USAGE ON SCHEMA {schema} TO {name}")
    sql_rows(published, f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}")
    reader = make_url(published).set(username=name, password=password).render_as_string(hide_password=False)
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_DB_URL", reader)
    at = choose(on_database(sign_in(session(USERS), "zhang", "zhang-pw"), reader), "roads", ["R001"], "status")
    at.selectbox(key="edit_value_code").set_value("open").run()
    at.button(key="edit_save").click().run()
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert "当前数据库角色无权进行此修改" in message and "\n" not in message and password not in message
    assert load_layers(published, layers=("roads",))["roads"].set_index("seg_id").loc["R001", "status"] != "open"
