"""The drawing control and the impact and conflict layers added to the map."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from display.draw import Overlay, add_overlay, conflict_table, drawn_area, impact_figures, impact_table
from display.mapbuild import build_map
from geo.conflicts import find_conflicts
from geo.impact import impact

from .common import METRIC, X0, Y0, frame, hline, point, square


def small() -> dict[str, gpd.GeoDataFrame]:
    return {
        "districts": frame("districts", [square(0, 0, 1000)]),
        "greenbelt": frame("greenbelt", [square(0, 0, 100)]),
        "parcels": frame("parcels", [square(50, 0, 100)], name=["<img src=x onerror=alert(1)>"]),
    }


def test_the_control_and_layers_are_in_the_page_and_in_the_layer_control() -> None:
    layers = small()
    result = impact(layers, gpd.GeoSeries([shapely.box(X0 + 60, Y0, X0 + 90, Y0 + 50)], crs=METRIC))
    overlay = Overlay("zh", False, result, result.touched(layers), find_conflicts(layers), False, None)
    page = add_overlay(build_map(layers), overlay).get_root().render()
    assert "window.drawnItems = drawn" in page and 'map.fire("draw:created"' in page
    assert json.dumps("画多边形")[1:-1] in page and "ng-area" in page and "ng-touched" in page and "ng-conflict" in page
    assert all(json.dumps(name)[1:-1] in page for name in ("规划冲突 (1)", "分析范围"))
    assert "<img src=x" not in page and "\\u0026lt;img src=x" in page  # escaped, then JSON-encoded
    # both groups are listed in a layer control of their own, so each can be switched
    assert page.count("map._ngExtraControl.addOverlay(group, label)") == 2


def test_drawn_area_takes_the_last_shape() -> None:
    first = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [125.3, 43.8]}}
    last = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [125.4, 43.9]}}
    assert drawn_area([first, last]) == '{"type": "Point", "coordinates": [125.4, 43.9]}'
    assert drawn_area([]) is None and drawn_area(None) is None


def test_tables_for_people() -> None:
    layers = small()
    result = impact(layers, gpd.GeoSeries([shapely.box(X0 + 60, Y0, X0 + 90, Y0 + 50)], crs=METRIC))
    table = impact_table(result.features, "zh")
    parcel = table[table["图层"] == "更新地块"].iloc[0]
    assert (parcel["类别"], parcel["单位"]) == ("棚户区", "ha")
    assert parcel["范围内"] == 0.15 and parcel["比例 %"] == 15.0
    conflicts = conflict_table(find_conflicts(layers), "en")
    assert conflicts.iloc[0].tolist() == [
        "Planned or expropriating parcel on greenbelt",
        "Renewal parcels",
        "D1",
        "Greenbelt",
        "G1",
        5000.0,
        "m²",
    ]


def test_impact_figures_are_the_ones_the_layers_declare() -> None:
    layers = {
        **small(),
        "roads": frame("roads", [hline(0, 25, 200)]),
        "facilities": frame("facilities", [point(70, 10), point(500, 500)]),
    }
    result = impact(layers, gpd.GeoSeries([shapely.box(X0 + 60, Y0, X0 + 90, Y0 + 50)], crs=METRIC))  # 1,500 m²
    shown = [(f.label, f.value, f.note) for f in impact_figures(result, "zh")]
    assert shown == [
        ("范围面积", "0.15 ha", None),
        ("重点区域", "0 · 0.00 ha", None),
        ("绿地", "0.15 ha", None),
        ("更新地块", "1 · 0.15 ha", None),
        ("涉及户数（按面积比例）", "2", "整块地块合计 10 户"),  # 15 % of 10 households, 1.5 rounded half up
        ("回迁户数（按面积比例）", "0", "整块地块合计 0 户"),
        ("河流", "0.000 km", None),
        ("道路", "0.030 km", None),
        ("管线", "0.000 km", None),
        ("公共设施", "1", None),
        ("水体断面", "0", None),
    ]
    assert impact_figures(result, "en")[4].label == "Households (by area share)"


def test_touched_features_without_names_are_drawn_by_their_ids() -> None:
    layers = {**small(), "roads": frame("roads", [hline(0, 25, 200)]).drop(columns="name")}
    result = impact(layers, gpd.GeoSeries([shapely.box(X0 + 60, Y0, X0 + 90, Y0 + 50)], crs=METRIC))
    overlay = Overlay("zh", False, result, result.touched(layers), None, False, None)
    page = add_overlay(build_map(layers), overlay).get_root().render()
    # the touched road's tooltip is titled by its id (escaped, then JSON-encoded)
    assert "\\u003cb\\u003eR1\\u003c/b\\u003e" in page
