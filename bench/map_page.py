"""Benchmark the resident map page with N public proposals in headless Chromium.

Builds a temporary database with N proposals spread over Dalby, serves the app with waitress
(as ``dialogkarta serve`` does) on a loopback port, and loads ``/`` repeatedly in a fresh
browser context each time (cold browser cache). Prints the median and range (min–max) of:

- HTML size of ``/`` (the proposals are not in it) and of ``/api/proposals`` (raw and gzip),
- time to the map being interactive (folium's script has run, DOM interactive),
- time to interactive with every proposal clustered on the map (``data-proposals=loaded``),
  measured from navigation start with ``performance.now()`` in the page,
- server time for ``GET /api/proposals`` cold (the process's list read from scratch) and warm;
  the sizes are single figures (the same on every load).

Tiles point at an address that answers nothing, as in the tests. Not part of the test run.

    python bench/map_page.py                     # N = 10 000, 7 loads
    python bench/map_page.py -n 50000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogkarta.testing import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: E402


def fill(app, n: int, seed: int = 3) -> None:
    """Insert ``n`` proposals at random points inside the boundary, with joins, in one transaction."""
    import numpy as np
    import shapely
    from sqlalchemy import insert, select

    from dialogkarta.layers import proposals as submission
    from dialogkarta.layers import store
    from dialogkarta.layers.schema import proposals, status_history
    from dialogkarta.webmap import db

    rng = np.random.default_rng(seed)
    with app.app_context():
        registry = db.registry()
        boundary = registry.boundary()
        min_lon, min_lat, max_lon, max_lat = boundary.bounds
        points = []
        while len(points) < n:
            lon = rng.uniform(min_lon, max_lon, n)
            lat = rng.uniform(min_lat, max_lat, n)
            inside = shapely.contains_xy(boundary, lon, lat)
            points += list(zip(lon[inside], lat[inside]))
        points = points[:n]
        categories = [c.id for c in registry.locality.categories]
        now = store.utcnow()
        rows = [
            {
                "public_id": store.new_public_id(),
                "lon": float(lon),
                "lat": float(lat),
                "category": categories[i % len(categories)],
                "title": f"Förslag nummer {i} om något i Dalby",
                "description": "En beskrivning som en invånare skrev, ungefär så här lång, med några meningar om "
                "vad som borde bli bättre och varför det spelar roll för grannskapet.",
                "channel": "web",
                "status": "received",
                "department": "kommunkontoret",
                "also_departments": "",
                "hidden": False,
                "created_at": now,
                "updated_at": now,
            }
            for i, (lon, lat) in enumerate(points)
        ]
        joins = submission.compute_joins(registry, points)
        with db.transaction() as conn:
            conn.execute(insert(proposals), rows)
            ids = dict(conn.execute(select(proposals.c.public_id, proposals.c.id)).all())
            conn.execute(
                insert(status_history),
                [{"proposal_id": ids[r["public_id"]], "status": "received", "role": "resident", "changed_at": now} for r in rows],
            )
            for row, join in zip(rows, joins):
                store.save_joins(conn, ids[row["public_id"]], join["area_ids"], join["nearest"])


def serve(app):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--proposals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()

    import urllib.request

    from playwright.sync_api import sync_playwright

    from dialogkarta.webmap.app import create_app

    workdir = Path(tempfile.mkdtemp(prefix="dialogkarta-bench-"))
    os.environ["HOME"] = str(workdir)  # Chromium's caches and crash reports
    app = create_app(
        {
            "TESTING": False,
            "INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
            "RATELIMIT_ENABLED": False,
            "TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
        }
    )
    started = time.perf_counter()
    fill(app, options.proposals)
    print(f"filled {options.proposals} proposals in {time.perf_counter() - started:.1f} s")
    server, base = serve(app)

    def fetch(path, **headers):
        request = urllib.request.Request(base + path, headers=headers)
        begin = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            body = response.read()
        return body, time.perf_counter() - begin

    html, _ = fetch("/")
    listed = "/api/proposals?limit=10000"  # the map's first page (it follows next links for more)
    raw, _ = fetch(listed)
    zipped, _ = fetch(listed, **{"Accept-Encoding": "gzip"})
    cold = []
    for _ in range(options.repeat):  # as a new worker process: its in-memory list read from scratch
        app.extensions.pop("dialogkarta.public_list", None)
        cold.append(fetch(listed, **{"Accept-Encoding": "gzip"})[1])
    warm = [fetch(listed, **{"Accept-Encoding": "gzip"})[1] for _ in range(20)]

    interactive, loaded, counts = [], [], set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for _ in range(options.repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(base + "/")
            page.wait_for_selector("html[data-proposals=loaded]", timeout=60_000)
            interactive.append(page.evaluate("performance.getEntriesByType('navigation')[0].domInteractive"))
            loaded.append(page.evaluate("performance.getEntriesByName('dialogkarta:proposals-loaded')[0].startTime"))
            counts.add(page.evaluate("document.documentElement.dataset.proposalCount"))
            context.close()
        browser.close()
    server.close()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"proposals on the map: {sorted(counts)}")
    print(f"page HTML:                  {len(html) / 1024:7.1f} KB")
    print(f"/api/proposals:             {len(raw) / 1024:7.1f} KB raw, {len(zipped) / 1024:.1f} KB gzip")
    print(f"/api/proposals cold (list read from scratch): {_spread([t * 1000 for t in cold])} ms, {options.repeat} runs")
    print(f"/api/proposals warm (cached bytes, gzip):    {_spread([t * 1000 for t in warm])} ms, 20 requests")
    print(f"map interactive (DOM):                       {_spread(interactive)} ms, {options.repeat} cold loads")
    print(f"all proposals clustered:                     {_spread(loaded)} ms, {options.repeat} cold loads; target < 1500 ms")


def _spread(ms: list[float]) -> str:
    """Return "median [min–max]" in milliseconds."""
    return f"{statistics.median(ms):7.1f} [{min(ms):.1f}–{max(ms):.1f}]"


if __name__ == "__main__":
    main()
