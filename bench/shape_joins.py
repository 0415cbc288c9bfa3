"""Benchmark the joins for drawn lines and areas (geo/shape_joins.py) against plain geopandas.

100 000 lines (2–6 vertices, up to ~1.5 km) and 100 000 polygons (60–300 m across) over Dalby,
against the synthetic plan of bench/joins.py (5 000 development areas, 20 000 services). The peer is
what a GIS analyst would write with geopandas alone: ``overlay`` for lengths and overlaps in areas,
``sjoin`` on buffered lines for services near a line, ``sjoin`` for services inside. Each
measurement runs in a fresh process; prints median [range] over the runs and the ratio to the peer.

    python bench/shape_joins.py --count 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from joins import synthetic_plan  # noqa: E402  (bench/ is a folder of scripts, not a package)

E0, N0, SIZE = 393_300.0, 6_168_300.0, 5_000.0


def drawn_shapes(count: int, seed: int = 3):
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, SIZE, (count, 1, 2)) + (E0, N0)
    steps = rng.uniform(-300, 300, (count, 5, 2)).cumsum(axis=1)
    vertices = rng.integers(2, 7, count)
    lines = [shapely.LineString(np.vstack([start, start + step[: n - 1]])) for start, step, n in zip(starts, steps, vertices)]
    centres = rng.uniform(0, SIZE, (count, 2)) + (E0, N0)
    radii = rng.uniform(30, 150, count)
    polygons = shapely.buffer(shapely.points(centres), radii, quad_segs=4)
    crs = "EPSG:3006"
    return (
        gpd.GeoDataFrame(geometry=lines, crs=crs).to_crs("EPSG:4326"),
        gpd.GeoDataFrame(geometry=polygons, crs=crs).to_crs("EPSG:4326"),
    )


def measure(args):
    way, shape, count = args
    import geopandas as gpd

    from dialogkarta.geo import shape_joins

    lines, polygons = drawn_shapes(count)
    areas, services = synthetic_plan()
    start = time.perf_counter()
    if way == "dialogkarta" and shape == "lines":
        rows = len(shape_joins.line_lengths(lines))
        rows += len(shape_joins.lines_in_areas(lines, areas))
        rows += len(shape_joins.services_near_lines(lines, services, 200.0))
    elif way == "dialogkarta":
        rows = len(shape_joins.polygon_sizes(polygons))
        rows += len(shape_joins.polygon_overlaps(polygons, areas))
        rows += len(shape_joins.services_inside(polygons, services))
    elif shape == "lines":  # plain geopandas
        metric_lines, metric_areas, metric_services = (f.to_crs("EPSG:3006") for f in (lines, areas, services))
        rows = len(metric_lines.length)
        pieces = gpd.overlay(metric_lines, metric_areas, how="intersection", keep_geom_type=True)
        rows += int((pieces.length > 0).sum())
        buffered = metric_lines.set_geometry(metric_lines.buffer(200.0))
        rows += len(gpd.sjoin(metric_services, buffered, predicate="within"))
    else:
        metric_polygons, metric_areas, metric_services = (f.to_crs("EPSG:3006") for f in (polygons, areas, services))
        rows = len(metric_polygons.area)
        pieces = gpd.overlay(metric_polygons, metric_areas, how="intersection", keep_geom_type=True)
        rows += int((pieces.area > 0).sum())
        rows += len(gpd.sjoin(metric_services, metric_polygons, predicate="within"))
    return time.perf_counter() - start, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {os.getloadavg()[0]:.1f}; {options.count:,} shapes; median [range] of {options.repeat} runs, "
        "each in a fresh process; the time includes the transformation from WGS84"
    )
    context = mp.get_context("spawn")
    for shape in ("lines", "polygons"):
        medians = {}
        for way in ("dialogkarta", "geopandas"):
            times, rows = [], 0
            for _ in range(options.repeat):
                with context.Pool(1) as pool:
                    seconds, rows = pool.apply(measure, ((way, shape, options.count),))
                times.append(seconds)
            medians[way] = statistics.median(times)
            print(f"{shape:9} {way:12} {medians[way]:7.2f} s [{min(times):.2f}–{max(times):.2f}]  {rows:>10,} rows")
        print(f"{shape:9} geopandas / dialogkarta: {medians['geopandas'] / medians['dialogkarta']:.1f}x")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
