"""What asking the store for a layer's version costs, and how long an import of a plan layer takes.

Since imported layers live in the store, ``LayerRegistry.frame`` asks for the layer's current
version on every call (one indexed query) instead of reading a file's modification time. This
prints the cost of a cached ``frame()`` call and of the joins for one new proposal (what every
submission pays: four ``frame()`` calls) without a store (bundled layers only) and with an
SQLite store, and the time of a whole import (checks, the version row and the rejoin of N
proposals in one transaction). Median and range (min–max) of ``--repeat`` runs. Not part of the test run.

    python bench/registry.py
    python bench/registry.py --proposals 100000 --repeat 5
    python bench/registry.py --joins-only --repeat 5   # the per-call figures only
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

import numpy as np


def per_call_us(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def _spread(values, spec: str = ".1f") -> str:
    """Return "median [min–max]"."""
    return f"{statistics.median(values):{spec}} [{min(values):{spec}}–{max(values):{spec}}]"


def seed_store(engine, registry, n: int) -> None:
    from sqlalchemy import insert

    from dialogkarta.layers.schema import proposals

    boundary = registry.boundary()
    rng = np.random.default_rng(1)
    min_x, min_y, max_x, max_y = boundary.bounds
    rows, now = [], datetime.now(UTC)
    while len(rows) < n:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        rows.append(
            {
                "public_id": f"p{len(rows)}",
                "lon": x,
                "lat": y,
                "category": "traffic",
                "title": "t",
                "description": "",
                "channel": "web",
                "status": "received",
                "also_departments": "",
                "hidden": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(proposals), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--joins-only", action="store_true", help="only the per-call figures, not the import")
    args = parser.parse_args()

    from dialogkarta.layers import layer_import, proposals
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry
    from dialogkarta.layers.store import init_db, make_engine

    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}; median [range] of {args.repeat} runs"
    )
    locality = load_locality()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        init_db(engine)
        for label, registry in (
            ("bundled only (no store)", LayerRegistry(locality)),
            ("SQLite store", LayerRegistry(locality, engine)),
        ):
            registry.area_index(), registry.service_index()  # warm the caches
            point = [(13.3514, 55.6652)]
            frame = [
                per_call_us(lambda registry=registry: registry.frame("development-areas"), args.calls) for _ in range(args.repeat)
            ]
            joins = [
                per_call_us(lambda registry=registry, point=point: proposals.compute_joins(registry, point), args.calls // 5)
                for _ in range(args.repeat)
            ]
            print(f"{label:>24}: frame() {_spread(frame)} µs/call, joins for one proposal {_spread(joins)} µs")
            if registry.engine is not None:
                with registry.checked():  # as a POST joins: the layers' versions asked once, before
                    held = [
                        per_call_us(
                            lambda registry=registry, point=point: proposals.compute_joins(registry, point), args.calls // 5
                        )
                        for _ in range(args.repeat)
                    ]
                print(
                    f"{'SQLite store, as a POST':>24}: joins for one proposal {_spread(held)} µs (versions asked once, outside)"
                )
        if args.joins_only:
            return

        registry = LayerRegistry(locality, engine)
        seed_store(engine, registry, args.proposals)
        plan = Path(folder) / "plan.gpkg"
        registry.areas().to_crs("EPSG:3008").to_file(plan, layer="plan", driver="GPKG")
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = layer_import.import_layer(plan, registry, "development-areas", engine)
            times.append(time.perf_counter() - start)
        print(
            f"import of {report.features} areas with {report.proposals_rejoined} proposals rejoined, "
            f"one transaction: {_spread(times, '.2f')} s"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
