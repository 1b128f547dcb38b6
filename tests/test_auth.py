"""Who may edit: passwords throttled per user and per address, unknown users as slow as known
ones, the proxy's header believed only from the proxy and only once, sign-ins bound to
their browser and ageing out."""

from __future__ import annotations

import ipaddress
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.auth import Client, SignedIn, Throttle, User, hash_password, sign_in, user_from_header, verify_password
from geo.errors import SignInError, message
from geo.oplog import configure

USERS = {"zhang": {"name": "张三", "password_hash": hash_password("zhang-pw")}}
HERE = Client("10.1.1.1", "Firefox")
PROXY = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.9.0.0/16"))


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> Throttle:
    return Throttle(first_s=1.0, max_s=900.0, clock=clock)


def attempt(throttle: Throttle, password: str, *, login: str = "zhang", client: Client = HERE) -> User | str:
    """The user signed in, or the refusal's code and parameters."""
    try:
        return sign_in(USERS, login, password, client=client, throttle=throttle)
    except SignInError as exc:
        return f"{exc.code} {exc.params.get('seconds', '')}".strip()


def test_twenty_wrong_passwords_then_the_right_one_waits_for_the_delay(clock: Clock, throttle: Throttle) -> None:
    waits = []
    for _ in range(20):
        assert attempt(throttle, "guess") == "auth.failed"
        waits.append(throttle.delay_s(len(waits) + 1))
        clock.now += waits[-1]  # each guess comes as soon as it may
    assert waits[:5] == [1, 2, 4, 8, 16] and waits[-1] == 900  # doubling, capped
    clock.now -= 1  # the last wait has a second to run
    assert attempt(throttle, "zhang-pw") == "auth.throttled 1"
    assert message(SignInError("auth.throttled", seconds=1), "zhang") == "too many failed sign-ins: try again in 1 s"
    clock.now += 1
    assert attempt(throttle, "zhang-pw") == User("zhang", "张三")
    # the user's count starts afresh; the address keeps its 20 failures, and one more there waits the longest
    assert attempt(throttle, "guess", client=Client("10.3.3.3")) == "auth.failed"
    assert attempt(throttle, "guess", login="li") == "auth.failed"
    assert attempt(throttle, "guess", login="wang") == "auth.throttled 900"


def test_guesses_that_come_too_soon_are_refused_unchecked_and_do_not_lengthen_the_wait(
    clock: Clock, throttle: Throttle
) -> None:
    assert attempt(throttle, "guess") == "auth.failed"
    for _ in range(19):
        clock.now += 0.01
        assert attempt(throttle, "guess") == "auth.throttled 1"
    assert attempt(throttle, "zhang-pw") == "auth.throttled 1"  # the right one too, until the second is up
    clock.now += 1
    assert attempt(throttle, "zhang-pw") == User("zhang", "张三")


def test_failures_count_per_user_name_and_per_address(clock: Clock, throttle: Throttle) -> None:
    assert attempt(throttle, "guess", login="wang") == "auth.failed"
    # another name from the same address waits; so does the same name from another address
    assert attempt(throttle, "guess", login="li") == "auth.throttled 1"
    assert attempt(throttle, "guess", login="wang", client=Client("10.2.2.2")) == "auth.throttled 1"
    # someone else, elsewhere, is not held up
    assert attempt(throttle, "zhang-pw", client=Client("10.3.3.3")) == User("zhang", "张三")


def test_a_right_password_leaves_its_address_as_it_was(clock: Clock, throttle: Throttle) -> None:
    """Planners behind one office address sign in one after another without waiting."""
    for _ in range(5):
        assert attempt(throttle, "zhang-pw") == User("zhang", "张三")
    assert throttle.start(["client:10.1.1.1"]) == 0


def test_failures_are_forgotten_once_the_longest_wait_has_passed_after_theirs(clock: Clock) -> None:
    throttle = Throttle(first_s=1.0, max_s=60.0, clock=clock)
    for _ in range(3):
        assert attempt(throttle, "guess") == "auth.failed"
        clock.now += throttle.delay_s(3)
    assert attempt(throttle, "guess") == "auth.failed"  # the fourth: 8 s to wait
    clock.now += 8 + 59
    assert attempt(throttle, "guess") == "auth.failed"  # not yet forgotten: the fifth waits 16 s
    assert throttle.start(["login:zhang"]) == pytest.approx(16)
    clock.now += 16 + 60
    assert throttle.start(["login:zhang"]) == 0  # forgotten: this failure waits 1 s again
    throttle.failed(["login:zhang"])
    clock.now += 0.5
    assert throttle.start(["login:zhang"]) == pytest.approx(0.5)


def test_attempts_sent_together_get_through_one_at_a_time(throttle: Throttle) -> None:
    keys = ["login:zhang", "client:10.1.1.1"]
    assert throttle.start(keys) == 0
    assert throttle.start(keys) == 1  # while the first one's password is checked
    assert throttle.start(["login:li", "client:10.1.1.1"]) == 1
    throttle.succeeded(keys, forget=keys[:1])
    assert throttle.start(keys) == 0


def test_the_record_stays_bounded(clock: Clock) -> None:
    throttle = Throttle(clock=clock, max_keys=100)
    for i in range(1000):
        clock.now += 0.001
        throttle.failed([f"login:user{i}"])
    assert len(throttle._failures) == 100
    assert throttle.start(["login:user999"]) > 0 and throttle.start(["login:user0"]) == 0


def _median_s(login: str, password: str) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        assert verify_password(USERS, login, password) is None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_an_unknown_user_takes_as_long_as_a_wrong_password() -> None:
    verify_password(USERS, "zhang", "warm-up")
    wrong, unknown = _median_s("zhang", "guess"), _median_s("nobody", "guess")
    # Argon2 takes tens of milliseconds; skipping it would take microseconds
    assert unknown > 0.5 * wrong and wrong > 0.005, (wrong, unknown)
    assert verify_password({"li": {"name": "李四"}}, "li", "") is None  # no hash: no way in


@pytest.fixture
def ops_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "ops.log"
    configure(str(log), "INFO")
    yield log
    configure("", "INFO")


def test_every_attempt_is_a_line_of_the_operation_log(ops_log: Path, throttle: Throttle) -> None:
    attempt(throttle, "guess")
    attempt(throttle, "zhang-pw")
    lines = [json.loads(line) for line in ops_log.read_text(encoding="utf-8").splitlines()]
    assert [(x["event"], x["who"], x["client"], x["result"], x.get("error")) for x in lines] == [
        ("sign_in", "zhang", "10.1.1.1", "error", "wrong user name or password"),
        ("sign_in", "zhang", "10.1.1.1", "error", "too many failed sign-ins: try again in 1 s"),
    ]
    assert "zhang-pw" not in ops_log.read_text(encoding="utf-8") and "guess" not in ops_log.read_text()


def header(values: list[str], client: Client, name: str = "X-Remote-User") -> User | str | None:
    try:
        return user_from_header(values, header=name, client=client, proxies=PROXY)
    except SignInError as exc:
        return exc.code


@pytest.mark.parametrize(
    ("values", "address", "expected"),
    [
        (["zhang"], "127.0.0.1", User("zhang", "zhang")),
        (["zhang"], "10.9.3.4", User("zhang", "zhang")),  # within a trusted range
        ([], "127.0.0.1", None),
        ([" "], "127.0.0.1", None),
        (["mallory"], "10.1.1.1", "auth.header_untrusted"),  # a client that reached the app directly
        (["mallory"], "", "auth.header_untrusted"),  # an address not known is not a proxy's
        (["mallory", "zhang"], "127.0.0.1", "auth.header_repeated"),  # the client's and the proxy's
        (["zhang", "mallory"], "127.0.0.1", "auth.header_repeated"),
        (["mallory, zhang"], "127.0.0.1", "auth.header_repeated"),
    ],
)
def test_the_proxy_header_is_believed_only_from_a_proxy_naming_one_user(
    values: list[str], address: str, expected: object
) -> None:
    assert header(values, Client(address)) == expected


def test_the_header_is_ignored_while_the_setting_is_off() -> None:
    assert header(["mallory"], Client("10.1.1.1"), name="") is None
    assert "10.1.1.1" in message(SignInError("auth.header_untrusted", header="X-Remote-User", address="10.1.1.1"))


def test_a_sign_in_holds_for_its_browser_and_address_and_ages_out() -> None:
    signed = SignedIn(User("zhang", "张三"), HERE, at_s=0.0)
    signed.check(Client("10.1.1.1", "Firefox"), now_s=8 * 3600, max_age_h=8)
    for other in (Client("10.1.1.2", "Firefox"), Client("10.1.1.1", "curl")):
        with pytest.raises(SignInError) as moved:
            signed.check(other, now_s=60, max_age_h=8)
        assert moved.value.code == "auth.moved"
    with pytest.raises(SignInError) as old:
        signed.check(HERE, now_s=8 * 3600 + 1, max_age_h=8)
    assert message(old.value, "zh") == "登录已超过 8 小时，已退出，请重新登录"
