"""How much of a file the tool reads: refused early, with the limit in the message.

A file from outside may be large by accident or by design (a zip bomb, a GeoJSON of
millions of features, one outline of millions of vertices). Each check here runs before
the costly step it guards and names the limit and the setting that raises it:

- the file's size, before it is opened;
- an archive's uncompressed total and its expansion ratio, from the central directory
  before anything is extracted; extraction then streams with a running byte count, so a
  member whose header lies cannot unpack past the limit;
- the number of features, counted by GDAL without reading them (CSV: counted row by row,
  stopping past the limit), and the read itself capped at one feature past the limit;
- the vertices of each feature before GDAL reads the geometries, from what the file says
  of them: a Shapefile's index (.shx) gives each record's size, a GeoPackage's table the
  size of each geometry, a KML is scanned as a stream, and GDAL reads no GeoJSON feature
  larger than the vertex limit allows (``OGR_GEOJSON_MAX_OBJ_SIZE``, for the reading thread);
- the vertices of each feature again as soon as the geometries are read, before any is
  validated, repaired, reprojected or measured.
"""

from __future__ import annotations

import csv
import math
import re
import sqlite3
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from xml.parsers import expat

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from ._sniff import not_format
from .errors import SourceError

__all__ = [
    "Limits",
    "check_archive_size",
    "check_feature_count",
    "check_file_size",
    "check_gpkg_vertices",
    "check_kml",
    "check_shapefile",
    "check_source_file",
    "check_vertices",
    "copy_limited",
    "count_csv_rows",
    "geojson_object_mb",
]

_MB = 1e6
#: Bytes copied at a time when extracting.
_CHUNK = 1 << 20
#: GDAL's estimate of the memory a GeoJSON feature takes, bytes per vertex, with room for 3D,
#: pretty-printed text and properties (measured: 180 for 2D, 250 for 3D indented).
_GEOJSON_BYTES_PER_VERTEX = 300
#: Bytes each vertex takes at least in a Shapefile record (x, y) or a GeoPackage geometry.
_BYTES_PER_VERTEX = 16
#: Shapefile shape types with a point count after the bounding box (multipoints) or after
#: the part count (lines and polygons), and where that count is in the record's content.
_SHP_MULTIPOINTS = (8, 18, 28)
_SHP_PARTS = (3, 5, 13, 15, 23, 25, 31)
_KML_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Limits:
    """The most an import reads.

    Attributes
    ----------
    upload_mb : float
        Largest file, MB (10^6 bytes).
    unzipped_mb : float
        Largest uncompressed total of an archive, MB.
    zip_ratio : float
        Largest ratio of an archive's uncompressed total to its size on disk.
    features : int
        Most features in one file.
    vertices : int
        Most vertices (coordinate pairs) of one feature.
    """

    upload_mb: float = 200.0
    unzipped_mb: float = 500.0
    zip_ratio: float = 100.0
    features: int = 500_000
    vertices: int = 100_000


def check_file_size(path: Path, limits: Limits, *, shown: str) -> None:
    """Refuse a file above ``limits.upload_mb`` before it is opened."""
    size_mb = path.stat().st_size / _MB
    if size_mb > limits.upload_mb:
        raise SourceError("import.too_big", file=shown, size_mb=size_mb, limit_mb=limits.upload_mb)


def check_archive_size(members: list[zipfile.ZipInfo], packed_bytes: int, limits: Limits, *, shown: str) -> None:
    """Refuse an archive whose members, as its central directory declares them, unpack to
    more than ``limits.unzipped_mb`` or expand more than ``limits.zip_ratio`` times."""
    total = sum(m.file_size for m in members)
    if total / _MB > limits.unzipped_mb:
        raise SourceError("import.zip_too_big", file=shown, size_mb=total / _MB, limit_mb=limits.unzipped_mb)
    ratio = total / max(packed_bytes, 1)
    if ratio > limits.zip_ratio:
        raise SourceError("import.zip_ratio", file=shown, ratio=ratio, size_mb=total / _MB, limit=limits.zip_ratio)


def copy_limited(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, *, budget: int, shown: str) -> int:
    """Extract ``member`` to ``target`` in chunks, refusing it past ``budget`` bytes.

    Returns the bytes written. A member that turns out larger than its header says, or
    whose data is corrupt, is refused; nothing is held in memory beyond one chunk.
    """
    written = 0
    try:
        with archive.open(member) as src, target.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise SourceError("import.zip_too_big", file=shown, size_mb=written / _MB, limit_mb=budget / _MB)
                dst.write(chunk)
    except SourceError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError, OSError) as exc:
        # a damaged or encrypted member (RuntimeError), or one whose data ends early
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError("import.bad_zip", file=shown, reason=reason) from exc
    return written


def count_csv_rows(path: Path, encoding: str, limits: Limits, *, shown: str) -> None:
    """Count a CSV's records as it streams past, refusing it once they pass ``limits.features``.

    Only a count: the text is decoded and parsed again by the reader. Encoding and quoting
    problems are left to that reader, which reports them.
    """
    rows = -1  # the header
    try:
        with path.open(encoding=encoding, newline="") as fh:
            for record in csv.reader(fh):
                rows += bool(record)
                if rows > limits.features:
                    raise SourceError("import.too_many_features", file=shown, limit=limits.features)
    except (UnicodeDecodeError, csv.Error, LookupError):
        return


def check_feature_count(count: int, limits: Limits, *, shown: str) -> None:
    """Refuse ``count`` features above ``limits.features``."""
    if count > limits.features:
        raise SourceError("import.too_many_features", file=shown, limit=limits.features)


def check_vertices(geoms: np.ndarray, limits: Limits, *, shown: str) -> None:
    """Refuse the first feature with more than ``limits.vertices`` vertices (row numbers from 1)."""
    counts = shapely.get_num_coordinates(geoms)
    over = np.flatnonzero(counts > limits.vertices)
    if len(over):
        i = int(over[0])
        raise SourceError(
            "import.too_many_vertices", file=shown, feature=f"#{i + 1}", count=int(counts[i]), limit=limits.vertices
        )


def check_source_file(path: Path, limits: Limits) -> None:
    """Refuse a whole GeoPackage given as a source (the app's "use as source" upload) that
    is above ``limits.upload_mb`` or holds a table of more than ``limits.features`` features
    or a geometry of more than ``limits.vertices`` vertices, before any table is read. A file
    GDAL cannot open is left to the reader to report."""
    check_file_size(path, limits, shown=str(path))
    try:
        tables = [str(name) for name, _ in pyogrio.list_layers(path)]
        for table in tables:
            check_feature_count(int(pyogrio.read_info(path, layer=table)["features"]), limits, shown=str(path))
            check_gpkg_vertices(path, table, limits, shown=str(path))
    except (DataSourceError, DataLayerError):
        return


def geojson_object_mb(limits: Limits) -> int:
    """The largest GeoJSON feature GDAL is let read, MB of its own estimate: enough for a
    feature of ``limits.vertices`` vertices, refusing one of many more before it is parsed."""
    return max(1, math.ceil(limits.vertices * _GEOJSON_BYTES_PER_VERTEX / _MB))


def check_shapefile(shp: Path, limits: Limits, *, shown: str) -> None:
    """Refuse a Shapefile with more than ``limits.features`` records or a record of more than
    ``limits.vertices`` vertices, from its index (.shx) before GDAL reads a geometry.

    The index gives every record's size; only a record large enough to hold too many
    vertices has its point count read from the .shp. A damaged index is left to GDAL."""
    shx = shp.with_suffix(".shx")
    size = shx.stat().st_size
    if (size - 100) // 8 > limits.features:
        raise SourceError("import.too_many_features", file=shown, limit=limits.features)
    index = np.fromfile(shx, dtype=">i4", offset=100) if size > 100 else np.zeros(0, ">i4")
    records = index[: len(index) // 2 * 2].reshape(-1, 2).astype(np.int64) * 2  # 16-bit words to bytes
    most = (records[:, 1] - 40) // _BYTES_PER_VERTEX
    with shp.open("rb") as fh:
        for i in np.flatnonzero(most > limits.vertices):
            fh.seek(int(records[i, 0]) + 8)
            content = fh.read(48)
            if len(content) < 48:
                return
            kind = int.from_bytes(content[:4], "little")
            at = 36 if kind in _SHP_MULTIPOINTS else 40 if kind in _SHP_PARTS else None
            count = int.from_bytes(content[at : at + 4], "little") if at is not None else 1
            if count > limits.vertices:
                raise SourceError(
                    "import.too_many_vertices", file=shown, feature=f"#{i + 1}", count=count, limit=limits.vertices
                )


class _Blob:
    """A geometry's bytes, read a few at a time where the WKB's counts are (the whole may
    be many megabytes)."""

    def __init__(self, blob: sqlite3.Blob) -> None:
        self.blob = blob

    def unpack(self, fmt: str, at: int) -> tuple[int, ...]:
        self.blob.seek(at)
        data = self.blob.read(struct.calcsize(fmt))
        return struct.unpack(fmt, data)


def _wkb_vertices(wkb: _Blob, at: int) -> tuple[int, int]:
    """The vertices of the WKB geometry at ``at`` and where it ends, read from its counts
    without building it (ISO and extended WKB, 2D to 4D)."""
    (byte_order,) = wkb.unpack("B", at)
    order = "<" if byte_order == 1 else ">"
    (code,) = wkb.unpack(order + "I", at + 1)
    iso, kind = divmod(code & 0x0FFFFFFF, 1000)  # ISO: +1000 Z, +2000 M, +3000 ZM
    dims = 2 + (iso in (1, 3)) + (iso in (2, 3)) + bool(code & 0x80000000) + bool(code & 0x40000000)
    at += 9 if code & 0x20000000 else 5  # extended WKB may carry an SRID
    if kind == 1:
        return 1, at + 8 * dims
    if kind == 2:
        (n,) = wkb.unpack(order + "I", at)
        return n, at + 4 + 8 * dims * n
    if kind == 3:
        (rings,) = wkb.unpack(order + "I", at)
        at, total = at + 4, 0
        for _ in range(rings):
            (n,) = wkb.unpack(order + "I", at)
            total, at = total + n, at + 4 + 8 * dims * n
        return total, at
    if kind in (4, 5, 6, 7):
        (parts,) = wkb.unpack(order + "I", at)
        at, total = at + 4, 0
        for _ in range(parts):
            n, at = _wkb_vertices(wkb, at)
            total += n
        return total, at
    raise ValueError(f"WKB geometry type {code}")


def _gpkg_geometry_vertices(blob: sqlite3.Blob) -> int:
    """The vertices of a GeoPackage geometry (its header, then WKB); 0 when it is not one."""
    reader = _Blob(blob)
    try:
        magic, flags = reader.unpack("2s", 0)[0], reader.unpack("B", 3)[0]
        if magic != b"GP":
            return 0
        envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0x07, 0)
        return _wkb_vertices(reader, 8 + envelope)[0]
    except (struct.error, ValueError, RecursionError):
        return 0


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_gpkg_vertices(path: Path, table: str, limits: Limits, *, shown: str) -> None:
    """Refuse a GeoPackage table with a geometry of more than ``limits.vertices`` vertices
    before GDAL reads the table.

    SQLite knows each geometry's size without reading it; of one large enough to hold too
    many vertices only the counts in its WKB are read. A file SQLite cannot read is left to GDAL."""
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return
    try:
        con.execute("PRAGMA trusted_schema = OFF")  # no function of the file's views or triggers runs
        found = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()
        if found is None:
            return
        geom, tab = _identifier(str(found[0])), _identifier(table)
        large = con.execute(
            f"SELECT rowid FROM {tab} WHERE length({geom}) > ? ORDER BY rowid", (_BYTES_PER_VERTEX * limits.vertices,)
        ).fetchall()
        for (rowid,) in large:
            with con.blobopen(str(table), str(found[0]), rowid, readonly=True) as blob:
                count = _gpkg_geometry_vertices(blob)
            if count > limits.vertices:
                (before,) = con.execute(f"SELECT count(*) FROM {tab} WHERE rowid < ?", (rowid,)).fetchone()
                raise SourceError(
                    "import.too_many_vertices", file=shown, feature=f"#{before + 1}", count=count, limit=limits.vertices
                )
    except sqlite3.Error:
        return
    finally:
        con.close()


class _KMLScan:
    """Counts a KML's placemarks and each one's coordinate tuples as expat streams past.

    Nothing is kept: a placemark over the vertex limit is still counted to its end (for
    the message), then refused."""

    def __init__(self, limits: Limits, shown: str) -> None:
        self.limits, self.shown = limits, shown
        self.features = 0
        self.vertices = 0
        self.in_coordinates = False
        self.in_token = False

    def over(self) -> SourceError | None:
        """The error for the current placemark, when it holds too many vertices."""
        if self.vertices <= self.limits.vertices:
            return None
        return SourceError(
            "import.too_many_vertices",
            file=self.shown,
            feature=f"#{self.features}",
            count=self.vertices,
            limit=self.limits.vertices,
        )

    def start(self, name: str, _attrs: object) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "Placemark":
            self.features += 1
            self.vertices = 0
            if self.features > self.limits.features:
                raise SourceError("import.too_many_features", file=self.shown, limit=self.limits.features)
        elif local == "coordinates":
            self.in_coordinates, self.in_token = True, False

    def end(self, name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "coordinates":
            self.in_coordinates = False
        elif local == "Placemark" and (error := self.over()) is not None:
            raise error

    def text(self, data: str) -> None:
        if not self.in_coordinates or not data:
            return
        tokens = sum(1 for _ in _KML_TOKEN.finditer(data))
        if tokens and self.in_token and not data[0].isspace():
            tokens -= 1  # a tuple split between two pieces of text
        self.in_token = not data[-1].isspace()
        self.vertices += tokens


def check_kml(path: Path, limits: Limits, *, shown: str, format: str) -> None:
    """Refuse a KML with more than ``limits.features`` placemarks or one of more than
    ``limits.vertices`` coordinate tuples, scanning it as a stream before GDAL (which holds
    the whole document) reads it; nothing of it is kept. A DOCTYPE (KML has none; it would
    declare entities) is refused. XML expat cannot parse is left to GDAL, whose parser
    stops there too."""
    scan = _KMLScan(limits, shown)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text

    def doctype(*_: object) -> None:
        raise not_format("kml", format=format, shown=shown, start="'<!DOCTYPE'")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        if (error := scan.over()) is not None:  # cut off inside a placemark already too large
            raise error from None
