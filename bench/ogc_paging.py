"""Benchmark OGC API – Features paging over N proposals (100 000 by default): first page, a late page, a bbox.

Builds (or reuses, ``--store``) the synthetic store of ``bench/export.py`` (2 % hidden, real
joins) and asks the app in process (Flask's test client, so no network in the figure) for
``/ogc/collections/proposals/items?limit=L``, then follows ``next`` links to page P, timing
every page. Then the first page and page P (its ``next`` link as the client got it) are each
asked ``--repeat`` more times, and a ``bbox`` holding about 100 proposals likewise. Prints the
median and range (min–max) of each. Not part of the test run.

    python bench/ogc_paging.py                                # N = 100 000, limit 1 000, page 91, 5 runs
    python bench/ogc_paging.py --store /path/bench.sqlite     # reuse bench/export.py's store
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from export import ensure_store, machine_line  # bench/export.py: bulk inserts, no HTTP

COLLECTION = "/ogc/collections/proposals/items"


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):7.1f} ms [{min(ms):.1f}–{max(ms):.1f}]"


def _get(client, url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.data[:200])
    return elapsed, response.get_json()


def _local(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


def _bbox_of_about(client, wanted: int) -> tuple[str, int]:
    """Return a lon/lat box around the store's middle holding about ``wanted`` proposals, and its count."""
    _t, extent = _get(client, "/ogc/collections/proposals")
    min_lon, min_lat, max_lon, max_lat = extent["extent"]["spatial"]["bbox"][0]
    lon, lat = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    low, high = 0.0, max(max_lon - min_lon, max_lat - min_lat)
    box, matched = "", 0
    for _ in range(30):  # bisect the half-width until the count is close
        half = (low + high) / 2
        box = f"{lon - half:.6f},{lat - half / 1.8:.6f},{lon + half:.6f},{lat + half / 1.8:.6f}"
        _t, body = _get(client, f"{COLLECTION}?limit=1&bbox={box}")
        matched = body["numberMatched"]
        if abs(matched - wanted) <= wanted // 10:
            break
        low, high = (half, high) if matched < wanted else (low, half)
    return box, matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--page", type=int, default=91, help="the late page reached by following next links")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", default=None, help="keep the synthetic store in this SQLite file and reuse it")
    args = parser.parse_args()
    print(machine_line())

    from dialogkarta.webmap.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        url = ensure_store(args.store, folder, args.n)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(Path(folder) / "instance"),
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
            }
        )
        client = app.test_client()
        first = f"{COLLECTION}?limit={args.limit}"
        _get(client, first)  # warm: layers loaded, SQLite pages cached

        walk, target, link = [], None, first
        for page in range(1, args.page + 1):
            elapsed, body = _get(client, link)
            walk.append(elapsed)
            if page == args.page:
                target = link
                break
            following = [link_["href"] for link_ in body["links"] if link_["rel"] == "next"]
            if not following:
                raise SystemExit(f"only {page} pages of {args.limit}; use a larger --n or a smaller --page")
            link = _local(following[0])
        print(f"proposals, limit {args.limit}, median [range] of {args.repeat} runs:")
        print(f"  walking pages 1..{args.page} by next links: {_spread(walk)} per page")
        print(f"  page 1:                             {_spread([_get(client, first)[0] for _ in range(args.repeat)])}")
        print(f"  page {args.page} (its next link):         {_spread([_get(client, target)[0] for _ in range(args.repeat)])}")
        box, matched = _bbox_of_about(client, 100)
        query = f"{COLLECTION}?limit={args.limit}&bbox={box}"
        print(f"  bbox with {matched} proposals:          {_spread([_get(client, query)[0] for _ in range(args.repeat)])}")
        print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
