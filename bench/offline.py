"""Benchmark what offline sending costs: a retried proposal against a new one, and what the service worker keeps.

Sends ``--n`` proposals with a fresh Idempotency-Key each (201), each again with the same key
(200, nothing stored) and, as the peer, ``--n`` proposals without a key, interleaved, through the
Flask test client on a fresh SQLite store; prints median and range (min–max) in milliseconds and the ratios.
Then sums the bytes of what ``/sw.js`` keeps on install, as sent (Brotli when the server compresses)
and unpacked. Not part of the test run.

    python bench/offline.py           # n = 60
    python bench/offline.py --n 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from dialogkarta.webmap.app import create_app

PROPOSAL = {"lon": 13.3514, "lat": 55.6652, "category": "traffic", "description": "Mätning av omsändning."}


def timed(send) -> float:
    start = time.perf_counter()
    status = send()
    elapsed = (time.perf_counter() - start) * 1000
    assert status in (200, 201), status
    return elapsed


def summary(name: str, values: list[float]) -> str:
    return f"{name}: {statistics.median(values):.1f} ms [{min(values):.1f}–{max(values):.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(Path(folder) / "instance"),
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
            }
        )
        client = app.test_client()
        client.post("/api/proposals", json={**PROPOSAL, "title": "warm-up"})  # layers' indexes built once
        bodies = [({**PROPOSAL, "title": f"Förslag {i}"}, str(uuid.uuid4())) for i in range(args.n)]

        def post(body, key=None):
            headers = {"Idempotency-Key": key} if key else {}
            return lambda: client.post("/api/proposals", json=body, headers=headers).status_code

        plain, first, again = [], [], []
        for body, key in bodies:  # interleaved, so a busy moment of the machine hits all three alike
            plain.append(timed(post({**body, "title": body["title"] + " utan nyckel"})))
            first.append(timed(post(body, key)))
            again.append(timed(post(body, key)))
        print(f"n = {args.n} each, SQLite, Flask test client")
        print(summary("POST without a key (peer)", plain))
        print(summary("POST with a new key (201)", first))
        print(summary("the same key again (200)", again))
        print(
            f"ratios to the peer: new key {statistics.median(first) / statistics.median(plain):.2f}, "
            f"retry {statistics.median(again) / statistics.median(plain):.2f}"
        )

        source = client.get("/sw.js").get_data(as_text=True)
        urls = json.loads(source.split("\n", 1)[0].removeprefix("const OFFLINE = ").removesuffix(";"))["precache"]
        sent = unpacked = 0
        for url in urls:
            response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
            sent += len(response.data)
            unpacked += len(client.get(url).data)
        print(f"service worker keeps {len(urls)} URLs: {sent / 1024:.0f} KiB as sent, {unpacked / 1024:.0f} KiB unpacked")


if __name__ == "__main__":
    main()
