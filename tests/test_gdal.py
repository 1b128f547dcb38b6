"""GDAL as the tool sets it up (geo/_gdal.py): only its own drivers, no network, no virtual
file system, in every thread, whatever was imported first.

Each check runs in a fresh Python process, as the app and the command line start: GDAL's
set-up is the process's, so the test process's own GDAL would prove nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo._gdal import DRIVERS, FILE_SYSTEMS

from .common import ROOT
from .untrusted import Listener, disguised, leaks, secret_file

#: Opens each path given as JSON with pyogrio, in the main thread and in another, after
#: importing what argv[1] names first; prints what came of each, and the drivers and file
#: systems GDAL has.
PROBE = """
import importlib, json, sys, threading
for name in sys.argv[1].split(","):
    importlib.import_module(name)
import pyogrio
import geo._gdal as g

def outcome(path):
    try:
        frame = pyogrio.read_dataframe(path)
        return {"read": frame.astype(str).to_csv(), "crs": str(frame.crs)}
    except Exception as exc:
        return {"error": type(exc).__name__ + ": " + str(exc)}

paths = json.loads(sys.argv[2])
found = {"main": [outcome(p) for p in paths]}
thread = threading.Thread(target=lambda: found.__setitem__("thread", [outcome(p) for p in paths]))
thread.start()
thread.join()
print(json.dumps({"drivers": sorted(pyogrio.list_drivers()), "fs": [p.decode() for p in g._file_systems()], **found}))
"""


def probe(paths: list[str], *, first: str = "geo") -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, first, json.dumps(paths)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {**json.loads(done.stdout.splitlines()[-1]), "stderr": done.stderr}


@pytest.fixture()
def listener() -> Listener:
    with Listener() as server:
        yield server


@pytest.mark.parametrize("first", ["geo", "pyogrio,geopandas,geo", "cli"], ids=["geo", "pyogrio-first", "cli"])
def test_only_the_tools_drivers_and_no_virtual_file_system(first: str) -> None:
    found = probe([], first=first)
    assert found["drivers"] == sorted(DRIVERS)
    assert found["fs"] == list(FILE_SYSTEMS)


def test_a_vrt_reads_nothing_whatever_its_name(tmp_path: Path, listener: Listener) -> None:
    """GDAL itself, asked to open the disguised VRTs without naming a driver (as the importer
    did), opens none: the VRT driver is gone. Nor does any fetch the listener's URL."""
    secret = secret_file(tmp_path)
    files = disguised(tmp_path / "file", f"CSV:{secret}") | {
        "net" + k: v for k, v in disguised(tmp_path / "net", f"CSV:/vsicurl/{listener.url}/secrets.csv").items()
    }
    found = probe([str(p) for p in files.values()])
    for outcomes in (found["main"], found["thread"]):
        assert all("error" in o for o in outcomes), outcomes
        assert not leaks(json.dumps(outcomes))
    assert listener.requests == []


def test_no_network_request_from_a_file_or_a_path(tmp_path: Path, listener: Listener) -> None:
    """A GeoJSON whose CRS is a link makes GDAL fetch it, a /vsicurl/ path or an http URL
    makes it download: none reaches the listener, in any thread, and the GeoJSON still
    reads (in WGS 84, the GeoJSON default)."""
    linked = tmp_path / "linked.geojson"
    linked.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "link", "properties": {"href": f"{listener.url}/crs.wkt", "type": "ogcwkt"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"a": 1},
                        "geometry": {"type": "Point", "coordinates": [125.3, 43.8]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    paths = [
        str(linked),
        f"/vsicurl/{listener.url}/a.geojson",
        f"/vsicurl_streaming/{listener.url}/b.geojson",
        f"GeoJSON:{listener.url}/c.geojson",
        f"{listener.url}/d.geojson",
    ]
    found = probe(paths)
    for outcomes in (found["main"], found["thread"]):
        assert outcomes[0]["crs"] == "EPSG:4326"
        assert all("error" in o for o in outcomes[1:]), outcomes
    assert listener.requests == []
    assert "refused a network request GDAL made" in found["stderr"]
