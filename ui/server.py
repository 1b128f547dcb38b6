"""How the page is served: what ``streamlit run app.py`` puts in front of it.

Streamlit 1.67 serves a page through Starlette and lets the page's file hand it an
``st.App`` with middleware of its own; ``app.py`` does, and ``streamlit run app.py`` finds
it there (Streamlit reads the file for an ``st.App`` before it serves). The middleware,
:class:`Guard`, closes what a browser has no business reaching:

- every HTTP response says which pages may show the app in a frame
  (``Content-Security-Policy: frame-ancestors`` from ``NANGUAN_FRAME_ANCESTORS``, default
  ``'self'``, and ``X-Frame-Options`` where that header can say the same), so another
  site cannot frame the app and lead a planner's clicks;
- ``/_stcore/metrics`` answers 404 unless ``NANGUAN_METRICS=1``: it tells anyone how many
  sessions there are and how large the caches;
- an upload (``PUT /_stcore/upload_file/<session>/<file>``) that would take what one
  session holds in memory past ``NANGUAN_SESSION_UPLOADS_MB``, or all sessions past
  ``NANGUAN_UPLOADS_MB``, is refused with 413 before its body is read: Streamlit keeps
  each upload in memory until its widget lets it go or the session ends, so files sent
  for no widget would otherwise pile up;
- the developer's messages a client can send over the websocket are dropped before
  Streamlit reads them: ``clear_cache`` (``AppSession._handle_clear_cache_request`` in
  ``streamlit/runtime/app_session.py`` empties every user's caches, so any visitor could
  make all the others wait, and would reset the sign-in throttle), ``set_run_on_save``
  and ``load_git_info``. The viewer's toolbar (``client.toolbarMode``) hides their
  buttons, but the protocol takes them from anyone.

:func:`report_bug` is how the page shows a bug it did not expect: the traceback goes to
the server's log under a reference, the page shows one line in its language with that
reference (``client.showErrorDetails = "none"`` keeps Streamlit's own error display to a
generic line for whatever escapes).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import streamlit as st
from google.protobuf.message import DecodeError
from starlette.middleware import Middleware
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.runtime import Runtime

from display.assets import AssetRoute
from display.labels import text
from geo.settings import Settings

__all__ = ["DEVELOPER_MESSAGES", "Guard", "framing_headers", "middleware", "report_bug"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Back messages only the developer's toolbar sends; a client's are dropped.
DEVELOPER_MESSAGES = frozenset({"clear_cache", "set_run_on_save", "load_git_info"})
_METRICS = re.compile(r"(?:/.*)?/_stcore/metrics/?")
_UPLOAD = re.compile(r"(?:/.*)?/_stcore/upload_file/(?P<session>[^/]+)/[^/]+/?")
_MB = 1024 * 1024
#: X-Frame-Options can say only "this origin" or "nobody".
_X_FRAME_OPTIONS = {"'self'": b"SAMEORIGIN", "'none'": b"DENY"}


def framing_headers(ancestors: str) -> list[tuple[bytes, bytes]]:
    """The response headers that let only ``ancestors`` (CSP sources) frame the page."""
    headers = [(b"content-security-policy", f"frame-ancestors {ancestors}".encode("latin-1", "replace"))]
    if ancestors in _X_FRAME_OPTIONS:
        headers.append((b"x-frame-options", _X_FRAME_OPTIONS[ancestors]))
    return headers


class Guard:
    """ASGI middleware in front of Streamlit's server (see the module's docstring).

    Parameters
    ----------
    app : ASGI application
        Streamlit's.
    frame_ancestors : str
        The CSP ``frame-ancestors`` sources.
    metrics : bool
        Whether ``/_stcore/metrics`` is served.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        frame_ancestors: str = "'self'",
        metrics: bool = False,
        session_uploads_mb: float = 250.0,
        uploads_mb: float = 1000.0,
    ) -> None:
        self.app = app
        self.headers = framing_headers(frame_ancestors)
        self.metrics = metrics
        self.session_upload_bytes = int(session_uploads_mb * _MB)
        self.upload_bytes = int(uploads_mb * _MB)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            if not self.metrics and _METRICS.fullmatch(path):
                await self._not_found(send)
                return
            upload = _UPLOAD.fullmatch(path) if scope.get("method") == "PUT" else None
            if upload is not None and self._over_budget(upload["session"], scope):
                await _discard_body(receive)  # read, never kept, so the client hears the answer
                await self._refuse(send, 413, b"Too much uploaded: the server holds no more for this session")
                return
            await self.app(scope, receive, self._framed(send))
        elif scope["type"] == "websocket":
            await self.app(scope, self._without_developer_messages(receive, scope.get("client")), send)
        else:
            await self.app(scope, receive, send)

    def _framed(self, send: Send) -> Send:
        async def framed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers]
            await send(message)

        return framed

    async def _not_found(self, send: Send) -> None:
        await self._refuse(send, 404, b"Not Found")

    async def _refuse(self, send: Send, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), *self.headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _over_budget(self, session: str, scope: Scope) -> bool:
        """Whether an upload of the request's declared size (the per-file limit when it
        declares none) would take the session's or the server's uploads past their budget."""
        declared = next((v for k, v in scope.get("headers", ()) if k.lower() == b"content-length"), None)
        try:
            size = int(declared) if declared is not None else None
        except ValueError:
            size = None
        if size is None:
            size = int(float(st.get_option("server.maxUploadSize")) * _MB)
        held = _held_uploads()
        mine, everyone = held.get(session, 0), sum(held.values())
        if mine + size > self.session_upload_bytes or everyone + size > self.upload_bytes:
            log.warning(
                "refused an upload of %d bytes for session %s: it holds %d, all sessions %d",
                size,
                session,
                mine,
                everyone,
            )
            return True
        return False

    @staticmethod
    def _without_developer_messages(receive: Receive, client: object) -> Receive:
        async def filtered() -> Message:
            while True:
                message = await receive()
                kind = _developer_message(message.get("bytes")) if message["type"] == "websocket.receive" else None
                if kind is None:
                    return message
                log.warning("dropped a %s message from %s: only the developer's toolbar sends it", kind, client)

        return filtered


def _developer_message(data: bytes | None) -> str | None:
    """The kind of back message ``data`` is, when it is one of :data:`DEVELOPER_MESSAGES`."""
    if not data:
        return None
    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except DecodeError:
        return None  # not a back message at all: Streamlit closes the connection for it
    kind = msg.WhichOneof("type")
    return kind if kind in DEVELOPER_MESSAGES else None


async def _discard_body(receive: Receive, *, most: int = 1 << 30) -> None:
    """Read a request's body to its end (at most ``most`` bytes) and drop it."""
    seen = 0
    while seen <= most:
        message = await receive()
        seen += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def _held_uploads() -> dict[str, int]:
    """Bytes of uploaded files Streamlit holds in memory, by session."""
    if not Runtime.exists():
        return {}
    storage = getattr(Runtime.instance().uploaded_file_mgr, "file_storage", {})
    return {sid: sum(len(rec.data) for rec in files.values()) for sid, files in list(storage.items())}


def middleware(settings: Settings) -> list[Middleware]:
    """The middleware ``app.py`` gives its ``st.App``: a :class:`Guard` set by ``settings``,
    then the map's files answered from the packages that hold them (:class:`AssetRoute`)."""
    return [
        Middleware(
            Guard,
            frame_ancestors=settings.frame_ancestors,
            metrics=settings.metrics,
            session_uploads_mb=settings.session_uploads_mb,
            uploads_mb=settings.uploads_mb,
        ),
        Middleware(AssetRoute),
    ]


def report_bug(exc: BaseException, lang: str) -> None:
    """Log ``exc`` with its traceback under a new reference; show one line with it, in ``lang``.

    What went wrong stays on the server: an exception's text can hold paths, values or
    SQL, and the reference is enough to find it in the log.
    """
    reference = secrets.token_hex(4)
    log.error("unexpected error, reference %s", reference, exc_info=exc)
    st.error(text("internal_error", lang, reference=reference))
