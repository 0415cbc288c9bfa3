"""Benchmark the three spatial joins for N synthetic proposals inside Dalby.

Against the bundled Dalby layers and against a synthetic plan of 5 000 polygons and 20 000
services of 10 kinds. Each (N, join) runs in a fresh process so peak memory is its own.
Prints the median and range (min–max), points per second and peak RSS. Not part of the test run.

    python bench/joins.py                  # N = 1e3, 1e4, 1e5, 1e6
    python bench/joins.py --sizes 1000000 --repeat 5 --plans synthetic
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time

import numpy as np


def synthetic_points(n: int, seed: int = 1):
    import geopandas as gpd
    import shapely

    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry

    boundary = LayerRegistry(load_locality()).boundary()
    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = boundary.bounds
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x = rng.uniform(min_x, max_x, n)
        y = rng.uniform(min_y, max_y, n)
        inside = shapely.contains_xy(boundary, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
    x, y = np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def synthetic_plan(seed: int = 2):
    """5 000 square plots on a grid over Dalby and 20 000 services of 10 kinds over 15 x 15 km."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    e0, n0 = 393_300.0, 6_168_300.0  # south-west corner of a 5 x 4 km plan around Dalby
    cols, rows = 100, 50
    ix, iy = np.meshgrid(np.arange(cols), np.arange(rows))
    x0, y0 = e0 + ix.ravel() * 50.0, n0 + iy.ravel() * 80.0
    plots = shapely.box(x0, y0, x0 + 45.0, y0 + 70.0)
    areas = gpd.GeoDataFrame({"id": [f"plot-{i}" for i in range(len(plots))]}, geometry=plots, crs="EPSG:3006").to_crs(
        "EPSG:4326"
    )
    n = 20_000
    sx = rng.uniform(396_300 - 7_500, 396_300 + 7_500, n)
    sy = rng.uniform(6_170_000 - 7_500, 6_170_000 + 7_500, n)
    services = gpd.GeoDataFrame(
        {"id": [f"svc-{i}" for i in range(n)], "kind": [f"kind{i % 10}" for i in range(n)]},
        geometry=gpd.points_from_xy(sx, sy),
        crs="EPSG:3006",
    ).to_crs("EPSG:4326")
    return areas, services


def run_one(args):
    n, plan, join, repeat = args
    from dialogkarta.geo.joins import AreaIndex, ServiceIndex, join_all

    points = synthetic_points(n)
    if plan == "synthetic":
        areas, services = synthetic_plan()
    else:
        from dialogkarta.layers.locality import load_locality
        from dialogkarta.layers.registry import LayerRegistry

        registry = LayerRegistry(load_locality())
        areas, services = registry.areas(), registry.services()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        if join == "areas_containing":
            rows = len(AreaIndex(areas).containing(points))
        elif join == "nearest_of_each_kind":
            rows = ServiceIndex(services).nearest(points).shape[0]
        elif join == "count_within_500m":
            rows = int(ServiceIndex(services).count_within(points, 500.0).to_numpy().sum())
        else:  # all three with one coordinate transformation, as a caller recomputing joins does
            pairs, nearest, counts = join_all(points, AreaIndex(areas), ServiceIndex(services), 500.0)
            rows = len(pairs) + len(nearest) + int(counts.to_numpy().sum())
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (statistics.median(times), min(times), max(times)), rows, baseline, peak


JOINS = ("areas_containing", "nearest_of_each_kind", "count_within_500m", "join_all")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", nargs="+", default=["dalby", "synthetic"], choices=["dalby", "synthetic"])
    options = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"median [range] of {options.repeat} runs; peak RSS of the measuring process (baseline = after loading data)"
    )
    print(f"{'plan':10} {'N':>9} {'join':22} {'seconds':>22} {'points/s':>12} {'result':>12} {'baseline MB':>12} {'peak MB':>9}")
    context = mp.get_context("spawn")
    for plan in options.plans:
        for n in options.sizes:
            total = 0.0
            for join in JOINS:
                with context.Pool(1) as pool:
                    (median, low, high), rows, baseline, peak = pool.apply(run_one, ((n, plan, join, options.repeat),))
                total += median if join != "join_all" else 0.0
                spread = f"{median:.3f} [{low:.3f}–{high:.3f}]"
                print(f"{plan:10} {n:>9} {join:22} {spread:>22} {n / median:12,.0f} {rows:>12,} {baseline:12.0f} {peak:9.0f}")
            print(f"{plan:10} {n:>9} {'sum of the three (medians)':26} {total:18.3f}")


if __name__ == "__main__":
    main()
