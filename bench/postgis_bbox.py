"""Compare the three ways PostgreSQL can answer a map's bounding box over 100 000 proposals.

A: the store's query today, ``(lon + 0) BETWEEN ... AND (lat + 0) BETWEEN ...`` (kept off the
lon/lat index for SQLite's sake: a scan in id order); B: the same without ``+ 0``, free to use the
(lon, lat) btree; C: ``geom && ST_MakeEnvelope(...)`` on the PostGIS GiST index. Each run asks Q
random boxes about ``--box`` metres wide inside Dalby's boundary two ways: the map's points
(``id, lon, lat`` in id order, as ``store.proposal_points``) and a count. Times are PostgreSQL's own
EXPLAIN ANALYZE execution times, so the client and the machine's other load weigh less; printed
as the median per query and its range over the runs' medians, with each peer's ratio to A.

    python bench/postgis_bbox.py --url postgresql+psycopg://USER:PW@127.0.0.1:5432/DB --runs 5

The database must have PostGIS (``CREATE EXTENSION postgis`` by a superuser); its store is replaced.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from dialogkarta.layers import store  # noqa: E402
from dialogkarta.layers.locality import load_locality  # noqa: E402
from dialogkarta.layers.registry import LayerRegistry  # noqa: E402
from dialogkarta.layers.schema import metadata, proposals  # noqa: E402
from dialogkarta.testing import random_points_in  # noqa: E402

WHERE = {
    "A lon+0/lat+0 (today)": "(lon + 0) BETWEEN %(x0)s AND %(x1)s AND (lat + 0) BETWEEN %(y0)s AND %(y1)s",
    "B lon/lat btree": "lon BETWEEN %(x0)s AND %(x1)s AND lat BETWEEN %(y0)s AND %(y1)s",
    "C geom && envelope (GiST)": "geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)",
}
SHAPES = {
    "points": "SELECT id, lon, lat FROM proposals WHERE hidden = false AND {} ORDER BY id",
    "count": "SELECT count(*) FROM proposals WHERE hidden = false AND {}",
}


def build(engine, registry, n: int) -> None:
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    store.init_db(engine)
    now = store.utcnow()
    rows = [
        {
            "public_id": f"bb{i:014d}",
            "lon": float(lon),
            "lat": float(lat),
            "category": "traffic",
            "title": "Förslag",
            "description": "",
            "channel": "web",
            "status": "received",
            "hidden": i % 50 == 0,
            "created_at": now,
            "updated_at": now,
        }
        for i, (lon, lat) in enumerate(random_points_in(registry.boundary(), n, seed=1))
    ]
    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(proposals), rows[start : start + 10_000])
        conn.exec_driver_sql("ANALYZE proposals")


def boxes(registry, count: int, metres: float, seed: int) -> list[dict]:
    centres = random_points_in(registry.boundary(), count, seed=seed)
    half_lat = metres / 2 / 111_320
    result = []
    for lon, lat in centres:
        half_lon = metres / 2 / (111_320 * math.cos(math.radians(lat)))
        result.append({"x0": lon - half_lon, "x1": lon + half_lon, "y0": lat - half_lat, "y1": lat + half_lat})
    return result


def execution_ms(conn, sql: str, params: dict) -> float:
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).scalar_one()
    return float(plan[0]["Execution Time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DIALOGKARTA_DATABASE_URL"), required=False)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--box", type=float, default=500.0, help="box width in metres")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url (a PostgreSQL database with PostGIS)")
    registry = LayerRegistry(load_locality())
    engine = store.make_engine(args.url)
    build(engine, registry, args.n)
    medians: dict[tuple[str, str], list[float]] = {}
    found = []
    with engine.connect() as conn:
        for run in range(args.runs):
            asked = boxes(registry, args.queries, args.box, seed=100 + run)
            for shape, template in SHAPES.items():
                for name, where in WHERE.items():
                    sql = template.format(where)
                    times = [execution_ms(conn, sql, box) for box in asked]
                    medians.setdefault((shape, name), []).append(statistics.median(times))
            found += [
                conn.exec_driver_sql(SHAPES["count"].format(WHERE["C geom && envelope (GiST)"]), b).scalar_one() for b in asked
            ]
        plans = {
            name: conn.exec_driver_sql("EXPLAIN " + SHAPES["points"].format(where), asked[0]).scalars().all()
            for name, where in WHERE.items()
        }
    print(
        f"PostgreSQL, {args.n} proposals, {args.box:.0f} m boxes, {args.queries} boxes x {args.runs} runs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"proposals per box: median {statistics.median(found):.0f} [{min(found)}-{max(found)}]")
    for shape in SHAPES:
        base = statistics.median(medians[(shape, next(iter(WHERE)))])
        for name in WHERE:
            values = medians[(shape, name)]
            middle = statistics.median(values)
            print(f"{shape:7} {name:28} {middle:7.2f} ms [{min(values):.2f}-{max(values):.2f}]  x{middle / base:.2f} of A")
    for name, plan in plans.items():
        print(f"plan {name}: {' / '.join(line.strip() for line in plan[:3])}")


if __name__ == "__main__":
    main()
