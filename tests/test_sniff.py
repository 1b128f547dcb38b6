"""Each reader opens only files of its own format (geo/_sniff.py): a GDAL virtual-layer file
disguised as GeoJSON, KML, CSV, a GeoPackage or a zipped Shapefile, pointing at a secret of
the server or at a URL inside its network, is refused in one line, by the core and by the
command line, and nothing of the secret comes out, nor any request."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geo._sniff import check_content
from geo.errors import SourceError, message
from geo.importer import import_file, read_foreign

from .common import ROOT, SAMPLE
from .untrusted import Listener, disguised, leaks, secret_file

ENDINGS = (".geojson", ".json", ".kml", ".csv", ".gpkg", ".shp", ".zip")
FORMAT = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".csv": "CSV",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
}


@pytest.fixture()
def listener() -> Listener:
    with Listener() as server:
        yield server


@pytest.fixture()
def attacks(tmp_path: Path, listener: Listener) -> dict[str, dict[str, Path]]:
    """The disguised VRTs by what they point at: the secret file, and the listener."""
    secret = secret_file(tmp_path)
    return {
        "file": disguised(tmp_path / "file", f"CSV:{secret}"),
        "url": disguised(tmp_path / "url", f"CSV:/vsicurl/{listener.url}/secrets.csv"),
    }


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        env={**os.environ, "NANGUAN_LOG_FILE": ""},
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("target", ["file", "url"])
@pytest.mark.parametrize("ending", ENDINGS)
def test_a_disguised_vrt_is_refused_by_the_core(
    attacks: dict[str, dict[str, Path]], listener: Listener, target: str, ending: str, tmp_path: Path
) -> None:
    path = attacks[target][ending]
    into = tmp_path / "work.gpkg"
    shutil.copyfile(SAMPLE, into)
    before = digest(into)
    with pytest.raises(SourceError) as info:
        import_file(path, "facilities", into, from_crs="EPSG:4326")
    assert info.value.code == "import.not_format"
    for lang in ("en", "zh"):
        shown = message(info.value, lang, names={str(path): path.name})
        assert "\n" not in shown and shown.startswith(path.name) and FORMAT[ending] in shown
        assert not leaks(shown)
    assert "<OGRVRTDataSource>" in str(info.value)  # how it starts, so the sender sees what they sent
    assert digest(into) == before
    assert listener.requests == []


@pytest.mark.parametrize("target", ["file", "url"])
@pytest.mark.parametrize("ending", ENDINGS)
def test_a_disguised_vrt_is_refused_by_the_command_line(
    attacks: dict[str, dict[str, Path]], listener: Listener, target: str, ending: str, tmp_path: Path
) -> None:
    """``geo validate`` and ``geo import`` as a bureau would run them; ``geo export … csv``
    afterwards would have printed the secret line by line had the import gone through."""
    path = attacks[target][ending]
    into = tmp_path / "work.gpkg"
    shutil.copyfile(SAMPLE, into)
    before = digest(into)
    validated = run_cli("validate", str(path), "--layer", "facilities", "--from-crs", "EPSG:4326")
    imported = run_cli(
        "import", str(path), "--as", "facilities", "--into", str(into), "--from-crs", "EPSG:4326", "--yes"
    )
    exported = run_cli(
        "export", str(into), "--layer", "facilities", "--format", "csv", "--out", str(tmp_path / "f.csv")
    )
    for done in (validated, imported):
        errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert len(errors) == 1 and f"is not a {FORMAT[ending]} file" in errors[0], done.stderr
    assert exported.returncode == 0, exported.stderr
    for done in (validated, imported, exported):
        assert not leaks(done.stdout + done.stderr)
    assert not leaks((tmp_path / "f.csv").read_text(encoding="utf-8-sig"))
    assert digest(into) == before
    assert listener.requests == []


def test_files_of_the_right_kind_pass(tmp_path: Path) -> None:
    """What each reader takes: a BOM and white space before a GeoJSON's brace, an XML
    declaration, comments and a namespace prefix before a KML's root element."""
    cases = {
        "geojson": b'\xef\xbb\xbf \n\t{"type": "FeatureCollection", "features": []}',
        "kml": b'<?xml version="1.0"?>\n<!-- made by a bureau -->\n<kml:kml xmlns:kml="http://www.opengis.net/kml/2.2"/>',
        "gpkg": SAMPLE.read_bytes()[:4096],
        "csv": "\ufeff名称,经度,纬度\n泵站,125.3,43.8\n".encode(),
    }
    for kind, data in cases.items():
        path = tmp_path / f"ok.{kind}"
        path.write_bytes(data)
        check_content(path, kind, format=kind, shown=path.name)


@pytest.mark.parametrize(
    ("kind", "data", "start"),
    [
        ("geojson", b"[1, 2]", "'[1, 2]'"),
        ("kml", b'<!DOCTYPE kml [<!ENTITY x "y">]><kml/>', "'<!DOCTYPE kml [<!ENTITY'"),
        ("kml", b"<OGRVRTDataSource/>", "'<OGRVRTDataSource/>'"),
        ("gpkg", b"PK\x03\x04rest", "'PK\\x03\\x04rest'"),
        ("shp", b"<OGRVRTDataSource/>" + b" " * 100, "'<OGRVRTDataSource/>'"),
        ("csv", b"  <OGRVRTDataSource>\n", "'<OGRVRTDataSource>'"),
    ],
    ids=["geojson-array", "kml-doctype", "kml-vrt", "gpkg-zip", "shp-vrt", "csv-xml"],
)
def test_files_of_another_kind_are_refused_saying_how_they_start(
    tmp_path: Path, kind: str, data: bytes, start: str
) -> None:
    path = tmp_path / f"x.{kind}"
    path.write_bytes(data)
    with pytest.raises(SourceError) as info:
        check_content(path, kind, format="F", shown=path.name)
    assert info.value.params["start"] == start
    assert message(info.value, "zh").startswith(f"x.{kind}：文件内容不是 F 格式（开头是 {start}）")


def test_a_kml_declaring_entities_further_down_is_refused(tmp_path: Path) -> None:
    """The first bytes look like KML; the scan before GDAL finds the DOCTYPE later on."""
    path = tmp_path / "x.kml"
    path.write_text('<?xml version="1.0"?>\n' + "<!-- padding -->\n" * 5000 + '<!DOCTYPE kml [<!ENTITY a "b">]><kml/>')
    with pytest.raises(SourceError) as info:
        read_foreign(path)
    assert info.value.code == "import.not_format"


def test_the_secret_shows_in_no_log_line(tmp_path: Path, attacks: dict[str, dict[str, Path]]) -> None:
    """The operation log records the refusal, naming the file, without its content."""
    log = tmp_path / "ops.log"
    path = attacks["file"][".geojson"]
    done = subprocess.run(
        [
            *(sys.executable, "-m", "geo", "import", str(path), "--as", "facilities"),
            *("--into", str(tmp_path / "n.gpkg"), "--create", "--from-crs", "EPSG:4326"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NANGUAN_LOG_FILE": str(log)},
    )
    assert done.returncode == 1
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records and records[-1]["result"] == "error" and records[-1]["file"] == path.name
    assert not leaks(log.read_text(encoding="utf-8"))
