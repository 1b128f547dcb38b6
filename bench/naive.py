"""The naive way: ``geopandas.overlay`` of each layer with the districts, then ``groupby``.

``python -m bench.naive CITY.gpkg OUT.csv`` writes the same table as
``python -m geo stats CITY.gpkg --format csv`` (same columns, same OUTSIDE and TOTAL rows),
computed the way a notebook would: overlay every layer with every district, measure the
pieces, group by district; points by a spatial join. The benchmark times it and checks
that both tables agree to 1e-6 relative.
"""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.stats import OUTSIDE, TOTAL, stats_columns
from layers import CATALOGUE

METRIC = "EPSG:4551"
MEASURED = {"roads": ("km", 1000.0), "pipes": ("km", 1000.0), "parcels": ("ha", 1e4), "greenbelt": ("ha", 1e4)}
BREAKDOWN = {"roads": "status", "pipes": "utility", "parcels": "kind", "facilities": "kind"}


def measured_layer(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, name: str) -> pd.DataFrame:
    unit, div = MEASURED[name]
    spec = CATALOGUE[name]
    gdf = gdf.assign(_fid=np.arange(len(gdf)))
    gdf["_whole"] = gdf.length if unit == "km" else gdf.area
    pieces = gpd.overlay(gdf, districts[["code", "geometry"]], how="intersection", keep_geom_type=True)
    pieces["_part"] = pieces.length if unit == "km" else pieces.area
    inside = pieces.groupby("_fid")["_part"].sum().reindex(gdf["_fid"], fill_value=0.0).to_numpy()
    outside = gdf.assign(code=OUTSIDE, _part=gdf["_whole"].to_numpy() - inside)
    outside = outside[outside["_part"].abs() > 1e-9 * np.maximum(outside["_whole"], 1.0)]
    allparts = pd.concat([pieces, outside], ignore_index=True)
    best = allparts.sort_values(["_fid", "_part"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("_fid")
    cols = {
        f"{name}_count": best.groupby("code").size(),
        f"{name}_{unit}": allparts.groupby("code")["_part"].sum() / div,
    }
    if name == "parcels":
        cols["households"] = best.groupby("code")["households"].sum()
        cols["resettled"] = best.groupby("code")["resettled"].sum()
    field = BREAKDOWN.get(name)
    if field:
        for code in spec.field(field).codes:
            sel = allparts[allparts[field] == code]
            cols[f"{name}_{unit}_{code}"] = sel.groupby("code")["_part"].sum() / div
    return pd.DataFrame(cols)


def points_layer(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    joined = gpd.sjoin(gdf, districts[["code", "geometry"]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    joined["code"] = joined["code"].fillna(OUTSIDE)
    cols = {"facilities_count": joined.groupby("code").size()}
    for code in CATALOGUE["facilities"].field("kind").codes:
        cols[f"facilities_{code}"] = joined[joined["kind"] == code].groupby("code").size()
    return pd.DataFrame(cols)


def main(path: str, out: str) -> int:
    layers = {
        name: gpd.read_file(path, layer=name, use_arrow=True).to_crs(METRIC)
        for name in ("districts", "roads", "pipes", "parcels", "greenbelt", "facilities")
    }
    districts = layers["districts"]
    parts = [measured_layer(layers[n], districts, n) for n in MEASURED]
    parts.append(points_layer(layers["facilities"], districts))
    table = pd.concat(parts, axis=1)
    columns = [c for c in stats_columns() if c not in ("district_code", "district_name")]
    table = table.reindex(columns=columns).fillna(0)
    order = [*districts["code"], OUTSIDE] if OUTSIDE in table.index else list(districts["code"])
    table = table.reindex(order, fill_value=0)
    table.loc[TOTAL] = table.sum()
    names = dict(zip(districts["code"], districts["name"], strict=True)) | {OUTSIDE: "区外", TOTAL: "合计"}
    table.insert(0, "district_name", [names[c] for c in table.index])
    table.insert(0, "district_code", table.index)
    table.to_csv(out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
