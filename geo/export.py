"""Writing layers and tables for the municipal GIS and for people.

Every writer returns bytes or writes a file atomically: a failed export leaves what was
there untouched.
"""

from __future__ import annotations

import io
import logging

import geopandas as gpd
import pandas as pd
import pyogrio

from .crs import parse_crs

__all__ = ["csv_bytes", "geojson_bytes"]

log = logging.getLogger(__name__)


def geojson_bytes(gdf: gpd.GeoDataFrame, *, layer: str, crs: str = "EPSG:4326") -> bytes:
    """A layer as GeoJSON.

    In EPSG:4326 the file follows RFC 7946: lon/lat, counter-clockwise exterior rings, no
    ``crs`` member, 7 decimals (about 1 cm). In any other CRS (EPSG:4490 for GIS that want
    CGCS2000) it is the older GeoJSON with a ``crs`` member naming it.
    """
    target = parse_crs(crs)
    out = gdf.to_crs(target)
    rfc = target.to_epsg() == 4326
    options = {"RFC7946": "YES" if rfc else "NO", "COORDINATE_PRECISION": 7, "WRITE_NAME": "NO"}
    buf = io.BytesIO()
    pyogrio.write_dataframe(out, buf, layer=layer, driver="GeoJSON", layer_options=options)
    log.info("GeoJSON of %s: %d features in %s", layer, len(out), target.name)
    return buf.getvalue()


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as CSV in UTF-8 with a byte-order mark, so Excel shows the Chinese."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
