"""Every label the page shows comes from the catalogue, in both languages."""

from __future__ import annotations

import pytest

from geo.stats import stats_columns
from layers.labels import UI, column_label, row_label, text


@pytest.mark.parametrize(
    ("column", "zh", "en"),
    [
        ("district_code", "区划代码", "Admin code"),
        ("roads_km", "道路 (km)", "Roads (km)"),
        ("roads_count", "道路数", "Roads count"),
        ("pipes_km_heat", "管线·供热 (km)", "Pipelines·Heat (km)"),
        ("roads_km_under_construction", "道路·在建 (km)", "Roads·Under construction (km)"),
        ("parcels_ha_old_community", "更新地块·老旧小区 (ha)", "Renewal parcels·Old community (ha)"),
        ("households", "户数", "Households"),
        ("facilities_pump_station", "公共设施·二次供水泵站", "Facilities·Pump station"),
    ],
)
def test_column_labels(column: str, zh: str, en: str) -> None:
    assert (column_label(column, "zh"), column_label(column, "en")) == (zh, en)


def test_every_statistics_column_has_distinct_labels() -> None:
    for lang in ("zh", "en"):
        labels = [column_label(c, lang) for c in stats_columns()]
        assert len(set(labels)) == len(labels)


def test_every_ui_string_in_both_languages() -> None:
    for key, (zh, en) in UI.items():
        assert (zh and en and zh != en) or key == "title", key
    assert text("search_found", "en", n=3) == "Found 3 features; the map shows them"


def test_row_labels() -> None:
    assert row_label("TOTAL", "合计", "en") == "Total"
    assert row_label("OUTSIDE", "区外", "zh") == "区外"
    assert row_label("220102001", "南岭街道", "en") == "南岭街道"


def test_progress_cards() -> None:
    import pandas as pd

    from layers.labels import progress_cards

    frame = pd.DataFrame(
        [
            ("路", "Roads", "公里", "km", 38.4, 38.4, 13.0812, 8.6, 16.7188, 34.065),
            ("户", "HH", "户", "hh", 278, 1240120, 1240120, 0, 0, 446086.3),
            ("井", "Wells", "口", "wells", 0, 0, 0, 0, 0, float("nan")),
        ],
        columns=[
            "label_zh",
            "label_en",
            "unit_zh",
            "unit_en",
            "target",
            "in_data",
            "done",
            "under_way",
            "planned",
            "percent_done",
        ],
    )
    roads, households, wells = progress_cards(frame, "zh")
    assert (roads.value, roads.delta, roads.met) == ("13.08 公里", "34%", False)
    assert roads.note == "目标 38.40 · 在建 8.60 · 规划 16.72"
    assert (households.value, households.delta, households.met) == ("1,240,120 户", "446086%", True)
    assert households.note == "目标 278"
    assert wells.delta == ""
    assert progress_cards(frame, "en")[0].label == "Roads"
    assert progress_cards(frame, "en")[0].note == "Target 38.40 · under way 8.60 · planned 16.72"
