"""Benchmark the three spatial joins at 1e6 synthetic proposals from WGS84, against plain geopandas and DuckDB.

Points are spread over Dalby's participation boundary; the plan is synthetic (5 000 polygons and
20 000 services of 10 kinds over 15 x 15 km) or the bundled Dalby layers. Every run of every
method is its own process, so peak memory is its own; runs of the methods alternate, so a change
in the machine's load falls on all of them alike. Prints the median and range (min–max) over the
runs, the peers as ratios to ours, the cores and the load average at the start and the end.
Not part of the test run.

    python bench/joins.py                              # 1e6 points, synthetic plan, 5 runs
    python bench/joins.py --size 100000 --runs 7 --plan dalby
    python bench/joins.py --runs 5 --peer-runs 3          # the README's figures

Ours: ``join_all`` (all three with one coordinate transformation and one grid) and each join
alone as ``geo.joins`` offers it. Plain geopandas: ``to_crs``, ``sjoin`` (areas covering each
point), ``sjoin_nearest`` per kind, and ``sjoin`` with ``predicate="dwithin"`` (500 m) counted per
kind: exact, and far faster than buffering the services and joining the points to the circles
(which only approximate the circle). DuckDB spatial (only when the ``duckdb`` package is importable, with the spatial
extension from ``duckdb-extension-spatial``; not a dependency of Dialogkarta): ``ST_Transform``,
an ``ST_Intersects`` join, and one ``ST_DWithin`` join grouped per point and kind for the counts
and the nearest within 500 m, plus the nearest over all services for a point with none that near.
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

RADIUS_M = 500.0


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


def load_plan(plan: str):
    if plan == "synthetic":
        return synthetic_plan()
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.layers.registry import LayerRegistry

    registry = LayerRegistry(load_locality())
    return registry.areas(), registry.services()


def ours(method: str, points, areas, services) -> tuple[dict, str]:
    """Time one of our joins (or all three); return {label: seconds} and a summary of the result."""
    from dialogkarta.geo.joins import AreaIndex, ServiceIndex, join_all

    start = time.perf_counter()
    if method == "areas":
        pairs = AreaIndex(areas).containing(points)
        summary = f"{len(pairs):,} pairs"
    elif method == "nearest":
        nearest = ServiceIndex(services).nearest(points)
        summary = f"{nearest.filter(like='_m').to_numpy().sum():,.0f} m in all"
    elif method == "counts":
        counts = ServiceIndex(services).count_within(points, RADIUS_M)
        summary = f"{int(counts.to_numpy().sum()):,} within {RADIUS_M:.0f} m"
    else:
        pairs, nearest, counts = join_all(points, AreaIndex(areas), ServiceIndex(services), RADIUS_M)
        summary = (
            f"{len(pairs):,} pairs, {nearest.filter(like='_m').to_numpy().sum():,.0f} m, {int(counts.to_numpy().sum()):,} within"
        )
    return {method: time.perf_counter() - start}, summary


def plain_geopandas(points, areas, services) -> tuple[dict, str]:
    """The three joins as geopandas offers them, timed one after another."""
    import geopandas as gpd

    times = {}
    start = time.perf_counter()
    metric, areas_m, services_m = points.to_crs("EPSG:3006"), areas.to_crs("EPSG:3006"), services.to_crs("EPSG:3006")
    times["transform"] = time.perf_counter() - start

    start = time.perf_counter()
    pairs = gpd.sjoin(metric, areas_m[["id", "geometry"]], predicate="intersects", how="inner")
    times["areas"] = time.perf_counter() - start

    start = time.perf_counter()
    metres = 0.0
    for _, of_kind in services_m.groupby("kind"):
        nearest = gpd.sjoin_nearest(metric, of_kind[["id", "geometry"]], distance_col="m")
        metres += nearest["m"].groupby(level=0).first().sum()  # equidistant services give one row each
    times["nearest"] = time.perf_counter() - start

    start = time.perf_counter()
    kind_code = services_m["kind"].astype("category").cat.codes.to_numpy()
    coded = gpd.GeoDataFrame({"kind_code": kind_code}, geometry=services_m.geometry, crs="EPSG:3006")
    within = gpd.sjoin(metric, coded, predicate="dwithin", distance=RADIUS_M, how="inner")
    counts = np.bincount(within.index.to_numpy() * (kind_code.max() + 1) + within["kind_code"].to_numpy())
    times["counts"] = time.perf_counter() - start
    times["all"] = sum(times.values())
    return times, f"{len(pairs):,} pairs, {metres:,.0f} m, {int(counts.sum()):,} within"


def spatial_duckdb():
    """Return a DuckDB connection with the spatial extension loaded, or a sentence saying why there is none."""
    try:
        import duckdb
    except ImportError:
        return "skipped: the duckdb package is not installed (pip install duckdb-extension-spatial brings both)"
    connection = duckdb.connect()
    try:
        connection.execute("LOAD spatial")
        return connection
    except duckdb.Error:
        pass
    try:  # the PyPI package that ships the extension, since INSTALL spatial downloads at run time
        import duckdb_extension_spatial

        folder = os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions", f"v{duckdb.__version__}")
        connection.execute(f"LOAD '{os.path.join(folder, 'spatial.duckdb_extension')}'")
        return connection
    except (ImportError, duckdb.Error) as error:
        return f"skipped: duckdb {duckdb.__version__} is installed but its spatial extension does not load ({error})"


def duckdb_spatial(points, areas, services) -> tuple[dict, str]:
    """The three joins in DuckDB spatial, from the same WGS84 frames, timed one after another."""
    import pandas as pd

    connection = spatial_duckdb()
    assert not isinstance(connection, str), connection
    connection.register(
        "points_in", pd.DataFrame({"id": np.arange(len(points)), "lon": points.geometry.x, "lat": points.geometry.y})
    )
    connection.register("areas_in", pd.DataFrame({"id": areas["id"], "wkb": areas.geometry.to_wkb()}))
    connection.register(
        "services_in", pd.DataFrame({"id": services["id"], "kind": services["kind"], "wkb": services.geometry.to_wkb()})
    )
    to_metric = "'EPSG:4326', 'EPSG:3006', always_xy := true"
    times = {}
    start = time.perf_counter()
    connection.execute(f"CREATE TABLE points AS SELECT id, ST_Transform(ST_Point(lon, lat), {to_metric}) AS geom FROM points_in")
    connection.execute(f"CREATE TABLE areas AS SELECT id, ST_Transform(ST_GeomFromWKB(wkb), {to_metric}) AS geom FROM areas_in")
    connection.execute(
        f"CREATE TABLE services AS SELECT id, kind, ST_Transform(ST_GeomFromWKB(wkb), {to_metric}) AS geom FROM services_in"
    )
    times["transform"] = time.perf_counter() - start

    start = time.perf_counter()
    (pairs,) = connection.execute("SELECT count(*) FROM points p JOIN areas a ON ST_Intersects(a.geom, p.geom)").fetchone()
    times["areas"] = time.perf_counter() - start

    start = time.perf_counter()
    connection.execute(
        "CREATE TABLE near AS SELECT p.id, s.kind, count(*) AS n, arg_min(s.id, ST_Distance(p.geom, s.geom)) AS service, "
        "min(ST_Distance(p.geom, s.geom)) AS m FROM points p JOIN services s "
        f"ON ST_DWithin(p.geom, s.geom, {RADIUS_M}) GROUP BY ALL"
    )
    # A point with no service of a kind within the radius: its nearest of that kind from all of them.
    connection.execute(
        "CREATE TABLE missing AS SELECT p.id, k.kind FROM points p CROSS JOIN (SELECT DISTINCT kind FROM services) k "
        "ANTI JOIN near ON near.id = p.id AND near.kind = k.kind"
    )
    connection.execute(
        "CREATE TABLE far AS SELECT p.id, s.kind, arg_min(s.id, ST_Distance(p.geom, s.geom)) AS service, "
        "min(ST_Distance(p.geom, s.geom)) AS m FROM missing JOIN points p ON p.id = missing.id "
        "JOIN services s ON s.kind = missing.kind GROUP BY ALL"
    )
    (within, near_m) = connection.execute("SELECT sum(n), sum(m) FROM near").fetchone()
    (far_m,) = connection.execute("SELECT coalesce(sum(m), 0) FROM far").fetchone()
    times["nearest and counts"] = time.perf_counter() - start
    times["all"] = sum(times.values())
    return times, f"{pairs:,} pairs, {near_m + far_m:,.0f} m, {int(within):,} within"


def postgis(points, areas, services, url: str) -> tuple[dict, str]:
    """The three joins in PostGIS, from the same WGS84 frames (loaded by COPY, not timed), one after another.

    What a bulk refresh in the database would run: transform to SWEREF 99 TM with GiST indexes (timed as "transform"),
    ``ST_Covers`` for the areas, a KNN (``<->``) search per point and kind for the nearest, and a
    grouped ``ST_DWithin`` join for the counts. ``url`` is a scratch database with the postgis extension.
    """
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    times = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("points_in", "areas_in", "services_in", "points", "areas", "services"):
            conn.execute(f"DROP TABLE IF EXISTS bench_{table}")
        conn.execute("CREATE UNLOGGED TABLE bench_points_in (id integer, lon float8, lat float8)")
        conn.execute("CREATE UNLOGGED TABLE bench_areas_in (id text, wkb bytea)")
        conn.execute("CREATE UNLOGGED TABLE bench_services_in (id text, kind text, wkb bytea)")
        with conn.cursor().copy("COPY bench_points_in FROM STDIN") as copy:
            for row in zip(range(len(points)), points.geometry.x.tolist(), points.geometry.y.tolist()):
                copy.write_row(row)
        with conn.cursor().copy("COPY bench_areas_in FROM STDIN") as copy:
            for row in zip(areas["id"].tolist(), areas.geometry.to_wkb().tolist()):
                copy.write_row(row)
        with conn.cursor().copy("COPY bench_services_in FROM STDIN") as copy:
            for row in zip(services["id"].tolist(), services["kind"].tolist(), services.geometry.to_wkb().tolist()):
                copy.write_row(row)
        start = time.perf_counter()
        conn.execute(
            "CREATE UNLOGGED TABLE bench_points AS SELECT id, ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3006) AS geom "
            "FROM bench_points_in"
        )
        conn.execute(
            "CREATE UNLOGGED TABLE bench_areas AS SELECT id, ST_Transform(ST_GeomFromWKB(wkb, 4326), 3006) AS geom FROM bench_areas_in"
        )
        conn.execute(
            "CREATE UNLOGGED TABLE bench_services AS SELECT id, kind, ST_Transform(ST_GeomFromWKB(wkb, 4326), 3006) AS geom "
            "FROM bench_services_in"
        )
        for table in ("points", "areas", "services"):
            conn.execute(f"CREATE INDEX ON bench_{table} USING gist (geom)")
            conn.execute(f"ANALYZE bench_{table}")
        times["transform"] = time.perf_counter() - start

        start = time.perf_counter()
        (pairs,) = conn.execute("SELECT count(*) FROM bench_points p JOIN bench_areas a ON ST_Covers(a.geom, p.geom)").fetchone()
        times["areas"] = time.perf_counter() - start

        start = time.perf_counter()
        (near_m,) = conn.execute(
            "SELECT sum(n.m) FROM bench_points p CROSS JOIN (SELECT DISTINCT kind FROM bench_services) k "
            "CROSS JOIN LATERAL (SELECT ST_Distance(s.geom, p.geom) AS m FROM bench_services s WHERE s.kind = k.kind "
            "ORDER BY s.geom <-> p.geom LIMIT 1) n"
        ).fetchone()
        times["nearest"] = time.perf_counter() - start

        start = time.perf_counter()
        (within,) = conn.execute(
            f"SELECT count(*) FROM bench_points p JOIN bench_services s ON ST_DWithin(s.geom, p.geom, {RADIUS_M})"
        ).fetchone()
        times["counts"] = time.perf_counter() - start
        for table in ("points_in", "areas_in", "services_in", "points", "areas", "services"):
            conn.execute(f"DROP TABLE IF EXISTS bench_{table}")
    times["all"] = times["transform"] + times["areas"] + times["nearest"] + times["counts"]
    return times, f"{pairs:,} pairs, {near_m:,.0f} m, {int(within):,} within"


def run_one(args):
    method, n, plan, database = args
    points = synthetic_points(n)
    areas, services = load_plan(plan)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if method == "geopandas":
        times, summary = plain_geopandas(points, areas, services)
    elif method == "duckdb":
        times, summary = duckdb_spatial(points, areas, services)
    elif method == "postgis":
        times, summary = postgis(points, areas, services, database)
    else:
        times, summary = ours(method, points, areas, services)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times, summary, baseline, peak


def spread(values) -> str:
    return f"{statistics.median(values):.2f} s [{min(values):.2f}–{max(values):.2f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plan", default="synthetic", choices=["synthetic", "dalby"])
    parser.add_argument("--peers", nargs="*", default=["geopandas", "duckdb"], choices=["geopandas", "duckdb", "postgis"])
    parser.add_argument(
        "--database", help="for the postgis peer: a scratch PostgreSQL URL whose database has the postgis extension"
    )
    parser.add_argument("--peer-runs", type=int, help="runs of each peer (default: as many as --runs); they take minutes each")
    options = parser.parse_args()
    peers = list(options.peers)
    if "duckdb" in peers:
        connection = spatial_duckdb()
        if isinstance(connection, str):
            print(f"DuckDB spatial {connection}")
            peers.remove("duckdb")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at the start {' '.join(f'{v:.1f}' for v in os.getloadavg())} (1, 5, 15 min)"
    )
    peer_runs = options.runs if options.peer_runs is None else options.peer_runs
    print(
        f"{options.size:,} points from WGS84, {options.plan} plan; median [range] of {options.runs} runs "
        f"({peer_runs} of each peer), each its own process"
    )
    methods = ["join_all", "areas", "nearest", "counts", *peers]
    results: dict[str, list] = {method: [] for method in methods}
    context = mp.get_context("spawn")
    for run in range(options.runs):
        for method in methods:
            if method in peers and run >= peer_runs:
                continue
            with context.Pool(1) as pool:
                results[method].append(pool.apply(run_one, ((method, options.size, options.plan, options.database),)))

    def seconds(method, label):
        return [times[label] for times, *_ in results[method]]

    def memory(method):
        peaks = [peak for *_, peak in results[method]]
        return f"peak RSS {statistics.median(peaks):,.0f} MB [{min(peaks):,.0f}–{max(peaks):,.0f}], after loading {results[method][0][2]:,.0f} MB"

    ours_all = statistics.median(seconds("join_all", "join_all"))
    print(f"\nours, all three (join_all)    {spread(seconds('join_all', 'join_all')):24} {memory('join_all')}")
    for method in ("areas", "nearest", "counts"):
        print(f"ours, {method + ' alone':24} {spread(seconds(method, method)):24} {memory(method)}")
    print(f"  result: {results['join_all'][0][1]}")
    for peer in peers:
        name = {"geopandas": "plain geopandas", "duckdb": "DuckDB spatial", "postgis": "PostGIS"}[peer]
        total = seconds(peer, "all")
        print(f"\n{name}, all three          {spread(total):24} {memory(peer)}; {statistics.median(total) / ours_all:.1f}x ours")
        for label in results[peer][0][0]:
            if label == "all":
                continue
            line = f"  {label:28} {spread(seconds(peer, label)):24}"
            if label in ("areas", "nearest", "counts"):
                # a join alone transforms the points too, as ours alone does
                alone = [times[label] + times["transform"] for times, *_ in results[peer]]
                line += f" with the transformation {statistics.median(alone) / statistics.median(seconds(label, label)):.1f}x ours alone"
            print(line)
        same = "the same as ours" if results[peer][0][1] == results["join_all"][0][1] else "NOT the same as ours"
        print(f"  result: {results[peer][0][1]} ({same})")
    print(f"\nload average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
