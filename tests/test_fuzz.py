"""Fuzzing the import path with hypothesis: whatever a bureau sends, the outcome is a valid
layer or the project's own one-line error naming the file as the user uploaded it.

Each example goes where an upload goes: read and the layer guessed (the app's upload),
checked as a layer (``geo validate``), previewed against the sample, and imported into a
copy of the sample, which must be byte for byte unchanged when the import fails. The
number of examples comes from the hypothesis profile (``tests/conftest.py``): ``ci`` by
default, ``NANGUAN_FUZZ_PROFILE=long`` for a longer campaign.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from geo.errors import RenewalError, message
from geo.importer import FORMATS, import_file, prepare_file_layer, read_foreign
from geo.io import check_gpkg_path, load_layers
from geo.limits import Limits
from geo.preview import guess_layer, preview_import

from . import hostile
from .common import ROOT, SAMPLE, frame, hline, lonlat, square

#: Small limits, so that the fuzzer also meets them.
LIMITS = Limits(upload_mb=1.0, unzipped_mb=2.0, zip_ratio=200.0, features=500, vertices=5_000)
LAYERS = ("roads", "parcels", "facilities")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030", "latin-1")


# ----------------------------------------------------------------------------- the oracle


@contextlib.contextmanager
def server_folder() -> Iterator[Path]:
    """A session's upload folder, as the app makes one on the server."""
    with tempfile.TemporaryDirectory(prefix="server-session-") as folder:
        uploads = Path(folder) / "uploads"
        uploads.mkdir()
        yield uploads


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shown_well(exc: RenewalError, src: Path) -> None:
    """The error as the page shows it: one line in each language, naming the upload, no server path."""
    for lang in ("en", "zh"):
        shown = message(exc, lang, names={str(src): src.name})
        assert "\n" not in shown and "\r" not in shown, (exc.code, shown)
        assert src.name in shown, (exc.code, shown)
        assert "server-session-" not in shown and "nanguan-import-" not in shown, (exc.code, shown)
        assert tempfile.gettempdir() + "/" not in shown, (exc.code, shown)


def attempt(call: Callable[[], Any], src: Path) -> Any:
    """``call()``'s result, or None when it raised the project's own error (checked as shown)."""
    try:
        return call()
    except RenewalError as exc:
        shown_well(exc, src)
        return None


def through_everything(
    data: bytes,
    name: str,
    layer: str,
    *,
    from_crs: str | None = None,
    encoding: str | None = None,
    fix: bool = False,
) -> tuple[bool, bool, bool]:
    """``data`` uploaded as ``name`` and taken through every path an upload takes; whether
    it was read, previewed and imported."""
    options: dict[str, Any] = {"from_crs": from_crs, "encoding": encoding, "limits": LIMITS}
    with server_folder() as folder:
        src = folder / name
        src.write_bytes(data)
        gdf = attempt(lambda: read_foreign(src, **options), src)
        if gdf is not None:
            guess_layer(gdf)
            result = attempt(lambda: prepare_file_layer(gdf, layer, fix=fix, file=str(src)), src)
            if result is not None:
                assert len(result.gdf) == len(gdf) and result.gdf.crs is not None
        preview = attempt(lambda: preview_import(src, layer, base=SAMPLE, fix=fix, **options), src)
        if preview is not None:
            assert preview.count >= 1 and all(math.isfinite(v) for v in preview.bounds)
            preview.rows()
        target = folder.parent / "work.gpkg"
        shutil.copyfile(SAMPLE, target)
        before = digest(target)
        stored = attempt(lambda: import_file(src, layer, target, fix=fix, **options), src)
        if stored is None:
            assert digest(target) == before
        else:
            assert len(load_layers(target, layers=(layer,))[layer]) == len(stored.gdf)
        if src.suffix.lower() == ".gpkg":
            attempt(lambda: load_layers(check_gpkg_path(src)), src)  # the app's "whole source" upload
        assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".work")] == []
    return gdf is not None, preview is not None, stored is not None


# ----------------------------------------------------------------------------- valid bases


def _roads_geojson() -> dict[str, Any]:
    gdf = frame("roads", [hline(0, 0, 300), hline(0, 100, 200)], name=["甲一路", "乙二路"]).to_crs(4326)
    return json.loads(gdf.to_json(drop_id=True))


def _parcels_geojson() -> dict[str, Any]:
    gdf = frame("parcels", [square(0, 0, 100), square(200, 0, 50)]).to_crs(4326)
    return json.loads(gdf.to_json(drop_id=True))


BASES = {"roads": _roads_geojson(), "parcels": _parcels_geojson()}


def _shapefile_members(encoding: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roads.shp"
        gdf = frame("roads", [hline(0, 0, 300), hline(0, 100, 200), hline(50, 50, 10)], name=["甲一路", "乙二路", "丙"])
        pyogrio.write_dataframe(gdf.to_crs(4326), path, driver="ESRI Shapefile", encoding=encoding)
        return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


SHAPEFILES = {"UTF-8": _shapefile_members("UTF-8"), "GBK": _shapefile_members("GBK")}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- strategies

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(
    st.floats(),  # NaN, inf, 1e308 …
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([125.35, 43.85, 447_700.0, 4_857_400.0, 0.0, -0.0, 1e308, -1e308]),
)
json_scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), st.one_of(json_scalars, st.lists(json_scalars, max_size=3)), max_size=4),
)
positions = st.lists(numbers, min_size=0, max_size=4)
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
    "Feature",
    "Circle",
    "",
)


@st.composite
def geometries(draw: st.DrawFn) -> Any:
    """A geometry member that may be anything: well formed, short, unclosed, nested deep, null."""
    kind = draw(st.sampled_from(GEOMETRY_TYPES))
    lon, lat = lonlat(0, 0)
    line = [[lon + 0.001 * i, lat] for i in range(draw(st.integers(0, 4)))]
    shape = draw(st.sampled_from(["position", "line", "ring", "unclosed", "deep", "empty", "random", "null", "many"]))
    coordinates: Any
    if shape == "position":
        coordinates = draw(positions)
    elif shape == "line":
        coordinates = line
    elif shape == "ring":
        coordinates = [[*line, line[0]]] if line else [[]]
    elif shape == "unclosed":
        coordinates = [[[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001]]]
    elif shape == "deep":
        coordinates = [lon, lat]
        for _ in range(draw(st.integers(1, 500))):  # json.dumps recurses once a level
            coordinates = [coordinates]
    elif shape == "empty":
        coordinates = []
    elif shape == "many":
        n = draw(st.integers(4_000, 8_000))
        coordinates = [[lon + 1e-5 * i, lat + 1e-5 * (i % 2)] for i in range(n)]
    elif shape == "null":
        return None
    else:
        coordinates = draw(json_values)
    geometry: dict[str, Any] = {"type": kind, "coordinates": coordinates}
    if kind == "GeometryCollection":
        geometry = {"type": kind, "geometries": draw(st.lists(st.just({"type": "Point", "coordinates": [lon, lat]})))}
    return geometry


@st.composite
def mutated_geojson(draw: st.DrawFn) -> tuple[bytes, str]:
    """A valid roads or parcels GeoJSON with some parts replaced; the layer it is for."""
    layer = draw(st.sampled_from(sorted(BASES)))
    doc = json.loads(json.dumps(BASES[layer]))
    for _ in range(draw(st.integers(1, 4))):
        what = draw(
            st.sampled_from(
                ["geometry", "property", "ids", "features", "type", "crs", "feature", "collection", "extra"]
            )
        )
        features = doc.get("features") if isinstance(doc, dict) else None
        feature = draw(st.sampled_from(features)) if isinstance(features, list) and features else None
        if what == "geometry" and isinstance(feature, dict):
            feature["geometry"] = draw(geometries())
        elif what == "property" and isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
            key = draw(st.sampled_from([*feature["properties"], "新字段"]))
            feature["properties"][key] = draw(json_values)
        elif what == "ids" and isinstance(features, list):
            for f in features:
                if isinstance(f, dict) and isinstance(f.get("properties"), dict):
                    f["properties"]["seg_id" if layer == "roads" else "parcel_id"] = "R1"
        elif what == "features" and isinstance(doc, dict):
            doc["features"] = draw(st.one_of(st.just([]), json_values, st.lists(st.just(feature), max_size=3)))
        elif what == "type" and isinstance(doc, dict):
            doc["type"] = draw(st.sampled_from(["Feature", "Topology", "", "FeatureCollection", "featurecollection"]))
        elif what == "crs" and isinstance(doc, dict):
            doc["crs"] = draw(
                st.one_of(
                    json_values,
                    st.builds(
                        lambda n: {"type": "name", "properties": {"name": n}},
                        st.sampled_from(["EPSG:4551", "EPSG:4490", "urn:ogc:def:crs:EPSG::3857", "EPSG:99999", "x"]),
                    ),
                )
            )
        elif what == "feature" and isinstance(feature, dict):
            feature[draw(st.sampled_from(["type", "properties", "id", "bbox"]))] = draw(json_values)
        elif what == "collection":
            doc = draw(st.one_of(json_values, st.just({"type": "FeatureCollection"})))
        elif isinstance(doc, dict):
            doc[draw(st.text(max_size=5))] = draw(json_values)
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))  # NaN and Infinity written as such
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace"), layer


@st.composite
def mutated_shapefile_zip(draw: st.DrawFn) -> bytes:
    """The roads Shapefile (UTF-8 or GBK) zipped with its parts cut, overwritten, renamed,
    nested or added to; then maybe the archive itself cut or overwritten."""
    members = dict(SHAPEFILES[draw(st.sampled_from(sorted(SHAPEFILES)))])
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["truncate", "overwrite", "count", "prj", "cpg", "drop", "rename", "nest"]))
        name = draw(st.sampled_from(sorted(members))) if members else None
        if name is None:
            break
        data = members[name]
        if what == "truncate":
            members[name] = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
        elif what == "overwrite" and data:
            at = draw(st.integers(0, len(data) - 1))
            patch = draw(st.binary(min_size=1, max_size=8))
            members[name] = data[:at] + patch + data[at + len(patch) :]
        elif what == "count":
            # record counts and lengths: .dbf bytes 4-8 and 8-12, .shp/.shx file length at 24-28
            ext, at = draw(st.sampled_from([("roads.dbf", 4), ("roads.dbf", 8), ("roads.shx", 24), ("roads.shp", 24)]))
            value = draw(st.sampled_from([b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"\xff\xff\xff\xff", b"\x01\x00"]))
            if ext in members:
                old = members[ext]
                members[ext] = old[:at] + value + old[at + len(value) :]
        elif what == "prj":
            members["roads.prj"] = draw(
                st.one_of(
                    st.binary(max_size=60),
                    st.sampled_from([b'PROJCS["x"]', b"EPSG:4326", b'GEOGCS["GCS_WGS_1984",DATUM[]]', b""]),
                )
            )
        elif what == "cpg":
            members["roads.cpg"] = draw(
                st.one_of(
                    st.binary(max_size=20), st.sampled_from([b"936", b"UTF-8", b"GBK", b"LATIN1", b"65001", b"x"])
                )
            )
        elif what == "drop":
            members.pop(name)
        elif what == "rename":
            members[
                draw(
                    st.sampled_from(
                        ["../roads.shp", "/etc/roads.shp", "C:/r.shp", "ROADS.SHP", "a\\..\\b.shp", "r.shp"]
                    )
                )
            ] = members.pop(name)
        else:
            members[f"{draw(st.sampled_from(['a', 'a/b', '测试', '__MACOSX']))}/{name}"] = members.pop(name)
    archive = zipped(members)
    damage = draw(st.sampled_from(["none", "none", "cut", "overwrite"]))
    if damage == "cut":
        archive = archive[: draw(st.integers(0, len(archive) - 1))]
    elif damage == "overwrite":
        at = draw(st.integers(0, len(archive) - 1))
        patch = draw(st.binary(min_size=1, max_size=8))
        archive = archive[:at] + patch + archive[at + len(patch) :]
    return archive


@st.composite
def broken_csv(draw: st.DrawFn) -> bytes:
    """A CSV of facilities with WKT or lon/lat columns holding what they should not."""
    lon, lat = lonlat(0, 0)
    wkt = st.one_of(
        st.sampled_from(
            [
                f"POINT ({lon} {lat})",
                f"POINT ({lon}",
                "POINT EMPTY",
                "POINT (nan nan)",
                "POINT (inf -inf)",
                "LINESTRING (1 2)",
                "POLYGON ((0 0, 1 1, 1 0))",
                "GEOMETRYCOLLECTION (POINT (1 2))",
                "SRID=4326;POINT (1 2)",
                f"POINT Z ({lon} {lat} 1e308)",
                "",
                "0101000000000000000000F03F000000000000F03F",
            ]
        ),
        st.text(max_size=30),
    )
    kind = draw(st.sampled_from(["wkt", "lonlat"]))
    rows = []
    for i in range(draw(st.integers(0, 5))):
        if kind == "wkt":
            value = draw(wkt)
        else:
            value = f"{draw(st.one_of(numbers, st.text(max_size=6)))},{draw(st.one_of(numbers, st.text(max_size=6)))}"
        quoted = '"' + value.replace('"', '""') + '"' if kind == "wkt" and draw(st.booleans()) else value
        rows.append(f"F{i},泵站,pump_station,existing,{quoted}")
    header = "fac_id,名称,类型,状态," + ("WKT" if kind == "wkt" else "lon,lat")
    text = "\n".join([header, *rows]) + draw(st.sampled_from(["", "\n", '\n"', "\n,,,,,,,,,", "\r\n\x00"]))
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


# ----------------------------------------------------------------------------- the fuzz tests


@given(data=st.binary(max_size=4096), suffix=st.sampled_from(sorted(FORMATS)), layer=st.sampled_from(LAYERS))
@example(data=b"\xff\xfe{\x00", suffix=".geojson", layer="roads")
@example(data=b"PK\x05\x06" + b"\x00" * 18, suffix=".zip", layer="roads")
def test_random_bytes(data: bytes, suffix: str, layer: str) -> None:
    through_everything(data, f"上传{suffix}", layer, from_crs="EPSG:4326" if suffix == ".csv" else None)


@given(case=mutated_geojson(), fix=st.booleans())
def test_mutated_geojson(case: tuple[bytes, str], fix: bool) -> None:
    data, layer = case
    through_everything(data, "道路.geojson", layer, fix=fix)


@given(data=mutated_shapefile_zip(), encoding=st.sampled_from([None, "GBK"]))
def test_mutated_shapefile_zip(data: bytes, encoding: str | None) -> None:
    through_everything(data, "冠城国际.zip", "roads", encoding=encoding)


@given(data=broken_csv(), from_crs=st.sampled_from(["EPSG:4326", "gcj02", "bd09", "EPSG:4551", None]))
def test_csv_with_broken_geometry(data: bytes, from_crs: str | None) -> None:
    through_everything(data, "高德取点.csv", "facilities", from_crs=from_crs)


@given(at=st.integers(0, SAMPLE.stat().st_size - 1), patch=st.binary(min_size=1, max_size=64), cut=st.booleans())
def test_mutated_geopackage(at: int, patch: bytes, cut: bool) -> None:
    data = SAMPLE.read_bytes()
    data = data[:at] if cut else data[:at] + patch + data[at + len(patch) :]
    through_everything(data, "南关.gpkg", "roads")


@st.composite
def mutated_kml(draw: st.DrawFn) -> bytes:
    """A KML placemark with text cut out or put in."""
    lon, lat = lonlat(0, 0)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<Placemark><name>泵站</name><Point><coordinates>{lon},{lat}</coordinates></Point></Placemark>"
        "</Document></kml>"
    )
    at = draw(st.integers(0, len(text)))
    insert = draw(
        st.one_of(st.text(max_size=20), st.sampled_from(["<Point>", "</kml>", "&bogus;", "<![CDATA[", "1e999,"]))
    )
    cut = draw(st.integers(0, 20))
    return (text[:at] + insert + text[at + cut :]).encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@given(data=mutated_kml())
def test_mutated_kml(data: bytes) -> None:
    through_everything(data, "学校.kml", "facilities")


@pytest.mark.parametrize("name", ["道路.geojson", "道路.zip", "泵站.csv"])
def test_valid_files_come_through_the_harness_as_layers(name: str) -> None:
    """The harness itself: an undamaged file is read, previewed and imported."""
    lon, lat = lonlat(0, 0)
    if name.endswith(".csv"):
        data = f"fac_id,name,kind,status,lon,lat\nF1,泵站,pump_station,existing,{lon},{lat}\n".encode()
        assert through_everything(data, name, "facilities", from_crs="EPSG:4326") == (True, True, True)
    elif name.endswith(".zip"):
        assert through_everything(zipped(SHAPEFILES["UTF-8"]), name, "roads") == (True, True, True)
        assert through_everything(zipped(SHAPEFILES["GBK"]), name, "roads", encoding="GBK") == (True, True, True)
    else:
        assert through_everything(json.dumps(BASES["roads"]).encode(), name, "roads") == (True, True, True)


# ----------------------------------------------------------------------------- the app itself


def test_the_apps_upload_shows_one_line_for_fuzzed_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few damaged files through the sidebar's import form: never an exception on the page,
    each refusal one line naming the file as uploaded, never the server's folder."""
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    monkeypatch.setenv("NANGUAN_MAX_UNZIPPED_MB", "1")
    bomb = zipped({"roads.shp": bytes(3_000_000), "roads.shx": b"", "roads.dbf": b""})
    cut = zipped(SHAPEFILES["UTF-8"])[:300]
    uploads = {
        "随机.geojson": (b"\xff\xfe{\x00\x00[", "文件内容不是 GeoJSON 格式"),
        "压缩炸弹.zip": (bomb, "解压后有 3 MB，超过 1 MB 的上限"),
        "截断.zip": (cut, "不是有效的 zip 压缩包"),
        "坏坐标.csv": ("seg_id,WKT\nR1,POINT (125.3\n".encode("gbk"), "列含有不是 WKT 的文字"),
    }
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    for name, (data, expected) in uploads.items():
        at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
        at.selectbox(key="import_as").set_value("roads").run()
        at.button(key="do_preview").click().run()
        assert not at.exception, name
        shown = [hostile.shown(e.value) for e in at.sidebar.error]  # as the page shows the Markdown
        assert len(shown) == 1 and name in shown[0] and "\n" not in shown[0], (name, shown)
        assert "nanguan-session-" not in shown[0] and tempfile.gettempdir() + "/" not in shown[0], shown
        assert expected in shown[0], shown
