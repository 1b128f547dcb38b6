"""Loading a source: every layer validated, bad sources named in one line."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pyogrio
import pytest

from geo.errors import SourceError, ValidationError, message
from geo.io import list_source_layers, load_layers, store_layer

from .common import SAMPLE, frame, hline, square


def test_loads_only_the_layers_asked_for() -> None:
    out = load_layers(SAMPLE, layers=("roads", "pipes"))
    assert list(out) == ["roads", "pipes"]


def test_lists_tables_including_metadata() -> None:
    assert "dataset_info" in list_source_layers(SAMPLE)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gpkg"
    with pytest.raises(SourceError, match=r"nope\.gpkg: no such file; pass the path of a GeoPackage"):
        load_layers(missing)


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a folder"):
        load_layers(tmp_path)


def test_not_a_geopackage(tmp_path: Path) -> None:
    bogus = tmp_path / "roads.gpkg"
    bogus.write_text("seg_id,name\nR1,甲一路\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"roads\.gpkg: not a GeoPackage"):
        load_layers(bogus)


def test_truncated_geopackage(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(SAMPLE.read_bytes()[:4096])
    with pytest.raises(SourceError, match=r"broken\.gpkg: the GeoPackage is damaged"):
        load_layers(broken)


def test_problems_of_all_layers_come_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.gpkg"
    frame("roads", [hline(0, 0, 100)], status=["demolished"]).to_file(path, layer="roads")
    frame("parcels", [square(0, 0, 100)], households=[1], resettled=[2]).to_file(path, layer="parcels")
    with pytest.raises(ValidationError) as exc:
        load_layers(path)
    assert {p.layer for p in exc.value.problems} == {"roads", "parcels"}


def test_source_crs_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "gk.gpkg"
    frame("roads", [hline(0, 0, 100)]).to_file(path, layer="roads")
    assert load_layers(path)["roads"].crs.to_epsg() == 4551


def test_a_layer_stored_into_a_source_takes_the_sources_crs(tmp_path: Path) -> None:
    target = tmp_path / "work.gpkg"
    target.write_bytes(SAMPLE.read_bytes())
    store_layer(frame("roads", [hline(0, 0, 1000)]), "roads", target)  # EPSG:4551 into a WGS 84 source
    stored = load_layers(target)
    assert stored["roads"].crs.to_epsg() == 4326 == stored["districts"].crs.to_epsg()
    assert stored["roads"].to_crs(4551).length.iloc[0] == pytest.approx(1000.0, abs=1e-6)


def test_text_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    """Arrow hands undecodable text over unchecked; validation then failed with ArrowInvalid (found by fuzzing)."""
    path = tmp_path / "broken.gpkg"
    # no spatial index: its triggers call functions that only GDAL's SQLite provides
    pyogrio.write_dataframe(frame("roads", [hline(0, 0, 100)]), path, layer="roads", SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE roads SET name = CAST(X'E4B8' AS TEXT)")
    with pytest.raises(SourceError, match=r"broken\.gpkg: cannot read layer 'roads' \(column 'name': .*UTF8"):
        load_layers(path)


def test_a_sources_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "上传.gpkg"
    frame("roads", [hline(0, 0, 100)], name=[" "]).to_file(path, layer="roads")
    with pytest.raises(ValidationError) as exc:
        load_layers(path)
    assert (
        message(exc.value, "zh", names={str(path): "上传.gpkg"})
        == "上传.gpkg：发现 1 个问题：道路 R1 [名称]：必填值缺失"
    )


def test_a_damaged_page_anywhere_is_the_layers_or_one_error(tmp_path: Path) -> None:
    """The first byte of each database page zeroed in turn: SQLite's "database disk image is
    malformed" reached the app through Arrow as a bare OSError (found by fuzzing)."""
    good = tmp_path / "good.gpkg"
    frame("roads", [hline(0, i, 100) for i in range(300)], name=["甲一路" * 20] * 300).to_file(good, layer="roads")
    data = good.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    outcomes = set()
    for start in range(page, len(data), page):
        damaged = tmp_path / "damaged.gpkg"
        damaged.write_bytes(data[:start] + b"\0" + data[start + 1 :])
        try:
            load_layers(damaged)
            outcomes.add("read")
        except (SourceError, ValidationError) as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(damaged)), str(exc)
            outcomes.add(exc.code)
    assert "source.damaged" in outcomes  # SQLite's own check finds it before GDAL reads part of a layer


def test_a_ring_that_does_not_close_is_one_error(tmp_path: Path) -> None:
    """GEOS refused the polygon as Arrow handed it over, with a bare GEOSException (found by fuzzing)."""
    path = tmp_path / "open.gpkg"
    pyogrio.write_dataframe(frame("parcels", [square(0, 0, 100)]), path, layer="parcels", SPATIAL_INDEX="NO")
    x, y, _, _ = square(0, 0, 100).bounds
    ring = [(x, y), (x + 100, y), (x + 100, y + 100), (x, y + 100)]  # four corners, not back to the first
    wkb = struct.pack("<BIII", 1, 3, 1, len(ring)) + b"".join(struct.pack("<dd", *p) for p in ring)
    blob = b"GP" + struct.pack("<BBi", 0, 1, 4551) + wkb  # GeoPackage header: no envelope, little-endian
    with sqlite3.connect(path) as con:
        con.execute("UPDATE parcels SET geom = ?", (blob,))
    with pytest.raises(SourceError, match=r"open\.gpkg: cannot read layer 'parcels' \(.*closed linestring"):
        load_layers(path)
