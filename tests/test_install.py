"""Installed like a tool: ``pip install .`` into a fresh virtual environment, dependencies and
all, gives a ``nanguan`` command that does from any folder what ``python -m geo`` does in the
checkout, the app included.

The dependencies come from a folder of wheels named by ``NANGUAN_TEST_WHEELS`` (``.ci/run``
fills one from pip's cache after installing the requirements), installed with no index, so
the test needs no network and proves that ``pyproject.toml`` names everything the tool needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from geo.io import dataset_info

from .browser import _ready_when_served, _wait_until_healthy, free_port
from .common import ROOT, SAMPLE
from .stclient import Tab

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def wheels() -> Path:
    """The folder of wheels to install from; skip (fail on CI) without one."""
    folder = os.environ.get("NANGUAN_TEST_WHEELS", "")
    if folder and Path(folder).is_dir():
        return Path(folder)
    message = (
        "NANGUAN_TEST_WHEELS names no folder of wheels "
        "(make one: pip download -d DIR '.[postgis]' 'setuptools>=61'; .ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def copy_source(target: Path) -> Path:
    """What ``pyproject.toml`` builds the package from, copied: its packages and their data."""
    tools = PYPROJECT["tool"]["setuptools"]
    mapped = tools.get("package-dir", {})
    for package in tools["packages"]:
        if package not in mapped:  # the package's own files: a subpackage is built only when listed too
            folder = Path(*package.split("."))
            (target / folder).mkdir(parents=True)
            for file in (f for f in (ROOT / folder).iterdir() if f.is_file()):
                shutil.copy(file, target / folder)
    for package, folder in mapped.items():
        assert folder == ".", package  # the page's folder is the checkout's top
        for module in ROOT.glob("*.py"):
            shutil.copy(module, target)
        for name in tools["package-data"][package]:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, target / name)
    shutil.copy(ROOT / "pyproject.toml", target)
    return target


def test_every_package_folder_is_built() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in listed
        if (ROOT / top / "__init__.py").exists()
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the package installed from a copy of the checkout."""
    found = wheels()
    where = tmp_path_factory.mktemp("install")
    source = copy_source(where / "src")
    env = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "-q", "--no-index", "--find-links", str(found), f"{source}[postgis]"],
        check=True,
        env=clean_env(),
    )
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would let the checkout or its venv be found."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "NANGUAN_BASEMAP": "none", **extra}


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


def nanguan(venv: Path, elsewhere: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "nanguan"), *args], cwd=elsewhere, env=clean_env(), capture_output=True, text=True
    )


def pinned(requirements: list[str]) -> dict[str, str]:
    """``name==version`` requirements (extras dropped) as a dict."""
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([\w-]+)(?:\[[\w,]+\])?==(\S+)", requirement)
        assert match is not None, f"not pinned: {requirement}"
        pins[match[1]] = match[2]
    return pins


def test_the_dependencies_are_installed_from_pyproject_at_their_pins(venv: Path, elsewhere: Path) -> None:
    pins = pinned([*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["postgis"]])
    script = (
        "import importlib.metadata as m, json, geo, geopandas, streamlit, sqlalchemy, psycopg\n"
        f"print(json.dumps({{n: m.version(n) for n in {sorted(pins)!r}}}))\n"
        "print(geo.__file__); print(geopandas.__file__); print(psycopg.__file__)"
    )
    shown = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], cwd=elsewhere, env=clean_env(), capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    versions, *files = shown.stdout.splitlines()
    assert json.loads(versions) == pins
    assert all(Path(f).is_relative_to(venv) for f in files), files


def test_the_commands_run_from_another_folder(venv: Path, elsewhere: Path) -> None:
    args = ["stats", str(SAMPLE), "--format", "csv"]
    tool = nanguan(venv, elsewhere, *args)
    module = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True)
    assert tool.returncode == 0, tool.stderr
    assert tool.stdout == module.stdout and tool.stdout.startswith("district_code,district_name,")
    # the map's own script is package data: the standalone map inlines it
    drawn = nanguan(venv, elsewhere, "map", str(SAMPLE), "--out", "map.html")
    assert drawn.returncode == 0, drawn.stderr
    assert "window.nanguan" in (elsewhere / "map.html").read_text(encoding="utf-8")
    exported = nanguan(venv, elsewhere, "export", str(SAMPLE), "--layer", "roads", "--format", "gpkg", "--out", "r.gpkg")
    assert exported.returncode == 0, exported.stderr
    assert (elsewhere / "r.gpkg").read_bytes()[:16] == b"SQLite format 3\x00"
    checked = nanguan(venv, elsewhere, "validate", str(SAMPLE))
    assert checked.returncode == 0, checked.stderr
    missing = nanguan(venv, elsewhere, "stats", "nope.gpkg")
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: nope.gpkg: no such file; pass the path of a GeoPackage (.gpkg)\n",
    )


@contextmanager
def serving(venv: Path, elsewhere: Path) -> Iterator[str]:
    """``nanguan app`` from another folder on a free loopback port, until the test ends."""
    port = free_port()
    command = [str(venv / "bin" / "nanguan"), "app", "--server.headless=true", f"--server.port={port}"]
    command.append("--server.address=127.0.0.1")
    env = clean_env(PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(command, cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    log: list[str] = []
    ready, reader = _ready_when_served(proc, url, log)
    try:
        ready.wait()
        _wait_until_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait()
        reader.join()
        assert proc.stdout is not None
        proc.stdout.close()


def installed_files(venv: Path) -> set[Path]:
    return {p for p in venv.glob("lib/python*/site-packages/**/*") if "__pycache__" not in p.parts}


def test_the_app_starts_from_the_installed_package(venv: Path, elsewhere: Path) -> None:
    before = installed_files(venv)
    with serving(venv, elsewhere) as url:
        with urllib.request.urlopen(url) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        with Tab(url) as tab:
            texts = tab.run().texts()
        with urllib.request.urlopen(f"{url}/app/static/nanguan/map.js") as script:
            assert b"window.nanguan" in script.read()
    # the installed sample is the source shown first
    assert any(dataset_info(SAMPLE)["subtitle_zh"] in t for t in texts), texts
    # the app serves its files from the packages: it writes nothing into site-packages
    assert installed_files(venv) == before
