"""Filtering by district and attribute, and finding features by name."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.filters import Filter, apply_filter, find_features
from geo.stats import TOTAL, district_stats, select_districts

from .common import frame, hline, square

DISTRICTS = frame("districts", [square(0, 0, 1000), square(1000, 0, 1000)], code=["A", "B"], name=["甲", "乙"])
ROADS = frame(
    "roads",
    [hline(100, 100, 200), hline(700, 500, 1000), hline(1500, 100, 100)],
    status=["open", "planned", "open"],
    name=["一路", "二路", "三路"],
)


def layers() -> dict[str, gpd.GeoDataFrame]:
    return {"districts": DISTRICTS, "roads": ROADS}


def test_attribute_filter() -> None:
    out = apply_filter(layers(), Filter(values=(("roads", "status", ("open",)),)))
    assert out["roads"]["seg_id"].tolist() == ["R1", "R3"]
    assert len(out["districts"]) == 2


def test_district_filter_keeps_features_meeting_the_district_whole() -> None:
    out = apply_filter(layers(), Filter(districts=("A",)))
    assert out["districts"]["code"].tolist() == ["A"]
    assert out["roads"]["seg_id"].tolist() == ["R1", "R2"]
    assert out["roads"].length.iloc[1] == pytest.approx(1000)


def test_district_filter_across_crs() -> None:
    data = {"districts": DISTRICTS.to_crs(4326), "roads": ROADS}
    assert apply_filter(data, Filter(districts=("B",)))["roads"]["seg_id"].tolist() == ["R2", "R3"]


def test_filter_is_active_only_when_it_drops_something() -> None:
    assert not Filter().active
    assert not Filter(values=(("roads", "status", ("planned", "under_construction", "open")),)).active
    assert Filter(values=(("roads", "status", ("open",)),)).active
    assert Filter(districts=("A",)).active


def test_selected_rows_with_their_own_total() -> None:
    table = select_districts(district_stats(layers()), ("B",))
    assert table.index.tolist() == ["B", TOTAL]
    assert table.loc[TOTAL, "roads_km"] == pytest.approx(0.8)
    assert table.loc[TOTAL, "roads_count"] == 2 and table["roads_count"].dtype == "int64"


def test_find_by_name_is_case_insensitive_and_ordered() -> None:
    hits = find_features({**layers(), "pipes": frame("pipes", [hline(0, 0, 5)], name=["二路 Water main"])}, "二路")
    assert [(h.layer, h.id) for h in hits] == [("roads", "R2"), ("pipes", "P1")]
    assert find_features(layers(), "  ") == []
    assert [h.id for h in find_features({"pipes": frame("pipes", [hline(0, 0, 5)], name=["Water"])}, "wATer")] == ["P1"]


def test_a_layer_without_names_is_searched_past() -> None:
    """A layer whose spec has no ``name`` field: the search finds the others' (it raised KeyError)."""
    unnamed = ROADS.drop(columns=["name"])
    pipes = frame("pipes", [hline(0, 0, 5)], name=["二路 Water main"])
    assert [(h.layer, h.id) for h in find_features({"roads": unnamed, "pipes": pipes}, "二路")] == [("pipes", "P1")]
