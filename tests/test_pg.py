"""Database URLs as people type them (geo/_pg.py): a password holding ``@``, ``/``, ``:`` or
``?`` unescaped connects as written, and no piece of it shows in any message."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy.engine import make_url

from geo.errors import RenewalError
from geo.postgis import list_tables, mask_url, parse_url

PASSWORDS = ("p@ss@w0rd", "pa/ss?x@1", "a:b@c", "%40@")


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_as_typed_is_the_password(password: str) -> None:
    written = f"postgresql://editor:{password}@db.bureau:5432/gis?schema=renewal"
    db = parse_url(written)
    url = make_url(db.url)
    assert (url.username, url.host, url.port, url.database) == ("editor", "db.bureau", 5432, "gis")
    assert url.password == password.replace("%40", "@")
    assert db.masked == "postgresql://editor:***@db.bureau:5432/gis (schema renewal)"
    assert (
        mask_url(f"error: {written} failed")
        == "error: postgresql://editor:***@db.bureau:5432/gis?schema=renewal failed"
    )


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_failed_connection_shows_no_piece_of_the_password(password: str, free_port: int) -> None:
    """Before, ``p@ss@w0rd`` made the host ``ss@w0rd@127.0.0.1`` and the error named it."""
    with pytest.raises(RenewalError) as info:
        list_tables(parse_url(f"postgresql://editor:{password}@127.0.0.1:{free_port}/gis"))
    shown = str(info.value)
    assert f"postgresql://editor:***@127.0.0.1:{free_port}/gis" in shown
    for piece in {p for p in password.replace("%40", "@").split("@") + password.split("/") if len(p) > 1}:
        assert piece not in shown.replace(f"127.0.0.1:{free_port}", ""), (piece, shown)


def test_the_database_takes_the_password_as_typed(db_url: str) -> None:
    import psycopg
    from psycopg import sql

    role, password = f"t_{secrets.token_hex(4)}", "p@ss/w:rd?x@" + secrets.token_hex(4)
    admin = db_url.replace("postgresql+psycopg://", "postgresql://")
    server = make_url(admin)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    try:
        typed = f"postgresql://{role}:{password}@{server.host}:{server.port}/{server.database}?schema=public"
        assert isinstance(list_tables(parse_url(typed)), list)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
