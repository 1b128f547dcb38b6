"""How far the plan really is: done, under way and planned, now and on a past day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.errors import SourceError
from geo.progress import PROGRESS_COLUMNS, Target, load_targets, monthly_progress, plan_progress

from .common import ROOT, frame, hline, square
from .common import SAMPLE as SAMPLE_PATH

TARGETS = ROOT / "data" / "targets.toml"


def test_sample_roads_done_are_the_open_segments(sample: dict[str, gpd.GeoDataFrame]) -> None:
    roads = sample["roads"]
    open_km = roads[roads["status"] == "open"].to_crs(4551).length.sum() / 1000
    building_km = roads[roads["status"] == "under_construction"].to_crs(4551).length.sum() / 1000
    table = plan_progress(sample, load_targets(TARGETS))
    assert list(table.columns) == list(PROGRESS_COLUMNS)
    assert table.loc["road_segments", ["done", "under_way", "planned"]].tolist() == [32, 24, 40]
    assert table.loc["road_km", "done"] == pytest.approx(open_km, rel=1e-9)
    assert table.loc["road_km", "under_way"] == pytest.approx(building_km, rel=1e-9)
    assert table.loc["road_km", "percent_done"] == pytest.approx(100 * open_km / 38.4, rel=1e-9)
    assert table.loc["road_segments", "percent_done"] == pytest.approx(100 * 32 / 96)
    assert table.loc["rivers", ["in_data", "done"]].tolist() == [2, 2]
    # The intact rate is the plan's goal for the year, not yet met: 东岭南街 and 清明街 await renovation.
    intact = table.loc["road_intact"]
    assert intact["target"] == 98 and intact["measure"] == "pct:intact"
    assert 60 < intact["done"] < 98 and intact["in_data"] == intact["done"]
    assert (intact["under_way"], intact["planned"]) == (0, 0)


def test_intact_rate_target_by_length() -> None:
    roads = frame(
        "roads",
        [hline(0, 0, 600), hline(0, 10, 300), hline(0, 20, 100), hline(0, 30, 1000)],
        condition=["good", "good", "severe", None],
    )
    target = Target("intact", "道路完好率", "Intact", "roads", "pct:intact", 98)
    table = plan_progress({"roads": roads}, [target])
    # (600 + 300) / (600 + 300 + 100); the unsurveyed 1000 m is not in the rate.
    assert table.loc["intact", ["in_data", "done", "planned"]].tolist() == pytest.approx([90.0, 90.0, 0.0])
    assert table.loc["intact", "percent_done"] == pytest.approx(100 * 90 / 98)
    unsurveyed = frame("roads", [hline(0, 0, 600)], condition=[None])
    assert pd.isna(plan_progress({"roads": unsurveyed}, [target]).loc["intact", "done"])


def test_done_under_way_planned_by_hand() -> None:
    roads = frame(
        "roads",
        [hline(0, 0, 1500), hline(0, 10, 500), hline(0, 20, 250)],
        status=["open", "planned", "under_construction"],
    )
    parcels = frame("parcels", [square(0, 0, 100), square(200, 0, 100)], households=[40, 20], resettled=[30, 5])
    targets = [
        Target(
            "km", "路", "Road", "roads", "km", 4.0, done={"status": "open"}, under_way={"status": "under_construction"}
        ),
        Target("rs", "回迁", "Resettled", "parcels", "sum:resettled", 70),
        Target("green", "绿地", "Green", "greenbelt", "ha", 70, done={"status": "existing"}),
    ]
    table = plan_progress({"roads": roads, "parcels": parcels}, targets)
    km = table.loc["km"]
    assert [km["target"], km["in_data"], km["done"], km["under_way"], km["planned"]] == pytest.approx(
        [4, 2.25, 1.5, 0.25, 0.5]
    )
    assert km["percent_done"] == pytest.approx(37.5)
    assert table.loc["rs", ["in_data", "done", "percent_done"]].tolist() == pytest.approx([35, 35, 50])
    assert table.loc["green", ["in_data", "done", "percent_done"]].tolist() == [0, 0, 0]


def test_as_of_rebuilds_the_values_from_the_history() -> None:
    roads = frame("roads", [hline(0, 0, 1000), hline(0, 10, 400)], status=["open", "open"])
    history = pd.DataFrame(
        {
            "change_id": [1, 2, 3],
            "recorded_at": ["2020-10-01T00:00:00Z"] * 3,
            "date": ["2020-09-30", "2020-11-15", "2020-12-01"],
            "by": ["张三", "李四", "李四"],
            "layer": ["roads"] * 3,
            "id": ["R1", "R2", "R2"],
            "field": ["status"] * 3,
            "old": ["under_construction", "planned", "under_construction"],
            "new": ["open", "under_construction", "open"],
            "note": [""] * 3,
        }
    )
    target = [
        Target(
            "km", "路", "Road", "roads", "km", 2.0, done={"status": "open"}, under_way={"status": "under_construction"}
        )
    ]
    now = plan_progress({"roads": roads}, target).loc["km"]
    before = plan_progress({"roads": roads}, target, as_of=dt.date(2020, 9, 29), history=history).loc["km"]
    middle = plan_progress({"roads": roads}, target, as_of=dt.date(2020, 11, 20), history=history).loc["km"]
    assert (now["done"], now["under_way"]) == pytest.approx((1.4, 0))
    assert (before["done"], before["under_way"], before["planned"]) == pytest.approx((0, 1.0, 0.4))
    assert (middle["done"], middle["under_way"]) == pytest.approx((1.0, 0.4))


def test_the_monthly_series_follows_the_history_and_starts_within_the_span() -> None:
    """R1 (1000 m) opened on 2020-09-30, R2 (400 m) on 2020-12-01: done km at each month's end."""
    roads = frame("roads", [hline(0, 0, 1000), hline(0, 10, 400)], status=["open", "open"])
    history = pd.DataFrame(
        {
            "change_id": [1, 2],
            "recorded_at": ["2021-01-01T00:00:00Z"] * 2,
            "date": ["2020-09-30", "2020-12-01"],
            "by": ["张三"] * 2,
            "layer": ["roads"] * 2,
            "id": ["R1", "R2"],
            "field": ["status"] * 2,
            "old": ["planned", "planned"],
            "new": ["open", "open"],
            "note": [""] * 2,
        }
    )
    target = [Target("km", "路", "Road", "roads", "km", 2.0, done={"status": "open"})]
    series = monthly_progress(
        {"roads": roads}, target, history, until=dt.date(2021, 1, 10), not_before=dt.date(1949, 1, 1)
    )
    days = [d.isoformat() for d in series.index]
    assert days == ["2020-09-30", "2020-10-31", "2020-11-30", "2020-12-31", "2021-01-10"]
    assert series["km"].tolist() == pytest.approx([1.0, 1.0, 1.0, 1.4, 1.4])
    # a first change dated before the span does not stretch the series back to it
    early = history.assign(date=["1920-09-30", "2020-12-01"])
    bounded = monthly_progress(
        {"roads": roads}, target, early, until=dt.date(2021, 1, 10), not_before=dt.date(2020, 11, 1)
    )
    assert [d.isoformat() for d in bounded.index] == ["2020-11-30", "2020-12-31", "2021-01-10"]


def test_bad_targets_file(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text("[[target]]\nid = 'x'\nlayer = \n", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid TOML"):
        load_targets(bad)
    head = "[[target]]\nid='x'\nzh='a'\nen='b'\nmeasure='count'\nvalue=2\n"
    bad.write_text(head + "layer='lakes'\n", encoding="utf-8")
    with pytest.raises(SourceError, match="unknown layer 'lakes'"):
        load_targets(bad)
    bad.write_text(head + "layer='roads'\ndone = { status = 'finished' }\n", encoding="utf-8")
    with pytest.raises(SourceError, match="done status = 'finished' is not one of planned, under_construction, open"):
        load_targets(bad)
    bad.write_text(head.replace("'count'", "'pct:smooth'") + "layer='roads'\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"layer 'roads' has no ratio 'pct:smooth' \(it has: pct:intact\)"):
        load_targets(bad)
    with pytest.raises(SourceError, match="cannot read the targets file"):
        load_targets(tmp_path / "missing.toml")


def test_the_sample_carries_its_plan() -> None:
    from geo.sources import source_targets

    assert source_targets(SAMPLE_PATH) == load_targets(TARGETS)


def test_targets_beside_a_source_or_none(tmp_path: Path) -> None:
    from geo.sources import source_targets

    source = tmp_path / "city.gpkg"
    frame("roads", [hline(0, 0, 10)]).to_file(source, layer="roads")
    assert source_targets(source) is None
    (tmp_path / "city.targets.toml").write_text(TARGETS.read_text(encoding="utf-8"), encoding="utf-8")
    assert [t.id for t in source_targets(source)][:2] == ["road_segments", "road_km"]
