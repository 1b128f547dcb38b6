"""The floor: read every layer, reproject to EPSG:4551, sum unclipped lengths and areas.

``python -m bench.floor CITY.gpkg`` prints the layer totals. Nothing else happens, so no
statistics command can be faster than this by much; the benchmark compares against it.
"""

from __future__ import annotations

import sys

import pyogrio


def main(path: str) -> int:
    for name in ("districts", "roads", "pipes", "parcels", "greenbelt", "facilities"):
        gdf = pyogrio.read_dataframe(path, layer=name, use_arrow=True).to_crs("EPSG:4551")
        print(name, len(gdf), float(gdf.length.sum()), float(gdf.area.sum()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
