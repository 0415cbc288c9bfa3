"""Time the form's similar-proposals lookup (layers/similar.py) at 100 000 proposals, against two peers.

Peers: the 150 m nearby list the form already asks for (``proposals.nearby``), and scoring every
public proposal of the category within 500 m with no candidate cap (what an unbounded version
would do). Each run builds an SQLite store of N proposals spread over Dalby's boundary, with
texts drawn from a few dozen phrasings so that some are alike, then asks from Q random points.
Prints the median and range of the per-question time over the runs.

    python bench/similar.py --runs 5 --n 100000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from dialogkarta.layers import proposals as submission  # noqa: E402
from dialogkarta.layers import similar, store  # noqa: E402
from dialogkarta.layers.locality import load_locality  # noqa: E402
from dialogkarta.layers.registry import LayerRegistry  # noqa: E402
from dialogkarta.layers.schema import proposals as proposals_table  # noqa: E402
from dialogkarta.testing import random_points_in  # noqa: E402

SUBJECTS = ["Övergångsställe", "Cykelställ", "Belysning", "Farthinder", "Parkbänkar", "Papperskorgar", "Lekplats", "Busskur"]
PLACES = ["vid skolan", "vid torget", "på Lundavägen", "vid biblioteket", "i parken", "vid stationen"]
REASONS = ["Det är farligt på kvällen.", "Många barn passerar här.", "Det saknas i dag.", "Bilarna kör för fort."]
DRAFT = "Säkert övergångsställe vid skolan behövs, bilarna kör för fort"
CATEGORIES = ["traffic", "parks_nature", "safety"]


def build(path: Path, n: int, seed: int):
    registry = LayerRegistry(load_locality())
    engine = store.make_engine(f"sqlite:///{path}")
    store.init_db(engine)
    rng = random.Random(seed)
    now = store.utcnow()
    rows = []
    for i, (lon, lat) in enumerate(random_points_in(registry.boundary(), n, seed=seed)):
        rows.append(
            {
                "public_id": f"sim{i:013d}",
                "lon": float(lon),
                "lat": float(lat),
                "category": CATEGORIES[i % len(CATEGORIES)],
                "title": f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)}",
                "description": f"{rng.choice(REASONS)} {rng.choice(REASONS)}",
                "channel": "web",
                "status": "received",
                "department": "kommunkontoret",
                "also_departments": "",
                "hidden": i % 50 == 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(proposals_table), rows[start : start + 20_000])
    return engine, random_points_in(registry.boundary(), 10_000, seed=seed + 1)


def timed(call, questions) -> float:
    """Median milliseconds per question."""
    times = []
    for lon, lat in questions:
        started = time.perf_counter()
        call(lon, lat)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--questions", type=int, default=40)
    args = parser.parse_args()
    results: dict[str, list[float]] = {
        "similar (ours, 300 nearest scored)": [],
        "nearby 150 m (peer)": [],
        "unbounded 500 m (peer)": [],
    }
    found = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            engine, points = build(Path(folder) / "similar.sqlite", args.n, seed=run)
            questions = random.Random(run).sample(points, args.questions)
            with engine.connect() as conn:
                results["similar (ours, 300 nearest scored)"].append(
                    timed(lambda lon, lat: found.append(len(similar.similar(conn, lon, lat, "traffic", DRAFT))), questions)
                )
                results["nearby 150 m (peer)"].append(
                    timed(lambda lon, lat: submission.nearby(conn, lon, lat, 150, "traffic"), questions)
                )
                with_cap = similar.CANDIDATES_MAX
                similar.CANDIDATES_MAX = args.n  # every proposal of the category within reach is scored
                try:
                    results["unbounded 500 m (peer)"].append(
                        timed(lambda lon, lat: similar.similar(conn, lon, lat, "traffic", DRAFT), questions)
                    )
                finally:
                    similar.CANDIDATES_MAX = with_cap
            engine.dispose()
    load = os.getloadavg()
    print(f"{args.n} proposals, {args.questions} questions per run, {args.runs} runs; load average {load[0]:.1f} at the end")
    ours = statistics.median(results["similar (ours, 300 nearest scored)"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:38s} {median:7.1f} ms [{min(values):.1f}–{max(values):.1f}]  {median / ours:.2f} × ours")
    print(f"similar proposals offered per question: median {statistics.median(found)}, max {max(found)}")


if __name__ == "__main__":
    main()
