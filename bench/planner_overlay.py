"""Time the planner's overlay API and summary report at N proposals (default 1 000 and 10 000).

    python bench/planner_overlay.py [N ...]

Seeds a temporary SQLite store with N random proposals inside the Dalby boundary (a third of
them answered), logs in through the real form and prints the second (warm) request's time and
size for the overlay GeoJSON (all, and filtered), the overlay page and the report.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogkarta.layers import proposals, store, workflow  # noqa: E402
from dialogkarta.testing import login, make_user  # noqa: E402
from dialogkarta.webmap import db  # noqa: E402
from dialogkarta.webmap.app import create_app  # noqa: E402

URLS = ("/planner/api/proposals", "/planner/api/proposals?category=traffic&area=stationsomradet", "/planner/", "/planner/report")


def run(n: int, folder: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder / f'bench{n}.sqlite'}",
        }
    )
    make_user(app, "bench")
    rng = random.Random(1)
    categories = ["traffic", "school", "housing", "other", "safety"]
    with app.app_context():
        registry = db.registry()
        boundary = registry.boundary()
        minx, miny, maxx, maxy = boundary.bounds
        points = []
        while len(points) < n:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if boundary.contains(shapely.Point(x, y)):
                points.append((x, y))
        start = time.perf_counter()
        with db.transaction() as conn:
            for i, (x, y) in enumerate(points):
                ids = store.insert_proposal(
                    conn, lon=x, lat=y, category=categories[i % 5], title=f"P{i}", description="bench", department="tekniska"
                )
                if i % 3 == 0:
                    workflow.answer(conn, ids["id"], "svar", role="planner")
            proposals.refresh_joins(conn, registry)
        print(f"n={n}: seeded in {time.perf_counter() - start:.1f} s")
    client = app.test_client()
    login(client, "bench")
    for url in URLS:
        client.get(url)
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        print(f"  {url:62} {response.status_code} {elapsed * 1000:7.0f} ms {len(response.data) // 1024:6d} kB")


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            run(size, Path(tmp))
