"""Time the app's first page of a source whose history holds a mistyped date, in one run.

``python -m bench.dates [--repeat 3]`` copies the sample, gives it one edit dated 2020-06-01
(``clean``) and a copy where that date reads ``1920-06-01`` (``1920``) or ``0202-06-01``
(``0202``), and times:

- the whole first page through Streamlit's AppTest, as the first visitor opens it (caches
  cleared before each run; the history panel refuses the bad history in one line, the rest
  of the page is drawn);
- the naive way, as the history panel did before dates were checked: the plan's progress
  at the end of every month since the first recorded change (``1920`` only: from year 202
  it would be 21,900 months, which the earlier measurement stopped after 170 s).

Prints a Markdown table: the median of ``--repeat`` runs, in seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.edits import edit_features
from geo.history import HISTORY_TABLE
from geo.io import load_layers
from geo.progress import load_targets, plan_progress

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "nanguan.gpkg"


def _source(folder: Path, day: str) -> Path:
    """A copy of the sample with one edit, its date then set to ``day`` as another tool would."""
    path = folder / f"nanguan-{day[:4]}.gpkg"
    shutil.copyfile(SAMPLE, path)
    edit_features(path, "roads", ["R002"], {"status": "open"}, by="张三", date=dt.date(2020, 6, 1))
    con = sqlite3.connect(path)
    try:
        con.execute(f'UPDATE "{HISTORY_TABLE}" SET date = ? WHERE date = ?', (day, "2020-06-01"))
        con.commit()
    finally:
        con.close()
    return path


def _page(path: Path) -> Callable[[], None]:
    def run() -> None:
        os.environ["NANGUAN_SOURCE"] = str(path)
        st.cache_data.clear()  # every run as the first visitor's: nothing computed yet
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        assert not at.exception and at.dataframe

    return run


def _naive_series(path: Path, first: dt.date) -> Callable[[], None]:
    """The monthly series from ``first``, as the panel built it before dates were checked."""
    layers, plan = load_layers(path), load_targets(ROOT / "data" / "targets.toml")
    history = pd.DataFrame(
        {
            "change_id": [1],
            "date": [first.isoformat()],
            "layer": ["roads"],
            "id": ["R002"],
            "field": ["status"],
            "old": ["planned"],
            "new": ["open"],
            "by": ["张三"],
            "recorded_at": ["2020-06-01T00:00:00Z"],
            "note": [""],
        }
    )

    def run() -> None:
        ends = [*pd.date_range(first, dt.date.today(), freq="ME").date, dt.date.today()]
        for day in ends:
            plan_progress(layers, plan, as_of=day, history=history)

    return run


def _median(work: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["NANGUAN_BASEMAP"] = "none"
    with tempfile.TemporaryDirectory() as folder:
        paths = {day: _source(Path(folder), day) for day in ("2020-06-01", "1920-06-01", "0202-06-01")}
        _page(paths["2020-06-01"])()  # imports and first-use costs are no page's
        rows = [
            ("first page, history dated 2020-06-01", _median(_page(paths["2020-06-01"]), args.repeat)),
            ("first page, one change dated 1920-06-01", _median(_page(paths["1920-06-01"]), args.repeat)),
            ("first page, one change dated 0202-06-01", _median(_page(paths["0202-06-01"]), args.repeat)),
            (
                "naive: monthly series since 1920-06-01 (the panel before the check)",
                _median(_naive_series(paths["2020-06-01"], dt.date(1920, 6, 1)), 1),
            ),
        ]
    print("| what | seconds |\n|---|---:|")
    for what, seconds in rows:
        print(f"| {what} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
