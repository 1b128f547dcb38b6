"""The sign-in panel on the page: guessing is slowed for the whole server, every attempt is
in the operation log, and the panel shows one line saying when to try again."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.oplog import configure

from .test_app_edits import USERS, session, sign_in

WRONG = "用户名或密码不正确"
WAIT = re.compile(r"登录失败次数过多，请在 (\d+) 秒后再试")


@pytest.fixture
def ops_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    log = tmp_path / "ops.log"
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_LOG_FILE", str(log))
    monkeypatch.setenv("NANGUAN_SIGNIN_DELAY_MAX_S", "4")  # the longest wait, so the test is short
    yield log
    configure("", "INFO")


def attempt(at: AppTest, password: str) -> str | None:
    """The one line the panel shows for a sign-in; None when it let the editor in."""
    sign_in(at, "zhang", password)
    assert not at.exception
    errors = [e.value for e in at.error]
    if not errors:
        assert "edit_save" in {b.key for b in at.button}
        return None
    assert len(errors) == 1 and "edit_save" not in {b.key for b in at.button}
    return errors[0]


def test_twenty_wrong_passwords_then_the_right_one_waits_for_the_delay(ops_log: Path) -> None:
    at = session(USERS)
    shown = [attempt(at, f"guess-{i}") for i in range(20)]
    assert shown[0] == WRONG and all(s == WRONG or WAIT.fullmatch(s or "") for s in shown)
    assert sum(s != WRONG for s in shown) > 0  # guesses that came too soon were refused unchecked
    # the right password just after a wrong one: refused, with the seconds still to wait
    while attempt(at, "guess") != WRONG:
        pass
    refused = attempt(at, "zhang-pw")
    wait = WAIT.fullmatch(refused or "")
    assert wait is not None, refused
    # another tab does not escape the wait: the record is the server's
    other = session(USERS)
    assert WAIT.fullmatch(attempt(other, "zhang-pw") or "")
    time.sleep(int(wait.group(1)))
    assert attempt(other, "zhang-pw") is None
    lines = [json.loads(line) for line in ops_log.read_text(encoding="utf-8").splitlines()]
    signs = [(x["who"], x["result"], x.get("error", "")[:18]) for x in lines if x["event"] == "sign_in"]
    assert len(signs) >= 24 and signs[-1] == ("zhang", "ok", "")
    assert {s[2] for s in signs[:-1]} == {"wrong user name or", "too many failed si"}
    assert "zhang-pw" not in ops_log.read_text(encoding="utf-8")
