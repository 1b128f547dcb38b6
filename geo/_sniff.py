"""What a file holds, judged by its first bytes before any reader opens it.

GDAL chooses a driver by content, so a file's name says nothing about what reads it: a
virtual-layer file (OGR VRT XML) named ``道路.geojson`` would be read as VRT. Each reader
here opens only files that start the way its format starts; anything else is refused in
one line saying what the file starts with. :mod:`geo._gdal` keeps the other drivers away
in any case; this check names the problem and keeps each reader to its own format.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import SourceError

__all__ = ["check_content", "expected_drivers", "not_format", "start_of"]

#: Bytes read to judge a file: enough for an XML prolog with a long comment.
HEAD_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"
_SQLITE = b"SQLite format 3\x00"
_SHP_CODE = b"\x00\x00\x27\x0a"  # the file code 9994, big-endian, that opens every .shp and .shx
_XML_SKIPPED = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_XML_NAME = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")

#: What a file of each format starts with, as the English message says it.
_EXPECTED = {
    "geojson": "a GeoJSON file starts with '{'",
    "gpkg": "a GeoPackage starts with 'SQLite format 3'",
    "shp": "a .shp starts with the Shapefile file code 9994",
    "kml": "a KML file is XML whose root element is <kml>",
    "csv": "a CSV file is plain text, not markup",
}
#: The GDAL drivers that may have opened a file of each format.
_DRIVERS = {"geojson": ("GeoJSON",), "gpkg": ("GPKG",), "shp": ("ESRI Shapefile",), "kml": ("LIBKML", "KML")}


def expected_drivers(kind: str) -> tuple[str, ...]:
    """The GDAL drivers that may read a file of ``kind`` (``geojson``, ``gpkg``, ``shp``, ``kml``)."""
    return _DRIVERS[kind]


def _start(head: bytes) -> str:
    """The first few characters of ``head`` as a message may quote them: at most 24 of its
    first line, printable ASCII as it is and anything else as ``\\xNN``."""
    text = head.removeprefix(_BOM).lstrip()[:24].split(b"\n")[0].rstrip()
    return "'" + "".join(chr(b) if 32 <= b < 127 and b != 39 else f"\\x{b:02x}" for b in text) + "'"


def _text(head: bytes) -> bytes:
    """The head as UTF-8 bytes when it is UTF-16 with a byte-order mark (XML allows it)."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[2 : len(head) - len(head) % 2].decode(codec, errors="replace").encode()
    return head.removeprefix(_BOM)


def _is_kml(head: bytes) -> bool:
    """Whether the XML's first element is ``kml`` (any namespace prefix), with no DOCTYPE
    before it (KML has none; one would bring entity declarations)."""
    text, at = _text(head), 0
    while (skipped := _XML_SKIPPED.match(text, at)) is not None:
        at = skipped.end()
    name = _XML_NAME.match(text, at)
    return name is not None and name.group(2).lower() == b"kml"


def _fits(kind: str, head: bytes) -> bool:
    if kind == "geojson":
        return head.removeprefix(_BOM).lstrip()[:1] == b"{"
    if kind == "gpkg":
        return head.startswith(_SQLITE)
    if kind == "shp":
        return head.startswith(_SHP_CODE) and len(head) >= 100
    if kind == "kml":
        return _is_kml(head)
    return _text(head).lstrip()[:1] != b"<"


def check_content(path: Path, kind: str, *, format: str, shown: str) -> None:
    """Refuse ``path`` unless it starts as a file of ``kind`` does.

    Parameters
    ----------
    path : Path
        The file.
    kind : str
        ``geojson``, ``gpkg``, ``shp``, ``kml`` or ``csv``.
    format : str
        The format's name in messages (``GeoJSON``).
    shown : str
        The file as messages name it.

    Raises
    ------
    SourceError
        Code ``import.not_format``, quoting how the file starts.
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not _fits(kind, head):
        raise not_format(kind, format=format, shown=shown, start=_start(head))


def not_format(kind: str, *, format: str, shown: str, start: str) -> SourceError:
    """The error for a file that does not hold ``kind`` (``import.not_format``)."""
    return SourceError("import.not_format", file=shown, format=format, start=start, expected=_EXPECTED[kind])


def start_of(path: Path) -> str:
    """How ``path`` starts, as :func:`not_format` quotes it."""
    with path.open("rb") as fh:
        return _start(fh.read(64))
