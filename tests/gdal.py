"""GDAL's own command-line reader, ``ogrinfo``, as a second opinion on exported files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest


def ogrinfo(*args: str) -> str:
    """``ogrinfo`` output; skips where GDAL's tools are absent by design, fails on CI."""
    exe = shutil.which("ogrinfo")
    if exe is None:
        message = "ogrinfo is not installed (apt-get install gdal-bin)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([exe, *args], capture_output=True, text=True, encoding="utf-8", check=True)
    return result.stdout


def feature_count(summary: str) -> int:
    """The ``Feature Count`` of an ``ogrinfo -so`` summary."""
    return int(re.search(r"Feature Count: (\d+)", summary).group(1))
