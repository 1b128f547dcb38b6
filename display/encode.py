"""Compact geometry for the browser: coordinates quantised to 1e-6 degree, delta-encoded.

The map sends each layer's geometry as a few ASCII strings instead of GeoJSON. Every
coordinate (lon/lat, degrees) is rounded to an integer number of micro-degrees (at most
0.056 m of error at Changchun's latitude), each vertex is stored as its difference from
the vertex before it in the layer, and the integers are written as variable-length
characters, five bits each (the scheme of Google's encoded polylines: zigzag sign and a
continuation bit, but written with the URL-safe base64 alphabet, so that no character
needs escaping in JSON, HTML or a template). The browser decodes them with
``display/map.js``.

A layer's geometry becomes four strings:

``coords``
    the deltas, x then y for each vertex, of every vertex of every feature in order;
    rings are not closed (the closing vertex is implied).
``parts``
    per feature, how many parts it has (1 for a simple geometry);
``rings``
    per part of a polygon layer, how many rings it has (exterior first, then holes);
``sizes``
    per ring or line, how many vertices it has (absent for points: one each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["ALPHABET", "SCALE", "EncodedGeometry", "decode_geometry", "decode_ints", "encode_geometry", "encode_ints"]

#: Integer units per degree: coordinates travel as micro-degrees.
SCALE = 1_000_000
#: The 64 characters a 6-bit group (5 bits and a continuation bit) is written as.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TABLE = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_INDEX = {c: i for i, c in enumerate(ALPHABET.encode("ascii"))}
_CHUNK_BITS = 5


def encode_ints(values: NDArray[np.integer] | list[int]) -> str:
    """Signed integers as variable-length text (5 bits a character, see :data:`ALPHABET`).

    Parameters
    ----------
    values : array of int
        Integers in [-2**62, 2**62).

    Returns
    -------
    str
        Characters of :data:`ALPHABET`.
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size == 0:
        return ""
    zig = ((v << 1) ^ (v >> 63)).astype(np.uint64)
    width = max(1, -(-int(zig.max()).bit_length() // _CHUNK_BITS))
    chunks = np.empty((v.size, width), dtype=np.uint8)
    rest = zig.copy()
    count = np.ones(v.size, dtype=np.int64)
    for k in range(width):
        chunks[:, k] = (rest & np.uint64(31)).astype(np.uint8)
        rest >>= np.uint64(_CHUNK_BITS)
        if k + 1 < width:
            count += rest > 0
    used = np.arange(width)[None, :] < count[:, None]
    more = np.arange(width)[None, :] < (count - 1)[:, None]
    groups = chunks + np.where(more, 32, 0).astype(np.uint8)
    return _TABLE[groups[used]].tobytes().decode("ascii")


def decode_ints(encoded: str) -> NDArray[np.int64]:
    """The integers :func:`encode_ints` wrote (the reference the browser's decoder follows)."""
    out: list[int] = []
    value = shift = 0
    for ch in encoded.encode("ascii"):
        b = _INDEX[ch]
        value |= (b & 31) << shift
        shift += _CHUNK_BITS
        if b < 32:
            out.append((value >> 1) ^ -(value & 1))
            value = shift = 0
    return np.array(out, dtype=np.int64)


@dataclass(frozen=True)
class EncodedGeometry:
    """One layer's geometry as the browser receives it (see the module docstring)."""

    coords: str
    parts: str
    rings: str
    sizes: str

    def as_dict(self) -> dict[str, str]:
        """The four strings by name, for the map's JSON."""
        return {"coords": self.coords, "parts": self.parts, "rings": self.rings, "sizes": self.sizes}


def encode_geometry(geoms: NDArray[np.object_], family: str) -> EncodedGeometry:
    """Encode lon/lat geometries of one family.

    Parameters
    ----------
    geoms : array of shapely geometries
        In EPSG:4326 (degrees), single or multi geometries of ``family``; none empty.
    family : {"point", "line", "polygon"}
        The layer's geometry family.

    Returns
    -------
    EncodedGeometry
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    n_parts = np.bincount(part_of, minlength=len(geoms))
    rings_str = sizes_str = ""
    if family in ("point", "line"):
        lines = parts
    else:
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        rings_str = encode_ints(np.bincount(ring_of, minlength=len(parts)))
        lines = rings
    xy = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    if family == "polygon":
        # Drop each ring's closing vertex: the browser closes rings itself.
        last = np.cumsum(counts) - 1
        keep = np.ones(len(xy), dtype=bool)
        keep[last] = False
        xy, counts = xy[keep], counts - 1
    if family != "point":
        sizes_str = encode_ints(counts)
    q = np.round(xy * SCALE).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return EncodedGeometry(encode_ints(deltas.ravel()), encode_ints(n_parts), rings_str, sizes_str)


def decode_geometry(enc: EncodedGeometry, family: str) -> list[shapely.Geometry]:
    """The geometries :func:`encode_geometry` encoded, with quantised coordinates.

    Parameters
    ----------
    enc : EncodedGeometry
    family : {"point", "line", "polygon"}

    Returns
    -------
    list of shapely geometries
        One per feature, multi-part where the feature had several parts.
    """
    xy = np.cumsum(decode_ints(enc.coords).reshape(-1, 2), axis=0) / SCALE
    n_parts = decode_ints(enc.parts)
    sizes = decode_ints(enc.sizes) if family != "point" else np.ones(len(xy), dtype=np.int64)
    n_rings = decode_ints(enc.rings) if family == "polygon" else np.ones(len(sizes), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    ring_starts = np.concatenate([[0], np.cumsum(n_rings)])
    pieces = []
    for p in range(len(n_rings)):
        rings = [xy[starts[r] : starts[r + 1]] for r in range(ring_starts[p], ring_starts[p + 1])]
        if family == "point":
            pieces.append(shapely.Point(rings[0][0]))
        elif family == "line":
            pieces.append(shapely.LineString(rings[0]))
        else:
            pieces.append(shapely.Polygon(rings[0], rings[1:]))
    out: list[shapely.Geometry] = []
    first = 0
    multi = {"point": shapely.MultiPoint, "line": shapely.MultiLineString, "polygon": shapely.MultiPolygon}[family]
    for n in n_parts:
        chunk = pieces[first : first + n]
        out.append(chunk[0] if n == 1 else multi(chunk))
        first += n
    return out
