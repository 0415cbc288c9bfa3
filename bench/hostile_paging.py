"""Benchmark every public GET with hostile parameters on 200 000 proposals, under `dialogkarta serve`.

Seeds a SQLite store in bulk (``bench/export.py``'s builder: 2 % hidden, real joins), starts the
README's server (waitress) on a loopback port and, for each public GET, sends every request of
its hostile parameter set (huge or negative numbers, the whole world as bbox, the largest page,
the last page by offset, offsets past the end, open date intervals, SWEREF boxes, ...). A run's
figure for an endpoint is its worst request; with ``--clients C`` each request is sent by C
clients at once and the slowest of them counts. Prints the median and range over the runs, and
which request was the worst. Public downloads are timed apart: the first (cold) build after a
change of the data, then the cached file (time to first byte and to the last byte).
Not part of the test run.

    python bench/hostile_paging.py                      # 200 000 proposals, 5 runs, 1 and 4 clients
    python bench/hostile_paging.py --n 20000 --runs 3 --store hostile.sqlite
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from export import ensure_store, machine_line  # bench/export.py: bulk inserts, no HTTP

BIG = [str(2**64), str(10**30), "9" * 400, "-1", "abc", "nan"]
WORLD = "-180,-90,180,90"
SWEREF_ALL = "6100000,300000,6300000,500000"  # EPSG:3006, northing first: all of Dalby and more
ID = "bench00000001"  # bench00000000 is hidden (every 50th is)


def cases() -> dict[str, list[str]]:
    """Each public GET with its hostile requests (path and query)."""
    items = "/ogc/collections/proposals/items"
    layer_items = [
        f"{{}}?{q}"
        for q in (
            "limit=10000",
            f"bbox={WORLD}&limit=10000",
            "offset=1000000000",
            f"bbox={SWEREF_ALL}&bbox-crs=EPSG:3006&crs=EPSG:3006&limit=10000",
            "after=" + str(2**64),
            "limit=" + BIG[1],
        )
    ]
    return {
        "/api/proposals": [
            "/api/proposals",
            "/api/proposals?limit=10000",
            f"/api/proposals?bbox={WORLD}",
            f"/api/proposals?bbox={WORLD}&limit=10000&offset=185000",
            "/api/proposals?category=traffic",
            "/api/proposals?status=received&offset=150000",
            "/api/proposals?offset=1000000000",
            "/api/proposals?limit=10000&offset=195999",
            *[f"/api/proposals?limit={v}" for v in BIG],
            *[f"/api/proposals?offset={v}" for v in BIG],
            "/api/proposals?bbox=nan,55,13,56",
            "/api/proposals?bbox=13.4,55.7,13.3,55.6",
        ],
        "/api/proposals/nearby": [
            "/api/proposals/nearby?lon=13.345&lat=55.665&radius=1000",
            "/api/proposals/nearby?lon=13.345&lat=55.665&radius=1000&category=traffic",
            "/api/proposals/nearby?lon=13.345&lat=55.665&radius=" + BIG[0],
            "/api/proposals/nearby?lon=1e999&lat=55.665",
        ],
        "/api/proposals/{id}": [f"/api/proposals/{ID}", "/api/proposals/" + "x" * 2000],
        "/api/layers": ["/api/layers"],
        "/api/layers/{name}": ["/api/layers/development-areas", "/api/layers/service-locations", "/api/layers/nope"],
        "/api/openapi.json": ["/api/openapi.json"],
        "/api/export": ["/api/export"],
        "/ogc": ["/ogc", "/ogc/conformance", "/ogc/api"],
        "/ogc/collections": ["/ogc/collections", "/ogc/collections/proposals", "/ogc/collections/development-areas"],
        f"{items}": [
            f"{items}?limit=10000",
            f"{items}?limit=10000&offset=189000",
            f"{items}?offset=1000000000",
            f"{items}?limit=10000&offset=150000&after=150000",
            f"{items}?bbox={WORLD}&limit=10000&offset=180000",
            f"{items}?bbox={SWEREF_ALL}&bbox-crs=EPSG:3006&limit=10000&offset=150000",
            f"{items}?bbox={SWEREF_ALL}&bbox-crs=EPSG:3006&offset=1000000000",
            f"{items}?datetime=../..&limit=10000&offset=180000",
            f"{items}?datetime=2000-01-01/2100-12-31&limit=10000",
            f"{items}?crs=EPSG:3006&limit=10000",
            *[f"{items}?limit={v}" for v in BIG],
            *[f"{items}?offset={v}" for v in BIG],
            *[f"{items}?after={v}" for v in BIG],
            f"{items}?datetime=9999-12-31T23:59:59-14:00",
            f"{items}?bbox=0,0,1e308,1e308",
        ],
        "/ogc/collections/{layer}/items": [
            q.format(f"/ogc/collections/{name}/items") for q in layer_items for name in ("development-areas", "service-locations")
        ],
        "/ogc/collections/proposals/items/{id}": [f"{items}/{ID}", f"{items}/{ID}?crs=EPSG:3008"],
        "/ (map page)": ["/", "/?lang=en"],
        "/p/{id}": [f"/p/{ID}"],
        "/privacy, /activity-plan": ["/privacy", "/activity-plan", "/activity-plan/activities.json"],
    }


DOWNLOADS = [
    "/api/export/proposals.geojson",
    "/api/export/proposals.csv",
    "/api/export/proposals.csv?bom=1",
    "/api/export/proposals.gpkg",
    "/api/export/proposals.fgb",
    "/api/export/all.gpkg",
    "/api/export/all.gpkg?crs=EPSG:3008",
]
HOSTILE_DOWNLOADS = [
    "/api/export/all.gpkg?crs=epsg:3008",
    "/api/export/all.gpkg?crs=3008",
    "/api/export/proposals.gpkg?crs=EPSG:32633",
    "/api/export/proposals.geojson?crs=EPSG:3006&bom=1",
]


def fetch(port: int, path: str) -> tuple[float, float, int]:
    """Return (seconds to the first byte, seconds to the last byte, status) of one GET."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    first = time.perf_counter() - started
    while response.read(1 << 20):
        pass
    conn.close()
    return first, time.perf_counter() - started, response.status


def worst(port: int, paths: list[str], clients: int, pool: ThreadPoolExecutor) -> tuple[float, str, set]:
    """Return the slowest request of ``paths`` (each sent by ``clients`` clients at once), its path and the statuses."""
    slowest, which, statuses = 0.0, "", set()
    for path in paths:
        results = list(pool.map(fetch, [port] * clients, [path] * clients))
        statuses |= {r[2] for r in results}
        assert all(r[2] < 500 for r in results), (path, results)
        elapsed = max(r[1] for r in results)
        if elapsed > slowest:
            slowest, which = elapsed, path
    return slowest, which, statuses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, instance: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DIALOGKARTA_DATABASE_URL": url,
        "DIALOGKARTA_INSTANCE_PATH": instance,
        "DIALOGKARTA_RATELIMIT_ENABLED": "false",
    }  # the figures are about work, not limits
    script = Path(sys.executable).with_name("dialogkarta")
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            fetch(port, "/api/layers")
            return process, port
        except OSError as error:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dialogkarta serve did not start") from error
            time.sleep(0.3)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s  [{min(values):.3f}–{max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--store", default=None, help="keep the synthetic store in this SQLite file and reuse it")
    parser.add_argument("--skip-downloads", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        url = ensure_store(args.store, folder, args.n)
        process, port = serve(url, str(Path(folder) / "instance"))
        try:
            table = cases()
            with ThreadPoolExecutor(max(args.clients)) as pool:
                cold = {name: worst(port, paths, 1, pool)[0] for name, paths in table.items()}  # first touch: caches fill
                print(f"\nworst request per public GET, {args.runs} runs (first touch after start shown apart)")
                for clients in args.clients:
                    print(
                        f"\n{clients} client(s) at once{'':28} {'median  [range] of the worst':>32}   "
                        "first touch  worst request (most often)"
                    )
                    for name, paths in table.items():
                        runs = [worst(port, paths, clients, pool) for _ in range(args.runs)]
                        statuses = set().union(*(r[2] for r in runs))
                        which = Counter(r[1] for r in runs).most_common(1)[0][0]
                        print(
                            f"{name:45} {summary([r[0] for r in runs])}   {cold[name]:8.3f} s  "
                            f"{which[:70]}  ({len(paths)} requests; {','.join(map(str, sorted(statuses)))})"
                        )
                if not args.skip_downloads:
                    print("\npublic downloads: the first request after a change builds the file (cold), later ones send it")
                    print(f"{'download':42} {'cold build':>11} {'cached: first byte':>19} {'cached: last byte':>18}")
                    for path in DOWNLOADS:
                        build = fetch(port, path)[1]
                        cached = [fetch(port, path) for _ in range(args.runs)]
                        print(
                            f"{path:42} {build:9.1f} s {statistics.median(c[0] for c in cached):17.3f} s "
                            f"{statistics.median(c[1] for c in cached):16.3f} s"
                        )
                    for path in HOSTILE_DOWNLOADS:
                        times = [fetch(port, path) for _ in range(args.runs)]
                        print(f"{path:58} {statistics.median(t[1] for t in times):6.3f} s (status {times[0][2]})")
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (other work on this 2-core machine slows every figure)")


if __name__ == "__main__":
    main()
