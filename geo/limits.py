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
- the vertices of each feature, as soon as the geometries are read, before any is
  validated, repaired, reprojected or measured.
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from .errors import SourceError

__all__ = [
    "Limits",
    "check_archive_size",
    "check_feature_count",
    "check_file_size",
    "check_source_file",
    "check_vertices",
    "copy_limited",
    "count_csv_rows",
]

_MB = 1e6
#: Bytes copied at a time when extracting.
_CHUNK = 1 << 20


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
    is above ``limits.upload_mb`` or holds a table of more than ``limits.features`` features,
    before any table is read. A file GDAL cannot open is left to the reader to report."""
    check_file_size(path, limits, shown=str(path))
    try:
        tables = [str(name) for name, _ in pyogrio.list_layers(path)]
        for table in tables:
            check_feature_count(int(pyogrio.read_info(path, layer=table)["features"]), limits, shown=str(path))
    except (DataSourceError, DataLayerError):
        return
