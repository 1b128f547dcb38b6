"""Who is editing: a name from the intranet's reverse proxy, or a user list with password hashes.

Reading needs no login. Editing needs an identity, found one of two ways an intranet
provides: a trusted header set by the reverse proxy in front of the app (its name is the
``NANGUAN_AUTH_HEADER`` setting, off by default; only set it when the proxy overwrites
that header on every request), or a ``[users]`` table in ``.streamlit/secrets.toml`` whose
entries carry an Argon2 password hash (``python -m geo hash-password`` makes one). Without
either the app is read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["User", "hash_password", "user_from_header", "verify_password"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    """An identified editor: the login and the name recorded in the history."""

    login: str
    name: str


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``, to put in ``secrets.toml`` (never the password)."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return str(PasswordHasher().hash(password))


def verify_password(users: Mapping[str, Mapping[str, str]], login: str, password: str) -> User | None:
    """The user when ``password`` matches ``login``'s stored hash, else None.

    ``users`` maps logins to ``{"name": …, "password_hash": …}``. An unknown login and a
    wrong password look the same to the caller.
    """
    entry = users.get(login.strip())
    if not entry or not entry.get("password_hash"):
        return None
    try:
        PasswordHasher().verify(entry["password_hash"], password)
    except (VerificationError, InvalidHashError):
        log.info("login refused for %s", login)
        return None
    return User(login.strip(), str(entry.get("name") or login.strip()))


def user_from_header(headers: Mapping[str, str], header: str) -> User | None:
    """The user the reverse proxy names in ``header``; None when off or absent."""
    if not header:
        return None
    wanted = header.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value.strip():
            return User(value.strip(), value.strip())
    return None
