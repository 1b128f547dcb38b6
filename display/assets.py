"""The map's JavaScript and CSS, taken from the XStatic-Leaflet package, never from a CDN.

Municipal intranets are often cut off from the internet, so the app serves Leaflet itself.
:class:`AssetRoute`, middleware in front of the app's server, answers Leaflet's files and
the project's ``map.js`` at ``/app/static/…`` straight from the installed packages, so
nothing is written anywhere (an installed app lives in site-packages, which is not the
app's to write). The standalone HTML export inlines them instead (:func:`inline_tags`).
The map needs Leaflet only: folium's other defaults (jQuery, Bootstrap, Font Awesome, awesome-markers) are not loaded.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xstatic.pkg.leaflet as xleaflet

__all__ = [
    "LEAFLET_DIR",
    "LEAFLET_VERSION",
    "SCRIPT",
    "AssetRoute",
    "AssetUrls",
    "inline_tags",
    "served_urls",
]

LEAFLET_DIR = Path(xleaflet.BASE_DIR)
LEAFLET_VERSION: str = xleaflet.VERSION
_FILES = ("leaflet.js", "leaflet.css")
#: The project's own map script, copied beside Leaflet (``static/nanguan/map.js``).
SCRIPT = Path(__file__).resolve().parent / "map.js"


@dataclass(frozen=True)
class AssetUrls:
    """Where the browser loads Leaflet from.

    Attributes
    ----------
    js, css : str
        URLs of ``leaflet.js`` and ``leaflet.css``.
    images : str
        URL of the folder of Leaflet's images, ending in ``/``.
    """

    js: str
    css: str
    images: str


def served_urls(prefix: str = "/app/static/leaflet") -> AssetUrls:
    """The URLs :class:`AssetRoute` serves Leaflet at."""
    return AssetUrls(f"{prefix}/leaflet.js", f"{prefix}/leaflet.css", f"{prefix}/images/")


def _served_files() -> dict[str, Path]:
    """Each file the map loads, by the path it is served at (``static/`` of the URLs)."""
    leaflet = [LEAFLET_DIR / name for name in _FILES] + sorted((LEAFLET_DIR / "images").glob("*.png"))
    served = {f"leaflet/{src.relative_to(LEAFLET_DIR).as_posix()}": src for src in leaflet}
    return {**served, "nanguan/map.js": SCRIPT}


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TYPES = {".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8", ".png": b"image/png"}


class AssetRoute:
    """ASGI middleware answering ``GET``/``HEAD`` of the map's files at :func:`served_urls`
    from the packages that hold them; every other request goes on to ``app``.

    The files are read once, when the server starts. Each answer carries an ``ETag`` (a
    revalidating browser gets 304) and ``no-cache``, so a new ``map.js`` is seen at once.

    Parameters
    ----------
    app : ASGI application
        Streamlit's (or the next middleware).
    prefix : str
        The URL path the files are served under.
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "/app/static") -> None:
        self.app = app
        self.files: dict[str, tuple[bytes, bytes, bytes]] = {}
        for served, src in _served_files().items():
            body = src.read_bytes()
            etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'.encode("ascii")
            self.files[f"{prefix}/{served}"] = (body, _TYPES[src.suffix], etag)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.files.get(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        body, kind, etag = found
        fresh = any(k.lower() == b"if-none-match" and etag in v for k, v in scope.get("headers", ()))
        headers = [
            (b"content-type", kind),
            (b"etag", etag),
            (b"cache-control", b"no-cache"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if fresh:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _css_with_inline_images() -> str:
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = (LEAFLET_DIR / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def inline_tags() -> str:
    """``<style>`` and ``<script>`` tags holding Leaflet, for a page that works with no server."""
    js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    return f"<style>{_css_with_inline_images()}</style>\n<script>{js}</script>"
