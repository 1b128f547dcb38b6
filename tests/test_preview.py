"""An import is looked at before it replaces anything: counts, extent, outside, web-map shifts."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from geo.chinacoord import convert_frame
from geo.errors import SourceError
from geo.io import dataset_info, load_layers
from geo.preview import apply_import, guess_layer, preview_import

from .common import SAMPLE, frame, hline, point, square

FAR = 60_000.0  # metres east of the origin: outside every sub-district of the sample


@pytest.mark.parametrize(
    ("gdf", "layer"),
    [
        (gpd.GeoDataFrame({"名称": ["甲路"], "状态": ["规划"]}, geometry=[hline(0, 0, 10)], crs=4551), "roads"),
        (gpd.GeoDataFrame({"名称": ["管"], "管线类型": ["供水"]}, geometry=[hline(0, 0, 10)], crs=4551), "pipes"),
        (gpd.GeoDataFrame({"名称": ["泵站"], "类型": ["泵站"]}, geometry=[point(0, 0)], crs=4551), "facilities"),
        (gpd.GeoDataFrame({"名称": ["地块"], "户数": [3]}, geometry=[square(0, 0, 10)], crs=4551), "parcels"),
        (gpd.GeoDataFrame({"code": ["1"], "name": ["街"]}, geometry=[square(0, 0, 10)], crs=4551), "districts"),
    ],
)
def test_guess_layer_from_geometry_and_fields(gdf: gpd.GeoDataFrame, layer: str) -> None:
    assert guess_layer(gdf) == layer


def test_preview_counts_what_falls_outside(tmp_path: Path) -> None:
    lines = [hline(0, 100 * i, 200) for i in range(3)] + [hline(FAR, 100 * i, 200) for i in range(2)]
    path = tmp_path / "roads.geojson"
    frame("roads", lines, seg_id=[f"N{i}" for i in range(5)]).to_crs(4326).to_file(path)
    preview = preview_import(path, "roads", base=SAMPLE)
    assert (preview.count, preview.outside, preview.existing, preview.shift) == (5, 2, 96, None)
    assert preview.crs_name == "WGS 84"
    west, south, east, north = preview.bounds
    assert 125.0 < west < east < 126.5 and 43.5 < south < north < 44.2
    assert preview.rows(2)["seg_id"].tolist() == ["N0", "N1"]


@pytest.mark.parametrize("pseudo", ["gcj02", "bd09"])
def test_web_map_offsets_are_detected_and_undone(tmp_path: Path, sample: dict, pseudo: str) -> None:
    roads = sample["roads"].to_crs(4326)
    path = tmp_path / f"{pseudo}.geojson"
    convert_frame(roads, "wgs84", pseudo).to_file(path)  # claims WGS 84, holds web-map lon/lat
    flagged = preview_import(path, "roads", base=SAMPLE)
    assert flagged.shift == pseudo
    fixed = preview_import(path, "roads", base=SAMPLE, from_crs=pseudo)
    assert fixed.shift is None and fixed.outside == 0
    assert fixed.crs_name.endswith("→ WGS 84")
    shift_m = fixed.gdf.to_crs(4551).distance(roads.to_crs(4551), align=False).max()
    assert shift_m < 0.01


def test_true_wgs84_is_not_flagged(tmp_path: Path, sample: dict) -> None:
    path = tmp_path / "wgs84.geojson"
    sample["roads"].to_crs(4326).to_file(path)
    assert preview_import(path, "roads", base=SAMPLE).shift is None


def test_replace_and_append_into_a_working_copy(tmp_path: Path) -> None:
    base = tmp_path / "base.gpkg"
    shutil.copyfile(SAMPLE, base)
    before = base.read_bytes()
    copy = tmp_path / "work" / "base.gpkg"
    copy.parent.mkdir()
    new = tmp_path / "new.geojson"
    frame("roads", [hline(0, 0, 100), hline(0, 50, 100)], seg_id=["N1", "N2"]).to_crs(4326).to_file(new)

    assert apply_import(preview_import(new, "roads", base=base), base=base, copy=copy, mode="append") == 98
    assert base.read_bytes() == before
    assert dataset_info(copy)["schematic"] == "false" and dataset_info(base)["schematic"] == "true"

    again = preview_import(new, "roads", base=copy)
    assert again.clashes == ("N1", "N2")
    with pytest.raises(SourceError, match=r"new.geojson: ids already in roads: N1, N2"):
        apply_import(again, base=copy, copy=copy, mode="append", source_file="new.geojson")
    assert apply_import(again, base=copy, copy=copy, mode="replace") == 2
    layers = load_layers(copy)
    assert len(layers["roads"]) == 2 and len(layers["pipes"]) == 12


def test_offset_detected_from_the_districts_alone(tmp_path: Path) -> None:
    base = tmp_path / "one.gpkg"
    frame("districts", [square(0, 0, 1000)], code=["1"], name=["一街"]).to_crs(4326).to_file(base, layer="districts")
    roads = frame("roads", [hline(100, 100 + 80 * i, 300) for i in range(10)], seg_id=[f"N{i}" for i in range(10)])
    path = tmp_path / "amap.geojson"
    convert_frame(roads.to_crs(4326), "wgs84", "gcj02").to_file(path)
    preview = preview_import(path, "roads", base=base)
    assert preview.shift == "gcj02" and preview.outside > 0 and preview.existing == 0
    assert preview_import(path, "roads", base=base, from_crs="gcj02").outside == 0
