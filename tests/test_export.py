"""Exports read back by GDAL's ogrinfo and by our importer: every format × CRS × encoding."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.errors import SourceError
from geo.export import (
    attribute_table,
    csv_bytes,
    export_name,
    geojson_bytes,
    gpkg_bytes,
    layers_bytes,
    shapefile_zip_bytes,
    xlsx_bytes,
)
from geo.importer import prepare_layer, read_foreign
from layers import CATALOGUE

from .common import frame, hline, square
from .gdal import feature_count, ogrinfo

pytestmark = pytest.mark.gdal

CRSS = ["EPSG:4326", "EPSG:4490", "EPSG:4551", "EPSG:4530"]


def metric_length(gdf: gpd.GeoDataFrame) -> float:
    return float(gdf.to_crs(4551).length.sum())


def test_geojson_follows_rfc_7946(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = json.loads(geojson_bytes(sample["parcels"], layer="parcels"))
    assert "crs" not in data and "name" not in data
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw
    lon, lat = ring[0]
    assert 125 < lon < 126 and 43 < lat < 44
    assert max(len(str(v).split(".")[1]) for v in (lon, lat)) <= 7
    assert data["features"][0]["properties"]["name"] == "珲春街棚户区"


def test_clockwise_input_comes_out_counter_clockwise() -> None:
    cw = shapely.Polygon(list(square(0, 0, 100).exterior.coords)[::-1])
    assert not cw.exterior.is_ccw
    data = json.loads(geojson_bytes(frame("parcels", [cw]), layer="parcels"))
    assert shapely.LinearRing(data["features"][0]["geometry"]["coordinates"][0]).is_ccw


@pytest.mark.parametrize("crs", CRSS)
def test_geojson_round_trip(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, crs: str) -> None:
    path = tmp_path / "roads.geojson"
    path.write_bytes(geojson_bytes(sample["roads"], layer="roads", crs=crs))
    summary = ogrinfo("-so", "-al", str(path))
    assert feature_count(summary) == 96
    if crs != "EPSG:4326":
        assert json.loads(path.read_bytes())["crs"]["properties"]["name"].endswith(crs.split(":")[1])
    back = prepare_layer(read_foreign(path), "roads").gdf
    assert back.crs.to_epsg() == int(crs.split(":")[1])
    assert metric_length(back) == pytest.approx(38_400, abs=0.5)
    assert back["name"].tolist() == sample["roads"]["name"].tolist()


@pytest.mark.parametrize("crs", CRSS)
def test_geopackage_round_trip(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, crs: str) -> None:
    path = tmp_path / "all.gpkg"
    path.write_bytes(gpkg_bytes(sample, crs=crs))
    listing = ogrinfo("-so", str(path))
    for name in sample:
        assert name in listing
    summary = ogrinfo("-so", str(path), "pipes")
    assert feature_count(summary) == 12 and f'ID["EPSG",{crs.split(":")[1]}]' in summary
    back = read_foreign(path, table="pipes")
    assert metric_length(back) == pytest.approx(15_500, abs=0.01)


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_shapefile_round_trip(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, crs: str, encoding: str) -> None:
    path = tmp_path / "parcels.zip"
    path.write_bytes(shapefile_zip_bytes({"parcels": sample["parcels"]}, crs=crs, encoding=encoding))
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == [f"parcels.{e}" for e in ("cpg", "dbf", "prj", "shp", "shx")]
        assert z.read("parcels.cpg").decode() == {"UTF-8": "UTF-8", "GBK": "936"}[encoding]
        dbf = z.read("parcels.dbf")
    assert "珲春街棚户区".encode(encoding.lower()) in dbf
    listing = ogrinfo("-al", "-q", f"/vsizip/{path}/parcels.shp")
    assert "name (String) = 珲春街棚户区" in listing
    back = prepare_layer(read_foreign(path), "parcels").gdf
    assert back["name"].tolist() == sample["parcels"]["name"].tolist()
    assert back["resettled"].sum() == 278
    assert back.to_crs(4551).area.sum() == pytest.approx(sample["parcels"].to_crs(4551).area.sum(), rel=1e-9)


def test_gbk_refuses_text_it_cannot_hold(tmp_path: Path) -> None:
    gdf = frame("roads", [shapely.LineString([(447700, 4857400), (447800, 4857400)])], name=["路 🚧"])
    with pytest.raises(SourceError, match="cannot be written in GBK"):
        shapefile_zip_bytes({"roads": gdf}, encoding="GBK")


def test_csv_and_xlsx_tables(sample: dict[str, gpd.GeoDataFrame]) -> None:
    table = attribute_table(sample["roads"], "roads")
    assert table["length_m"].sum() == pytest.approx(38_400, abs=0.5)
    data = csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["name"].iloc[0] == "甲一路（1段）" and back["wkt"].iloc[0].startswith("LINESTRING (125.35 43.792")
    book = openpyxl.load_workbook(
        io.BytesIO(xlsx_bytes({"roads": attribute_table(sample["roads"], "roads", geometry="lonlat")}))
    )
    sheet = book["roads"]
    assert [c.value for c in sheet[1]] == [
        "seg_id",
        "name",
        "road_class",
        "status",
        "project",
        "condition",
        "surveyed",
        "length_m",
        "lon",
        "lat",
    ]
    assert sheet["B2"].value == "甲一路（1段）" and sheet.max_row == 97


def test_file_names_carry_layer_crs_and_date() -> None:
    day = dt.date(2020, 1, 8)
    assert export_name("roads", "geojson", "EPSG:4326", day) == "roads_EPSG4326_20200108.geojson"
    assert export_name("parcels", "shp", "EPSG:4551", day) == "parcels_EPSG4551_20200108.zip"
    assert export_name("stats", "xlsx", None, day) == "stats_20200108.xlsx"


def test_tables_are_named_for_the_lon_lat_they_hold() -> None:
    assert export_name("roads", "xlsx", "EPSG:4551", dt.date(2020, 1, 8)) == "roads_EPSG4326_20200108.xlsx"


def _values(gdf: gpd.GeoDataFrame, layer: str) -> list[list[object]]:
    """The catalogue fields of a layer, row by row, with missing values as None."""
    table = pd.DataFrame(gdf[list(CATALOGUE[layer].field_names)]).astype(object)
    return table.where(table.notna(), None).to_numpy().tolist()


def _geometry_matches(back: gpd.GeoDataFrame, orig: gpd.GeoDataFrame, layer: str) -> None:
    spec = CATALOGUE[layer]
    a, b = back.to_crs(4551).reset_index(drop=True), orig.to_crs(4551).reset_index(drop=True)
    if spec.geometry == "line":
        assert a.length.to_numpy() == pytest.approx(b.length.to_numpy(), abs=0.05)
    elif spec.geometry == "polygon":
        # Coordinates rounded to 7 decimals (about 1 cm) move each edge by at most 1 cm.
        assert (np.abs(a.area - b.area).to_numpy() <= 0.01 * b.length.to_numpy()).all()
    else:
        assert a.distance(b).max() < 0.05


PLAN_LAYERS = ["rivers", "monitoring_points", "areas", "roads"]


@pytest.mark.parametrize("layer", PLAN_LAYERS)
@pytest.mark.parametrize(
    ("fmt", "encoding"), [("geojson", "UTF-8"), ("gpkg", "UTF-8"), ("shp", "UTF-8"), ("shp", "GBK")]
)
def test_plan_layers_round_trip_through_gis_formats(
    sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, layer: str, fmt: str, encoding: str
) -> None:
    orig = sample[layer]
    path = tmp_path / f"{layer}.{ {'shp': 'zip'}.get(fmt, fmt) }"
    path.write_bytes(layers_bytes({layer: orig}, fmt, crs="EPSG:4551", encoding=encoding))
    source = f"/vsizip/{path}/{layer}.shp" if fmt == "shp" else str(path)
    summary = ogrinfo("-so", "-al", source)
    assert feature_count(summary) == len(orig)
    if fmt != "geojson":  # GeoJSON has no field types; GDAL guesses dates from the text
        for f in CATALOGUE[layer].fields:
            assert f"{f.name}: String" in summary or f.dtype != "str"
    back = prepare_layer(read_foreign(path), layer).gdf
    assert _values(back, layer) == _values(orig, layer)
    _geometry_matches(back, orig, layer)


@pytest.mark.parametrize("layer", PLAN_LAYERS)
def test_plan_layers_as_csv_and_xlsx_tables(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path, layer: str) -> None:
    orig = sample[layer]
    path = tmp_path / f"{layer}.csv"
    path.write_bytes(layers_bytes({layer: orig}, "csv"))
    back = prepare_layer(read_foreign(path, from_crs="EPSG:4326"), layer).gdf
    assert _values(back, layer) == _values(orig, layer)
    _geometry_matches(back, orig, layer)
    book = tmp_path / "all.xlsx"
    book.write_bytes(layers_bytes({layer: orig}, "xlsx"))
    assert feature_count(ogrinfo("-so", str(book), layer)) == len(orig)
    sheet = openpyxl.load_workbook(book)[layer]
    header = [c.value for c in sheet[1]]
    assert header[: len(CATALOGUE[layer].field_names)] == list(CATALOGUE[layer].field_names)
    rows = [[c.value for c in row][: len(header) - 2] for row in sheet.iter_rows(min_row=2)]
    fields = len(CATALOGUE[layer].field_names)
    assert [r[:fields] for r in rows] == _values(orig, layer)


HOSTILE = ['=HYPERLINK("http://x","点击")', "+86 431", "-1", "@SUM(A1)", "\t=1", "\r=1", "甲一路"]
#: What a spreadsheet must show for each of HOSTILE: the text, never a formula's result.
SHOWN = ['\'=HYPERLINK("http://x","点击")', "'+86 431", "'-1", "'@SUM(A1)", "'\t=1", "'\r=1", "甲一路"]


@pytest.fixture
def hostile_roads() -> gpd.GeoDataFrame:
    n = len(HOSTILE)
    return frame("roads", [hline(0, 100 * i, 1000) for i in range(n)], name=HOSTILE)


def test_csv_cells_never_start_a_formula(hostile_roads: gpd.GeoDataFrame) -> None:
    text = csv_bytes(attribute_table(hostile_roads, "roads")).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.count("\r\n") == len(HOSTILE) + 1
    assert [r["name"] for r in rows] == SHOWN
    assert [r["length_m"] for r in rows] == ["1000.0"] * len(HOSTILE)
    assert '"\'=HYPERLINK(""http://x"",""点击"")"' in text


def test_xlsx_cells_are_text_not_formulas(hostile_roads: gpd.GeoDataFrame) -> None:
    table = attribute_table(hostile_roads, "roads", geometry="lonlat")
    table["change_m"] = -12.5  # a negative number is a number, not text to defuse
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"roads": table})))["roads"]
    names = [sheet.cell(row=r, column=2) for r in range(2, len(HOSTILE) + 2)]
    # a carriage return is stored as the OOXML escape _x000D_, which Excel shows as one
    # (a bare one in XML would be read back as a line feed); openpyxl gives the escape as stored
    assert [c.value for c in names] == [v.replace("\r", "_x000D_") for v in SHOWN]
    assert {c.data_type for c in names} == {"s"}
    change = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("change_m") + 1)
    assert change.value == -12.5 and change.data_type == "n"


def test_geographic_formats_keep_values_exact(hostile_roads: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "roads.geojson"
    path.write_bytes(geojson_bytes(hostile_roads, layer="roads"))
    assert pyogrio.read_dataframe(path)["name"].tolist() == HOSTILE
    assert 'name (String) = =HYPERLINK("http://x","点击")' in ogrinfo("-al", "-q", str(path))
    gpkg = tmp_path / "roads.gpkg"
    gpkg.write_bytes(gpkg_bytes({"roads": hostile_roads}))
    assert pyogrio.read_dataframe(gpkg, layer="roads")["name"].tolist() == HOSTILE
    shp = tmp_path / "roads.zip"
    shp.write_bytes(shapefile_zip_bytes({"roads": hostile_roads}))
    zipfile.ZipFile(shp).extractall(tmp_path / "shp")  # GDAL reads no archive itself (geo/_gdal.py)
    assert pyogrio.read_dataframe(tmp_path / "shp" / "roads.shp")["name"].tolist() == HOSTILE


def test_chinese_labels_in_a_gbk_shapefile(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    from geo.export import layers_bytes

    path = tmp_path / "roads.zip"
    path.write_bytes(layers_bytes({"roads": sample["roads"]}, "shp", encoding="GBK", labels=True))
    listing = ogrinfo("-al", "-q", f"/vsizip/{path}/roads.shp")
    assert "道路等级 (String) = 主干路" in listing and "状态 (String) = 在建" in listing
    with pytest.raises(SourceError, match=r"roads: Chinese field names 道路等级, 所属项目, 调查日期 do not fit"):
        layers_bytes({"roads": sample["roads"]}, "shp", encoding="UTF-8", labels=True)


def test_chinese_labels_in_csv_and_geopackage(sample: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    from geo.export import layers_bytes

    table = pd.read_csv(
        io.BytesIO(layers_bytes({"parcels": sample["parcels"]}, "csv", labels=True)), encoding="utf-8-sig"
    )
    assert table.columns.tolist()[:6] == ["编号", "名称", "类型", "状态", "户数", "回迁户数"]
    assert table.columns.tolist()[6:] == ["面积_平方米", "wkt"]
    assert set(table["类型"]) == {"征收", "棚户区", "老旧小区"} and table["回迁户数"].sum() == 278
    path = tmp_path / "all.gpkg"
    path.write_bytes(layers_bytes({"roads": sample["roads"]}, "gpkg", labels=True))
    assert "状态 (String) = 在建" in ogrinfo("-q", str(path), "roads")
    plain = pd.read_csv(io.BytesIO(layers_bytes({"roads": sample["roads"]}, "csv")), encoding="utf-8-sig")
    assert plain.columns[0] == "seg_id" and "open" in set(plain["status"])  # default: machine codes
