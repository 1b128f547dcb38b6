"""Server memory under uploads that no widget uses, with the app's upload budget and without.

``python -m bench.uploads [--files 10] [--mb 100]`` starts ``streamlit run app.py`` twice on
free loopback ports: as configured (``NANGUAN_SESSION_UPLOADS_MB`` 250, ``NANGUAN_UPLOADS_MB``
1000) and with both budgets lifted (the server as it was before them). For each, one
session sends ``--files`` files of ``--mb`` MB straight to the upload endpoint, for no
widget, as a crafted client can; it prints the server's resident memory (RSS, from
``/proc``) before, after the uploads and after the session closed, and how many uploads
were taken.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tests.browser import streamlit_server
from tests.stclient import Tab
from tests.test_upload_budget import MB, Uploader


def _server_rss_mb(port: str) -> float:
    """RSS of the streamlit process serving ``port``, MB."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        if b"streamlit" in b" ".join(cmd) and port.encode() in cmd:
            kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            return kb / 1024
    raise RuntimeError(f"no streamlit process on port {port}")


def measure(files: int, mb: int, **env: str) -> tuple[float, float, float, int]:
    with streamlit_server(**env) as url:
        port = url.rsplit(":", 1)[1]
        with Tab(url) as tab:
            up = Uploader(url, tab.run().session_id)
            before = _server_rss_mb(port)
            taken = sum(up.put(mb * MB) == 204 for _ in range(files))
            after = _server_rss_mb(port)
        time.sleep(5)  # the session ends with its websocket; Streamlit drops its files then
        closed = _server_rss_mb(port)
    return before, after, closed, taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("NANGUAN_BASEMAP", "none")
    print("| server | taken | RSS before (MB) | after the uploads | after the session |\n|---|---:|---:|---:|---:|")
    for label, env in (
        ("with the budgets (defaults)", {}),
        ("budgets lifted", {"NANGUAN_SESSION_UPLOADS_MB": "1e6", "NANGUAN_UPLOADS_MB": "1e6"}),
    ):
        before, after, closed, taken = measure(args.files, args.mb, **env)
        print(f"| {label} | {taken} of {args.files} | {before:.0f} | {after:.0f} | {closed:.0f} |")


if __name__ == "__main__":
    main()
