"""Beyond one machine: POSTs and bbox GETs at 100 000 proposals on SQLite and PostgreSQL, one and two app servers.

For each configuration (SQLite with one server; PostgreSQL with one server; PostgreSQL with two
servers, each with its own instance folder, on one database) it seeds the store with N proposals
and their joins (``bench/export.py``'s builder), starts the servers (gunicorn, ``--workers`` gthread
workers x 4 threads each, ``SERVERS`` set as a deployment would), spreads the clients over them as a
round-robin load balancer would, and prints, as median [range] over ``--repeat`` runs of
``--seconds`` each (``bench/serve.py``'s load generator and figures):

- POST /api/proposals, 50 clients, with the rate limit on and set high, so every POST pays the
  store-backed limiter without being refused;
- bbox GET ~200 m (``/api/proposals?bbox=...``), 64 connections;

and the resident memory (RSS) of each worker at the end. The machine line gives the load average
at the start and the end; the server's CPU time per request (the app servers' processes: PostgreSQL's
own CPU is not in it, SQLite's is) is the figure other work disturbs least.
PostgreSQL comes from ``--pg-url`` or ``DIALOGKARTA_BENCH_DATABASE_URL``; the database is emptied
first. Without one, only SQLite runs. Not part of the test run.

    python bench/scale.py --pg-url postgresql+psycopg://dk:dk@127.0.0.1/dk_bench        # N = 100 000, 3 runs of 5 s
    python bench/scale.py --quick --pg-url ...                                            # N = 10 000, 1 run of 3 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from export import build_store, machine_line  # noqa: E402
from serve import Connection, _free_port, _print_figures, _spread, bbox_get, post, server_cpu, stop_server  # noqa: E402

from dialogkarta.testing import GUNICORN, PYTHON, request  # noqa: E402

SCENARIOS = [("POST /api/proposals, 50 clients", 50, post), ("bbox GET ~200 m, 64 connections", 64, bbox_get)]


def seed(url: str, n: int) -> None:
    from sqlalchemy import text

    from dialogkarta.layers.schema import metadata
    from dialogkarta.layers.store import make_engine

    engine = make_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:  # afresh: no revision left, so the store is made at the head again
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS layer_styles"))
    engine.dispose()
    build_store(url, n)
    if not url.startswith("sqlite"):  # the builder gives explicit ids: move the sequences past them
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in ("proposals", "status_history"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        engine.dispose()


def start(folder: Path, url: str, servers: int, workers: int):
    import subprocess

    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DIALOGKARTA_DATABASE_URL": url,
        "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
        "DIALOGKARTA_SECRET_KEY": "bench-scale",
        "DIALOGKARTA_PHOTO_DIR": str(folder.parent / "photos"),
        "DIALOGKARTA_SERVERS": str(servers),
        "DIALOGKARTA_RATELIMIT_ENABLED": "true",
        "DIALOGKARTA_RATELIMIT_PROPOSALS": "1000000/minute",  # counted in the store, never reached
    }
    command = [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"]
    command += ["--worker-class", "gthread", "--backlog", "1024", "--no-control-socket", "dialogkarta.webmap.app:create_app()"]
    log = open(folder / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if request("GET", port, "/healthz")[0] == 200:
                return process, port
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError((folder / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 120 s")


def worker_rss_mb(pid: int) -> list[float]:
    """Return the resident memory of each worker of the gunicorn master ``pid``, in MB."""
    sizes = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
    return sizes


async def _spread_clients(ports: list[int], clients: int, seconds: float, job) -> dict[str, list]:
    """``serve.py``'s client loop, each connection to the next server in turn (a round-robin balancer)."""
    import random

    results: dict[str, list] = {}
    deadline = time.perf_counter() + seconds

    def record(kind: str, status: int, started: float) -> None:
        results.setdefault(kind, []).append((status, time.perf_counter() - started))

    async def one(index: int) -> None:
        connection, rng = Connection(ports[index % len(ports)]), random.Random(index)
        while time.perf_counter() < deadline:
            await job(connection, rng, record)
        if connection.writer is not None:
            connection.writer.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    return results


def measure(ports: list[int], pids: list[int], clients: int, seconds: float, job) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    served = sum(server_cpu(pid) for pid in pids)
    started = time.perf_counter()
    results = asyncio.run(_spread_clients(ports, clients, seconds, job))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = 100 * ((after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)) / wall
    requests = sum(len(rows) for rows in results.values())
    out: dict = {
        "client_cpu": client_cpu,
        "server_cpu_ms": 1000 * (sum(server_cpu(pid) for pid in pids) - served) / max(requests, 1),
    }
    for kind, rows in results.items():
        latencies = sorted(latency for _status, latency in rows)
        out[kind] = {
            "rate": len(rows) / wall,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "errors": sum(1 for status, _ in rows if status >= 300),
        }
    return out


def run_configuration(label: str, folder: Path, url: str, servers: int, options) -> None:
    started = [start(folder / f"server-{i}", url, servers, options.workers) for i in range(servers)]
    ports, pids = [port for _p, port in started], [process.pid for process, _port in started]
    try:
        warm = time.perf_counter()
        for job in (bbox_get, post):  # every worker reads its list and layers once
            asyncio.run(_spread_clients(ports, 12 * servers, 3.0, job))
        print(f"\n{label}: {servers} server(s) x {options.workers} workers; warm-up {time.perf_counter() - warm:.1f} s")
        figures: dict[str, list[dict]] = {}
        for _run in range(options.repeat):
            for name, clients, job in SCENARIOS:
                figures.setdefault(name, []).append(measure(ports, pids, clients, options.seconds, job))
        for name, runs in figures.items():
            _print_figures(f"{label}, {servers} server(s), {name}", runs)
        rss = [size for pid in pids for size in worker_rss_mb(pid)]
        print(
            f"  RSS per worker: {_spread(rss)} MB (median [range] of {len(rss)} workers); load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        for process, _port in started:
            stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--pg-url", default=os.environ.get("DIALOGKARTA_BENCH_DATABASE_URL"))
    parser.add_argument("--quick", action="store_true", help="N = 10 000, one run of 3 s per figure")
    options = parser.parse_args()
    if options.quick:
        options.n, options.repeat, options.seconds = 10_000, 1, 3.0
    print(machine_line())
    print(f"Python {PYTHON}; N = {options.n} proposals; median [range] of {options.repeat} runs of {options.seconds:g} s")
    with tempfile.TemporaryDirectory(prefix="dk-scale-") as tmp:
        folder = Path(tmp)
        configurations = [("SQLite", f"sqlite:///{folder / 'store.sqlite'}", 1)]
        if options.pg_url:
            configurations += [("PostgreSQL", options.pg_url, 1), ("PostgreSQL", options.pg_url, 2)]
        else:
            print("no PostgreSQL (--pg-url or DIALOGKARTA_BENCH_DATABASE_URL): SQLite only")
        for index, (engine, url, servers) in enumerate(configurations):
            seeding = time.perf_counter()
            seed(url, options.n)  # afresh each time: the POSTs of one configuration do not load the next
            print(f"\n{engine} store with {options.n} proposals seeded in {time.perf_counter() - seeding:.1f} s")
            run_configuration(engine, folder / f"run-{index}", url, servers, options)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
