"""Validation: one test per kind of problem, and all problems reported at once."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.errors import ValidationError
from geo.validate import conform
from layers import CATALOGUE

from .common import frame, hline, point, square

ROADS = CATALOGUE["roads"]
PARCELS = CATALOGUE["parcels"]


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_valid_frame_passes_and_is_normalised() -> None:
    gdf = frame("roads", [hline(0, 0, 100)], status=["在建"], road_class=["主干路"])
    out = conform(gdf, ROADS)
    assert out.loc[0, "status"] == "under_construction"
    assert out.loc[0, "road_class"] == "arterial"
    assert out.crs == gdf.crs
    assert list(out.columns) == [*ROADS.field_names, "geometry"]


def test_counts_become_integers() -> None:
    out = conform(frame("parcels", [square(0, 0, 100)], households=[12.0], resettled=["3"]), PARCELS)
    assert out["households"].dtype == "Int64" and out.loc[0, "resettled"] == 3


def test_missing_crs() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("roads", [hline(0, 0, 100)], crs=None), ROADS)
    assert messages(exc) == ["roads: has no CRS; name one (for example EPSG:4326)"]


def test_wrong_geometry_type() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("roads", [point(0, 0)]), ROADS)
    assert messages(exc) == ["roads R1 [geometry]: is a Point; this layer takes LineString or MultiLineString"]


def test_invalid_geometry() -> None:
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    with pytest.raises(ValidationError) as exc:
        conform(frame("parcels", [bowtie]), PARCELS)
    assert messages(exc)[0].startswith("parcels D1 [geometry]: invalid geometry: Self-intersection")


def test_empty_geometry() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("roads", [shapely.LineString()]), ROADS)
    assert messages(exc) == ["roads R1 [geometry]: geometry is empty"]


def test_missing_required_field() -> None:
    gdf = frame("roads", [hline(0, 0, 100)]).drop(columns=["road_class"])
    with pytest.raises(ValidationError) as exc:
        conform(gdf, ROADS)
    assert messages(exc) == ["roads [road_class]: required field is missing"]


def test_missing_required_value_but_optional_may_be_empty() -> None:
    gdf = frame("roads", [hline(0, 0, 100)], name=[None], project=[None])
    with pytest.raises(ValidationError) as exc:
        conform(gdf, ROADS)
    assert messages(exc) == ["roads R1 [name]: required value is missing"]


def test_dates_in_register_spellings_become_iso() -> None:
    lines = [hline(0, 0, 100), hline(0, 10, 100), hline(0, 20, 100), hline(0, 30, 100)]
    gdf = frame(
        "roads",
        lines,
        condition=["完好", "轻度破损", "严重破损", None],
        surveyed=["2019/10/5", "2019年10月15日", "20191105", None],
    )
    out = conform(gdf, ROADS)
    assert out["condition"].tolist()[:3] == ["good", "minor", "severe"] and out["condition"].isna().iloc[3]
    assert out["surveyed"].tolist()[:3] == ["2019-10-05", "2019-10-15", "2019-11-05"]


def test_impossible_dates_are_refused() -> None:
    gdf = frame("roads", [hline(0, 0, 100), hline(0, 10, 100)], surveyed=["2019-02-30", "last autumn"])
    with pytest.raises(ValidationError) as exc:
        conform(gdf, ROADS)
    assert messages(exc) == [
        "roads R1 [surveyed]: '2019-02-30' is not a date (YYYY-MM-DD)",
        "roads R2 [surveyed]: 'last autumn' is not a date (YYYY-MM-DD)",
    ]


def test_value_outside_allowed_set() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("pipes", [hline(0, 0, 100)], utility=["sewage"]), CATALOGUE["pipes"])
    assert messages(exc) == [
        "pipes P1 [utility]: 'sewage' is not one of water, power, heat, gas, telecom (or their Chinese names)"
    ]


def test_negative_count() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("parcels", [square(0, 0, 100)], households=[-1]), PARCELS)
    assert messages(exc) == ["parcels D1 [households]: -1 is below the minimum 0"]


def test_non_integer_count() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("parcels", [square(0, 0, 100)], households=[10.5]), PARCELS)
    assert messages(exc) == ["parcels D1 [households]: 10.5 is not a whole number"]


def test_non_numeric_count() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("parcels", [square(0, 0, 100)], households=["many"]), PARCELS)
    assert messages(exc) == ["parcels D1 [households]: 'many' is not a number"]


def test_resettled_above_households() -> None:
    with pytest.raises(ValidationError) as exc:
        conform(frame("parcels", [square(0, 0, 100)], households=[10], resettled=[11]), PARCELS)
    assert messages(exc) == ["parcels D1 [resettled]: resettled (11) exceeds households (10)"]


def test_duplicate_ids() -> None:
    gdf = frame("roads", [hline(0, 0, 100), hline(0, 10, 100), hline(0, 20, 100)], seg_id=["A", "A", "B"])
    with pytest.raises(ValidationError) as exc:
        conform(gdf, ROADS)
    assert messages(exc) == ["roads A [seg_id]: duplicate id"]


def test_missing_id_is_named_by_row() -> None:
    gdf = frame("roads", [hline(0, 0, 100), hline(0, 10, 100)], seg_id=["A", None])
    with pytest.raises(ValidationError) as exc:
        conform(gdf, ROADS)
    assert messages(exc) == ["roads #2 [seg_id]: required value is missing"]


def test_every_problem_is_reported_at_once() -> None:
    gdf = frame(
        "parcels",
        [square(0, 0, 100), point(0, 0), square(200, 0, 50)],
        parcel_id=["D1", "D1", "D3"],
        kind=["shantytown", "castle", "征收"],
        households=[5, 5, -2],
        resettled=[9, 0, 0],
    )
    with pytest.raises(ValidationError) as exc:
        conform(gdf, PARCELS)
    assert len(exc.value.problems) == 5
    assert {(p.feature, p.field) for p in exc.value.problems} == {
        ("D1", "geometry"),
        ("D1", "kind"),
        ("D3", "households"),
        ("D1", "resettled"),
        ("D1", "parcel_id"),
    }
    assert str(exc.value).startswith("5 problems found: ")
    assert isinstance(exc.value, ValueError)


def test_input_is_not_changed() -> None:
    gdf = frame("roads", [hline(0, 0, 100)], status=["规划"])
    conform(gdf, ROADS)
    assert gdf.loc[0, "status"] == "规划"
    assert isinstance(gdf, gpd.GeoDataFrame)
