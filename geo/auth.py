"""Who is editing: a name from the intranet's reverse proxy, or a user list with password hashes.

Reading needs no login. Editing needs an identity, found one of two ways an intranet
provides: a trusted header set by the reverse proxy in front of the app (its name is the
``NANGUAN_AUTH_HEADER`` setting, off by default), believed only on a connection from one
of the ``NANGUAN_TRUSTED_PROXIES`` and only when it names one user once; or a ``[users]``
table in ``.streamlit/secrets.toml`` whose entries carry an Argon2 password hash
(``python -m geo hash-password`` makes one). Without either the app is read-only.

A password sign-in is guarded against guessing: every failure, per user name and per
client address, makes the next attempt wait (1 s, doubling, at most
``NANGUAN_SIGNIN_DELAY_MAX_S``), an unknown user name costs the same Argon2 check as a
known one (so names cannot be found by timing), and each attempt is a line of the
operation log. A sign-in holds for its session only while the same browser at the same
address uses it, and for ``NANGUAN_SIGNIN_MAX_AGE_H`` hours.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import SignInError
from .oplog import operation
from .settings import Network

__all__ = [
    "Client",
    "SignedIn",
    "Throttle",
    "User",
    "hash_password",
    "sign_in",
    "trusted",
    "user_from_header",
    "verify_password",
]

log = logging.getLogger(__name__)

#: Longest user name kept as a throttle key or written to the log, characters.
_NAME_CHARS = 100


@dataclass(frozen=True)
class User:
    """An identified editor: the login and the name recorded in the history."""

    login: str
    name: str


@dataclass(frozen=True)
class Client:
    """Where a request comes from: the address its connection came from, as the server saw
    it (empty when unknown), and the browser's ``User-Agent``."""

    address: str
    agent: str = ""


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``, to put in ``secrets.toml`` (never the password)."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return str(PasswordHasher().hash(password))


@functools.cache
def _dummy_hash() -> str:
    """A hash of a password nobody knows, checked for unknown users so they take as long."""
    return str(PasswordHasher().hash(secrets.token_urlsafe(24)))


def verify_password(users: Mapping[str, Mapping[str, str]], login: str, password: str) -> User | None:
    """The user when ``password`` matches ``login``'s stored hash, else None.

    ``users`` maps logins to ``{"name": …, "password_hash": …}``. An unknown login and a
    wrong password look the same to the caller, and take as long: an unknown login is
    checked against a hash of a random password.
    """
    dummy = _dummy_hash()
    entry = users.get(login.strip())
    stored = entry.get("password_hash") if entry else None
    try:
        PasswordHasher().verify(stored or dummy, password)
    except VerificationError:
        return None
    except InvalidHashError:
        log.error("the password hash of %r in secrets.toml is not an Argon2 hash", login.strip())
        return None
    if entry is None or not stored:
        return None
    return User(login.strip(), str(entry.get("name") or login.strip()))


class Throttle:
    """Failed sign-ins by key (a user name, a client address), shared by all sessions.

    After the n-th failure of a key in a row its next attempt must wait ``first_s *
    2**(n-1)`` seconds, at most ``max_s``; an attempt that comes sooner is refused without
    checking the password and without counting. A key's failures are forgotten once
    ``max_s`` more seconds have passed after its wait ended. Nothing sleeps, so other
    sessions are never held up. The counts are kept under a lock, and while an attempt's
    password is being checked its keys wait ``first_s`` too, so attempts sent in parallel
    cannot slip through one wait together.

    Parameters
    ----------
    first_s : float
        The wait after the first failure, seconds.
    max_s : float
        The longest wait, seconds.
    clock : callable
        Monotonic time in seconds (tests pass their own).
    max_keys : int
        Most keys remembered; beyond it the ones that failed longest ago are forgotten.
    """

    def __init__(
        self,
        *,
        first_s: float = 1.0,
        max_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.first_s, self.max_s, self.clock, self.max_keys = first_s, max(max_s, first_s), clock, max_keys
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures in a row, time of the last)
        self._checking: dict[str, int] = {}  # key -> attempts whose password is being checked
        self._lock = threading.Lock()

    def delay_s(self, failures: int) -> float:
        """The wait after ``failures`` failures in a row, seconds."""
        return 0.0 if failures <= 0 else min(self.max_s, self.first_s * 2.0 ** min(failures - 1, 64))

    def start(self, keys: Sequence[str]) -> float:
        """Begin an attempt for ``keys``: 0 when it may go on (end it with :meth:`failed` or
        :meth:`succeeded`), else the seconds still to wait (refused, nothing counted)."""
        with self._lock:
            now = self.clock()
            self._forget(now)
            wait_s = max((self._wait_s(key, now) for key in keys), default=0.0)
            if any(key in self._checking for key in keys):
                wait_s = max(wait_s, self.first_s)
            if wait_s > 0:
                return wait_s
            for key in keys:
                self._checking[key] = self._checking.get(key, 0) + 1
            return 0.0

    def failed(self, keys: Sequence[str]) -> None:
        """The attempt started for ``keys`` failed: each key waits longer."""
        with self._lock:
            now = self.clock()
            self._checked(keys)
            for key in keys:
                failures, _ = self._failures.get(key, (0, now))
                self._failures[key] = (failures + 1, now)
            if len(self._failures) > self.max_keys:
                oldest = sorted(self._failures, key=lambda k: self._failures[k][1])
                for key in oldest[: len(self._failures) - self.max_keys]:
                    del self._failures[key]

    def succeeded(self, keys: Sequence[str], *, forget: Sequence[str] = ()) -> None:
        """The attempt started for ``keys`` succeeded: the keys in ``forget`` (the user who
        signed in) lose their failures; the others keep theirs as they were."""
        with self._lock:
            self._checked(keys)
            for key in forget:
                self._failures.pop(key, None)

    def _checked(self, keys: Sequence[str]) -> None:
        for key in keys:
            left = self._checking.pop(key, 0) - 1
            if left > 0:
                self._checking[key] = left

    def _wait_s(self, key: str, now: float) -> float:
        failures, last = self._failures.get(key, (0, now))
        return max(0.0, last + self.delay_s(failures) - now)

    def _forget(self, now: float) -> None:
        stale = [k for k, (n, last) in self._failures.items() if now >= last + self.delay_s(n) + self.max_s]
        for key in stale:
            del self._failures[key]


def sign_in(
    users: Mapping[str, Mapping[str, str]], login: str, password: str, *, client: Client, throttle: Throttle
) -> User:
    """Check a password sign-in, throttled per user name and per client address, and log it.

    Parameters
    ----------
    users : mapping
        The ``[users]`` of ``secrets.toml`` (see :func:`verify_password`).
    login, password : str
        What the editor typed.
    client : Client
        Where the attempt comes from.
    throttle : Throttle
        The server's record of failed attempts.

    Returns
    -------
    User
        The editor signed in.

    Raises
    ------
    SignInError
        ``auth.throttled`` (with the seconds to wait) when the user name or the address
        failed too recently; ``auth.failed`` for a wrong user name or password. Either is
        a ``sign_in`` line of the operation log with ``result: error``.
    """
    name = login.strip()[:_NAME_CHARS]
    keys = (f"login:{name}", f"client:{client.address}")
    with operation("sign_in", who=name or None, client=client.address or None):
        wait_s = throttle.start(keys)
        if wait_s > 0:
            raise SignInError("auth.throttled", seconds=math.ceil(wait_s))
        user = None
        try:
            user = verify_password(users, login, password)
        finally:
            if user is None:
                throttle.failed(keys)
            else:
                throttle.succeeded(keys, forget=keys[:1])
        if user is None:
            raise SignInError("auth.failed")
        return user


def trusted(address: str, proxies: Sequence[Network]) -> bool:
    """Whether ``address`` is one of ``proxies`` (an unknown or unreadable address is not)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def user_from_header(values: Sequence[str], *, header: str, client: Client, proxies: Sequence[Network]) -> User | None:
    """The user the reverse proxy names in ``header``; None when the setting is off or the
    request carries no such header.

    Parameters
    ----------
    values : sequence of str
        Every value of ``header`` in the request, in order.
    header : str
        The ``NANGUAN_AUTH_HEADER`` setting; empty: off.
    client : Client
        Where the request comes from.
    proxies : sequence of Network
        The ``NANGUAN_TRUSTED_PROXIES``.

    Raises
    ------
    SignInError
        ``auth.header_untrusted`` when the header comes from an address that is not a
        trusted proxy (any client that reaches the app directly can send one);
        ``auth.header_repeated`` when it comes more than once or names several users (a
        proxy that adds its header instead of replacing it passes the client's on).
    """
    if not header or not any(v.strip() for v in values):
        return None
    if not trusted(client.address, proxies):
        raise SignInError("auth.header_untrusted", header=header, address=client.address or "?")
    if len(values) > 1 or "," in values[0]:
        raise SignInError("auth.header_repeated", header=header, count=len(values))
    name = values[0].strip()
    return User(name, name)


@dataclass(frozen=True)
class SignedIn:
    """A password sign-in held by one session: who, from which client, since when.

    Attributes
    ----------
    user : User
        The editor.
    client : Client
        The browser and address that signed in.
    at_s : float
        When, in seconds since the epoch.
    """

    user: User
    client: Client
    at_s: float

    def check(self, client: Client, *, now_s: float, max_age_h: float) -> None:
        """Raise :class:`SignInError` unless ``client`` is the one that signed in and the
        sign-in is younger than ``max_age_h`` hours: ``auth.moved`` when another browser
        or address presents the session (its id is all a second client needs to take it
        up), ``auth.expired`` when it is older."""
        if client != self.client:
            raise SignInError("auth.moved")
        if now_s - self.at_s > max_age_h * 3600:
            raise SignInError("auth.expired", hours=max_age_h)
