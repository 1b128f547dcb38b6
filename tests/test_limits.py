"""Limits on what an import reads: refused early, with the limit in the message, memory bounded."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from geo.errors import SourceError, message
from geo.importer import read_foreign
from geo.limits import Limits, check_source_file
from geo.settings import Settings

from .common import ROOT, frame, hline, lonlat

MB = 1_000_000


def refused(path: Path, limits: Limits, **options: object) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_foreign(path, limits=limits, **options)
    return info.value


def points_geojson(path: Path, n: int) -> Path:
    """``n`` facilities as a GeoJSON, written as a stream (no frame of ``n`` features)."""
    lon, lat = lonlat(0, 0)
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"type": "FeatureCollection", "features": [')
        for i in range(n):
            fh.write(
                ("," if i else "")
                + json.dumps(
                    {
                        "type": "Feature",
                        "properties": {"fac_id": f"F{i}", "name": "泵站", "kind": "pump_station", "status": "existing"},
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    },
                    ensure_ascii=False,
                )
            )
        fh.write("]}")
    return path


def zip_bomb(path: Path, *, unzipped_mb: int) -> Path:
    """A zip whose one .shp unpacks to ``unzipped_mb`` MB of zeros, written a megabyte at a time."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("roads.shp", "w", force_zip64=True) as member:
        chunk = bytes(MB)
        for _ in range(unzipped_mb):
            member.write(chunk)
    return path


# ----------------------------------------------------------------------------- each limit, in both languages


def test_a_file_over_the_upload_limit_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "道路.geojson"
    path.write_bytes(b"{" + b" " * 1_500_000 + b"}")  # not even GeoJSON: never opened
    exc = refused(path, Limits(upload_mb=1))
    assert exc.code == "import.too_big"
    assert message(exc, "en", names={str(path): "道路.geojson"}) == (
        "道路.geojson: the file is 1.5 MB, more than the 1 MB limit (NANGUAN_MAX_UPLOAD_MB); "
        "split it or raise the limit"
    )
    assert message(exc, "zh", names={str(path): "道路.geojson"}) == (
        "道路.geojson：文件有 1.5 MB，超过 1 MB 的上限（NANGUAN_MAX_UPLOAD_MB），请拆分文件或提高上限"
    )


def test_an_archive_that_expands_too_much_is_a_zip_bomb(tmp_path: Path) -> None:
    archive = zip_bomb(tmp_path / "bomb.zip", unzipped_mb=5)
    ratio = 5 * MB / archive.stat().st_size
    assert ratio > 500  # deflate packs zeros about a thousand to one
    exc = refused(archive, Limits(unzipped_mb=100, zip_ratio=100))
    assert exc.code == "import.zip_ratio"
    assert f"would expand {ratio:,.0f} times (to 5.0 MB), more than the 100 times allowed" in str(exc)
    assert "超过允许的 100 倍（NANGUAN_MAX_ZIP_RATIO），疑似压缩炸弹" in message(exc, "zh")
    assert list(tmp_path.iterdir()) == [archive]


def test_a_member_larger_than_its_header_says_is_refused(tmp_path: Path) -> None:
    """Sizes in the central directory are the archive's word; extraction does not take it."""
    archive = zip_bomb(tmp_path / "liar.zip", unzipped_mb=3)
    data = bytearray(archive.read_bytes())
    info = zipfile.ZipFile(archive).getinfo("roads.shp")
    central = data.rfind(b"PK\x01\x02")
    # the uncompressed size in the local header's zip64 extra field and in the central directory
    for at in (data.find(b"\x01\x00\x10\x00", info.header_offset) + 4, central + 24):
        data[at : at + 4] = (1000).to_bytes(4, "little")
    (tmp_path / "shx.shx").write_bytes(b"")
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError) as info_exc:
        read_foreign(archive)
    assert info_exc.value.code in {"import.bad_zip", "import.shp_part_missing"}
    assert "\n" not in str(info_exc.value)


def test_more_features_than_the_maximum_are_counted_not_read(tmp_path: Path) -> None:
    path = points_geojson(tmp_path / "泵站.geojson", 30)
    exc = refused(path, Limits(features=20))
    assert exc.code == "import.too_many_features"
    assert str(exc).endswith(
        "泵站.geojson: holds more than 20 features, the limit (NANGUAN_MAX_FEATURES); split it or raise the limit"
    )
    assert message(exc, "zh").endswith(
        "泵站.geojson：要素超过 20 个的上限（NANGUAN_MAX_FEATURES），请拆分文件或提高上限"
    )
    assert len(read_foreign(path, limits=Limits(features=30))) == 30


def test_more_csv_rows_than_the_maximum(tmp_path: Path) -> None:
    lon, lat = lonlat(0, 0)
    path = tmp_path / "高德取点.csv"
    path.write_text("lon,lat\n" + f"{lon},{lat}\n" * 21, encoding="utf-8")
    assert refused(path, Limits(features=20), from_crs="EPSG:4326").code == "import.too_many_features"
    assert len(read_foreign(path, limits=Limits(features=21), from_crs="EPSG:4326")) == 21


def test_a_feature_with_too_many_vertices(tmp_path: Path) -> None:
    wiggly = shapely.LineString([(x, x % 2) for x in range(200)])
    roads = frame("roads", [hline(0, 0, 10), shapely.affinity.translate(wiggly, *hline(0, 0, 1).coords[0])])
    path = tmp_path / "道路.geojson"
    roads.to_crs(4326).to_file(path)
    exc = refused(path, Limits(vertices=100))
    assert str(exc).endswith(
        "道路.geojson: feature #2 has 200 vertices, more than the 100 limit (NANGUAN_MAX_VERTICES); "
        "simplify it or raise the limit"
    )
    assert "要素 #2 有 200 个顶点，超过 100 个的上限" in message(exc, "zh")


def test_the_limits_are_settings() -> None:
    env = {
        "NANGUAN_MAX_UPLOAD_MB": "50",
        "NANGUAN_MAX_UNZIPPED_MB": "80",
        "NANGUAN_MAX_ZIP_RATIO": "20",
        "NANGUAN_MAX_FEATURES": "1000",
        "NANGUAN_MAX_VERTICES": "5000",
    }
    assert Settings.from_env(env).limits == Limits(
        upload_mb=50, unzipped_mb=80, zip_ratio=20, features=1000, vertices=5000
    )
    assert Settings.from_env({"NANGUAN_MAX_FEATURES": "many", "NANGUAN_MAX_ZIP_RATIO": "-1"}).limits == Limits()


# ----------------------------------------------------------------------------- memory, measured in a child process

#: Reads a file with the limits given as JSON; prints the peak resident size, KB, before and
#: after the read, and the error code. The peak is Linux's VmHWM, which starts afresh with the
#: program (ru_maxrss would keep the peak of the pytest process that forked it).
PEAK = """
import json, sys
from geo.errors import RenewalError
from geo.importer import read_foreign
from geo.limits import Limits, check_source_file

def peak_kb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))

before = peak_kb()
try:
    read_foreign(sys.argv[1], limits=Limits(**json.loads(sys.argv[2])))
    code = None
except RenewalError as exc:
    code = exc.code
print(json.dumps({"before_kb": before, "after_kb": peak_kb(), "code": code}))
"""


def peak_growth_mb(path: Path, **limits: float) -> tuple[float, str | None]:
    """The growth of the peak memory of a process reading ``path``, MB, and its error code."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(path), json.dumps(limits)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    return (figures["after_kb"] - figures["before_kb"]) / 1000, figures["code"]


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.zip", unzipped_mb=1000)


@pytest.mark.parametrize(
    ("limits", "code"),
    [({}, "import.zip_too_big"), ({"unzipped_mb": 2000}, "import.zip_ratio")],
    ids=["size", "ratio"],
)
def test_a_gigabyte_zip_bomb_costs_no_memory(gigabyte_bomb: Path, limits: dict[str, float], code: str) -> None:
    growth_mb, got = peak_growth_mb(gigabyte_bomb, **limits)
    assert got == code
    assert growth_mb < 20, growth_mb  # of the 1,000 MB it would unpack to


def test_a_shapefile_of_many_features_is_extracted_and_counted_in_bounded_memory(tmp_path: Path) -> None:
    """A zipped Shapefile under the size limits but over the feature limit: its members are
    streamed to disk, its .dbf checked as UTF-8 in chunks, its features counted by GDAL."""
    n = 200_000
    lon, lat = lonlat(0, 0)
    gdf = gpd.GeoDataFrame(
        {"fac_id": [f"F{i}" for i in range(n)], "note": ["备注" * 40] * n},
        geometry=shapely.points([(lon, lat)] * n),
        crs=4326,
    )
    pyogrio.write_dataframe(gdf, tmp_path / "f.shp", driver="ESRI Shapefile", encoding="UTF-8")
    (tmp_path / "f.cpg").unlink()
    archive = tmp_path / "泵站.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            z.write(tmp_path / f"f{ext}", f"f{ext}")
    unzipped_mb = sum(i.file_size for i in zipfile.ZipFile(archive).infolist()) / MB
    del gdf
    growth_mb, code = peak_growth_mb(archive, features=1000, zip_ratio=10_000)
    assert code == "import.too_many_features"
    assert unzipped_mb > 60 and growth_mb < unzipped_mb / 4, (growth_mb, unzipped_mb)


def test_a_geojson_of_many_features_is_counted_in_bounded_memory(tmp_path: Path) -> None:
    path = points_geojson(tmp_path / "泵站.geojson", 300_000)
    size_mb = path.stat().st_size / MB
    growth_mb, code = peak_growth_mb(path, features=1000)
    assert code == "import.too_many_features"
    assert size_mb > 40 and growth_mb < size_mb / 4, (growth_mb, size_mb)
    read_mb, code = peak_growth_mb(path, features=1_000_000)
    assert code is None and read_mb > size_mb, read_mb  # reading it all, as the limit spares us


def test_a_whole_geopackage_source_is_held_to_the_limits(tmp_path: Path) -> None:
    """The app's "use as source" upload reads every table: each is counted first."""
    path = tmp_path / "全区.gpkg"
    frame("roads", [hline(0, 10 * i, 100) for i in range(30)]).to_file(path, layer="roads")
    check_source_file(path, Limits(features=30))
    with pytest.raises(SourceError) as info:
        check_source_file(path, Limits(features=20))
    assert (
        str(info.value)
        == f"{path}: holds more than 20 features, the limit (NANGUAN_MAX_FEATURES); split it or raise the limit"
    )
    with pytest.raises(SourceError, match=r"more than the 0.01 MB limit"):
        check_source_file(path, Limits(upload_mb=0.01))
    with pytest.raises(SourceError, match=r"feature #1 has 2 vertices, more than the 1 limit"):
        check_source_file(path, Limits(vertices=1))  # each geometry's size, from SQLite, then its WKB's counts


# ----------------------------------------------------------------------------- vertices, before GDAL reads them


def million_vertex_polygon(path: Path) -> Path:
    """A key area of 1,000,000 vertices (a circle near the sample) in the format ``path`` ends in."""
    lon, lat = lonlat(0, 0)
    angles = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    ring = np.column_stack([lon + 0.01 * np.cos(angles), lat + 0.01 * np.sin(angles)])
    if path.suffix == ".geojson":  # written as text: a frame's writer would hold it all twice
        with path.open("w", encoding="utf-8") as fh:
            fh.write('{"type": "FeatureCollection", "features": [{"type": "Feature", ')
            fh.write('"properties": {"area_id": "A1", "name": "大", "kind": "showcase"}, ')
            fh.write('"geometry": {"type": "Polygon", "coordinates": [[')
            fh.write(",".join(f"[{x:.7f},{y:.7f}]" for x, y in ring))
            fh.write(f",[{ring[0, 0]:.7f},{ring[0, 1]:.7f}]]]}}}}]}}")
        return path
    gdf = gpd.GeoDataFrame({"area_id": ["A1"]}, geometry=[shapely.Polygon(ring)], crs=4326)
    driver = {".shp": "ESRI Shapefile", ".gpkg": "GPKG", ".kml": "KML"}[path.suffix]
    pyogrio.write_dataframe(gdf, path, driver=driver)
    return path


@pytest.mark.parametrize(
    ("ending", "code", "most_mb"),
    [
        (".geojson", "import.feature_too_large", 120),  # GDAL stops at its 30 MB estimate of the feature
        (".shp", "import.too_many_vertices", 15),  # from the .shx
        (".gpkg", "import.too_many_vertices", 15),  # from SQLite's sizes, then the counts of one WKB
        (".kml", "import.too_many_vertices", 15),  # a streamed scan
    ],
)
def test_a_million_vertex_feature_is_refused_before_gdal_reads_it(
    tmp_path: Path, ending: str, code: str, most_mb: float
) -> None:
    """Reading such a polygon in full took +528 MB (GeoJSON), +99 MB (Shapefile), +88 MB
    (GeoPackage) and +174 MB (KML) before the vertex limit refused it."""
    path = million_vertex_polygon(tmp_path / f"范围{ending}")
    growth_mb, got = peak_growth_mb(path)
    assert got == code
    assert growth_mb < most_mb, (growth_mb, path.stat().st_size / MB)


def test_a_feature_at_the_vertex_limit_still_reads(tmp_path: Path) -> None:
    """The GeoJSON object size GDAL is held to leaves room for a 3D, indented feature of
    as many vertices as the limit allows."""
    lon, lat = lonlat(0, 0)
    angles = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    ring = [[lon + 0.01 * np.cos(a), lat + 0.01 * np.sin(a), 123.456789] for a in angles]
    feature = {
        "type": "Feature",
        "properties": {"name": "x"},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    path = tmp_path / "边界.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, indent=4), encoding="utf-8")
    assert len(read_foreign(path, limits=Limits(vertices=20_001))) == 1
    assert refused(path, Limits(vertices=20_000)).code == "import.too_many_vertices"  # read, then counted
    assert refused(path, Limits(vertices=2_000)).code == "import.feature_too_large"  # never parsed


def test_a_kml_of_too_many_placemarks_is_counted_as_it_streams(tmp_path: Path) -> None:
    lon, lat = lonlat(0, 0)
    placemark = f"<Placemark><name>泵站</name><Point><coordinates>{lon},{lat}</coordinates></Point></Placemark>"
    path = tmp_path / "泵站.kml"
    path.write_text(f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{placemark * 21}</Document></kml>')
    assert refused(path, Limits(features=20)).code == "import.too_many_features"
    assert len(read_foreign(path, limits=Limits(features=21))) == 21


def test_an_archive_of_a_hundred_thousand_entries_is_named_in_a_few(tmp_path: Path) -> None:
    archive = tmp_path / "杂物.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(100_000):
            z.writestr(f"note{i:06d}.txt", b"")
    exc = refused(archive, Limits())
    assert exc.code == "import.zip_no_shp"
    for lang in ("en", "zh"):
        shown = message(exc, lang)
        assert len(shown) < 400 and "note000009.txt" in shown and "note000010.txt" not in shown, shown
        assert "… +99,990" in shown
