"""Uploads a session holds are bounded: files sent for no widget cannot take the server's memory.

Streamlit keeps every uploaded file in memory until its widget lets it go or the session
ends. A client can send files for no widget at all, straight to the upload endpoint; the
app's guard refuses an upload that would take one session past ``NANGUAN_SESSION_UPLOADS_MB``
or all sessions past ``NANGUAN_UPLOADS_MB``, before its body is read.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from .browser import streamlit_server
from .stclient import Tab

MB = 1024 * 1024


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with streamlit_server(NANGUAN_SESSION_UPLOADS_MB="3.5", NANGUAN_UPLOADS_MB="5") as url:
        yield url


class Uploader:
    """Sends files to a session's upload endpoint as the page's file widget does."""

    def __init__(self, url: str, session_id: str) -> None:
        self.url, self.session_id = url, session_id
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{url}/_stcore/health", timeout=60).read()  # which sets the XSRF cookie, as for the page

    def put(self, size: int) -> int:
        """Upload ``size`` bytes as a new file; the HTTP status."""
        token = next((c.value for c in self.jar if c.name == "_streamlit_xsrf"), "")
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.geojson"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.url}/_stcore/upload_file/{self.session_id}/{uuid.uuid4().hex}",
            data=body,
            method="PUT",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": token},
        )
        try:
            with self.opener.open(request, timeout=60) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return int(e.code)


def test_one_session_holds_at_most_its_budget_and_all_at_most_theirs(served: str) -> None:
    with Tab(served) as first, Tab(served) as second:
        a = Uploader(served, first.run().session_id)
        assert [a.put(MB) for _ in range(4)] == [204, 204, 204, 413]  # 3 MB held; a fourth is past 3.5
        b = Uploader(served, second.run().session_id)
        assert [b.put(MB), b.put(MB)] == [204, 413]  # 4 MB held by both; a fifth is past the server's 5
        assert a.put(MB) == 413  # and the first session's budget holds still
