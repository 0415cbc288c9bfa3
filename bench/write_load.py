"""Write load under the production setup: proposals and supports per second, latency, errors.

Starts gunicorn (the README's command: gthread workers over one SQLite file, rate limits off) on
a loopback socket in a temporary folder, posts proposals and supports from concurrent clients,
and prints throughput, latency percentiles and status counts. Then kills the server with SIGKILL
in a write burst and prints how many acknowledged proposals the store kept.

    python bench/write_load.py [--workers 3] [--threads 4] [--clients 50] [--proposals 1000]

Traffic goes to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialogkarta.testing import Gunicorn, proposal, public_id_of, request, store_facts  # noqa: E402


def timed(call):
    started = time.perf_counter()
    status, body = call()
    return status, body, time.perf_counter() - started


def summary(label: str, results, seconds: float) -> None:
    statuses = {}
    for status, _body, _latency in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(latency for _s, _b, latency in results)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(
        f"{label:34} {len(results):6d} requests  {len(results) / seconds:7.1f}/s  "
        f"p50 {p(0.5):6.1f} ms  p95 {p(0.95):6.1f} ms  max {latencies[-1] * 1000:7.1f} ms  statuses {statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--proposals", type=int, default=1000)
    args = parser.parse_args()
    print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        server = Gunicorn(Path(folder), workers=args.workers, threads=args.threads).start()
        try:
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                started = time.perf_counter()
                posted = list(
                    pool.map(
                        lambda i: timed(lambda: request("POST", server.port, "/api/proposals", proposal(i))),
                        range(args.proposals),
                    )
                )
                summary("POST /api/proposals", posted, time.perf_counter() - started)
                ids = [public_id_of(body) for status, body, _ in posted if status == 201]
                jobs = [(c, ids[(c * 7 + k) % len(ids)]) for c in range(args.clients) for k in range(20)]
                started = time.perf_counter()
                supported = list(
                    pool.map(
                        lambda job: timed(
                            lambda: request(
                                "POST",
                                server.port,
                                f"/api/proposals/{job[1]}/support",
                                {},
                                {"Cookie": f"dialogkarta_token=bench-client-{job[0]:04d}-abcdefghijklmnop"},
                            )
                        ),
                        jobs,
                    )
                )
                summary("POST /api/proposals/<id>/support", supported, time.perf_counter() - started)
                started = time.perf_counter()
                listed = list(pool.map(lambda _: timed(lambda: request("GET", server.port, "/api/proposals")), range(200)))
                summary("GET /api/proposals (cached list)", listed, time.perf_counter() - started)
            facts = store_facts(server.database)
            print(
                f"stored {len(facts['public_ids'])} proposals (acknowledged {len(ids)}), {facts['supports']} supports, "
                f"integrity {facts['integrity'][0]}"
            )

            acknowledged, lock, stop = [], threading.Lock(), threading.Event()

            def client(n):
                i = 0
                while not stop.is_set() and i < 10_000:
                    try:
                        status, body = request("POST", server.port, "/api/proposals", proposal(n * 10_000 + i), timeout=10)
                    except OSError:
                        return
                    if status == 201:
                        with lock:
                            acknowledged.append(public_id_of(body))
                    i += 1

            threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
            for thread in threads:
                thread.start()
            time.sleep(3)
            server.kill()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            facts = store_facts(server.database)
            lost = set(acknowledged) - set(facts["public_ids"])
            print(
                f"SIGKILL after 3 s of 20 writers: {len(acknowledged)} acknowledged in the burst, lost {len(lost)}, "
                f"integrity {facts['integrity'][0]}"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
