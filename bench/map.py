"""The map benchmark: page bytes, build time and time to draw, ours against the naive way.

``python -m bench.map`` measures, in one run, for the sample and the generator's cities:

- the standalone page (``layers.mapbuild.map_html``, what ``python -m geo map`` writes):
  bytes, Python build time, and time from navigation to every drawn feature on the canvas
  in headless Chromium (offline, ``file://``; median of ``--repeat`` loads, alternating
  with the naive page, after one warm-up page);
- the naive page of the same data: ``folium.GeoJson`` per layer with a name tooltip and
  circle markers for points, Leaflet from the same local file: bytes, build time, time to
  all its SVG paths;
- with ``--app``, the Streamlit app: time from navigation to the first map drawn, bytes
  received on the websocket until then, time and bytes for switching one layer off in the
  sidebar until the map shows it, time and bytes of a rerun that leaves the map alone
  (another export format), and the page's JS heap; ``--old COMMIT`` runs the same
  measurements on that commit checked out beside this one (``git worktree add`` into a
  temporary folder, removed afterwards).

Figures and commands are recorded in ``bench/README.md``. Not a test: nothing here fails on
a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import folium
import geopandas as gpd
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from display.assets import LEAFLET_DIR
from display.mapbuild import MapOptions, map_html
from geo.io import load_layers
from layers import CATALOGUE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLE = ROOT / "data" / "nanguan.gpkg"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def city(n: int) -> Path:
    """The generator's city with ``n`` road segments (made once, kept in ``bench/out``)."""
    path = OUT / f"city_{n}.gpkg"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "bench.generate", "--roads", str(n), "--out", str(path)]
        subprocess.run(cmd, cwd=ROOT, check=True)
    return path


def naive_page(layers: dict[str, gpd.GeoDataFrame]) -> str:
    """What a notebook does: one ``folium.GeoJson`` per layer, a tooltip of its name."""
    m = folium.Map(location=(43.8, 125.35), zoom_start=11, tiles=None)
    m.default_js = [("leaflet", (LEAFLET_DIR / "leaflet.js").as_uri())]
    m.default_css = [("leaflet_css", (LEAFLET_DIR / "leaflet.css").as_uri())]
    for name, gdf in layers.items():
        spec = CATALOGUE[name]
        folium.GeoJson(
            gdf.to_crs(4326),
            name=name,
            tooltip=folium.GeoJsonTooltip(fields=["name"]),
            marker=folium.CircleMarker(radius=4) if spec.geometry == "point" else None,
        ).add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def drawn_seconds(browser: object, page_path: Path, ours: bool, expected: int) -> float:
    """Seconds from navigation until every feature is drawn (offline)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", lambda r: r.abort() if not r.request.url.startswith("file:") else r.continue_())
    start = time.perf_counter()
    page.goto(page_path.as_uri(), timeout=900_000)
    if ours:
        page.wait_for_function(
            """n => { const m = Object.values(window).find(v => v && v._ng && v._ng.ready);
                      return m && Object.values(nanguan.drawn(m)).reduce((a, b) => a + b, 0) === n; }""",
            arg=expected,
            timeout=900_000,
        )
    else:
        page.wait_for_function(
            "n => document.querySelectorAll('path.leaflet-interactive').length >= n", arg=expected, timeout=900_000
        )
    seconds = time.perf_counter() - start
    page.close()
    return seconds


def standalone(browser: object, label: str, source: Path, repeat: int) -> None:
    layers = load_layers(source)
    total = sum(len(g) for g in layers.values())
    options = MapOptions()
    start = time.perf_counter()
    ours = map_html(layers, options)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_page(layers)
    naive_s = time.perf_counter() - start
    OUT.mkdir(exist_ok=True)
    ours_path, naive_path = OUT / f"map_{label}.html", OUT / f"naive_{label}.html"
    ours_path.write_text(ours, encoding="utf-8")
    naive_path.write_text(naive, encoding="utf-8")
    shown = _shown(ours)
    # alternate the two pages, median of `repeat` loads each
    ours_runs, naive_runs = [], []
    for _ in range(repeat):
        ours_runs.append(drawn_seconds(browser, ours_path, True, shown))
        naive_runs.append(drawn_seconds(browser, naive_path, False, total))
    ours_draw, naive_draw = statistics.median(ours_runs), statistics.median(naive_runs)
    ob, nb = len(ours.encode()), len(naive.encode())
    print(
        f"| {label} | {total:,} | {shown:,} | {ob / 1e6:.2f} | {nb / 1e6:.2f} | {nb / ob:.1f}× | {ours_s:.2f} | "
        f"{naive_s:.2f} | {ours_draw:.2f} | {naive_draw:.2f} | {naive_draw / ours_draw:.1f}× |",
        flush=True,
    )


def _shown(page: str) -> int:
    """Features the page draws, from its payloads."""
    import json
    import re

    found = re.findall(r"nanguan\.layer\([\w]+, [\w]+, (.*)\);\n", page)
    return sum(json.loads(p)["shown"] for p in found)


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """``commit`` checked out beside this worktree, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nanguan-old-")) / "app"
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), commit], cwd=ROOT, check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=True)


@contextmanager
def app_server(root: Path, source: Path) -> Iterator[str]:
    sys.path.insert(0, str(ROOT))
    from tests.browser import free_port

    port = free_port()
    env = {**os.environ, "NANGUAN_BASEMAP": "none", "NANGUAN_SOURCE": str(source)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


_OURS_READY = """n => { const m = window.map; if (!m || !m._ng || !m._ng.ready) return false;
    const want = Object.values(m._ng.layers).reduce((a, e) => a + (e.data.on ? e.data.shown : 0), 0);
    return want > 0 && Object.values(nanguan.drawn(m)).reduce((a, b) => a + b, 0) === want; }"""
_OURS_PIPES_OFF = """n => { const m = window.map; return m && m._ng && m._ng.ready && m._ng.layers.pipes
    && m._ng.layers.pipes.data.on === false && !nanguan.drawn(m).pipes; }"""
_OLD_READY = "n => document.querySelectorAll('path.leaflet-interactive').length === n"
_OLD_PIPES_OFF = (
    "n => document.querySelectorAll('path.leaflet-interactive').length > 0 && !document.querySelector('path.ng-pipes')"
)


def app_run(browser: object, label: str, root: Path, source: Path, ours: bool) -> None:
    with app_server(root, source) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        received = [0]
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.__setitem__(0, received[0] + len(f))))
        start = time.perf_counter()
        page.goto(url)
        frame_sel = 'iframe[title="streamlit_folium.st_folium"]'

        total = sum(len(g) for g in load_layers(source).values())

        def wait(condition: str) -> None:
            deadline = time.perf_counter() + 900
            while time.perf_counter() < deadline:
                for f in page.frames:
                    if "st_folium" in f.url:
                        try:
                            if f.evaluate(condition, total):
                                return
                        except Exception:  # a frame replaced by a rerun
                            pass
                page.wait_for_timeout(100)
            raise TimeoutError(condition)

        page.locator(frame_sel).first.wait_for(timeout=900_000)
        wait(_OURS_READY if ours else _OLD_READY)
        first = time.perf_counter() - start
        first_bytes = received[0]
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"]
        received[0] = 0
        start = time.perf_counter()
        page.locator('[data-testid="stSidebar"]').get_by_role("checkbox", name="管线", exact=True).uncheck(force=True)
        wait(_OURS_PIPES_OFF if ours else _OLD_PIPES_OFF)
        change = time.perf_counter() - start
        change_bytes = received[0]
        # A rerun that does not touch the map: another export format.
        received[0] = 0
        start = time.perf_counter()
        box = page.get_by_role("combobox", name="格式")
        box.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
        for _ in range(10):  # a rerun may redraw the box while it opens
            box.click()
            try:
                page.get_by_role("option", name="CSV", exact=True).click(timeout=5_000)
                break
            except PlaywrightTimeout:
                continue
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]')"
            "?.getAttribute('data-test-script-state') === 'notRunning'",
            timeout=900_000,
        )
        other = time.perf_counter() - start
        print(
            f"| {label} | {first:.1f} | {first_bytes / 1e6:.2f} | {change:.1f} | {change_bytes / 1e6:.2f} | "
            f"{other:.1f} | {received[0] / 1e6:.3f} | {heap / 2**20:.0f} |",
            flush=True,
        )
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="road segments")
    parser.add_argument("--app", type=int, nargs="*", default=[], help="road segments to time the app at")
    parser.add_argument("--old", metavar="COMMIT", help="also time the app at this commit, checked out beside")
    parser.add_argument("--repeat", type=int, default=3, help="page loads per standalone page (median reported)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        print(
            "| data | features | drawn | ours MB | naive MB | smaller | ours build s | naive build s "
            "| ours drawn s | naive drawn s | sooner |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        warm = browser.new_page()  # the browser's first page pays its start-up; not ours, not naive's
        warm.goto((LEAFLET_DIR / "leaflet.js").as_uri())
        warm.close()
        standalone(browser, "sample", SAMPLE, args.repeat)
        for n in args.sizes:
            standalone(browser, f"{n:,} segments", city(n), args.repeat)
        if args.app:
            print(
                "\n| app | first map s | first map MB (websocket) | layer off s | layer off MB "
                "| export format s | export format MB | JS heap MiB |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for n in args.app:
                app_run(browser, f"this commit, {n:,} segments", ROOT, city(n), True)
                if args.old:
                    with checkout(args.old) as old:
                        app_run(browser, f"{args.old}, {n:,} segments", old, city(n), False)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
