"""Benchmark exporting N proposals (100 000 by default) as GeoJSON, CSV, GeoPackage and FlatGeobuf.

Builds a temporary SQLite store with N proposals spread over Dalby, their joins computed with
the real layers (vectorised, stored in bulk). Each (format, run) runs in a fresh process so its
peak memory is its own. Prints the median and range (min–max) of the time, the peak RSS of the process and its growth over
the baseline after imports and layer loading (the export's own memory), for each format.
Not part of the test run.

    python bench/export.py                     # N = 100 000, 3 runs each
    python bench/export.py --n 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def machine_line() -> str:
    """The line every benchmark starts with: which machine, how many cores, how busy."""
    return (
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def ensure_store(store: str | None, folder: str, n: int) -> str:
    """Return the SQLite URL of the synthetic store: ``store`` if given and already built, else built now."""
    store_path = Path(store).resolve() if store else Path(folder) / "bench.sqlite"
    url = f"sqlite:///{store_path}"
    if not store_path.exists():
        started = time.perf_counter()
        build_store(url, n)
        print(f"store with {n} proposals (2 % hidden) built in bulk in {time.perf_counter() - started:.1f} s")
    return url


def build_store(url: str, n: int, seed: int = 1) -> None:
    import geopandas as gpd
    import shapely
    from sqlalchemy import insert

    from dialogkarta.layers import proposals as submission
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry
    from dialogkarta.layers.schema import proposal_areas, proposal_services, proposals, status_history
    from dialogkarta.layers.store import init_db, make_engine, utcnow

    registry = LayerRegistry(load_locality())
    boundary = registry.boundary()
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = boundary.bounds
    points = []
    while len(points) < n:
        xy = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
        inside = shapely.covers(boundary, shapely.points(xy))
        points.extend(map(tuple, xy[inside]))
    points = points[:n]
    joins = submission.compute_joins(registry, points)
    engine = make_engine(url)
    init_db(engine)
    now = utcnow()
    categories = [c.id for c in registry.locality.categories]
    with engine.begin() as conn:
        for start in range(0, n, 20000):
            chunk = range(start, min(n, start + 20000))
            conn.execute(
                insert(proposals),
                [
                    {
                        "id": i + 1,
                        "public_id": f"bench{i:08d}",
                        "lon": points[i][0],
                        "lat": points[i][1],
                        "category": categories[i % len(categories)],
                        "title": f"Förslag {i}",
                        "description": "Bättre belysning längs gångvägen, och en bänk vid busshållplatsen.",
                        "channel": "web",
                        "status": "received",
                        "department": "tekniska",
                        "also_departments": "",
                        "hidden": i % 50 == 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in chunk
                ],
            )
            conn.execute(
                insert(status_history),
                [{"proposal_id": i + 1, "status": "received", "role": "resident", "changed_at": now} for i in chunk],
            )
            areas = [{"proposal_id": i + 1, "area_id": a} for i in chunk for a in joins[i]["area_ids"]]
            if areas:
                conn.execute(insert(proposal_areas), areas)
            conn.execute(
                insert(proposal_services), [{"proposal_id": i + 1, **near} for i in chunk for near in joins[i]["nearest"]]
            )
    del gpd


def _high_water_mb() -> float:
    # VmHWM is this process's own peak RSS; getrusage's ru_maxrss would carry over the peak of
    # the parent that forked it (the store builder), since the high-water mark survives exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(url: str, fmt: str, folder: str, queue) -> None:
    from dialogkarta.layers import export
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry
    from dialogkarta.layers.store import make_engine

    engine = make_engine(url)
    registry = LayerRegistry(load_locality())
    registry.areas(), registry.service_index()  # layer loading is not the export's cost
    baseline = _high_water_mb()
    started = time.perf_counter()
    out = Path(folder) / f"bench.{fmt}"
    size = 0
    if fmt in ("geojson", "csv"):  # what a streaming HTTP response does: consume chunks as they come
        chunks = (
            export.iter_geojson(engine, registry, "proposals")
            if fmt == "geojson"
            else export.iter_csv(engine, registry, "proposals")
        )
        with open(out, "wb") as sink:
            for chunk in chunks:
                size += len(chunk)
                sink.write(chunk)
    elif fmt == "gpkg":
        export.write_gpkg_export(engine, registry, out, names=["proposals"])
        size = out.stat().st_size
    else:
        export.write_fgb_export(engine, registry, "proposals", out)
        size = out.stat().st_size
    elapsed = time.perf_counter() - started
    peak = _high_water_mb()
    queue.put((elapsed, peak, peak - baseline, size / 2**20))


def measure(url: str, fmt: str, folder: str):
    queue = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=_run, args=(url, fmt, folder, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def _spread(values, spec: str) -> str:
    """Return "median [min–max]" of ``values``, each formatted with ``spec``."""
    return f"{statistics.median(values):{spec}} [{min(values):{spec}}–{max(values):{spec}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="geojson,csv,gpkg,fgb")
    parser.add_argument("--store", default=None, help="keep the synthetic store in this SQLite file and reuse it")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        url = ensure_store(args.store, folder, args.n)
        print(f"median [range] of {args.repeat} runs, each in a fresh process")
        print(f"{'format':8} {'seconds':>20} {'features/s':>11} {'peak RSS MB':>16} {'RSS growth MB':>16} {'file MB':>8}")
        for fmt in args.formats.split(","):
            runs = [measure(url, fmt, folder) for _ in range(args.repeat)]
            elapsed = statistics.median(r[0] for r in runs)
            public = args.n - len(range(0, args.n, 50))
            print(
                f"{fmt:8} {_spread([r[0] for r in runs], '.1f'):>20} {public / elapsed:11.0f} "
                f"{_spread([r[1] for r in runs], '.0f'):>16} {_spread([r[2] for r in runs], '.0f'):>16} {runs[0][3]:8.1f}"
            )
        print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
