"""Importing what bureaus send: every format, CRS and encoding, and every bad input refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo.chinacoord import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import CRSError, SourceError, ValidationError, message
from geo.importer import map_fields, prepare_layer, read_foreign
from geo.io import load_layers, store_layer
from geo.limits import Limits
from layers import CATALOGUE

from .common import ROOT, SAMPLE, frame, hline, lonlat, point, square


@pytest.fixture
def roads(sample: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return sample["roads"]


def write_shapefile(gdf: gpd.GeoDataFrame, folder: Path, name: str, *, encoding: str, cpg: bool) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.shp"
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def zip_files(archive: Path, files: list[Path]) -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for f in files:
            z.write(f, f.name)
    return archive


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- formats


def test_geojson_with_chinese_field_names(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"编号": ["P1"], "名称": ["冠城国际供水管线"], "管线类型": ["供水"], "状态": ["在建"]},
        geometry=[hline(0, 0, 500)],
        crs="EPSG:4551",
    ).to_crs(4326)
    path = tmp_path / "pipes.geojson"
    gdf.to_file(path)
    result = prepare_layer(read_foreign(path), "pipes")
    row = result.gdf.iloc[0]
    assert (row["pipe_id"], row["name"], row["utility"], row["status"]) == (
        "P1",
        "冠城国际供水管线",
        "water",
        "under_construction",
    )
    assert result.gdf.to_crs(4551).length.iloc[0] == pytest.approx(500, abs=1e-3)


def test_geopackage_table_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    frame("roads", [hline(0, 0, 10)]).to_file(path, layer="a")
    frame("roads", [hline(0, 0, 20)]).to_file(path, layer="b")
    with pytest.raises(SourceError, match=r"holds several tables \(a, b\); choose one with --table"):
        read_foreign(path)
    assert read_foreign(path, table="b").length.iloc[0] == pytest.approx(20)
    with pytest.raises(SourceError, match=r"no table 'c'; it has a, b"):
        read_foreign(path, table="c")


def test_zipped_shapefile_utf8_without_cpg(tmp_path: Path, roads: gpd.GeoDataFrame) -> None:
    shp = write_shapefile(roads, tmp_path / "src", "roads", encoding="UTF-8", cpg=False)
    archive = zip_files(tmp_path / "roads.zip", sorted(shp.parent.iterdir()))
    assert not any(n.endswith(".cpg") for n in zipfile.ZipFile(archive).namelist())
    back = prepare_layer(read_foreign(archive), "roads").gdf
    assert back["name"].iloc[0] == "甲一路（1段）"


def test_gbk_shapefile_with_cpg_and_with_encoding(tmp_path: Path, roads: gpd.GeoDataFrame) -> None:
    shp = write_shapefile(roads, tmp_path / "gbk", "roads", encoding="GBK", cpg=True)
    assert read_foreign(shp)["name"].iloc[0] == "甲一路（1段）"
    shp.with_suffix(".cpg").unlink()
    with pytest.raises(SourceError, match=r"not UTF-8 and there is no .cpg.*pass --encoding GBK"):
        read_foreign(shp)
    assert read_foreign(shp, encoding="GBK")["name"].iloc[0] == "甲一路（1段）"
    assert read_foreign(shp, encoding="GB18030")["name"].iloc[-1] == roads["name"].iloc[-1]


def test_kml(tmp_path: Path) -> None:
    path = tmp_path / "schools.kml"
    gdf = gpd.GeoDataFrame({"Name": ["南关区第二实验学校"]}, geometry=[shapely.Point(*lonlat(0, 0))], crs=4326)
    pyogrio.write_dataframe(gdf, path, driver="KML")
    read = read_foreign(path)
    assert read.crs.to_epsg() == 4326 and "南关区第二实验学校" in read.iloc[0].to_dict().values()


def test_csv_with_wkt_and_with_lon_lat(tmp_path: Path) -> None:
    lon, lat = lonlat(0, 0)
    wkt = tmp_path / "wkt.csv"
    wkt.write_text(f"fac_id,名称,类型,状态,WKT\nF1,泵站,泵站,现状,POINT ({lon} {lat})\n", encoding="utf-8")
    got = prepare_layer(read_foreign(wkt, from_crs="EPSG:4326"), "facilities").gdf
    assert got["kind"].iloc[0] == "pump_station" and got.crs.to_epsg() == 4326
    ll = tmp_path / "ll.csv"
    ll.write_text(f"fac_id,name,kind,status,经度,纬度\nF1,泵站,school,planned,{lon},{lat}\n", encoding="gbk")
    with pytest.raises(SourceError, match=r"not UTF-8; pass --encoding GBK"):
        read_foreign(ll, from_crs="EPSG:4326")
    got = read_foreign(ll, from_crs="EPSG:4326", encoding="GBK")
    assert got.geometry.iloc[0].equals_exact(shapely.Point(lon, lat), 1e-12)


def test_monitoring_sections_from_a_bureau_spreadsheet(tmp_path: Path) -> None:
    (lon, lat), (lon2, lat2) = lonlat(0, 0), lonlat(500, 0)
    path = tmp_path / "断面.csv"
    path.write_text(
        "编号,断面名称,所在河流,水质类别,监测日期,经度,纬度\n"
        f"S1,入境断面,伊通河,Ⅲ类,2019/12/10,{lon},{lat}\n"
        f"S2,出境断面,伊通河,4,2019年12月11日,{lon2},{lat2}\n"
        f"S3,河口断面,伊通河,劣Ⅴ类,,{lon2},{lat}\n",
        encoding="utf-8",
    )
    got = prepare_layer(read_foreign(path, from_crs="EPSG:4326"), "monitoring_points").gdf
    assert got["name"].tolist() == ["入境断面", "出境断面", "河口断面"] and set(got["river"]) == {"伊通河"}
    assert got["wq_class"].tolist() == ["III", "IV", "worse_v"]
    assert got["sampled"].tolist()[:2] == ["2019-12-10", "2019-12-11"] and got["sampled"].isna().iloc[2]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"mon_id,name,river,wq_class,lon,lat\nS1,x,伊通河,较好,{lon},{lat}\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"monitoring_points S1 \[wq_class\]: '较好' is not one of I, II"):
        prepare_layer(read_foreign(bad, from_crs="EPSG:4326"), "monitoring_points")


@pytest.mark.parametrize(("pseudo", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_web_map_coordinates_come_back_to_wgs84(tmp_path: Path, pseudo: str, forward) -> None:
    lon, lat = lonlat(0, 0)
    x, y = forward(lon, lat)
    path = tmp_path / "amap.csv"
    path.write_text(f"lon,lat\n{float(x)!r},{float(y)!r}\n", encoding="utf-8")
    got = read_foreign(path, from_crs=pseudo)
    assert got.crs.to_epsg() == 4326
    assert got.to_crs(4551).geometry.iloc[0].distance(point(0, 0)) < 0.01


def test_gauss_kruger_with_and_without_zone_prefix(tmp_path: Path) -> None:
    gdf = frame("roads", [hline(0, 0, 1000)])
    for epsg in (4551, 4530):
        path = tmp_path / f"gk{epsg}.geojson"
        gdf.to_crs(epsg).to_file(path)
        back = read_foreign(path)
        assert back.crs.to_epsg() == epsg and back.to_crs(4551).length.iloc[0] == pytest.approx(1000, abs=1e-3)


# ----------------------------------------------------------------------------- bad input


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match=r"empty.geojson: the file is empty"):
        read_foreign(path)


def test_truncated_json(tmp_path: Path, roads: gpd.GeoDataFrame) -> None:
    path = tmp_path / "cut.geojson"
    roads.to_file(path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(SourceError, match=r"cut.geojson: cannot be read as GeoJSON"):
        read_foreign(path)


def test_no_features(tmp_path: Path) -> None:
    path = tmp_path / "none.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    with pytest.raises(SourceError, match=r"holds no features"):
        read_foreign(path)


def test_zip_without_shp(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("没有图层", encoding="utf-8")
    archive = zip_files(tmp_path / "x.zip", [tmp_path / "readme.txt"])
    with pytest.raises(SourceError, match=r"the archive has no .shp \(it holds readme.txt\)"):
        read_foreign(archive)


def test_shp_without_dbf(tmp_path: Path, roads: gpd.GeoDataFrame) -> None:
    shp = write_shapefile(roads, tmp_path / "src", "roads", encoding="UTF-8", cpg=True)
    archive = zip_files(tmp_path / "nodbf.zip", [shp, shp.with_suffix(".shx"), shp.with_suffix(".prj")])
    with pytest.raises(SourceError, match=r"roads.shp comes without its .dbf file"):
        read_foreign(archive)
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(SourceError, match=r"roads.shp comes without its .dbf file"):
        read_foreign(shp)


@pytest.mark.parametrize("member", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp", "C:/evil.shp"])
def test_zip_slip_is_refused_before_extraction(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, b"x")
    with pytest.raises(SourceError, match=r"points outside the archive"):
        read_foreign(archive)
    assert not (tmp_path.parent / "evil.shp").exists()


def test_oversized_archive_is_refused_before_extraction(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.shp", b"\0" * 3_000_000)
    assert archive.stat().st_size < 100_000
    with pytest.raises(SourceError, match=r"unpacks to 3 MB, more than the 2 MB limit"):
        read_foreign(archive, limits=Limits(unzipped_mb=2))


def _csv(folder: Path, text: str) -> Path:
    (folder / "points.csv").write_text(text, encoding="utf-8")
    return folder / "points.csv"


def _geojson(folder: Path, gdf: gpd.GeoDataFrame) -> Path:
    gdf.to_file(folder / "lines.geojson")
    return folder / "lines.geojson"


LINE = frame("roads", [hline(0, 0, 100)])


@pytest.mark.parametrize(
    ("make", "from_crs", "message"),
    [
        pytest.param(
            lambda d: _csv(d, "lon,lat\n125.35,43.85\n"),
            None,
            r"declares no CRS; name it with --from-crs",
            id="missing CRS",
        ),
        pytest.param(
            lambda d: _csv(d, "lon,lat\n43.85,125.35\n"),
            "EPSG:4326",
            r"longitude and latitude look swapped",
            id="swapped axes",
        ),
        pytest.param(
            lambda d: _geojson(d, LINE.set_crs(4326, allow_override=True)),
            None,
            r"which are not degrees although WGS 84 is lon/lat",
            id="metres labelled as degrees",
        ),
        pytest.param(
            lambda d: _geojson(d, LINE.to_crs(4326).set_crs(4551, allow_override=True)),
            None,
            r"look like degrees but .* is projected",
            id="degrees labelled as metres",
        ),
        pytest.param(
            lambda d: _geojson(d, LINE.set_crs(4530, allow_override=True)),
            None,
            r"falls outside China; the CRS is probably wrong",
            id="wrong Gauss-Kruger zone",
        ),
        pytest.param(
            lambda d: _geojson(d, LINE),
            "EPSG:4530",
            r"declares .*CM 126E but --from-crs says .*zone 42",
            id="from-crs disagrees",
        ),
    ],
)
def test_coordinates_that_cannot_be_in_their_crs(tmp_path: Path, make, from_crs: str | None, message: str) -> None:
    with pytest.raises(CRSError, match=message):
        read_foreign(make(tmp_path), from_crs=from_crs)


def test_mixed_geometry_types(tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    frame("roads", [hline(0, 0, 100), point(5, 5)]).to_crs(4326).to_file(path)
    with pytest.raises(ValidationError) as exc:
        prepare_layer(read_foreign(path), "roads")
    assert [str(p) for p in exc.value.problems] == [
        "roads R2 [geometry]: is a Point; this layer takes LineString or MultiLineString"
    ]


def test_required_field_missing_lists_the_file_fields() -> None:
    gdf = frame("parcels", [square(0, 0, 10)]).drop(columns=["households"])
    with pytest.raises(ValidationError) as exc:
        map_fields(gdf, CATALOGUE["parcels"])
    (problem,) = exc.value.problems
    assert problem.field == "households"
    assert "the file has: parcel_id, name, kind, status, resettled" in problem.message


def test_resettled_above_households_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"resettled \(9\) exceeds households \(5\)"):
        prepare_layer(frame("parcels", [square(0, 0, 10)], households=[5], resettled=[9]), "parcels")


def test_invalid_geometry_refused_unless_fixed() -> None:
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    gdf = frame("parcels", [shapely.affinity.translate(bowtie, *square(0, 0, 1).bounds[:2]), square(300, 0, 50)])
    with pytest.raises(ValidationError, match=r"D1 \[geometry\]: invalid geometry"):
        prepare_layer(gdf, "parcels")
    result = prepare_layer(gdf, "parcels", fix=True)
    assert result.repaired == ("D1",)
    assert result.gdf.geometry.is_valid.all() and result.gdf.area.iloc[0] == pytest.approx(5000)


# ----------------------------------------------------------------------------- storing


def test_store_replaces_one_layer_and_keeps_the_rest(tmp_path: Path) -> None:
    target = tmp_path / "t.gpkg"
    shutil.copyfile(SAMPLE, target)
    store_layer(frame("roads", [hline(0, 0, 250)]), "roads", target)
    layers = load_layers(target)
    assert len(layers["roads"]) == 1 and len(layers["pipes"]) == 12


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        env={**os.environ, **(env or {})},
    )


def _write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder / name


def _slip(folder: Path) -> Path:
    with zipfile.ZipFile(folder / "slip.zip", "w") as z:
        z.writestr("../x.shp", b"x")
    return folder / "slip.zip"


def _roads_json(folder: Path, gdf: gpd.GeoDataFrame, name: str) -> Path:
    gdf.to_crs(4326).to_file(folder / name)
    return folder / name


def _truncated(folder: Path) -> Path:
    path = _roads_json(folder, frame("roads", [hline(0, 0, 100)] * 20, seg_id=[f"R{i}" for i in range(20)]), "t.json")
    path.write_bytes(path.read_bytes()[:300])
    return path


def _shapefile_zip(folder: Path, *, encoding: str, keep: tuple[str, ...]) -> Path:
    shp = write_shapefile(
        frame("roads", [hline(0, 0, 100)], name=["新路"]), folder / "shp", "roads", encoding=encoding, cpg=False
    )
    return zip_files(folder / "roads.zip", [shp.with_suffix(e) for e in keep])


def _oversized(folder: Path) -> Path:
    with zipfile.ZipFile(folder / "big.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.shp", b"\0" * 2_000_000)
    return folder / "big.zip"


def _zip_version(folder: Path, version: int) -> Path:
    """A zipped Shapefile whose central directory asks for a zip version Python cannot read."""
    archive = _shapefile_zip(folder, encoding="UTF-8", keep=(".shp", ".shx", ".dbf", ".prj"))
    data = bytearray(archive.read_bytes())
    at = data.find(b"PK\x01\x02")  # the first central directory entry; "version needed" at +6
    data[at + 6] = version
    archive.write_bytes(bytes(data))
    return archive


BAD_INPUTS = {
    "empty file": (lambda d: _write(d, "e.geojson", b""), "the file is empty"),
    "truncated JSON": (_truncated, "cannot be read as GeoJSON"),
    "zip without .shp": (lambda d: zip_files(d / "x.zip", [_write(d, "a.txt", b"x")]), "the archive has no .shp"),
    ".shp without .dbf": (
        lambda d: _shapefile_zip(d, encoding="UTF-8", keep=(".shp", ".shx", ".prj")),
        "comes without its .dbf file",
    ),
    "zip slip": (_slip, "points outside the archive"),
    "oversized archive": (_oversized, "more than the 1 MB limit"),
    "GBK without .cpg": (
        lambda d: _shapefile_zip(d, encoding="GBK", keep=(".shp", ".shx", ".dbf", ".prj")),
        "pass --encoding GBK",
    ),
    "missing CRS": (lambda d: _write(d, "n.csv", b"lon,lat\n125.3,43.8\n"), "declares no CRS"),
    "swapped axes": (lambda d: _write(d, "s.csv", b"lon,lat\n43.8,125.3\n"), "look swapped"),
    "mixed geometry types": (
        lambda d: _roads_json(d, frame("roads", [hline(0, 0, 100), point(0, 0)]), "m.geojson"),
        "R2 [geometry]: is a Point",
    ),
    "required field missing": (
        lambda d: _roads_json(d, frame("roads", [hline(0, 0, 100)]).drop(columns=["status"]), "f.geojson"),
        "roads [status]: no column for it",
    ),
    # found by fuzzing (tests/test_fuzz.py): each was an unhandled exception
    "not a GeoPackage": (lambda d: _write(d, "n.gpkg", b"\x00"), "is not a GeoPackage file: it starts with"),
    "ring that does not close": (
        lambda d: _write(
            d,
            "ring.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"seg_id": "R1"},
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [[[125.35, 43.85], [125.36, 43.85], [125.36, 43.86]]],
                            },
                        }
                    ],
                }
            ).encode(),
        ),
        "cannot be read as GeoJSON (IllegalArgumentException: Points of LinearRing do not form a closed linestring)",
    ),
    "zip of an unknown version": (lambda d: _zip_version(d, 64), "not a valid zip archive (zip file version 6.4)"),
    "CSV row longer than its header": (
        lambda d: _write(d, "long.csv", b"seg_id,WKT\nR1,POINT (125.35 43.85),,,,\n"),
        "not a readable CSV (Length of header or names does not match length of data",
    ),
    "resettled > households": (
        lambda d: _roads_json(d, frame("parcels", [square(0, 0, 10)], households=[1], resettled=[2]), "p.geojson"),
        "resettled (2) exceeds households (1)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_failed_import_leaves_the_target_byte_for_byte(tmp_path: Path, case: str) -> None:
    make, message = BAD_INPUTS[case]
    target = tmp_path / "target.gpkg"
    shutil.copyfile(SAMPLE, target)
    before = digest(target)
    layer = "parcels" if "households" in case else "roads"
    extra = ["--from-crs", "EPSG:4326"] if case == "swapped axes" else []
    result = run_cli(
        "import",
        str(make(tmp_path)),
        "--as",
        layer,
        "--into",
        str(target),
        *extra,
        env={"NANGUAN_MAX_UNZIPPED_MB": "1"},
    )
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert digest(target) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".target")] == []


# ----------------------------------------------------------------------------- found by fuzzing


def test_a_prj_in_gbk_is_read(tmp_path: Path) -> None:
    """ArcGIS in China writes the CRS name in the .prj in the system code page; GDAL passed
    those bytes on and pyogrio failed on them (UnboundLocalError)."""
    shp = write_shapefile(
        frame("roads", [hline(0, 0, 100)]).to_crs(4326), tmp_path / "src", "roads", encoding="UTF-8", cpg=True
    )
    wkt = (
        'GEOGCS["GCS_WGS_1984_中国",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
    )
    shp.with_suffix(".prj").write_bytes(wkt.encode("gbk"))
    archive = zip_files(tmp_path / "roads.zip", sorted(shp.parent.iterdir()))
    for path in (archive, shp):
        got = read_foreign(path)
        assert got.crs.is_geographic and "中国" in got.crs.name and got.crs.ellipsoid.name == "WGS 84"
        assert got.to_crs(4551).length.iloc[0] == pytest.approx(100, abs=1e-3)
    assert shp.with_suffix(".prj").read_bytes() == wkt.encode("gbk")  # the user's file is not touched


def _feature(properties: dict[str, object], coordinates: object) -> dict[str, object]:
    return {"type": "Feature", "properties": properties, "geometry": {"type": "LineString", "coordinates": coordinates}}


def test_lists_and_objects_in_properties_are_text(tmp_path: Path) -> None:
    """GeoJSON properties may hold lists; pyogrio parses them (or warns it cannot), and
    validation failed on the unhashable values."""
    line = [list(lonlat(0, 0)), list(lonlat(100, 0))]
    path = tmp_path / "roads.geojson"
    features = [
        _feature({"seg_id": ["R", 1], "name": "甲", "status": "open", "road_class": "local"}, line),
        _feature({"seg_id": "R2", "name": {"zh": "乙"}, "status": "open", "road_class": "local"}, line),
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )
    got = read_foreign(path)
    assert all(isinstance(v, str) for v in [*got["seg_id"], *got["name"]])
    assert json.loads(got["seg_id"].iloc[0]) == ["R", 1] and json.loads(got["name"].iloc[1]) == {"zh": "乙"}
    assert json.loads(prepare_layer(got, "roads").gdf["name"].iloc[1]) == {"zh": "乙"}


def test_what_gdal_says_about_a_file_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """GDAL's remarks came as warnings out of a C callback (an error under pytest, noise on stderr in use)."""
    features = [_feature({"seg_id": "R1", "name": "甲", "status": "open", "road_class": "local"}, [[], []])]
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with caplog.at_level("INFO", logger="geo.importer"):
        with pytest.raises(ValidationError, match=r"R1 \[geometry\]: (geometry is empty|invalid)"):
            prepare_layer(read_foreign(path, from_crs="EPSG:4326"), "roads")
    assert "roads.geojson: OGRGeoJSONReadRawPoint(): Invalid coord dimension" in caplog.text


def test_a_short_csv_row_is_a_missing_geometry(tmp_path: Path) -> None:
    """Missing trailing fields are NaN, which shapely's WKT reader refused with a TypeError."""
    path = tmp_path / "short.csv"
    lon, lat = lonlat(0, 0)
    path.write_text(
        f"fac_id,name,kind,status,WKT\nF1,泵站,pump_station,existing,POINT ({lon} {lat})\nF2,泵站\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError) as exc:
        prepare_layer(read_foreign(path, from_crs="EPSG:4326"), "facilities")
    assert "F2 [geometry]: geometry is empty" in str(exc.value)


# ----------------------------------------------------------------------------- names the file system refuses

LONG_NAME = "南关区人民大街南段绿化带及周边棚户区改造项目征收范围" * 4 + "终稿.geojson"  # 114 characters


@pytest.mark.parametrize(
    ("name", "code", "shown"),
    [
        (LONG_NAME, "import.bad_name", LONG_NAME[:59] + "…"),
        ("道路\x00.geojson", "import.bad_name", "道路?.geojson"),
        ("..", "import.folder", ".."),
    ],
    ids=["114 characters", "NUL", "dot-dot"],
)
def test_a_name_the_file_system_refuses_is_one_line(tmp_path: Path, name: str, code: str, shown: str) -> None:
    """A name valid on Windows but 342 bytes here, a NUL, ``..``: one line naming the file
    (cut when long), never an OSError and never the folder it was looked for in."""
    assert len(LONG_NAME) == 114 and len(LONG_NAME.encode()) > 255
    path = str(tmp_path / name) if name != ".." else ".."
    with pytest.raises(SourceError) as info:
        read_foreign(path)
    assert info.value.code == code
    for lang in ("en", "zh"):
        text = message(info.value, lang)
        assert "\n" not in text and "\x00" not in text and str(tmp_path) not in text
        assert text.startswith(shown)


def test_the_command_line_names_a_too_long_file_in_one_line(tmp_path: Path) -> None:
    into = tmp_path / "work.gpkg"
    shutil.copyfile(SAMPLE, into)
    result = run_cli("import", str(tmp_path / LONG_NAME), "--as", "roads", "--into", str(into), "--yes")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert errors == [
        f"error: {LONG_NAME[:59]}…: cannot be opened: file name too long; "
        "give the file a shorter name of ordinary characters"
    ]
