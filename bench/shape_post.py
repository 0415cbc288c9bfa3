"""What a line or an area proposal costs the server against a point: CPU time per POST /api/proposals.

Each run is a fresh process with a fresh SQLite store that posts ``--posts`` proposals of each kind
through Flask's test client, interleaved point, line, area (20 points on a line, 20 corners on an
area, all inside Dalby; 30 of each first to warm up), and reports the process's CPU time per POST of
each kind. CPU time is what other work on a shared machine disturbs least. Median [range] of
``--repeat`` runs, with the line's and the area's ratio to the point (the peer). Not part of the test run.

    python bench/shape_post.py --posts 200 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

E, N = 396300.0, 6170000.0  # Dalby, SWEREF 99 TM
KINDS = ("point", "line", "area")


def bodies(count: int) -> dict[str, list[bytes]]:
    """``count`` proposals of each kind, each a little apart, as JSON bodies."""
    import orjson
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
    text = {"category": "traffic", "title": "Gångväg", "description": "Här behövs en gångväg."}
    made: dict[str, list[bytes]] = {kind: [] for kind in KINDS}
    for i in range(count):
        dx, dy = (i % 20) * 20.0, (i // 20 % 20) * 20.0
        point = to_wgs84.transform(E + dx, N + dy)
        line = [list(to_wgs84.transform(E + dx + 25 * k, N + dy + 10 * math.sin(k))) for k in range(20)]
        ring = [
            list(to_wgs84.transform(E + dx + 100 * math.cos(2 * math.pi * k / 20), N + dy + 100 * math.sin(2 * math.pi * k / 20)))
            for k in range(20)
        ]
        ring.append(ring[0])
        made["point"].append(orjson.dumps({**text, "lon": point[0], "lat": point[1]}))
        made["line"].append(orjson.dumps({**text, "geometry": {"type": "LineString", "coordinates": line}}))
        made["area"].append(orjson.dumps({**text, "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    return made


def child(posts: int) -> dict:
    from dialogkarta.webmap.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="dk-shape-post-"))
    os.environ.update(
        {
            "DIALOGKARTA_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite'}",
            "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
            "DIALOGKARTA_SECRET_KEY": "bench-shape-post",
            "DIALOGKARTA_RATELIMIT_ENABLED": "false",
        }
    )
    client = create_app().test_client()
    made = bodies(30 + posts)
    cpu = dict.fromkeys(KINDS, 0.0)
    for i in range(30 + posts):
        for kind in KINDS:
            start = time.process_time()
            status = client.post("/api/proposals", data=made[kind][i], content_type="application/json").status_code
            if i >= 30:
                cpu[kind] += time.process_time() - start
            assert status == 201, (kind, status)
    shutil.rmtree(folder, ignore_errors=True)
    return {kind: 1000 * cpu[kind] / posts for kind in KINDS}


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.posts)))
        return
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    runs = []
    for _ in range(options.repeat):
        command = [sys.executable, __file__, "--child", "--posts", str(options.posts)]
        runs.append(
            json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        )
    for kind in KINDS:
        ratios = [run[kind] / run["point"] for run in runs]
        print(f"{kind}: CPU per POST {_spread([run[kind] for run in runs])} ms, against a point x{_spread(ratios)}")
    print(
        f"load average at the end: {os.getloadavg()[0]:.1f}; median [range] of {options.repeat} runs of {options.posts} POSTs each"
    )


if __name__ == "__main__":
    main()
