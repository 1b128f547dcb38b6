"""The drawing control and the impact and conflict layers added to the map."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from display.draw import Overlay, add_overlay, conflict_table, drawn_area, impact_table
from display.mapbuild import build_map
from geo.conflicts import find_conflicts
from geo.impact import impact

from .common import METRIC, X0, Y0, frame, square


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
