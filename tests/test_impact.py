"""Impact analysis on hand-computable layers: half a parcel, a corridor, a point, two districts."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import AreaError, SourceError
from geo.impact import check_area, impact, parse_area, read_area, round_half_up
from geo.limits import Limits

from .common import METRIC, SAMPLE, X0, Y0, frame, hline, lonlat, point, square
from .test_cli import run


def metric_area(geom: shapely.Geometry) -> gpd.GeoSeries:
    return gpd.GeoSeries([geom], crs=METRIC)


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    """Two 1 km districts side by side; parcels, roads, pipes, greenbelt and points in them."""
    return {
        "districts": frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)]),
        "parcels": frame(
            "parcels",
            [square(0, 0, 200), square(400, 0, 100), square(0, 300, 100)],
            households=[100, 45, 7],
            resettled=[30, 0, 7],
        ),
        "roads": frame(
            "roads",
            [shapely.LineString([(X0 + 700, Y0), (X0 + 700, Y0 + 1000)]), hline(1200, 900, 300)],
            status=["open", "planned"],
        ),
        "pipes": frame("pipes", [hline(600, 510, 200)], utility=["heat"]),
        "greenbelt": frame("greenbelt", [square(900, 400, 200)], kind=["waterfront"]),
        "facilities": frame(
            "facilities",
            [point(1530, 500), point(1560, 500), point(1500, 540)],
            kind=["pump_station", "pump_station", "school"],
        ),
    }


def test_a_square_over_half_a_parcel_of_100_households_gives_50(layers: dict) -> None:
    result = impact(layers, metric_area(shapely.box(X0 + 100, Y0, X0 + 300, Y0 + 200)))
    s = result.summary()
    assert s["area_ha"] == pytest.approx(4.0)
    assert (s["parcels_count"], s["parcels_ha"]) == (1, pytest.approx(2.0))
    assert (s["households"], s["households_whole"]) == (50, 100)
    assert (s["resettled"], s["resettled_whole"]) == (15, 30)
    assert s["parcels_ha_by_kind"] == {"shantytown": 2.0, "expropriation": 0.0, "old_community": 0.0}
    assert s["features"]["parcels"] == ["D1"] and s["features"]["districts"] == ["X1"]
    assert s["crs"] == "EPSG:4551" and s["touches_data"] is True


def test_shares_are_summed_then_rounded_half_up(layers: dict) -> None:
    # half of D1 (100 households) and half of D2 (45): 50 + 22.5 = 72.5, rounded half-up to 73
    area = shapely.union(shapely.box(X0 + 100, Y0, X0 + 300, Y0 + 200), shapely.box(X0 + 450, Y0, X0 + 500, Y0 + 100))
    s = impact(layers, metric_area(area)).summary()
    assert (s["households"], s["households_whole"], s["parcels_count"]) == (73, 145, 2)
    assert round_half_up(22.5) == 23 and round_half_up(2.4999999999999) == 3 and round_half_up(2.4) == 2


def test_a_40_m_corridor_along_a_line(layers: dict) -> None:
    road = shapely.LineString([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)])
    result = impact(layers, metric_area(road), buffer_m=20)
    s = result.summary()
    # 1000 m x 40 m with round ends of radius 20 m
    assert s["area_ha"] == pytest.approx((1000 * 40 + math.pi * 20**2) / 1e4, rel=2e-3)
    assert s["roads_km"] == pytest.approx(0.040)  # the north-south road crosses it
    assert s["roads_km_by_status"]["open"] == pytest.approx(0.040)
    assert s["pipes_km"] == pytest.approx(0.200) and s["pipes_km_by_utility"]["heat"] == pytest.approx(0.2)
    assert s["greenbelt_ha"] == pytest.approx(200 * 40 / 1e4)
    assert s["greenbelt_ha_by_kind"]["waterfront"] == pytest.approx(0.8)
    assert s["features"]["roads"] == ["R1"] and s["features"]["pipes"] == ["P1"]
    assert s["facilities_count"] == 0  # the nearest point is 30 m past the line's end


def test_a_point_with_a_buffer(layers: dict) -> None:
    s = impact(layers, metric_area(point(1500, 500)), buffer_m=50).summary()
    assert s["facilities_count"] == 2
    assert s["facilities_by_kind"] == {"pump_station": 1, "school": 1, "hospital": 0, "library": 0, "other": 0}
    assert s["features"]["facilities"] == ["F1", "F3"]
    assert s["area_ha"] == pytest.approx(math.pi * 50**2 / 1e4, rel=2e-3)


def test_an_area_across_two_districts(layers: dict) -> None:
    s = impact(layers, metric_area(shapely.box(X0 + 900, Y0 + 400, X0 + 1100, Y0 + 500))).summary()
    assert s["districts_ha"] == {"X1": pytest.approx(1.0), "X2": pytest.approx(1.0)}
    assert s["features"]["districts"] == ["X1", "X2"]
    assert s["greenbelt_ha"] == pytest.approx(2.0)


def test_an_area_outside_everything_is_zeros(layers: dict) -> None:
    result = impact(layers, metric_area(square(10_000, 10_000, 100)))
    s = result.summary()
    assert s["touches_data"] is False and s["area_ha"] == pytest.approx(1.0)
    assert s["parcels_count"] == s["households"] == s["facilities_count"] == 0
    assert s["roads_km"] == s["pipes_km"] == s["greenbelt_ha"] == 0.0
    assert all(ids == [] for ids in s["features"].values())


def test_an_area_in_wgs84_gives_the_same_figures(layers: dict) -> None:
    corners = [lonlat(x, y) for x, y in ((100, 0), (300, 0), (300, 200), (100, 200))]
    s = impact(layers, shapely.Polygon(corners)).summary()
    assert s["households"] == 50 and s["parcels_ha"] == pytest.approx(2.0, rel=1e-6)


def test_features_table_holds_inside_whole_and_share(layers: dict) -> None:
    result = impact(layers, metric_area(shapely.box(X0 + 100, Y0, X0 + 300, Y0 + 200)))
    row = result.features.set_index("id").loc["D1"]
    assert (row["layer"], row["unit"], row["category"]) == ("parcels", "m2", "shantytown")
    assert (row["inside"], row["whole"], row["share"]) == pytest.approx((20_000, 40_000, 0.5))
    back = result.area_frame()
    assert back.crs.to_epsg() == 4326 and back.iloc[0]["households"] == 50


@pytest.mark.parametrize(
    ("area", "buffer_m", "message"),
    [
        (shapely.Polygon(), 0, "is empty"),
        (shapely.Polygon([(125.3, 43.8), (125.31, 43.81), (125.31, 43.8), (125.3, 43.81)]), 0, "not a valid geometry"),
        (shapely.LineString([(125.3, 43.8), (125.31, 43.8)]), 0, "give a buffer"),
        (shapely.Point(125.3, 43.8), -5, "0 or more metres"),
        (shapely.box(447_700, 4_857_400, 447_800, 4_857_500), 0, "not longitude/latitude"),
    ],
)
def test_bad_areas_say_what_is_wrong(layers: dict, area: shapely.Geometry, buffer_m: float, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        impact(layers, area, buffer_m=buffer_m)


def test_parse_area_reads_geojson_and_wkt() -> None:
    feature = '{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [125.3, 43.8]}}'
    assert parse_area(feature).iloc[0].equals(shapely.Point(125.3, 43.8))
    assert parse_area("LINESTRING (125.3 43.8, 125.31 43.8)").iloc[0].geom_type == "LineString"
    with pytest.raises(AreaError, match=r"zone\.geojson: is not a geometry"):
        parse_area('{"name": "x"}', name="zone.geojson")
    with pytest.raises(AreaError, match="is not a geometry"):
        parse_area("hello")
    with pytest.raises(AreaError, match="is empty"):
        parse_area("   ")


def test_read_area_names_the_missing_file(tmp_path) -> None:
    with pytest.raises(SourceError, match=r"nope\.geojson: no such file"):
        read_area("nope.geojson")


# The command line, through its real entry point.

JSON_KEYS = {
    "area_ha",
    "parcels_count",
    "parcels_ha",
    "households",
    "households_whole",
    "resettled",
    "roads_km",
    "pipes_km",
    "greenbelt_ha",
    "facilities_count",
    "features",
}


@pytest.fixture
def source(layers: dict, tmp_path) -> str:
    path = tmp_path / "small.gpkg"
    for name, gdf in layers.items():
        gdf.to_crs(4326).to_file(path, layer=name, driver="GPKG")
    return str(path)


def wkt_of(geom: shapely.Geometry) -> str:
    moved = shapely.transform(geom, lambda xy: np.array([lonlat(x - X0, y - Y0) for x, y in xy]))
    return shapely.to_wkt(moved, rounding_precision=-1)


def test_cli_json_has_the_documented_keys(source: str) -> None:
    half = wkt_of(shapely.box(X0 + 100, Y0, X0 + 300, Y0 + 200))
    result = run("impact", source, "--area", half, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert JSON_KEYS <= set(data)
    assert (data["households"], data["households_whole"], data["parcels_count"]) == (50, 100, 1)
    assert data["parcels_ha"] == pytest.approx(2.0, rel=1e-6)
    assert data["features"]["parcels"] == ["D1"]


def test_cli_corridor_from_a_geojson_file_as_csv(source: str, tmp_path) -> None:
    road = tmp_path / "新路.geojson"
    line = shapely.LineString([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)])
    gpd.GeoSeries([line], crs=METRIC).to_crs(4326).to_file(road)
    result = run("impact", source, "--area", str(road), "--buffer", "20", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["layer"], r["id"], r["unit"]) for r in rows] == [
        ("greenbelt", "G1", "m2"),
        ("roads", "R1", "m"),
        ("pipes", "P1", "m"),
    ]
    assert float(rows[1]["inside"]) == pytest.approx(40.0, rel=1e-5)


def test_cli_outside_everything_says_so(source: str) -> None:
    result = run("impact", source, "--area", "POINT (100 10)", "--buffer", "40", "--format", "json")
    assert result.returncode == 0
    assert "outside all the data" in result.stderr
    data = json.loads(result.stdout)
    assert data["touches_data"] is False and data["households"] == 0 and data["roads_km"] == 0


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ("nope.geojson", "error: nope.geojson: no such file"),
        ("LINESTRING (125.3 43.8, 125.31 43.8)", "give a buffer in metres"),
        ("not a shape", "is not a geometry"),
        ("POLYGON EMPTY", "is empty"),
    ],
)
def test_cli_bad_areas_are_one_line(source: str, area: str, message: str) -> None:
    result = run("impact", source, "--area", area)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_names_the_users_file_not_a_path(source: str, tmp_path) -> None:
    bad = tmp_path / "zone.geojson"
    bad.write_text('{"type": "Feature", "properties": {}, "geometry": null}', encoding="utf-8")
    result = run("impact", source, "--area", str(bad))
    assert result.returncode == 1 and "is empty" in result.stderr
    (tmp_path / "list.geojson").write_text("[1, 2]", encoding="utf-8")
    result = run("impact", source, "--area", str(tmp_path / "list.geojson"))
    assert "error: list.geojson: is not a geometry" in result.stderr and str(tmp_path) not in result.stderr


def test_cli_a_feature_of_the_source_is_the_area(layers: dict, tmp_path) -> None:
    # a key area over half of parcel D1 (100 households): the area is the source's own feature
    layers = {**layers, "areas": frame("areas", [square(100, 0, 200)], name=["商圈"], kind=["commercial"])}
    path = tmp_path / "with_areas.gpkg"
    for name, gdf in layers.items():
        gdf.to_crs(4326).to_file(path, layer=name, driver="GPKG")
    ids = layers["areas"]["area_id"].tolist()
    result = run("impact", str(path), "--area", f"areas:{ids[0]}", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["area_ha"] == pytest.approx(4.0, rel=1e-6)
    assert (data["households"], data["parcels_count"]) == (50, 1)
    missing = run("impact", str(path), "--area", "areas:NOPE")
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith(f"areas:NOPE: areas has no feature with id 'NOPE' (it has {ids[0]})")
    assert "Traceback" not in missing.stderr


# ----------------------------------------------------------------------------- areas from outside, held to the limits


def million_vertex_area(path: Path | None = None) -> str:
    """A GeoJSON polygon of 1,000,000 vertices around the sample's origin (41 MB of text)."""
    lon, lat = lonlat(0, 0)
    angles = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = ",".join(f"[{lon + 0.01 * math.cos(a):.9f},{lat + 0.01 * math.sin(a):.9f}]" for a in angles)
    text = f'{{"type": "Polygon", "coordinates": [[{ring},[{lon + 0.01:.9f},{lat:.9f}]]]}}'
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return text


def test_a_million_vertex_area_is_refused_before_it_is_parsed() -> None:
    """Parsed and drawn, it took 1.1 GB and sent 41 MB to the browser; counted, it is one line."""
    text = million_vertex_area()
    for data in (text, text.encode()):
        with pytest.raises(AreaError) as info:
            check_area(data, name="征收范围.geojson")
        assert str(info.value) == (
            "征收范围.geojson: the area has 1,000,001 vertices, more than the 100,000 limit "
            "(NANGUAN_MAX_VERTICES); simplify it or raise the limit"
        )
    with pytest.raises(AreaError, match="the area has 1,000,001 vertices"):
        parse_area(text, name="征收范围.geojson")


def test_an_area_within_the_limits_still_parses() -> None:
    """The limits count all parts together: they become one area."""
    lon, lat = lonlat(0, 0)
    square_ = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [square_]}}
    text = json.dumps({"type": "FeatureCollection", "features": [feature] * 3})
    assert len(parse_area(text, limits=Limits(vertices=15, features=3))) == 3
    with pytest.raises(AreaError, match="the area has 15 vertices, more than the 14 limit"):
        parse_area(text, limits=Limits(vertices=14))
    with pytest.raises(AreaError, match="holds more than 2 features"):
        parse_area(text, limits=Limits(features=2))
    with pytest.raises(AreaError, match="the area has 4 vertices, more than the 3 limit"):
        parse_area("LINESTRING (125.3 43.8, 125.31 43.8, 125.32 43.8, 125.33 43.8)", limits=Limits(vertices=3))
    with pytest.raises(AreaError, match=r"the file is 0\.0 MB, more than the 1e-05 MB limit"):
        check_area(b"x" * 20, name="a.geojson", limits=Limits(upload_mb=0.00001))


def test_the_command_line_refuses_a_million_vertex_area_in_one_line(tmp_path: Path) -> None:
    area = tmp_path / "征收范围.geojson"
    million_vertex_area(area)
    result = run("impact", str(SAMPLE), "--area", str(area))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "error: 征收范围.geojson: the area has 1,000,001 vertices, more than the 100,000 limit "
        "(NANGUAN_MAX_VERTICES); simplify it or raise the limit\n"
    )
