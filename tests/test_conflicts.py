"""Plan-conflict checks on a small constructed dataset whose overlaps are known by hand."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pytest
import shapely

from geo.conflicts import COLUMNS, RULES, Rule, Side, find_conflicts, rule_for

from .common import X0, Y0, frame, hline, point, square
from .test_cli import run


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "districts": frame("districts", [square(-100, -100, 500)]),
        "greenbelt": frame("greenbelt", [square(0, 0, 100)]),
        "parcels": frame(
            "parcels",
            [square(50, 0, 100), square(200, 0, 100), square(0, 50, 100), square(100, 0, 100)],
            status=["planned", "expropriating", "resettled", "planned"],
            kind=["shantytown", "expropriation", "shantytown", "shantytown"],
        ),
        "pipes": frame("pipes", [hline(150, 50, 200), hline(150, 60, 200)], status=["under_construction", "complete"]),
        "facilities": frame(
            "facilities",
            [point(250, 50), point(260, 60), point(20, 20), point(210, 10)],
            kind=["school", "hospital", "pump_station", "pump_station"],
        ),
        "roads": frame(
            "roads",
            [shapely.LineString([(X0 + 30, Y0 - 50), (X0 + 30, Y0 + 150)])] * 2,
            status=["planned", "open"],
        ),
    }


def test_each_check_finds_its_known_overlap(layers: dict) -> None:
    found = find_conflicts(layers)
    assert list(found.columns) == [*COLUMNS, "geometry"]
    rows = [(r.kind, r.id_a, r.id_b, r.unit) for r in found.itertuples()]
    assert rows == [
        ("parcel_on_greenbelt", "D1", "G1", "m2"),  # D3 is resettled, D4 only shares an edge
        ("road_through_greenbelt", "R1", "G1", "m"),
        ("pipe_under_expropriation", "P1", "D2", "m"),
        ("facility_in_expropriation", "F1", "D2", "count"),
        ("facility_in_expropriation", "F4", "D2", "count"),
    ]
    assert found["overlap"].tolist() == pytest.approx([5000.0, 100.0, 100.0, 1.0, 1.0])
    assert found.crs.to_epsg() == 4551
    assert found.geometry.iloc[0].symmetric_difference(shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 100)).area < 1e-6


def test_the_same_answer_from_layers_in_wgs84(layers: dict) -> None:
    found = find_conflicts({n: g.to_crs(4326) for n, g in layers.items()})
    assert found["overlap"].tolist() == pytest.approx([5000.0, 100.0, 100.0, 1.0, 1.0], rel=1e-6)


def test_rules_are_data(layers: dict) -> None:
    hospitals = Rule(
        "hospital_in_parcel",
        "医院在地块内",
        "Hospital in a parcel",
        Side("facilities", "kind", ("hospital",)),
        Side("parcels"),
        "count",
    )
    found = find_conflicts(layers, rules=(hospitals,))
    assert [(r.id_a, r.id_b) for r in found.itertuples()] == [("F2", "D2")]
    # declared by the layer of side a, in catalogue (drawing) order
    assert [r.kind for r in RULES] == [
        "parcel_on_greenbelt",
        "road_through_greenbelt",
        "pipe_under_expropriation",
        "facility_in_expropriation",
    ]
    assert rule_for("road_through_greenbelt").b == Side("greenbelt", "status", ("existing",))


def test_no_conflicts_and_missing_layers(layers: dict) -> None:
    found = find_conflicts({"districts": layers["districts"], "roads": layers["roads"]})
    assert found.empty and list(found.columns) == [*COLUMNS, "geometry"]


def test_rule_codes_exist_in_the_catalogue() -> None:
    from layers import CATALOGUE

    for rule in RULES:
        for side in (rule.a, rule.b):
            if side.field is not None:
                assert set(side.codes) <= set(CATALOGUE[side.layer].field(side.field).codes), rule.kind


def test_cli_conflicts_as_csv_and_json(layers: dict, tmp_path) -> None:
    source = tmp_path / "small.gpkg"
    for name, gdf in layers.items():
        gdf.to_crs(4326).to_file(source, layer=name, driver="GPKG")
    result = run("conflicts", str(source), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["kind"], r["id_a"], r["id_b"]) for r in rows][:2] == [
        ("parcel_on_greenbelt", "D1", "G1"),
        ("road_through_greenbelt", "R1", "G1"),
    ]
    assert float(rows[0]["overlap"]) == pytest.approx(5000.0, rel=1e-6)
    records = json.loads(run("conflicts", str(source), "--format", "json").stdout)
    assert len(records) == 5 and records[1] == {
        "kind": "road_through_greenbelt",
        "layer_a": "roads",
        "id_a": "R1",
        "layer_b": "greenbelt",
        "id_b": "G1",
        "overlap": pytest.approx(100.0, rel=1e-6),
        "unit": "m",
    }
