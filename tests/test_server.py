"""Nothing from outside reaches the server: the app as ``streamlit run app.py`` serves it, asked
over HTTP and spoken to over its websocket as a crafted client would.

Every response says who may frame the page; the metrics endpoint is closed; a client's
``clear_cache`` leaves the other sessions' caches warm; the proxy's identity header gives
rights only from the proxy and only once; a second browser presenting a signed-in session
gets none of its rights; crafted widget values and a bug show one line, never a traceback.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.testing.v1 import AppTest

import ui.data
from geo.auth import hash_password

from .browser import streamlit_server
from .common import ROOT
from .hostile import shown
from .stclient import CLICK, Json, Tab

HEADER = "X-Remote-User"


@pytest.fixture(scope="module")
def secrets_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    path.write_text(f'[users.zhang]\nname = "张三"\npassword_hash = "{hash_password("zhang-pw")}"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ops_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops") / "ops.log"


@pytest.fixture(scope="module")
def served(secrets_file: Path, ops_log: Path) -> Iterator[str]:
    """The app behind a proxy on this machine (127.0.0.1), with a user list and the log."""
    with streamlit_server(
        NANGUAN_AUTH_HEADER=HEADER,
        NANGUAN_TRUSTED_PROXIES="127.0.0.1",
        NANGUAN_LOG_FILE=str(ops_log),
        STREAMLIT_SECRETS_FILES=str(secrets_file),
    ) as url:
        yield url


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[str]:
    """The app whose proxy is another machine, framed by an intranet portal, metrics on."""
    with streamlit_server(
        NANGUAN_AUTH_HEADER=HEADER,
        NANGUAN_TRUSTED_PROXIES="192.0.2.1",
        NANGUAN_FRAME_ANCESTORS="'self' https://portal.example",
        NANGUAN_METRICS="1",
    ) as url:
        yield url


def response(url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_every_response_lets_only_the_app_itself_frame_it(served: str) -> None:
    status, _, page = response(served + "/")
    script = re.search(rb'src="\./(static/js/[^"]+\.js)"', page)
    assert status == 200 and script is not None
    for path in ("/", "/_stcore/health", "/" + script.group(1).decode(), "/app/static/nanguan/map.js", "/no-such"):
        status, headers, _ = response(served + path)
        assert status in (200, 404), path
        assert headers.get("content-security-policy") == "frame-ancestors 'self'", path
        assert headers.get("x-frame-options") == "SAMEORIGIN", path


def test_an_intranet_portal_may_frame_the_app_once_it_is_named(elsewhere: str) -> None:
    _, headers, _ = response(elsewhere + "/")
    assert headers["content-security-policy"] == "frame-ancestors 'self' https://portal.example"
    assert "x-frame-options" not in headers  # it cannot name the portal, and would forbid it


def test_the_metrics_endpoint_is_closed_unless_switched_on(served: str, elsewhere: str) -> None:
    for path in ("/_stcore/metrics", "/_stcore/metrics?families=session_events"):
        status, headers, body = response(served + path)
        assert status == 404 and b"session" not in body and "frame-ancestors" in headers["content-security-policy"]
    status, _, body = response(elsewhere + "/_stcore/metrics")
    assert status == 200 and b"session" in body


def exports(log: Path) -> int:
    """How many files the app made: each is an ``export`` line, made once and then cached."""
    if not log.exists():
        return 0
    return sum(json.loads(line)["event"] == "export" for line in log.read_text(encoding="utf-8").splitlines())


def test_a_clients_clear_cache_leaves_the_other_sessions_caches_warm(served: str, ops_log: Path) -> None:
    with Tab(served, agent="planner") as planner, Tab(served, agent="visitor") as visitor:
        planner.run()
        made = exports(ops_log)
        assert made > 0  # the page made its export files, and the log says so
        planner.run()
        assert exports(ops_log) == made  # a rerun finds them in the cache
        visitor.run()
        for kind in ("clear_cache", "set_run_on_save", "load_git_info"):
            msg = BackMsg()
            setattr(msg, kind, True)
            visitor.send(msg)
        assert "ex_fmt" in visitor.run().keys()  # the visitor's session goes on: its messages were read
        planner.run()
        assert exports(ops_log) == made  # nothing was made again: the caches are as they were


def test_the_proxys_header_names_the_editor_but_not_when_sent_twice(served: str) -> None:
    with Tab(served, headers=[(HEADER, "zhang")]) as tab:
        run = tab.run()
    assert "edit_save" in run.keys() and "login_name" not in run.keys()
    for values in (["mallory", "zhang"], ["zhang", "mallory"], ["mallory, zhang"]):
        with Tab(served, headers=[(HEADER, v) for v in values]) as tab:
            run = tab.run()
        assert "edit_save" not in run.keys() and "login_name" in run.keys(), values
        assert any(f"请求头 {HEADER} 出现了 {len(values)} 次" in shown(t) for t in run.texts())


def test_a_header_from_anywhere_but_the_proxy_gives_no_rights(elsewhere: str) -> None:
    with Tab(elsewhere, headers=[(HEADER, "mallory")]) as tab:
        run = tab.run()
    assert "edit_save" not in run.keys()
    assert any("不是受信任的代理" in t for t in run.texts()) and not any("mallory" == t for t in run.texts())


def sign_in_form(tab: Tab, password: str) -> dict[str, object]:
    run = tab.run()
    return {
        run.widget_id("login_name"): "zhang",
        run.widget_id("login_password"): password,
        run.widget_id("FormSubmitter:login-登录"): CLICK,
    }


def test_a_second_browser_presenting_a_signed_in_session_gets_none_of_its_rights(served: str) -> None:
    with Tab(served, agent="the planner's browser") as planner:
        signed = planner.run(sign_in_form(planner, "zhang-pw"))
        assert "edit_save" in signed.keys() and "edit_save" in planner.run().keys()
        # the session's id is all another client needs to take the session up
        with Tab(served, agent="someone else's browser", session_id=signed.session_id) as other:
            taken = other.run()
    assert taken.session_id == signed.session_id  # the same session: its state came along
    assert "edit_save" not in taken.keys() and "login_name" in taken.keys()
    assert any("已退出登录" in t for t in taken.texts())


def test_crafted_widget_values_show_no_traceback(served: str) -> None:
    with Tab(served) as tab:
        first = tab.run()
        the_map, table = first.component_id("streamlit_folium.st_folium"), first.widget_id("conflicts_table")
        # values the page reads: a map report with a centre but no longitude, a conflict row that is not there
        run = tab.run(
            {
                the_map: Json('{"center": {"lat": 43.8}, "zoom": "x", "selected_layers": 5}'),
                table: '{"selection": {"rows": [-99999], "columns": []}}',
            }
        )
        assert "exception" not in run.kinds() and "ex_fmt" in run.keys()  # the whole page was drawn
        assert not [t for t in run.texts() if re.search(r"Traceback|Error\b|app\.py|错误", t)]
    with Tab(served) as tab:
        first = tab.run()
        # a value Streamlit itself cannot read (a selection as a component's JSON): one line
        run = tab.run({first.widget_id("conflicts_table"): Json('{"selection": {}}')})
    assert "exception" not in run.kinds()
    assert [t for t in run.texts() if "错误" in t or re.search(r"Traceback|Error\b|\.py\b", t)] == [
        next(t for t in run.texts() if t.startswith("程序内部错误，已记入服务器日志（编号 "))
    ]


def test_a_bug_shows_one_line_and_leaves_its_traceback_in_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("/srv/nanguan/secret-path 1/0")

    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setattr(ui.data, "find_conflicts", bug)  # a bug in what the page computes
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    [line] = [e.value for e in at.error]
    reference = re.fullmatch(r"程序内部错误，已记入服务器日志（编号 ([0-9a-f]{8})）", line)
    assert reference is not None, line
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "secret-path" in str(logged[0].exc_info[1])
    assert at.sidebar.selectbox(key="source").value  # the sidebar still drawn
    st.cache_data.clear()
