"""The app under many simultaneous sessions: every one answered, and how fast.

``python -m bench.load --sessions 20 --roads 10000`` writes the generator's city
(``bench.generate``) with the sample's plan beside it, starts one ``streamlit run`` server
on it, and opens ``--sessions`` pages at once in headless Chromium, each in a browser
context of its own (its own cookies and websocket: a session of its own on the server).
Every page waits for its first answer (the script run over, the statistics table, the
progress cards and the map drawn), then makes ``--reruns`` reruns by switching the roads
layer off and on again in the sidebar (each rerun redraws the map and the export buttons),
each waited for until its run is over and the page has its answer again; all pages do this
at the same time.

A session has its answer when its page shows no exception and no error, the statistics'
TOTAL row counts every road segment of the city, and the map has drawn features. The
figures are the time to the first answer and the time per rerun (from the click to the
end of the run it started, as the page reports it), median and 95th percentile over all
sessions. Figures and commands are recorded in ``bench/README.md``. Not a test: nothing here
fails on a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

__all__ = ["SessionResult", "main", "run_load"]

#: Counts the app's finished script runs: Streamlit marks its root element with the run's state.
COUNT_RUNS = """
window.__runsDone = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.getAttribute("data-test-script-state") === "notRunning" && r.oldValue !== "notRunning") {
      window.__runsDone += 1;
    }
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ["data-test-script-state"]});
"""
_RUN_OVER = """(done) => window.__runsDone > done &&
    document.querySelector('[data-testid="stApp"]')?.getAttribute("data-test-script-state") === "notRunning" """
_IDLE = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute("data-test-script-state") === "notRunning" """
_TITLE = "城市更新一张图"
_MAP = 'iframe[title="streamlit_folium.st_folium"] >> visible=true'
_TIMEOUT_MS = 600_000


@dataclass
class SessionResult:
    """What one session saw.

    Attributes
    ----------
    first_s : float or None
        Seconds from navigation to the first answer; None when it never came.
    reruns_s : list of float
        Seconds of each rerun, click to the end of its run.
    roads : int or None
        Road segments in the statistics' TOTAL row of the last answer.
    drawn : int
        Features on the map's canvas after the last answer.
    errors : list of str
        Exceptions, errors on the page and script errors; empty when all went well.
    """

    first_s: float | None = None
    reruns_s: list[float] = field(default_factory=list)
    roads: int | None = None
    drawn: int = 0
    errors: list[str] = field(default_factory=list)

    def answered(self, roads: int, reruns: int) -> bool:
        """Whether every run of the session was answered, right and without error."""
        return not self.errors and self.roads == roads and self.drawn > 0 and len(self.reruns_s) == reruns


async def _answer(page: object, result: SessionResult, roads_on: bool) -> None:
    """Check what the page shows once a run is over."""
    await page.locator("h1", has_text=_TITLE).first.wait_for(timeout=_TIMEOUT_MS)
    await page.locator(".ng-card").first.wait_for(timeout=_TIMEOUT_MS)
    table = page.locator('[data-testid="stDataFrame"]').first
    await table.wait_for(timeout=_TIMEOUT_MS)
    frame = await (await page.locator(_MAP).element_handle()).content_frame()
    await frame.wait_for_function(
        """on => { const st = window.map && window.map._ng;
                   return !!(st && st.ready && st.layers.roads && st.layers.roads.data.on === on); }""",
        arg=roads_on,
        timeout=_TIMEOUT_MS,
    )
    result.drawn = sum((await frame.evaluate("() => nanguan.drawn(window.map)")).values())
    for kind in ("stException", "stAlertContentError"):
        for text in await page.get_by_test_id(kind).all_inner_texts():
            result.errors.append(f"{kind}: {text[:200]}")
    # the TOTAL row of the statistics, read from the CSV the page offers (the table is a
    # canvas), once the run the map's view report starts is over; a download that a late
    # rerun still cancels (the rerun replaces the button's file) is asked for again
    await frame.wait_for_function("() => !!(window.__GLOBAL_DATA__ && window.__GLOBAL_DATA__.previous_data)")
    await page.wait_for_function(_IDLE)
    for attempt in range(3):
        try:
            async with page.expect_download(timeout=_TIMEOUT_MS) as info:
                await page.get_by_role("button", name="下载统计表 CSV").click()
            path = await (await info.value).path()
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            await page.wait_for_function(_IDLE)
    rows = Path(path).read_text(encoding="utf-8-sig").splitlines()
    header, total = rows[0].split(","), rows[-1].split(",")
    result.roads = int(float(total[header.index("roads_count")]))


async def _session(browser: object, url: str, reruns: int, result: SessionResult) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(_TIMEOUT_MS)  # 20 pages drawing at once on a small machine are slow
    page = await context.new_page()
    page.on("pageerror", lambda e: result.errors.append(f"script: {e}"))
    await page.add_init_script(COUNT_RUNS)
    try:
        start = time.perf_counter()
        await page.goto(url, timeout=_TIMEOUT_MS)
        await page.wait_for_function(_RUN_OVER, arg=0, timeout=_TIMEOUT_MS)
        await _answer(page, result, True)
        result.first_s = time.perf_counter() - start
        toggle = page.locator('[data-testid="stSidebar"]').get_by_role("checkbox", name="道路", exact=True)
        for i in range(reruns):
            done = await page.evaluate("window.__runsDone")
            start = time.perf_counter()
            await toggle.set_checked(i % 2 == 1, force=True)
            await page.wait_for_function(_RUN_OVER, arg=done, timeout=_TIMEOUT_MS)
            result.reruns_s.append(time.perf_counter() - start)
            await _answer(page, result, i % 2 == 1)
    except Exception as exc:  # a session that fails is a result, not the end of the benchmark
        result.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _all(url: str, sessions: int, reruns: int) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    results = [SessionResult() for _ in range(sessions)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(_session(browser, url, reruns, r) for r in results))
        finally:
            await browser.close()
    return results


def run_load(source: Path, *, sessions: int, reruns: int) -> list[SessionResult]:
    """Open ``sessions`` pages at once on one app server showing ``source``; each waits for
    its first answer, then makes ``reruns`` reruns.

    Parameters
    ----------
    source : Path
        The GeoPackage the app shows.
    sessions : int
        Simultaneous browser sessions.
    reruns : int
        Reruns each session makes after its first answer.

    Returns
    -------
    list of SessionResult
        One per session.
    """
    from tests.browser import streamlit_server

    with streamlit_server(NANGUAN_SOURCE=str(source)) as url:
        return asyncio.run(_all(url, sessions, reruns))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="simultaneous sessions (default 20)")
    parser.add_argument("--reruns", type=int, default=3, help="reruns per session after its first answer (default 3)")
    parser.add_argument("--roads", type=int, default=10_000, help="road segments of the generated city (default 10000)")
    args = parser.parse_args(argv)
    from tests.common import write_city

    with tempfile.TemporaryDirectory(prefix="nanguan-load-") as folder:
        source = write_city(Path(folder) / "city.gpkg", roads=args.roads, districts=200, targets=True)
        start = time.perf_counter()
        results = run_load(source, sessions=args.sessions, reruns=args.reruns)
        wall = time.perf_counter() - start
    ok = [r for r in results if r.answered(args.roads, args.reruns)]
    first = [r.first_s for r in results if r.first_s is not None]
    reruns = [t for r in results for t in r.reruns_s]
    print(f"sessions answered: {len(ok)} of {len(results)} ({args.roads:,} road segments, wall {wall:.1f} s)")
    if first:
        print(f"first answer s: median {statistics.median(first):.2f}, p95 {_percentile(first, 0.95):.2f}")
    if reruns:
        print(f"rerun s ({len(reruns)}): median {statistics.median(reruns):.2f}, p95 {_percentile(reruns, 0.95):.2f}")
    for i, r in enumerate(results):
        for error in r.errors:
            print(f"session {i}: {error}", file=sys.stderr)
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
