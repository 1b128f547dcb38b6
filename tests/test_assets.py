"""The map's files are served from the packages that hold them, with nothing written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from display.assets import LEAFLET_DIR, SCRIPT, AssetRoute, served_urls


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"next"})


def ask(path: str, method: str = "GET", headers: tuple[tuple[bytes, bytes], ...] = ()) -> tuple[int, dict, bytes]:
    """Status, headers and body the route answers a request with."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(AssetRoute(_not_found)(scope, receive, send))
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


@pytest.mark.parametrize(
    ("url", "file", "kind"),
    [
        (served_urls().js, LEAFLET_DIR / "leaflet.js", b"text/javascript; charset=utf-8"),
        (served_urls().css, LEAFLET_DIR / "leaflet.css", b"text/css; charset=utf-8"),
        (served_urls().images + "marker-icon.png", LEAFLET_DIR / "images" / "marker-icon.png", b"image/png"),
        ("/app/static/nanguan/map.js", SCRIPT, b"text/javascript; charset=utf-8"),
    ],
)
def test_each_file_is_served_as_the_package_holds_it(url: str, file, kind: bytes) -> None:
    status, headers, body = ask(url)
    assert (status, body, headers[b"content-type"]) == (200, file.read_bytes(), kind)
    assert headers[b"x-content-type-options"] == b"nosniff" and headers[b"content-length"] == str(len(body)).encode()
    again = ask(url, headers=((b"If-None-Match", headers[b"etag"]),))
    assert (again[0], again[2]) == (304, b"")
    assert ask(url, "HEAD")[0:3:2] == (200, b"")


@pytest.mark.parametrize(
    ("path", "method"),
    [("/app/static/leaflet/leaflet.js", "POST"), ("/app/static/nanguan/other.js", "GET"), ("/", "GET")],
)
def test_anything_else_goes_on_to_the_app(path: str, method: str) -> None:
    assert ask(path, method) == (404, {}, b"next")
