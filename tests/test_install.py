"""Installed like a tool: ``pip install .`` gives a ``nanguan`` command equal to ``python -m geo``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .common import ROOT, SAMPLE


def test_pip_install_gives_the_nanguan_command(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for package in ("geo", "layers", "display", "cli"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(source)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    args = ["stats", str(SAMPLE), "--format", "csv"]
    tool = subprocess.run(
        [str(site / "bin" / "nanguan"), *args], cwd=elsewhere, env=env, capture_output=True, text=True, check=False
    )
    module = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert tool.returncode == 0, tool.stderr
    assert tool.stdout == module.stdout and tool.stdout.startswith("district_code,district_name,")
    # the map's own script is package data: the standalone map inlines it
    page = elsewhere / "map.html"
    drawn = subprocess.run(
        [str(site / "bin" / "nanguan"), "map", str(SAMPLE), "--out", str(page)], cwd=elsewhere, env=env, check=False
    )
    assert drawn.returncode == 0 and "window.nanguan" in page.read_text(encoding="utf-8")
    missing = subprocess.run(
        [str(site / "bin" / "nanguan"), "stats", "nope.gpkg"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert (missing.returncode, missing.stderr) == (
        1,
        "error: nope.gpkg: no such file; pass the path of a GeoPackage (.gpkg)\n",
    )
