"""Benchmark what a password-guessing client costs the server, with and without the login throttle.

Prints the median and range (min–max) of one scrypt password check, then sends N HTTP Basic requests with wrong
passwords (N/2 unknown names, N/2 one real account) from one client address, once with the
default limits (``RATELIMIT_LOGINS`` 20/minute;200/hour) and once with rate limits off, counting
the answers and the scrypt checks actually computed. Not part of the test run.

    python bench/login_throttle.py            # N = 200
    python bench/login_throttle.py --n 500
"""

from __future__ import annotations

import argparse
import base64
import collections
import statistics
import tempfile
import time
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from dialogkarta.layers import accounts
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app


def one_hash_seconds(repeat: int = 9) -> list[float]:
    stored = generate_password_hash("correct horse battery", method="scrypt")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        check_password_hash(stored, "wrong password")
        times.append(time.perf_counter() - start)
    return times


def attack(n: int, folder: Path, throttled: bool) -> tuple[float, collections.Counter, int]:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
            "RATELIMIT_ENABLED": throttled,
        }
    )
    with app.app_context(), db.transaction() as conn:
        accounts.create_user(conn, "anna", "correct horse battery")
    hashes = []
    real = accounts.check_password_hash
    accounts.check_password_hash = lambda *args: hashes.append(1) or real(*args)
    try:
        client = app.test_client()
        statuses = collections.Counter()
        start = time.perf_counter()
        for i in range(n):
            name = "anna" if i % 2 else f"user{i}"
            header = "Basic " + base64.b64encode(f"{name}:Sommar{i}!".encode()).decode()
            statuses[client.get("/planner/api/proposals", headers={"Authorization": header}).status_code] += 1
        return time.perf_counter() - start, statuses, len(hashes)
    finally:
        accounts.check_password_hash = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    ms = [t * 1000 for t in one_hash_seconds()]
    print(f"one scrypt check: {statistics.median(ms):.0f} ms [{min(ms):.0f}–{max(ms):.0f}] (median [range] of 9)")
    for throttled in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            seconds, statuses, hashes = attack(args.n, Path(folder), throttled)
        label = "throttled (default limits)" if throttled else "rate limits off"
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        print(f"{label}: {args.n} wrong Basic requests in {seconds:.1f} s; answers {answers}; scrypt checks computed: {hashes}")


if __name__ == "__main__":
    main()
