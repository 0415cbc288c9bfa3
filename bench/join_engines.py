"""The joins for one new proposal: in Python (what the app does) against a prepared PostGIS query.

Both answer the same questions over the same current layers (development areas covering the
point, the nearest service of each kind in metres, SWEREF 99 TM): Python through
``proposals.compute_joins`` on the registry's cached indexes, PostGIS through
``layers.postgis_joins`` (two statements over ``layer_features``, prepared by psycopg after
their fifth run; the warm-up runs them more often than that). Points are drawn inside the
locality's boundary; each run times ``--points`` joins one after the other and reports the mean
per join; median and range (min–max) over ``--runs`` runs, Python's CPU time too, with the load
average before and after. Not part of the test run.

    python bench/join_engines.py --database postgresql+psycopg://user:pw@127.0.0.1/db --fresh   # a scratch database with PostGIS
    python bench/join_engines.py --database ... --runs 7 --points 300
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import shapely


def _spread(values) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}–{max(values):.3f}]"


def _points(registry, n: int, seed: int = 7) -> list[tuple[float, float]]:
    boundary = registry.boundary()
    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = boundary.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = float(rng.uniform(min_x, max_x)), float(rng.uniform(min_y, max_y))
        if shapely.contains_xy(boundary, x, y):
            out.append((x, y))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL whose database has the postgis extension")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="empty the database first (a scratch database only)")
    args = parser.parse_args()

    from dialogkarta.layers import postgis_joins, proposals, qgis_db
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry
    from dialogkarta.layers.store import init_db, make_engine

    engine = make_engine(args.database)
    if args.fresh:
        from dialogkarta.layers.schema import metadata

        metadata.drop_all(engine)
    locality = load_locality()
    init_db(engine, locality)  # the bundled layers as rows, and their geometry column
    with engine.connect() as conn:
        if not qgis_db.has_postgis(conn):
            raise SystemExit("the database has no postgis extension (CREATE EXTENSION postgis, as a superuser)")
    registry = LayerRegistry(locality, engine)
    areas, services = registry.by_role("areas").name, registry.by_role("services").name
    points = _points(registry, args.points)

    def python_joins():
        with registry.checked():  # the store's versions asked once, as a POST does
            for lon, lat in points:
                proposals.compute_joins(registry, [(lon, lat)])

    def postgis(conn):
        for lon, lat in points:
            postgis_joins.areas_covering(conn, areas, lon, lat)
            postgis_joins.nearest_services(conn, services, lon, lat)

    load_before = os.getloadavg()
    python_ms, python_cpu_ms, sql_ms = [], [], []
    with engine.connect() as conn:
        python_joins()
        postgis(conn)  # warm-up: indexes built, statements prepared
        for _ in range(args.runs):
            wall, cpu = time.perf_counter(), time.process_time()
            python_joins()
            python_ms.append((time.perf_counter() - wall) / len(points) * 1e3)
            python_cpu_ms.append((time.process_time() - cpu) / len(points) * 1e3)
            wall = time.perf_counter()
            postgis(conn)
            sql_ms.append((time.perf_counter() - wall) / len(points) * 1e3)
    load_after = os.getloadavg()
    print(f"{platform.node()} ({os.cpu_count()} cores), load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"layers: {len(registry.areas())} development areas, {len(registry.services())} services; {len(points)} points per run")
    print(f"one proposal's joins, ms, median [range] of {args.runs} runs:")
    print(f"  Python (compute_joins), wall: {_spread(python_ms)}  CPU: {_spread(python_cpu_ms)}")
    print(f"  PostGIS (prepared), wall:     {_spread(sql_ms)}")
    print(f"  PostGIS / Python: {statistics.median(sql_ms) / statistics.median(python_ms):.1f}x")


if __name__ == "__main__":
    main()
