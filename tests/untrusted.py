"""Files an attacker would upload: GDAL virtual-layer files (OGR VRT) disguised as the formats
the tool reads, pointing at a secret on the server or at a URL inside its network.

A VRT whose ``SrcDataSource`` is ``CSV:/path`` turns every line of that file into a
feature; with ``CSV:/vsicurl/http://…`` the server fetches the URL. :func:`disguised`
writes one under every ending the importer reads; :class:`Listener` is a web server on
127.0.0.1 that records every request made to it.
"""

from __future__ import annotations

import http.server
import threading
import zipfile
from pathlib import Path
from types import TracebackType

#: What the secret file holds; no byte of it may appear in anything the tool shows or writes.
SECRET = 'db_password = "S3CRET-hunter2-Nanguan"\nuser = "renewal_admin"\n'
#: Pieces of the secret that tell it apart from anything else in an output.
SECRET_MARKS = ("S3CRET", "hunter2", "renewal_admin", "db_password")


def vrt(source: str) -> str:
    """A VRT layer of facilities read from ``source`` (``CSV:/etc/passwd`` …), each line a feature."""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="facilities">
    <SrcDataSource>{source}</SrcDataSource>
    <SrcSQL>SELECT *, 'F1' AS fac_id, 'school' AS kind, 'existing' AS status,
      125.33 AS x, 43.85 AS y FROM secrets</SrcSQL>
    <GeometryType>wkbPoint</GeometryType>
    <LayerSRS>EPSG:4326</LayerSRS>
    <GeometryField encoding="PointFromColumns" x="x" y="y"/>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


def secret_file(folder: Path) -> Path:
    """The server's secret, as ``.streamlit/secrets.toml`` would hold it (named so the VRT's layer is ``secrets``)."""
    path = folder / "secrets.toml"
    path.write_text(SECRET, encoding="utf-8")
    return path


def disguised(folder: Path, source: str, *, tag: str = "vrt") -> dict[str, Path]:
    """The VRT reading ``source`` under every ending the importer takes, and zipped as a
    Shapefile (the VRT as the .shp, with a .shx and .dbf beside it), by ending."""
    folder.mkdir(parents=True, exist_ok=True)
    text = vrt(source)
    out = {}
    for ext in (".geojson", ".json", ".kml", ".csv", ".gpkg"):
        path = folder / f"{tag}{ext}"
        path.write_text(text, encoding="utf-8")
        out[ext] = path
    for ext in (".shp", ".shx", ".dbf"):
        (folder / f"{tag}{ext}").write_text(text, encoding="utf-8")
    out[".shp"] = folder / f"{tag}.shp"
    archive = folder / f"{tag}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for ext in (".shp", ".shx", ".dbf"):
            z.writestr(f"{tag}{ext}", text)
    out[".zip"] = archive
    return out


class Listener:
    """An HTTP server on 127.0.0.1 that answers every request and records its path.

    Use as a context manager; :attr:`url` is its address, :attr:`requests` what it got."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = b"fac_id,name\nF9,fetched\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Listener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()


def leaks(text: str) -> list[str]:
    """The pieces of :data:`SECRET` found in ``text``."""
    return [mark for mark in SECRET_MARKS if mark in text]
