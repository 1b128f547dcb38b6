"""Time ``python -m geo stats`` against the naive way and the floor, as whole processes.

``python -m bench.run`` generates the city datasets it needs (``python -m bench.generate``), then
runs each command ``--repeat`` times per size and prints a Markdown table: median wall
time, peak memory (max RSS of the process), and the ratios to the floor. It also checks
that the ``stats`` table equals the naive one to 1e-6 relative. QGIS's
``native:sumlinelengths`` is timed too where ``qgis_process`` is on the PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"


def timed(cmd: list[str], root: Path = ROOT) -> tuple[float, int]:
    """Run ``cmd`` in the checkout ``root``; wall seconds and peak resident memory in MiB."""
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss // 1024


def median_run(cmd: list[str], repeat: int, root: Path = ROOT) -> tuple[float, int]:
    runs = [timed(cmd, root) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def same_tables(ours: Path, naive: Path) -> float:
    """Largest difference between the numeric cells of two stats CSVs, relative to the cell
    or to 1 (km, ha, count) when the cell is smaller: the command's CSV is rounded to 1 m
    and 1 m², so small cells differ from the naive way's unrounded ones by up to 5e-4."""
    a, b = pd.read_csv(ours, encoding="utf-8-sig"), pd.read_csv(naive, encoding="utf-8-sig")
    if list(a["district_code"]) != list(b["district_code"]) or list(a.columns) != list(b.columns):
        return float("inf")
    num = a.columns[2:]
    diff = np.abs(a[num].to_numpy(float) - b[num].to_numpy(float))
    return float((diff / np.maximum(np.abs(a[num].to_numpy(float)), 1.0)).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="road segments")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median is reported)")
    parser.add_argument("--naive-max", type=int, default=100_000, help="largest size the naive way is run at")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout of the project (e.g. `git worktree add DIR COMMIT`) whose `geo stats` is timed too",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    py = sys.executable
    # Debian's qgis_process wrapper passes an option QGIS 3.22 refuses; call the program itself.
    qgis = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; qgis_process: {qgis or 'not installed'}\n")
    print(
        "| segments | floor s | stats s | stats / floor | naive s | naive / floor "
        "| stats MiB | naive MiB | max rel. diff |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        data = OUT / f"city_{n}.gpkg"
        if not data.exists():
            subprocess.run([py, "-m", "bench.generate", "--roads", str(n), "--out", str(data)], cwd=ROOT, check=True)
        floor, _ = median_run([py, "-m", "bench.floor", str(data)], args.repeat)
        ours_csv, naive_csv = OUT / f"stats_{n}.csv", OUT / f"naive_{n}.csv"
        ours, ours_mem = median_run(
            [py, "-m", "geo", "stats", str(data), "--format", "csv", "--out", str(ours_csv)], args.repeat
        )
        if args.baseline is not None:
            base_csv = OUT / f"baseline_{n}.csv"
            cmd = [py, "-m", "geo", "stats", str(data), "--format", "csv", "--out", str(base_csv)]
            base, base_mem = median_run(cmd, args.repeat, args.baseline.resolve())
            label = f"{n:,}: baseline `geo stats` ({args.baseline.name})"
            print(f"| {label} | | {base:.2f} | {base / floor:.2f} | | | {base_mem} | | |")
        if n <= args.naive_max:
            naive, naive_mem = median_run([py, "-m", "bench.naive", str(data), str(naive_csv)], args.repeat)
            diff = f"{same_tables(ours_csv, naive_csv):.1e}"
            naive_cells = f"{naive:.2f} | {naive / floor:.2f} |"
        else:
            naive_mem, diff, naive_cells = 0, "–", "– | – |"
        print(
            f"| {n:,} | {floor:.2f} | {ours:.2f} | {ours / floor:.2f} | {naive_cells} {ours_mem} | "
            f"{naive_mem or '–'} | {diff} |"
        )
        if qgis:
            alg = [
                qgis,
                "run",
                "native:sumlinelengths",
                "--",
                f"POLYGONS={data}|layername=districts",
                f"LINES={data}|layername=roads",
                f"OUTPUT={OUT / f'qgis_{n}.gpkg'}",
            ]
            q, _ = median_run(alg, args.repeat)
            print(f"| {n:,}: QGIS sumlinelengths, roads only | | {q:.2f} | {q / floor:.2f} | | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
