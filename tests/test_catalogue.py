"""The layer catalogue: the data contract every import and export follows."""

from __future__ import annotations

import dataclasses

import pytest

from layers import CATALOGUE, LAYER_NAMES, _check_conflicts, spec_for
from layers.spec import Conflict, FieldSpec, Figure, Pick

EXPECTED_FIELDS = {
    "districts": ("code", "name", "kind"),
    "roads": ("seg_id", "name", "road_class", "status", "project", "condition", "surveyed"),
    "pipes": ("pipe_id", "name", "utility", "status", "diam_mm"),
    "parcels": ("parcel_id", "name", "kind", "status", "households", "resettled"),
    "greenbelt": ("green_id", "name", "kind", "status"),
    "facilities": ("fac_id", "name", "kind", "status"),
    "rivers": ("river_id", "name", "kind"),
    "monitoring_points": ("mon_id", "name", "river", "wq_class", "sampled"),
    "areas": ("area_id", "name", "kind", "quote"),
}


def test_nine_layers_in_drawing_order() -> None:
    assert LAYER_NAMES == (
        "districts",
        "areas",
        "greenbelt",
        "parcels",
        "rivers",
        "roads",
        "pipes",
        "facilities",
        "monitoring_points",
    )


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_fields_match_the_contract(layer: str) -> None:
    spec = CATALOGUE[layer]
    assert spec.field_names == EXPECTED_FIELDS[layer]
    assert spec.id_field == spec.field_names[0]


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_names_fit_a_shapefile_and_labels_exist(layer: str) -> None:
    spec = CATALOGUE[layer]
    assert spec.zh and spec.en and spec.zh != spec.en
    for f in spec.fields:
        assert f.name.isascii() and len(f.name) <= 10
        assert f.zh and f.en
        for c in f.choices:
            assert c.code.isascii() or layer == "districts"
            assert c.zh and c.en and c.color.startswith("#") and len(c.color) == 7


@pytest.mark.parametrize(
    ("layer", "field", "codes"),
    [
        ("roads", "road_class", ("arterial", "collector", "local")),
        ("roads", "status", ("planned", "under_construction", "open")),
        ("pipes", "utility", ("water", "power", "heat", "gas", "telecom")),
        ("pipes", "status", ("planned", "under_construction", "complete")),
        ("parcels", "kind", ("shantytown", "expropriation", "old_community")),
        ("parcels", "status", ("planned", "expropriating", "under_construction", "resettled")),
        ("greenbelt", "kind", ("park", "roadside", "waterfront", "protective")),
        ("greenbelt", "status", ("existing", "planned", "adjusted")),
        ("facilities", "kind", ("pump_station", "school", "hospital", "library", "other")),
        ("facilities", "status", ("existing", "planned", "under_construction")),
        ("districts", "kind", ("街道", "镇", "乡", "区")),
        ("roads", "condition", ("good", "minor", "severe")),
        ("rivers", "kind", ("main", "tributary")),
        ("monitoring_points", "wq_class", ("I", "II", "III", "IV", "V", "worse_v")),
        ("areas", "kind", ("commercial", "showcase", "culture", "finance", "landmark", "waterfront", "reserve")),
    ],
)
def test_allowed_values(layer: str, field: str, codes: tuple[str, ...]) -> None:
    assert CATALOGUE[layer].field(field).codes == codes


@pytest.mark.parametrize(
    ("layer", "field", "word", "code"),
    [
        ("roads", "status", "规划", "planned"),
        ("roads", "status", "在建", "under_construction"),
        ("roads", "status", "已通车", "open"),
        ("roads", "status", "已建", "open"),
        ("pipes", "status", "已建", "complete"),
        ("facilities", "status", "已建", "existing"),
        ("pipes", "utility", "供水", "water"),
        ("pipes", "utility", "电力", "power"),
        ("pipes", "utility", "供热", "heat"),
        ("pipes", "utility", "燃气", "gas"),
        ("pipes", "utility", "通信", "telecom"),
        ("parcels", "kind", "棚户区", "shantytown"),
        ("parcels", "kind", "征收", "expropriation"),
        ("parcels", "kind", "老旧小区", "old_community"),
        ("roads", "status", " Planned ", "planned"),
        ("roads", "condition", "完好", "good"),
        ("roads", "condition", "轻度破损", "minor"),
        ("roads", "condition", "严重破损", "severe"),
        ("roads", "condition", "良好", "good"),
        ("monitoring_points", "wq_class", "Ⅲ类", "III"),
        ("monitoring_points", "wq_class", "4", "IV"),
        ("monitoring_points", "wq_class", "劣Ⅴ类", "worse_v"),
        ("areas", "kind", "商圈", "commercial"),
        ("areas", "kind", "示范区", "showcase"),
        ("areas", "kind", "储备用地", "reserve"),
    ],
)
def test_chinese_aliases(layer: str, field: str, word: str, code: str) -> None:
    assert CATALOGUE[layer].field(field).alias_map()[word.strip().lower()] == code


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_aliases_are_unambiguous_within_a_field(layer: str) -> None:
    for f in CATALOGUE[layer].fields:
        seen: dict[str, str] = {}
        for c in f.choices:
            for spelling in {c.code, c.zh, c.en, *c.aliases}:
                key = spelling.strip().lower()
                assert seen.setdefault(key, c.code) == c.code, f"{layer}.{f.name}: {spelling!r} means two codes"


def test_labels_in_both_languages() -> None:
    status = spec_for("roads").field("status")
    assert status.value_label("open", "zh") == "已通车"
    assert status.value_label("open", "en") == "Open"
    assert status.value_label("unknown", "zh") == "unknown"
    assert spec_for("pipes").label("zh") == "管线"


def test_unknown_layer_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known layers: districts, areas, greenbelt"):
        spec_for("lakes")


def test_dates_are_text() -> None:
    with pytest.raises(ValueError, match="stored as text"):
        FieldSpec("surveyed", "int", "日期", "Date", date=True)


def test_long_field_names_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 10 characters"):
        FieldSpec("households_total", "int", "户", "HH")


def test_every_measured_layer_declares_impact_figures() -> None:
    """The impact panel shows what each layer declares; the units alone declare none."""
    assert [n for n, spec in CATALOGUE.items() if not spec.impact] == ["districts"]
    assert [f.of for f in CATALOGUE["parcels"].impact] == ["measure", "households", "resettled"]


def test_an_impact_figure_must_be_a_count_a_measure_or_a_sum() -> None:
    with pytest.raises(ValueError, match="'diam_mm' is not count, measure or a sum"):
        dataclasses.replace(CATALOGUE["pipes"], impact=(Figure("diam_mm"),))
    with pytest.raises(ValueError, match="a point layer's impact figure is its count"):
        dataclasses.replace(CATALOGUE["facilities"], impact=(Figure("measure"),))


def test_conflicts_are_checked_against_both_layers() -> None:
    wrong_code = Conflict("x", "x", "x", Pick("status", ("closed",)), "greenbelt", Pick(), "length")
    with pytest.raises(ValueError, match="conflict 'x'"):
        dataclasses.replace(CATALOGUE["roads"], conflicts=(wrong_code,))
    for other, pick, measure, message in (
        ("lakes", Pick(), "length", "names no layer 'lakes'"),
        ("greenbelt", Pick("status", ("open",)), "length", "are not codes of 'greenbelt'"),
        ("greenbelt", Pick(), "area", "roads \\(lines\\) and greenbelt \\(polygons\\) have no area of overlap"),
    ):
        roads = dataclasses.replace(
            CATALOGUE["roads"], conflicts=(Conflict("x", "x", "x", Pick(), other, pick, measure),)
        )
        with pytest.raises(ValueError, match=message):
            _check_conflicts({**CATALOGUE, "roads": roads})


def test_a_chart_is_the_layers_km_or_ha_or_one_of_its_sums() -> None:
    with pytest.raises(ValueError, match="chart 'diam_mm'"):
        dataclasses.replace(CATALOGUE["pipes"], charts=("diam_mm",))
    with pytest.raises(ValueError, match="chart 'measure'"):
        dataclasses.replace(CATALOGUE["facilities"], charts=("measure",))
