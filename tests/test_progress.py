"""The plan's figures against the data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from geo.errors import SourceError
from geo.progress import Target, load_targets, plan_progress

from .common import ROOT, frame, hline, square

TARGETS = ROOT / "data" / "targets.toml"


def test_sample_meets_every_2020_figure(sample: dict[str, gpd.GeoDataFrame]) -> None:
    table = plan_progress(sample, load_targets(TARGETS))
    assert table.loc["road_segments", "actual"] == 96
    assert table.loc["road_km", "actual"] == pytest.approx(38.4, abs=0.05)
    assert table.loc["pipe_km", "actual"] == pytest.approx(15.5, abs=0.05)
    assert table.loc["resettled", "actual"] == 278
    assert table.loc["renmin_green_ha", "actual"] == pytest.approx(70, rel=0.005)
    assert table.loc["pump_stations", "actual"] == 109
    assert table.loc["schools", "actual"] == 3
    assert table.loc["rivers", "actual"] == 2
    figures = table.drop(index="road_intact")
    assert figures["percent"].round(1).eq(100.0).all()
    # The intact rate is the plan's goal for the year, not yet met: 东岭南街 and 清明街 await renovation.
    assert table.loc["road_intact", "target"] == 98
    assert 60 < table.loc["road_intact", "actual"] < 98


def test_intact_rate_target_by_length() -> None:
    roads = frame(
        "roads",
        [hline(0, 0, 600), hline(0, 10, 300), hline(0, 20, 100), hline(0, 30, 1000)],
        condition=["good", "good", "severe", None],
    )
    target = Target("intact", "道路完好率", "Intact", "roads", "pct:intact", 98)
    table = plan_progress({"roads": roads}, [target])
    # (600 + 300) / (600 + 300 + 100); the unsurveyed 1000 m is not in the rate.
    assert table.loc["intact", ["actual", "difference"]].tolist() == pytest.approx([90.0, -8.0])
    with pytest.raises(SourceError, match="has no ratio 'smooth'"):
        plan_progress({"roads": roads}, [Target("x", "x", "x", "roads", "pct:smooth", 1)])


def test_difference_and_percent() -> None:
    roads = frame("roads", [hline(0, 0, 1500), hline(0, 10, 500)], status=["open", "planned"])
    parcels = frame("parcels", [square(0, 0, 100)], households=[40], resettled=[30])
    targets = [
        Target("km", "路", "Road", "roads", "km", 4.0),
        Target("open", "通车", "Open", "roads", "count", 2, where={"status": "open"}),
        Target("rs", "回迁", "Resettled", "parcels", "sum:resettled", 60),
        Target("green", "绿地", "Green", "greenbelt", "ha", 70),
    ]
    table = plan_progress({"roads": roads, "parcels": parcels}, targets)
    assert table.loc["km", ["target", "actual", "difference", "percent"]].tolist() == pytest.approx([4, 2, -2, 50])
    assert table.loc["open", "actual"] == 1
    assert table.loc["rs", "percent"] == pytest.approx(50)
    assert table.loc["green", "actual"] == 0


def test_bad_targets_file(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text("[[target]]\nid = 'x'\nlayer = \n", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid TOML"):
        load_targets(bad)
    bad.write_text("[[target]]\nid='x'\nzh='a'\nen='b'\nlayer='lakes'\nmeasure='count'\nvalue=2\n", encoding="utf-8")
    with pytest.raises(SourceError, match="unknown layer 'lakes'"):
        load_targets(bad)
    with pytest.raises(SourceError, match="cannot read the targets file"):
        load_targets(tmp_path / "missing.toml")
