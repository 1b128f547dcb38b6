"""The map builder: a pure function tested without Streamlit."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.chinacoord import wgs84_to_gcj02
from layers import LAYER_NAMES
from layers.assets import AssetUrls
from layers.mapbuild import MapOptions, build_map, map_html, tile_layers, tooltip_html
from layers.spec import LayerSpec

from .common import frame, hline, square

ASSETS = AssetUrls("/app/static/leaflet/leaflet.js", "/app/static/leaflet/leaflet.css", "/app/static/leaflet/images/")


def rendered(m) -> str:
    """The map's page with JSON's \\uXXXX escapes decoded, as a browser reads it."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), m.get_root().render())


def geojson_data(m) -> dict[str, dict]:
    """The FeatureCollections embedded in the rendered map, by layer."""
    html = m.get_root().render()
    out = {}
    for match in re.finditer(r"_add\((\{\"features\".*?\})\);\n", html):
        data = json.loads(match.group(1))
        if data["features"]:
            out[data["features"][0]["properties"]["layer"]] = data
    return out


def test_every_layer_with_one_feature_per_row(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = geojson_data(build_map(sample, MapOptions(assets=ASSETS)))
    assert set(data) == set(LAYER_NAMES)
    for name, gdf in sample.items():
        assert len(data[name]["features"]) == len(gdf)


def test_leaflet_comes_from_the_app_not_a_cdn(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS))
    assert m.default_js == [("leaflet", ASSETS.js)] and m.default_css == [("leaflet_css", ASSETS.css)]
    html = m.get_root().render()
    assert "cdn.jsdelivr" not in html and "code.jquery.com" not in html and "bootstrapcdn" not in html
    assert 'L.Icon.Default.imagePath = "/app/static/leaflet/images/"' in html


def test_standalone_page_inlines_leaflet(sample: dict[str, gpd.GeoDataFrame]) -> None:
    page = map_html(sample, MapOptions(), title="南关")
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page
    assert "L.map(" in page and "Leaflet 1.9.3, a JS library" in page
    assert "url(data:image/png;base64," in page
    assert "<title>南关</title>" in page


def test_styles_follow_the_catalogue(sample: dict[str, gpd.GeoDataFrame]) -> None:
    data = geojson_data(build_map(sample, MapOptions(assets=ASSETS)))
    pipe = data["pipes"]["features"][0]["properties"]
    assert pipe["style"]["color"] == {"water": "#1e88e5"}.get(pipe["utility"], pipe["style"]["color"])
    planned = [f for f in data["roads"]["features"] if f["properties"]["status"] == "planned"]
    assert planned and all(f["properties"]["style"]["dashArray"] == "8 6" for f in planned)
    assert all("ng-roads" in f["properties"]["style"]["className"] for f in data["roads"]["features"])


def test_tooltip_escapes_and_measures() -> None:
    spec: LayerSpec = __import__("layers").CATALOGUE["roads"]
    row = {"seg_id": "R1", "name": "<script>x</script>", "road_class": "arterial", "status": "open", "project": "甲&乙"}
    tip = tooltip_html(spec, row, 1234.5, "zh")
    assert "<script>" not in tip and "&lt;script&gt;x&lt;/script&gt;" in tip
    assert "甲&amp;乙" in tip and "主干路" in tip and "1.234 km" in tip  # 1.2345 rounds half to even
    assert "Length" in tooltip_html(spec, row, 1000.0, "en")


def test_selected_districts_and_search_hits_are_highlighted(sample: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(sample, MapOptions(assets=ASSETS, selected=("220102013",), highlight=(("roads", "R001"),)))
    data = geojson_data(m)
    colours = {f["id"]: f["properties"]["style"]["color"] for f in data["districts"]["features"]}
    assert colours["220102013"] == "#d32f2f" and colours["220102001"] != "#d32f2f"
    road = next(f for f in data["roads"]["features"] if f["id"] == "R001")
    assert road["properties"]["style"]["color"] == "#00e5ff"


def test_gaode_shifts_overlays_to_gcj02(sample: dict[str, gpd.GeoDataFrame]) -> None:
    wgs = geojson_data(build_map(sample, MapOptions(assets=ASSETS, basemap="none")))
    gcj = geojson_data(build_map(sample, MapOptions(assets=ASSETS, basemap="gaode")))
    a = np.array(wgs["facilities"]["features"][0]["geometry"]["coordinates"])
    b = np.array(gcj["facilities"]["features"][0]["geometry"]["coordinates"])
    assert np.allclose(np.array(wgs84_to_gcj02(*a)), b, atol=1e-9)
    # the tooltip measures the same on every basemap
    assert wgs["roads"]["features"][0]["properties"]["tip"] == gcj["roads"]["features"][0]["properties"]["tip"]


def test_empty_layer_keeps_its_toggle() -> None:
    roads = frame("roads", [hline(0, 0, 100)])
    m = build_map(
        {"roads": roads, "pipes": roads.iloc[0:0].rename(columns={"seg_id": "pipe_id"})}, MapOptions(assets=ASSETS)
    )
    html = rendered(m)
    assert '"管线 (0)"' in html and '"道路 (1)"' in html


@pytest.mark.parametrize(("basemap", "n"), [("none", 0), ("osm", 1), ("gaode", 1), ("tianditu_vec", 0)])
def test_basemaps(basemap: str, n: int) -> None:
    assert len(tile_layers(basemap)) == n
    with_key = tile_layers("tianditu_img", "KEY")
    assert len(with_key) == 2 and all("tk=KEY" in t.tiles for t in with_key)


def test_hidden_layers_stay_in_the_control_switched_off(sample: dict[str, gpd.GeoDataFrame]) -> None:
    html = rendered(build_map(sample, MapOptions(assets=ASSETS, visible=("roads",))))
    assert '"管线 (12)"' in html
    legend = json.loads(re.search(r'div\.innerHTML = (".*?");', html).group(1))
    assert '<div data-layer="pipes" style="display:none">' in legend
    assert '<div data-layer="roads"><h4>道路</h4>' in legend


def test_points_are_circle_markers() -> None:
    fac = frame("facilities", [shapely.Point(447700.0, 4857400.0)])
    html = build_map({"facilities": fac}, MapOptions(assets=ASSETS)).get_root().render()
    assert "new L.CircleMarker(latlng, opts)" in html


def legend_of(html: str) -> str:
    return json.loads(re.search(r'div\.innerHTML = (".*?");', html).group(1))


def test_roads_coloured_by_condition_on_request(sample: dict[str, gpd.GeoDataFrame]) -> None:
    colours = {c.code: c.color for c in __import__("layers").CATALOGUE["roads"].field("condition").choices}
    by_status = geojson_data(build_map(sample, MapOptions(assets=ASSETS)))["roads"]["features"]
    m = build_map(sample, MapOptions(assets=ASSETS, colour_by=(("roads", "condition"),)))
    by_condition = geojson_data(m)["roads"]["features"]
    conditions = dict(zip(sample["roads"]["seg_id"], sample["roads"]["condition"], strict=True))
    for feature in by_condition:
        condition = conditions[feature["id"]]
        expected = colours.get(condition, "#666666") if isinstance(condition, str) else "#666666"
        assert feature["properties"]["style"]["color"] == expected
    worn = {f["id"] for f in by_condition if f["properties"]["style"]["color"] == colours["severe"]}
    names = sample["roads"].set_index("seg_id").loc[sorted(worn), "name"]
    assert worn and all(n.startswith(("东岭南街", "清明街")) for n in names)
    assert {f["properties"]["style"]["color"] for f in by_status} >= {"#9e9e9e", "#ff9800", "#2e7d32"}
    legend = legend_of(rendered(m))
    roads = legend[legend.index('data-layer="roads"') :]
    assert "完好" in roads and "轻度破损" in roads and "严重破损" in roads and "无数据" in roads
    assert "规划" in roads  # planned roads stay dashed, and the legend says so


def test_road_tooltip_gives_condition_and_survey_date(sample: dict[str, gpd.GeoDataFrame]) -> None:
    roads = sample["roads"]
    row = roads[roads["name"] == "东岭南街（1段）"].iloc[0]
    tip = tooltip_html(__import__("layers").CATALOGUE["roads"], row, 337.0, "zh")
    assert "<th>路况</th><td>严重破损</td>" in tip and "<th>路况调查日期</th><td>2019-10-15</td>" in tip
    assert "<th>Condition</th><td>Severe damage</td>" in tooltip_html(
        __import__("layers").CATALOGUE["roads"], row, 337.0, "en"
    )


def test_key_areas_are_labelled_clickable_and_drawn_under_the_works(sample: dict[str, gpd.GeoDataFrame]) -> None:
    html = rendered(build_map(sample, MapOptions(assets=ASSETS)))
    for name in sample["areas"]["name"]:
        assert f"<span>{name}</span>" in html
    for name in sample["rivers"]["name"]:
        assert f"<span>{name}</span>" in html
    assert html.count(".bindPopup(") == 1  # the key areas only
    order = [html.index(f'"{label} (') for label in ("街道乡镇", "重点区域", "绿地", "河流", "道路", "水体断面")]
    assert order == sorted(order)
    areas = geojson_data(build_map(sample, MapOptions(assets=ASSETS)))["areas"]["features"]
    tip = next(f["properties"]["tip"] for f in areas if f["id"] == "A08")
    assert "孔子文化园" in tip and "计划原文" in tip and "挖掘文化资源" in tip


def test_labels_escape_hostile_names() -> None:
    areas = frame("areas", [square(0, 0, 500)], name=["<img src=x onerror=alert(1)>"])
    html = rendered(build_map({"areas": areas}, MapOptions(assets=ASSETS)))
    assert "<span>&lt;img src=x onerror=alert(1)&gt;</span>" in html
    assert "<img src=x" not in html
