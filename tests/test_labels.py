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
            ("路", "Roads", "公里", "km", 38.4, 38.4 + 5e-13, 5e-13, 100.0),
            ("户", "HH", "户", "hh", 278, 250, -28, 89.9),
        ],
        columns=["label_zh", "label_en", "unit_zh", "unit_en", "target", "actual", "difference", "percent"],
    )
    met, short = progress_cards(frame, "zh")
    assert (met.value, met.delta, met.met, met.note) == ("38.4 公里", "+0", True, "目标 38.4 · 100%")
    assert (short.value, short.delta, short.met) == ("250 户", "-28", False)
    assert progress_cards(frame, "en")[0].label == "Roads"


def test_a_rate_target_is_a_floor_shown_in_percent() -> None:
    import pandas as pd

    from layers.labels import progress_cards

    frame = pd.DataFrame(
        [
            ("道路完好率", "Road intact rate", "%", "%", 98.0, 69.39, -28.61, 70.8),
            ("道路完好率", "Road intact rate", "%", "%", 98.0, 99.1, 1.1, 101.1),
        ],
        columns=["label_zh", "label_en", "unit_zh", "unit_en", "target", "actual", "difference", "percent"],
    )
    below, above = progress_cards(frame, "zh")
    assert (below.value, below.delta, below.met, below.note) == ("69.39 %", "-28.61", False, "目标 98 %")
    assert above.met and above.note == "目标 98 %"
    assert progress_cards(frame, "en")[0].note == "Target 98 %"
