"""What the store-backed rate limit costs a POST: one limiter check, and a whole POST with and without it.

In-process (Flask's test client, no HTTP), on SQLite and, with ``--pg-url`` or
``DIALOGKARTA_BENCH_DATABASE_URL``, on PostgreSQL. Prints, as median [range] over ``--repeat``
runs, the wall time and this process's CPU time per call of ``ratelimit.hit`` (two limits, the
default ``10/minute;60/hour`` shape, each call from a new client address as on a busy day), and per
``POST /api/proposals`` with the limit on (set high, never reached) and off, runs alternating, with
their ratio. With ``--redis`` (a throwaway ``redis-server`` started here) or ``--redis-url`` the same
runs with the counts in Redis (``DIALOGKARTA_REDIS_URL``) on the SQLite store, and the check's ratio
Redis/store. Not part of the test run.

    python bench/rate_limit.py --pg-url postgresql+psycopg://dk:dk@127.0.0.1/dk_bench --redis
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from export import machine_line  # noqa: E402

from dialogkarta.testing import RedisServer, proposal  # noqa: E402

HIGH = "1000000/minute;10000000/hour"


def make_app(url: str, folder: Path, redis_url: str | None = None):
    from dialogkarta.layers.schema import metadata
    from dialogkarta.layers.store import make_engine
    from dialogkarta.webmap.app import create_app

    engine = make_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_PROPOSALS": HIGH,
            "HOLD_LINKS": False,
            "REDIS_URL": redis_url,
        }
    )


def per_call(calls: int, one) -> tuple[float, float]:
    """Return (wall ms, CPU ms) per call of ``one(i)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(calls):
        one(i)
    return 1000 * (time.perf_counter() - wall) / calls, 1000 * (time.process_time() - cpu) / calls


def limiter_runs(app, calls: int, repeat: int) -> list[tuple[float, float]]:
    from dialogkarta.webmap import ratelimit

    def one(i: int) -> None:
        with app.test_request_context(environ_base={"REMOTE_ADDR": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"}):
            assert ratelimit.hit("proposals") == 0

    return [per_call(calls, one) for _ in range(repeat)]


def post_runs(app, calls: int, repeat: int) -> dict[str, list[tuple[float, float]]]:
    client = app.test_client()
    client.post("/api/proposals", json=proposal(0))  # layers and joins loaded before the clock starts
    runs: dict[str, list[tuple[float, float]]] = {"limit on": [], "limit off": []}
    order = [("limit on", True), ("limit off", False)]
    for run in range(repeat):
        for label, enabled in order if run % 2 == 0 else order[::-1]:
            app.config["RATELIMIT_ENABLED"] = enabled
            runs[label].append(per_call(calls, lambda i: client.post("/api/proposals", json=proposal(i))))
    app.config["RATELIMIT_ENABLED"] = True
    return runs


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("DIALOGKARTA_BENCH_DATABASE_URL"))
    parser.add_argument("--redis", action="store_true", help="also count in a throwaway redis-server started here")
    parser.add_argument("--redis-url", help="also count in this Redis (its rate-limit keys are written)")
    options = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="dk-ratelimit-") as tmp, contextlib.ExitStack() as stack:
        redis_url = options.redis_url or (stack.enter_context(RedisServer(Path(tmp))) if options.redis else None)
        backends = [("SQLite", f"sqlite:///{Path(tmp) / 'store.sqlite'}", None)]
        backends += [("PostgreSQL", options.pg_url, None)] if options.pg_url else []
        backends += [("Redis", f"sqlite:///{Path(tmp) / 'redis-store.sqlite'}", redis_url)] if redis_url else []
        checks: dict[str, float] = {}
        for backend, url, in_redis in backends:
            app = make_app(url, Path(tmp) / backend, in_redis)
            limiter = limiter_runs(app, options.calls, options.repeat)
            checks[backend] = statistics.median(c for _, c in limiter)
            print(
                f"{backend}: one limiter check (2 limits) {spread([w for w, _ in limiter])} ms wall, "
                f"{spread([c for _, c in limiter])} ms CPU"
            )
            posts = post_runs(app, options.calls // 3, options.repeat)
            on, off = posts["limit on"], posts["limit off"]
            ratio = statistics.median(w for w, _ in on) / statistics.median(w for w, _ in off)
            cpu_ratio = statistics.median(c for _, c in on) / statistics.median(c for _, c in off)
            print(
                f"{backend}: POST with the limit {spread([w for w, _ in on])} ms wall ({spread([c for _, c in on])} ms CPU), "
                f"without {spread([w for w, _ in off])} ms wall ({spread([c for _, c in off])} ms CPU); ratio {ratio:.2f} wall, {cpu_ratio:.2f} CPU"
            )
        for backend in ("SQLite", "PostgreSQL"):
            if "Redis" in checks and backend in checks:
                print(f"limiter check's CPU, Redis / {backend}: {checks['Redis'] / checks[backend]:.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; median [range] of {options.repeat} runs")


if __name__ == "__main__":
    main()
