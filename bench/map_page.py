"""Benchmark the resident map page's first view with N proposals in headless Chromium.

For each N (10 000 and 100 000 by default) a temporary SQLite store is built in bulk with
``bench/export.py``'s builder (2 % hidden), the app is served with waitress (as ``dialogkarta
serve`` does) on a loopback port, and ``/`` is loaded repeatedly, each time in a fresh browser
context (cold browser cache). Prints the median and range (min–max) of:

- time to interactive: from navigation start to the first view's proposals drawn on the map
  (``performance.mark("dialogkarta:proposals-loaded")``: clusters or points), and DOM interactive;
- bytes transferred for that first view (every response the page received, HTML, scripts, styles,
  icons and the map's JSON, as Chromium counted them), and what gzip (level 6) would make of the same
  responses (the server compresses what the browser accepts, so the first figure is already compressed);
- the first view's ``/api/proposals/map`` answer: raw and gzip bytes, server time cold (the store
  version just changed, the cached table and grid rebuilt) and warm;
- the planner overlay's first view, logged in, each load in a fresh context: time until its markers
  and the first page of its table are drawn (performance marks), and the bytes transferred.

Tiles point at an address that answers nothing, as in the tests. Not part of the test run.

    python bench/map_page.py                          # N = 10 000 and 100 000, 3 loads each
    python bench/map_page.py --sizes 50000 --repeat 5
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogkarta.testing import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: E402
from export import build_store, machine_line  # noqa: E402  (bench/export.py: bulk inserts, no HTTP)


def serve(app):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def measure(n: int, repeat: int, workdir: Path) -> dict:
    import urllib.request

    from playwright.sync_api import sync_playwright
    from sqlalchemy import update

    from dialogkarta.layers import store
    from dialogkarta.layers.schema import proposals
    from dialogkarta.webmap import db
    from dialogkarta.webmap.app import create_app

    folder = workdir / str(n)
    folder.mkdir()
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    started = time.perf_counter()
    build_store(url, n)
    print(f"store with {n} proposals (2 % hidden) built in bulk in {time.perf_counter() - started:.1f} s", flush=True)
    app = create_app(
        {
            "TESTING": False,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
        }
    )
    server, base = serve(app)

    def fetch(path):
        begin = time.perf_counter()
        with urllib.request.urlopen(base + path) as response:
            body = response.read()
        return body, time.perf_counter() - begin

    def touch():  # a write the store's version sees, as a planner's status change would make
        with app.app_context(), db.transaction() as conn:
            conn.execute(update(proposals).where(proposals.c.id == 2).values(updated_at=store.utcnow()))
            store.note_changes(conn, [2])

    interactive, dom, transferred, zipped, counts, map_paths = [], [], [], [], set(), []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            received = []
            page.on("requestfinished", _collector(received))
            page.goto(base + "/")
            page.wait_for_selector("html[data-proposals=loaded]", timeout=120_000)
            interactive.append(page.evaluate("performance.getEntriesByName('dialogkarta:proposals-loaded')[0].startTime"))
            dom.append(page.evaluate("performance.getEntriesByType('navigation')[0].domInteractive"))
            counts.add(
                page.evaluate("document.documentElement.dataset.mapMode + ' ' + document.documentElement.dataset.proposalCount")
            )
            raw_bytes = gzip_bytes = 0
            for request in list(received):
                sizes = request.sizes()
                raw_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                body = request.response().body()
                gzip_bytes += min(len(body), len(gzip.compress(body, compresslevel=6))) + sizes["responseHeadersSize"]
                if "/api/proposals/map" in request.url:
                    map_paths.append(request.url[len(base) :])
            transferred.append(raw_bytes)
            zipped.append(gzip_bytes)
            context.close()
        planner = _planner_first_views(app, browser, base, repeat)
        browser.close()
    first_view = map_paths[0]
    body, _ = fetch(first_view)
    cold = []
    for _ in range(repeat):
        touch()
        cold.append(fetch(first_view)[1])
    warm = [fetch(first_view)[1] for _ in range(20)]
    server.close()
    return {
        "n": n,
        "shown": sorted(counts),
        "interactive": interactive,
        "dom": dom,
        "transferred": transferred,
        "zipped": zipped,
        "map_raw": len(body),
        "map_gzip": len(gzip.compress(body, compresslevel=6)),
        "cold": cold,
        "warm": warm,
        "path": first_view,
        "planner": planner,
    }


def _planner_first_views(app, browser, base: str, repeat: int) -> dict:
    """Load the planner overlay ``repeat`` times, logged in, each in a fresh context (cold cache, a session cookie)."""
    from dialogkarta.testing import PASSWORD, make_user

    make_user(app, "bench")
    login = browser.new_context()
    page = login.new_page()
    page.goto(base + "/planner/login")
    page.fill("#username", "bench")
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-overlay-ready='1']", timeout=120_000)
    session = login.storage_state()
    login.close()
    interactive, map_drawn, table_drawn, transferred, modes = [], [], [], [], set()
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=session)
        page = context.new_page()
        received: list = []
        page.on("requestfinished", _collector(received))
        page.goto(base + "/planner/")
        page.wait_for_selector("body[data-overlay-ready='1'][data-map-mode]", timeout=120_000)
        marks = [
            page.evaluate(f"performance.getEntriesByName('dialogkarta:overlay-{what}-drawn')[0].startTime")
            for what in ("map", "table")
        ]
        map_drawn.append(marks[0])
        table_drawn.append(marks[1])
        interactive.append(max(marks))
        modes.add(page.evaluate("document.body.dataset.mapMode"))
        transferred.append(sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in list(received)))
        context.close()
    return {"interactive": interactive, "map": map_drawn, "table": table_drawn, "transferred": transferred, "modes": modes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dialogkarta-bench-"))
    os.environ["HOME"] = str(workdir)  # Chromium's caches and crash reports
    print(machine_line(), flush=True)
    results = [measure(n, options.repeat, workdir) for n in options.sizes]
    for r in results:
        print(f"\n{r['n']} proposals; first view {r['path']}: {', '.join(r['shown'])}")
        print(
            f"  first view interactive (proposals drawn): {_spread(r['interactive'])} ms, {options.repeat} cold loads; target < 1500 ms"
        )
        print(f"  DOM interactive:                          {_spread(r['dom'])} ms")
        print(f"  bytes transferred, first view:            {_spread([b / 1024 for b in r['transferred']])} KB; target < 300 KB")
        print(f"  the same responses gzipped (level 6):     {_spread([b / 1024 for b in r['zipped']])} KB")
        print(
            f"  /api/proposals/map answer:                {r['map_raw'] / 1024:7.1f} KB raw, {r['map_gzip'] / 1024:.1f} KB gzip"
        )
        print(f"  /api/proposals/map after a write (cold):  {_spread([t * 1000 for t in r['cold']])} ms, {options.repeat} runs")
        print(f"  /api/proposals/map cached (warm):         {_spread([t * 1000 for t in r['warm']])} ms, 20 requests")
        planner = r["planner"]
        print(f"  planner overlay, first view ({', '.join(sorted(planner['modes']))}), logged in, {options.repeat} cold loads:")
        print(f"    interactive (markers and table drawn):  {_spread(planner['interactive'])} ms; target < 1500 ms")
        print(f"    markers drawn / first table page drawn: {_spread(planner['map'])} / {_spread(planner['table'])} ms")
        print(
            f"    bytes transferred:                      {_spread([b / 1024 for b in planner['transferred']])} KB; target < 300 KB"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def _collector(into: list):
    """Return a Playwright event handler appending to ``into`` (Playwright wraps plain functions only)."""

    def collect(request):
        into.append(request)

    return collect


def _spread(values: list[float]) -> str:
    """Return "median [min–max]"."""
    return f"{statistics.median(values):7.1f} [{min(values):.1f}–{max(values):.1f}]"


if __name__ == "__main__":
    main()
