"""Benchmark serialising N public proposals (10 000 by default) as a GeoJSON FeatureCollection.

Three ways to the same bytes' worth of JSON: geopandas' ``GeoDataFrame.to_json()``, the standard
library's ``json.dumps`` and ``orjson.dumps`` over the feature dicts ``webmap/api.py`` builds.
Prints the median and range (min–max) of each and how many times faster orjson is (the ratio of
the medians). Not part of the test run.

    python bench/serialise.py              # N = 10 000, 9 runs
    python bench/serialise.py --n 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import orjson


def features(n: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(13.30, 13.40, n), rng.uniform(55.64, 55.69, n)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        {
            "type": "Feature",
            "id": f"p{i:08d}",
            "geometry": {"type": "Point", "coordinates": [round(float(lon[i]), 7), round(float(lat[i]), 7)]},
            "properties": {
                "public_id": f"p{i:08d}",
                "title": f"Förslag {i}",
                "description": "Bättre belysning längs gångvägen.",
                "category": "traffic",
                "status": "received",
                "channel": "web",
                "support_count": i % 7,
                "created_at": (start + timedelta(minutes=i)).isoformat(),
                "updated_at": (start + timedelta(minutes=i)).isoformat(),
            },
        }
        for i in range(n)
    ]


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):8.1f} ms [{min(ms):.1f}–{max(ms):.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    collection = {"type": "FeatureCollection", "features": features(args.n)}
    frame = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    results = {
        "GeoDataFrame.to_json()": timed(frame.to_json, args.repeat),
        "json.dumps": timed(lambda: json.dumps(collection, ensure_ascii=False).encode("utf-8"), args.repeat),
        "orjson.dumps": timed(lambda: orjson.dumps(collection), args.repeat),
    }
    print(f"{args.n} point features, median [range] of {args.repeat} runs:")
    for name, times in results.items():
        print(f"  {name:24} {_spread(times)}")
    fast = statistics.median(results["orjson.dumps"])
    for name in ("json.dumps", "GeoDataFrame.to_json()"):
        print(f"  orjson is {statistics.median(results[name]) / fast:.0f}x faster than {name} (ratio of medians)")


if __name__ == "__main__":
    main()
