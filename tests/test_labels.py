"""Every label the page shows comes from the catalogue, in both languages."""

from __future__ import annotations

import pytest

from display.labels import UI, text
from geo.labels import column_label, row_label
from geo.stats import stats_columns


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

    from display.labels import progress_cards

    frame = pd.DataFrame(
        [
            ("路", "Roads", "公里", "km", "km", 38.4, 38.4, 13.0812, 8.6, 16.7188, 34.065),
            ("户", "HH", "户", "hh", "sum:resettled", 278, 1240120, 1240120, 0, 0, 446086.3),
            ("井", "Wells", "口", "wells", "count", 0, 0, 0, 0, 0, float("nan")),
            ("段", "Segments", "段", "segments", "count", 96, 50_000, 50_000, 0, 0, 52_083.3),
        ],
        columns=[
            "label_zh",
            "label_en",
            "unit_zh",
            "unit_en",
            "measure",
            "target",
            "in_data",
            "done",
            "under_way",
            "planned",
            "percent_done",
        ],
    )
    roads, households, wells, segments = progress_cards(frame, "zh")
    assert (roads.value, roads.delta, roads.met) == ("13.1 公里", "34%", False)
    assert roads.note == "目标 38.4 公里 · 在建 8.6 · 规划 16.7"
    assert (households.value, households.delta, households.met) == ("1,240,120 户", "446,086%", True)
    assert households.note == "目标 278 户"
    assert wells.delta == "—"
    assert (segments.value, segments.delta) == ("50,000 段", "52,083%")
    assert progress_cards(frame, "en")[0].label == "Roads"
    assert progress_cards(frame, "en")[0].note == "Target 38.4 km · under way 8.6 · planned 16.7"


def test_a_rate_target_is_a_floor_shown_in_percent() -> None:
    import pandas as pd

    from display.labels import progress_cards

    columns = ["label_zh", "label_en", "unit_zh", "unit_en", "measure", "target", "in_data", "done", "under_way"]
    frame = pd.DataFrame(
        [
            ("道路完好率", "Road intact rate", "%", "%", "pct:intact", 98.0, 69.39, 69.39, 0.0, 0.0, 70.8),
            ("道路完好率", "Road intact rate", "%", "%", "pct:intact", 98.0, 99.1, 99.1, 0.0, 0.0, 101.1),
            ("道路完好率", "Road intact rate", "%", "%", "pct:intact", 98.0, float("nan"), float("nan"), 0, 0, 0),
        ],
        columns=[*columns, "planned", "percent_done"],
    )
    below, above, unsurveyed = progress_cards(frame, "zh")
    assert (below.value, below.delta, below.met, below.note) == ("69.4 %", "-28.6", False, "目标 98.0 %")
    assert (above.value, above.delta, above.met) == ("99.1 %", "+1.1", True)
    assert (unsurveyed.value, unsurveyed.delta, unsurveyed.met) == ("—", "—", False)
    assert progress_cards(frame, "en")[0].note == "Target 98.0 %"


def test_progress_html_escapes_and_wraps() -> None:
    from display.labels import Card, progress_html

    page = progress_html([Card("x", "<b>路</b>", "1 段", "100%", True, "目标 1 段")])
    assert "&lt;b&gt;路&lt;/b&gt;" in page and "<b>" not in page
    assert "overflow-wrap:anywhere" in page and 'data-state="met"' in page


def test_source_title() -> None:
    from display.labels import source_title

    info = {"title_zh": "南关城市更新一张图", "subtitle_zh": "2020 年计划"}
    assert source_title(info, "nanguan.gpkg", "zh") == ("南关城市更新一张图", "2020 年计划")
    assert source_title({}, "city.gpkg", "zh") == ("城市更新一张图", "city.gpkg")
    assert source_title(info, "nanguan.gpkg", "en") == ("Urban-renewal map", "nanguan.gpkg")
