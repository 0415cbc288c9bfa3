"""Loading a stored layer version: from its rows in ``layer_features`` against from its GeoPackage bytes.

The registry reads a version's GeoPackage bytes (``layer_store.decode(payload)``); QGIS and SQL read
its rows. This stores the bundled development areas and services, and a synthetic plan
(``--polygons`` squares, ``--services`` points), as new versions in a scratch store and times
loading each back into a WGS84 frame both ways: median and range (min–max) of ``--runs``, ms,
with the load average before and after. Not part of the test run.

    python bench/layer_tables.py                                   # a temporary SQLite store
    python bench/layer_tables.py --database postgresql+psycopg://user:pw@127.0.0.1/db   # emptied first
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely


def _spread(values) -> str:
    return f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


def _synthetic(registry, polygons: int, services: int):
    boundary = registry.boundary()
    min_x, min_y, max_x, max_y = boundary.bounds
    rng = np.random.default_rng(3)
    x, y = rng.uniform(min_x, max_x, polygons), rng.uniform(min_y, max_y, polygons)
    areas = gpd.GeoDataFrame(
        {"id": [f"a{i}" for i in range(polygons)], "name": [f"Område {i}" for i in range(polygons)], "status": "detailed_plan"},
        geometry=shapely.box(x, y, x + 0.0008, y + 0.0005),
        crs="EPSG:4326",
    )
    x, y = rng.uniform(min_x, max_x, services), rng.uniform(min_y, max_y, services)
    points = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(services)], "name": [f"Service {i}" for i in range(services)], "kind": "school"},
        geometry=shapely.points(x, y),
        crs="EPSG:4326",
    )
    return areas, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a scratch database URL (emptied first); default a temporary SQLite file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--polygons", type=int, default=5000)
    parser.add_argument("--services", type=int, default=20000)
    args = parser.parse_args()

    from dialogkarta.layers import layer_store, layer_tables
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry
    from dialogkarta.layers.schema import metadata
    from dialogkarta.layers.store import init_db, make_engine

    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}"
    engine = make_engine(url)
    metadata.drop_all(engine)
    init_db(engine)
    registry = LayerRegistry(load_locality())
    big_areas, big_services = _synthetic(registry, args.polygons, args.services)
    layers = {
        "development-areas (Dalby)": ("development-areas", registry.areas()),
        "service-locations (Dalby)": ("service-locations", registry.services()),
        f"{args.polygons} polygons": ("development-areas", big_areas),
        f"{args.services} points": ("service-locations", big_services),
    }
    stored = {}
    for label, (name, frame) in layers.items():
        with engine.begin() as conn:
            stored[label] = (name, layer_store.add_version(conn, name, layer_store.encode(frame, name), features=len(frame)))
    load_before = os.getloadavg()
    print(f"{platform.node()} ({os.cpu_count()} cores), {engine.dialect.name}")
    print(f"load a stored version into a frame, ms, median [range] of {args.runs}:")
    for label, (name, version) in stored.items():
        from_rows, from_bytes = [], []
        for _ in range(args.runs):
            with engine.connect() as conn:
                start = time.perf_counter()
                rows = layer_tables.read_frame(conn, name, version)
                from_rows.append((time.perf_counter() - start) * 1e3)
                start = time.perf_counter()
                frame = layer_store.decode(layer_store.payload(conn, name, version))
                from_bytes.append((time.perf_counter() - start) * 1e3)
            assert len(rows) == len(frame)
        ratio = statistics.median(from_rows) / statistics.median(from_bytes)
        print(f"  {label:28} rows {_spread(from_rows):24} GeoPackage bytes {_spread(from_bytes):24} rows/bytes {ratio:.2f}")
    load_after = os.getloadavg()
    print(f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    if not args.database:
        metadata.drop_all(engine)


if __name__ == "__main__":
    main()
