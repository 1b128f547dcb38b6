"""The map builder, its compact encoding and its feature budget: pure functions tested without Streamlit."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from display.assets import AssetUrls
from display.budget import View, choose, tolerance_deg, zoom_for
from display.encode import EncodedGeometry, decode_geometry, decode_ints, encode_geometry, encode_ints
from display.mapbuild import MapOptions, build_map, map_html, tile_layers
from geo.chinacoord import wgs84_to_gcj02
from geo.filters import Filter, apply_filter
from geo.stats import district_stats
from layers import CATALOGUE, LAYER_NAMES

from .common import METRIC, frame, hline, point, square

ASSETS = AssetUrls("/app/static/leaflet/leaflet.js", "/app/static/leaflet/leaflet.css", "/app/static/leaflet/images/")


def payloads(m) -> dict[str, dict]:
    """The layer payloads embedded in the rendered map, by layer."""
    page = m.get_root().render()
    found = re.findall(r"nanguan\.layer\([\w]+, [\w]+, (.*)\);\n", page)
    return {p["name"]: p for p in map(json.loads, found)}


def meta(m) -> dict:
    page = m.get_root().render()
    return json.loads(re.search(r"nanguan\.finish\([\w]+, (.*)\);\n", page).group(1))


def decoded(p: dict) -> list[shapely.Geometry]:
    g = p["geometry"]
    return decode_geometry(EncodedGeometry(g["coords"], g["parts"], g["rings"], g["sizes"]), p["dict"]["family"])


def metres_apart(a: list[shapely.Geometry], b: gpd.GeoSeries) -> float:
    """Largest distance between matching vertices, in metres (EPSG:4551)."""
    got = gpd.GeoSeries(a, crs=4326).to_crs(METRIC)
    xa, xb = shapely.get_coordinates(got.to_numpy()), shapely.get_coordinates(b.to_crs(METRIC).to_numpy())
    return float(np.hypot(*(xa - xb).T).max())


@pytest.mark.parametrize("values", [[0], [1, -1, 15, 16, -16, -17], [125_312_345, -43_812_345, 2**40, -(2**40)]])
def test_integers_round_trip(values: list[int]) -> None:
    text = encode_ints(values)
    assert text.isascii() and not set(text) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_ints(text).tolist() == values


def test_small_numbers_take_one_character() -> None:
    assert len(encode_ints(list(range(-16, 16)))) == 32


def test_sample_coordinates_round_trip_within_15_cm(sample: dict[str, gpd.GeoDataFrame]) -> None:
    for name, gdf in sample.items():
        family = CATALOGUE[name].geometry
        wgs = gdf.to_crs(4326)
        back = decode_geometry(encode_geometry(wgs.geometry.to_numpy(), family), family)
        assert len(back) == len(gdf)
        # rings lose their closing vertex in transit; compare the geometries vertex by vertex
        assert metres_apart(back, wgs.geometry) < 0.15, name


def test_polygons_with_holes_and_multiparts_round_trip() -> None:
    ring = square(0, 0, 100).difference(square(20, 20, 10)).difference(square(60, 60, 20))
    multi = shapely.MultiPolygon([square(200, 0, 50), ring])
    lines = shapely.MultiLineString([hline(0, 0, 100), hline(0, 50, 30)])
    polys = gpd.GeoSeries([ring, multi], crs=METRIC).to_crs(4326)
    back = decode_geometry(encode_geometry(polys.to_numpy(), "polygon"), "polygon")
    assert [len(p.interiors) for p in back[0:1]] == [2]
    assert back[1].geom_type == "MultiPolygon" and len(back[1].geoms) == 2
    assert metres_apart(back, polys) < 0.15
    for a, b in zip(gpd.GeoSeries(back, crs=4326).to_crs(METRIC), polys.to_crs(METRIC), strict=True):
        assert abs(a.area - b.area) < 0.15 * b.length
    ml = gpd.GeoSeries([lines], crs=METRIC).to_crs(4326)
    back_lines = decode_geometry(encode_geometry(ml.to_numpy(), "line"), "line")
    assert back_lines[0].geom_type == "MultiLineString" and metres_apart(back_lines, ml) < 0.15


def test_every_layer_with_one_feature_per_row(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = payloads(build_map(sample, MapOptions(assets=ASSETS)))
    assert set(data) == set(LAYER_NAMES)
    for name, gdf in sample.items():
        p = data[name]
        assert p["on"] and p["total"] == p["shown"] == len(gdf) == len(p["ids"])
        assert all(len(col) == len(gdf) for col in p["cols"].values())
        assert metres_apart(decoded(p), gdf.geometry.to_crs(4326)) < 0.15


def test_leaflet_and_the_map_script_come_from_the_app_not_a_cdn(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS))
    assert m.default_js == [("leaflet", ASSETS.js)] and m.default_css == [("leaflet_css", ASSETS.css)]
    page = m.get_root().render()
    assert '<script src="/app/static/nanguan/map.js">' in page
    assert "cdn.jsdelivr" not in page and "code.jquery.com" not in page and "bootstrapcdn" not in page
    assert 'L.Icon.Default.imagePath = "/app/static/leaflet/images/"' in page


def test_standalone_page_inlines_everything_and_fills_the_window(sample: dict[str, gpd.GeoDataFrame]) -> None:
    page = map_html(sample, MapOptions(), title="南关")
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page
    assert "L.map(" in page and "Leaflet 1.9.3, a JS library" in page and "window.nanguan = " in page
    assert "url(data:image/png;base64," in page
    assert "<title>南关</title>" in page and "height: 100vh" in page
    assert len(page.encode()) < 1_000_000


def test_dictionary_and_columns_follow_the_catalogue(sample: dict[str, gpd.GeoDataFrame]) -> None:
    pipes = payloads(build_map(sample, MapOptions(assets=ASSETS, lang="en")))["pipes"]
    utility = CATALOGUE["pipes"].field("utility")
    assert pipes["dict"]["by"] == "utility" and pipes["dict"]["byColors"] == [c.color for c in utility.choices]
    assert pipes["dict"]["byNames"][0] == "Water" and pipes["dict"]["style"]["lineDash"]
    codes = [utility.codes[i] for i in pipes["cols"]["utility"]]
    assert codes == list(sample["pipes"]["utility"])
    assert pipes["cols"]["name"] == list(sample["pipes"]["name"])
    # lengths travel as metres, measured in the metric CRS
    assert pipes["measure"] == pytest.approx(list(sample["pipes"].to_crs(METRIC).length), abs=0.05)


def test_hostile_text_survives_the_templates_as_text() -> None:
    hostile = "{{ 7*7 }}{% raw %}</script><img src=x onerror=alert(1)>#}"
    roads = frame("roads", [hline(0, 0, 100)], name=[hostile])
    m = build_map({"roads": roads}, MapOptions(assets=ASSETS))
    page = m.get_root().render()
    assert "</script><img" not in page and "{{ 7*7 }}" not in page
    assert payloads(m)["roads"]["cols"]["name"] == [hostile]


def test_selected_districts_and_search_hits_are_marked_and_fitted(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS, selected=("220102013",), highlight=(("roads", "R001"),)))
    data = payloads(m)
    assert [data["districts"]["ids"][i] for i in data["districts"]["selected"]] == ["220102013"]
    assert [data["roads"]["ids"][i] for i in data["roads"]["highlight"]] == ["R001"]
    (south, west), (north, east) = meta(m)["fit"]["bounds"]
    road = sample["roads"].to_crs(4326)
    minx, miny, maxx, maxy = road[road["seg_id"] == "R001"].total_bounds
    assert (south, west, north, east) == pytest.approx((miny, minx, maxy, maxx))


def test_gaode_shifts_overlays_to_gcj02_and_measures_stay(sample: dict[str, gpd.GeoDataFrame]) -> None:
    wgs = payloads(build_map(sample, MapOptions(assets=ASSETS, basemap="none")))
    gcj = payloads(build_map(sample, MapOptions(assets=ASSETS, basemap="gaode")))
    a = decoded(wgs["facilities"])[0]
    b = decoded(gcj["facilities"])[0]
    assert np.allclose(np.array(wgs84_to_gcj02(a.x, a.y)), (b.x, b.y), atol=2e-6)
    assert wgs["roads"]["measure"] == gcj["roads"]["measure"]


def test_empty_layer_keeps_its_toggle() -> None:
    roads = frame("roads", [hline(0, 0, 100)])
    data = payloads(
        build_map(
            {"roads": roads, "pipes": roads.iloc[0:0].rename(columns={"seg_id": "pipe_id"})}, MapOptions(assets=ASSETS)
        )
    )
    assert data["pipes"]["total"] == 0 and data["roads"]["total"] == 1


@pytest.mark.parametrize(("basemap", "n"), [("none", 0), ("osm", 1), ("gaode", 1), ("tianditu_vec", 0)])
def test_basemaps(basemap: str, n: int) -> None:
    assert len(tile_layers(basemap)) == n
    with_key = tile_layers("tianditu_img", "KEY")
    assert len(with_key) == 2 and all("tk=KEY" in t.tiles for t in with_key)


def test_switched_off_layers_are_not_sent(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = payloads(build_map(sample, MapOptions(assets=ASSETS, visible=("roads",))))
    assert data["roads"]["on"] and data["roads"]["shown"] == 96
    assert not data["pipes"]["on"] and data["pipes"]["total"] == 12 and "geometry" not in data["pipes"]


def test_roads_coloured_by_condition_on_request(sample: dict[str, gpd.GeoDataFrame]) -> None:
    condition = CATALOGUE["roads"].field("condition")
    by_status = payloads(build_map(sample, MapOptions(assets=ASSETS)))["roads"]
    assert by_status["dict"]["by"] == "status" and not by_status["missing"]
    roads = payloads(build_map(sample, MapOptions(assets=ASSETS, colour_by=(("roads", "condition"),))))["roads"]
    d = roads["dict"]
    assert (d["by"], d["byNames"]) == ("condition", ["完好", "轻度破损", "严重破损"])
    assert d["byColors"] == ["#2e7d32", "#f9a825", "#c62828"] and d["noValue"] == "#666666"
    # each segment carries its condition's code; one not surveyed (not yet open) has none (grey)
    conditions = dict(zip(sample["roads"]["seg_id"], sample["roads"]["condition"], strict=True))
    for fid, code in zip(roads["ids"], roads["cols"]["condition"], strict=True):
        expected = conditions[fid]
        assert code == (condition.codes.index(expected) if isinstance(expected, str) else -1)
    names = dict(zip(roads["ids"], roads["cols"]["name"], strict=True))
    worn = [fid for fid, code in zip(roads["ids"], roads["cols"]["condition"], strict=True) if code == 2]
    assert worn and all(names[fid].startswith(("东岭南街", "清明街")) for fid in worn)
    # the legend lists the three conditions and 无数据; planned roads stay dashed (status kept)
    assert roads["present"] == [0, 1, 2] and roads["missing"]
    assert "planned" in d["style"]["dash"] and roads["cols"]["status"]


def test_colour_by_only_a_field_the_layer_offers() -> None:
    options = MapOptions(colour_by=(("roads", "road_class"), ("pipes", "condition")))
    assert options.colour_field(CATALOGUE["roads"]) == "status"
    assert options.colour_field(CATALOGUE["pipes"]) == CATALOGUE["pipes"].style.by


def test_road_details_give_condition_and_survey_date(sample: dict[str, gpd.GeoDataFrame]) -> None:
    roads = payloads(build_map(sample, MapOptions(assets=ASSETS)))["roads"]
    fields = {f["name"]: f for f in roads["dict"]["fields"]}
    assert fields["condition"]["label"] == "路况" and fields["condition"]["names"][2] == "严重破损"
    assert fields["surveyed"] == {"name": "surveyed", "label": "调查日期", "kind": "text"}
    i = roads["cols"]["name"].index("东岭南街（1段）")
    assert (roads["cols"]["condition"][i], roads["cols"]["surveyed"][i]) == (2, "2019-10-15")
    english = payloads(build_map(sample, MapOptions(assets=ASSETS, lang="en")))["roads"]["dict"]["fields"]
    assert next(f for f in english if f["name"] == "condition")["names"][2] == "Severe damage"


def test_key_areas_and_rivers_are_named_and_areas_open_their_sentence(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = payloads(build_map(sample, MapOptions(assets=ASSETS)))
    assert data["districts"]["dict"]["labels"] == "fit"
    for name in ("areas", "rivers"):
        assert data[name]["dict"]["labels"] == "always"
        at = decode_geometry(EncodedGeometry(**{"rings": "", "sizes": "", **data[name]["labels"]}), "point")
        shapes = decoded(data[name])
        # each name sits on its feature: inside a key area, at the middle of a river
        assert all(shapely.distance(p, g) < 1e-5 for p, g in zip(at, shapes, strict=True))
    assert [n for n, p in data.items() if p["dict"]["popup"]] == ["areas"]
    i = data["areas"]["cols"]["name"].index("孔子文化园")
    assert "挖掘文化资源" in data["areas"]["cols"]["quote"][i]
    fields = {f["name"]: f["label"] for f in data["areas"]["dict"]["fields"]}
    assert fields["quote"] == "计划原文"
    # drawn under the works: the order of the layers is the catalogue's z
    assert list(data)[:4] == ["districts", "areas", "greenbelt", "parcels"]
    assert meta(build_map(sample, MapOptions(assets=ASSETS)))["order"] == list(data)


def test_the_map_fits_the_works_not_the_key_areas(sample: dict[str, gpd.GeoDataFrame]) -> None:
    page = build_map(sample, MapOptions(assets=ASSETS)).get_root().render()
    south, west, north, east = (
        float(v) for v in re.search(r"fitBounds\(\s*\[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]", page).groups()
    )
    works = [g for n, g in sample.items() if not (CATALOGUE[n].units or CATALOGUE[n].context)]
    assert [south, west] == pytest.approx(np.min([g.to_crs(4326).total_bounds[:2] for g in works], axis=0)[::-1])
    assert [north, east] == pytest.approx(np.max([g.to_crs(4326).total_bounds[2:] for g in works], axis=0)[::-1])


def test_under_the_budget_there_is_no_message(sample: dict[str, gpd.GeoDataFrame]) -> None:
    assert meta(build_map(sample, MapOptions(assets=ASSETS)))["message"] == ""


def test_over_the_budget_the_message_counts_right(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS, budget=100, visible=("districts", "roads", "pipes")))
    data = payloads(m)
    shown = {n: p["shown"] for n, p in data.items() if p["on"]}
    assert shown["districts"] == 14  # the statistics' units are always drawn
    # the other 86 in proportion: 86 x 96 / 108 = 76.4 roads, 86 x 12 / 108 = 9.6 pipes
    assert shown["roads"] == 76 and shown["pipes"] == 9
    assert meta(m)["message"] == "显示 99 / 122 个要素（上限 100）：放大或移动地图以查看其余要素"
    # the longest roads are the ones kept
    kept = set(data["roads"]["ids"])
    lengths = sample["roads"].to_crs(METRIC).length.to_numpy()
    ids = sample["roads"]["seg_id"].to_numpy()
    assert min(lengths[np.isin(ids, list(kept))]) >= max(lengths[~np.isin(ids, list(kept))])


def test_over_the_budget_the_view_decides() -> None:
    roads = frame("roads", [hline(0, 100 * i, 50) for i in range(30)] + [hline(5000, 0, 50)]).to_crs(4326)
    far = roads.geometry.iloc[-1].centroid
    view = View(far.y - 0.001, far.x - 0.001, far.y + 0.001, far.x + 0.001, zoom=17)
    chosen = choose({"roads": roads}, {"roads": np.ones(31)}, budget=10, view=view)
    assert chosen["roads"].rows.tolist() == [30] and chosen["roads"].tolerance_deg == tolerance_deg(17)


def test_simplified_display_geometry_stays_within_its_tolerance(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS, budget=50))
    data = payloads(m)
    districts = sample["districts"].to_crs(4326)
    extent = np.array([g.to_crs(4326).total_bounds for n, g in sample.items() if n != "districts"])
    zoom = zoom_for((*extent[:, :2].min(axis=0), *extent[:, 2:].max(axis=0)))
    tol = tolerance_deg(zoom)
    assert 10 <= zoom <= 13  # the works on one screen
    for geom, original in zip(decoded(data["districts"]), districts.geometry, strict=True):
        assert shapely.hausdorff_distance(geom, original) <= tol + 1e-6


def test_a_wiggly_line_loses_the_wiggles_a_screen_cannot_show() -> None:
    wiggle = shapely.LineString([(447_700.0 + i, 4_857_400.0 + (i % 2)) for i in range(2000)])
    roads = frame("roads", [wiggle, hline(0, 5000, 100)]).to_crs(4326)
    chosen = choose({"roads": roads}, {"roads": np.ones(2)}, budget=1)
    assert len(chosen["roads"].rows) == 1
    tol = chosen["roads"].tolerance_deg
    original = roads.geometry.iloc[0]
    simple = shapely.simplify(original, tol, preserve_topology=True)
    assert len(simple.coords) < 100 and shapely.hausdorff_distance(simple, original) <= tol


def test_statistics_do_not_see_display_simplification(sample: dict[str, gpd.GeoDataFrame]) -> None:
    before = district_stats(sample)
    build_map(sample, MapOptions(assets=ASSETS, budget=50))
    after = district_stats(sample)
    assert before.equals(after)


def test_points_are_drawn_as_points() -> None:
    fac = frame("facilities", [point(0, 0), point(10, 10)])
    p = payloads(build_map({"facilities": fac}, MapOptions(assets=ASSETS)))["facilities"]
    assert p["dict"]["family"] == "point" and p["geometry"]["sizes"] == "" and len(decoded(p)) == 2


def test_pipelines_read_apart_from_roads_by_more_than_colour(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = payloads(build_map(sample, MapOptions(assets=ASSETS)))
    roads, pipes = data["roads"]["dict"]["style"], data["pipes"]["dict"]["style"]
    assert roads["lineDash"] == "" and pipes["lineDash"] == "10 4 2 4"
    assert pipes["weight"] < roads["weight"]


def test_a_district_filter_keeps_its_neighbours_drawn_and_filters_the_works(
    sample: dict[str, gpd.GeoDataFrame],
) -> None:
    """`geo map --district X` and the app draw the same map: X's works, every sub-district
    (X highlighted, the others dimmed) — not a map cut down to X alone."""
    chosen = "220102013"
    m = build_map(sample, MapOptions(assets=ASSETS, selected=(chosen,)), flt=Filter(districts=(chosen,)))
    data = payloads(m)
    assert sorted(data["districts"]["ids"]) == sorted(sample["districts"]["code"])
    assert [data["districts"]["ids"][i] for i in data["districts"]["selected"]] == [chosen]
    expected = apply_filter(sample, Filter(districts=(chosen,)))["roads"]
    assert 0 < len(expected) < len(sample["roads"])
    assert sorted(data["roads"]["ids"]) == sorted(expected["seg_id"])
