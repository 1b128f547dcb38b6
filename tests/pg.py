"""The PostGIS server the database tests run against.

``.ci/run`` starts a throw-away cluster (``.ci/pgcluster``) and exports its URL as
``NANGUAN_TEST_DB_URL``. Without it (a plain ``python -m pytest`` on a laptop) the database
tests skip with the reason; on CI (``CI=true``) a missing server is a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest

ENV = "NANGUAN_TEST_DB_URL"


def server_url() -> str:
    """The test server's URL; skips (laptop) or fails (CI) without one."""
    url = os.environ.get(ENV, "")
    if not url:
        message = f'no PostGIS server: set {ENV} (eval "$(.ci/pgcluster start DIR)" starts one)'
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def db_url() -> str:
    """The test database URL, without a schema."""
    return server_url()


@pytest.fixture
def schema_url(db_url: str) -> Iterator[str]:
    """A URL naming a fresh schema of its own, dropped after the test."""
    import psycopg
    from psycopg import sql

    name = f"t_{secrets.token_hex(5)}"
    yield f"{db_url}?schema={name}"
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: a stopped server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
