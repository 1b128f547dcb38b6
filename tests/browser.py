"""Running the app for real: a Streamlit server on a free loopback port, Debian's Chromium.

Used by the browser tests. The browser is the system's ``/usr/bin/chromium`` driven by
Playwright; no browser is downloaded. Where Chromium is absent on a developer's machine the
tests are skipped with that reason; on CI (``CI=true``) its absence is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .common import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or fail on CI) when Debian's Chromium is not installed."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready_when_served(
    proc: subprocess.Popen[bytes], url: str, log: list[str]
) -> tuple[threading.Event, threading.Thread]:
    """An event set when the server prints that it serves ``url`` (or stops), and the thread
    that keeps reading its output into ``log`` so the pipe never fills."""
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            log.append(line)
            if url in line:
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return ready, reader


def _wait_until_healthy(url: str, proc: subprocess.Popen[bytes], log: list[str], timeout_s: float = 120) -> None:
    """Wait for the health check to answer 200: the server prints its URL before it has
    read app.py for how to serve it, which takes a while on a busy machine."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
                assert r.status == 200, f"streamlit is not healthy: {r.status}"
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer: {''.join(log)}") from None
            time.sleep(0.5)


@contextmanager
def streamlit_server(*, root: Path = ROOT, **env: str) -> Iterator[str]:
    """``streamlit run app.py`` of the project at ``root`` (default this one) on a free
    loopback port with extra environment; yields its URL once the server says it serves it
    and answers its health check."""
    port = free_port()
    environ = {**os.environ, "NANGUAN_BASEMAP": "none", "PYTHONUNBUFFERED": "1", **env}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
    ]
    proc = subprocess.Popen(cmd, cwd=root, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    log: list[str] = []
    ready, reader = _ready_when_served(proc, url, log)
    try:
        served = ready.wait(timeout=120)
        if not served or proc.poll() is not None:
            raise RuntimeError(f"streamlit did not start: {''.join(log)}")
        _wait_until_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
