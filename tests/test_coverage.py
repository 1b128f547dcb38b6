"""Sub-districts as a coverage: overlaps refused by the command line, gaps and slivers warned.

The boundary cases of the statistics go through ``python -m geo stats … --format csv``, as a
GIS user would run them, against figures worked out by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.coverage import coverage_issues

from .common import X0, Y0, frame, square
from .test_cli import run


def with_vertex_at_half(square_: shapely.Polygon) -> shapely.Polygon:
    """The square with a vertex in the middle of each side, as digitising along a road leaves."""
    ring = shapely.segmentize(square_.exterior, max_segment_length=square_.length / 8)
    return shapely.Polygon(ring)


# A is x 0..1000, B is x 1000..2000 (metres): their shared edge is x = 1000. The files store
# lon/lat, so a road shares the edge exactly where it shares the edge's vertices, as a road
# traced from (or snapped to) the boundary does.
DISTRICTS = frame(
    "districts",
    [with_vertex_at_half(square(0, 0, 1000)), with_vertex_at_half(square(1000, 0, 1000))],
    code=["A", "B"],
    name=["甲", "乙"],
)


def vline(x: float, y: float, length_m: float) -> shapely.LineString:
    """A south-north line with a vertex every 500 m, like the districts' edges."""
    return shapely.segmentize(shapely.LineString([(X0 + x, Y0 + y), (X0 + x, Y0 + y + length_m)]), 500)


def source(tmp_path: Path, districts: gpd.GeoDataFrame, roads: list[shapely.Geometry]) -> Path:
    path = tmp_path / "case.gpkg"
    districts.to_crs(4326).to_file(path, layer="districts")
    frame("roads", roads).to_crs(4326).to_file(path, layer="roads")
    return path


def stats_rows(path: Path) -> dict[str, dict[str, str]]:
    result = run("stats", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    return {row["district_code"]: row for row in csv.DictReader(io.StringIO(result.stdout))}


def test_a_road_a_hair_off_the_edge_is_counted_once(tmp_path: Path) -> None:
    # x = 1000 + 1 µm: geometrically inside B, however close to A
    hair = shapely.LineString([(X0 + 1000.000001, Y0 + 100), (X0 + 1000.000001, Y0 + 900)])
    rows = stats_rows(source(tmp_path, DISTRICTS, [hair]))
    assert float(rows["A"]["roads_km"]) + float(rows["B"]["roads_km"]) == pytest.approx(0.8, abs=1e-6)
    assert float(rows["TOTAL"]["roads_km"]) == pytest.approx(0.8, abs=1e-6)


def test_a_1_km_road_on_the_shared_edge_through_the_command_line(tmp_path: Path) -> None:
    rows = stats_rows(source(tmp_path, DISTRICTS, [vline(1000, 0, 1000)]))
    assert [float(rows[c]["roads_km"]) for c in ("A", "B", "TOTAL")] == pytest.approx([0.5, 0.5, 1.0], abs=1e-6)
    assert "OUTSIDE" not in rows


def test_half_on_the_edge_half_outside_through_the_command_line(tmp_path: Path) -> None:
    rows = stats_rows(source(tmp_path, DISTRICTS, [vline(1000, 500, 1000)]))
    got = [float(rows[c]["roads_km"]) for c in ("A", "B", "OUTSIDE", "TOTAL")]
    assert got == pytest.approx([0.25, 0.25, 0.5, 1.0], abs=1e-6)
    assert rows["OUTSIDE"]["district_name"] == "区外" and rows["TOTAL"]["district_name"] == "合计"


def test_overlapping_districts_are_refused_with_both_codes(tmp_path: Path) -> None:
    grown = DISTRICTS.copy()
    grown.loc[0, "geometry"] = square(0, 0, 1300)  # 300 m over B: 300 m x 1000 m inside B
    path = source(tmp_path, grown, [vline(500, 0, 100)])
    result = run("stats", str(path), "--format", "csv")
    assert result.returncode == 1 and result.stdout == ""
    assert "districts A and B overlap by 300,000.00 m²" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    listed = run("validate", str(path))
    assert listed.returncode == 1 and "districts A and B overlap by 300,000.00 m²" in listed.stdout


def test_the_tolerance_is_an_option(tmp_path: Path) -> None:
    sliver = DISTRICTS.copy()
    sliver.loc[0, "geometry"] = square(0, 0, 1000).union(shapely.box(X0 + 1000, Y0, X0 + 1000.002, Y0 + 1000))
    path = source(tmp_path, sliver, [vline(500, 0, 100)])
    refused = run("stats", str(path))  # default 1 m²
    accepted = run("stats", str(path), "--overlap-tolerance", "5", "--format", "csv")
    assert refused.returncode == 1 and "A and B overlap by 2.00 m²" in refused.stderr
    assert accepted.returncode == 0 and "warning: districts A and B overlap by 2.00 m²" in accepted.stderr


def test_coverage_issues_of_a_clean_tiling_are_none() -> None:
    cells = np.array([square(x, y, 100) for x in range(0, 500, 100) for y in range(0, 300, 100)])
    assert coverage_issues(cells, [str(i) for i in range(len(cells))]) == []
