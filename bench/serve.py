"""Serving benchmark at 100 000 stored proposals: bbox GETs, paged GETs, POSTs and a mixed load, per server.

Seeds a SQLite store with N proposals and their joins (``bench/export.py``'s store builder), then
serves it with ``dialogkarta serve`` (waitress, 8 threads) and with gunicorn (3 gthread workers x 4
threads), one after the other on a loopback port, rate limits off (one client address), the link hold on as
in production. For each server it prints, as
median [range] over ``--repeat`` runs of ``--seconds`` each:

- neighbourhood bbox GET: a random ~200 m box, the first page (default limit), at 16 and 64 connections;
- paged 500 m box: a random ~500 m box with ``limit=500``, then the page its ``next`` link names,
  at 16 and 64 connections;
- POST /api/proposals with 50 clients;
- a mixed run, 50 clients, 90 % bbox GETs and 10 % POSTs (latency of each kind).

Requests per second, p50 and p99 latency, non-2xx count, and the server's CPU time (its processes'
user + system time from /proc) per request, which other work on the machine disturbs less. The load generator is a small asyncio
HTTP/1.1 client on keep-alive connections in this process; its own CPU use (per cent of one core)
is printed with each figure, since it shares the machine's cores with the server. The machine
line gives the load average at the start and the end. ``--peer-python`` measures another install's
servers (say main's checkout in a second venv) in the same run, alternating, with ratios. Not part of
the test run.

    python bench/serve.py                          # N = 100 000, 3 runs of 5 s per figure
    python bench/serve.py --n 20000 --repeat 5 --servers gunicorn
    python bench/serve.py --store seeded.sqlite --only POST --repeat 5   # only the POST figure
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from export import build_store, machine_line  # noqa: E402

from dialogkarta.testing import PYTHON, proposal  # noqa: E402

# Dalby's built-up centre: boxes are drawn around points in it, so they hold proposals.
CENTRE = (13.352, 55.666)
SPREAD = (0.012, 0.006)  # degrees either side
METRE_LON, METRE_LAT = 1 / 63_000, 1 / 111_000  # degrees per metre at 55.7° N


def box(size_m: float, rng: random.Random) -> str:
    lon = CENTRE[0] + rng.uniform(-SPREAD[0], SPREAD[0])
    lat = CENTRE[1] + rng.uniform(-SPREAD[1], SPREAD[1])
    half_lon, half_lat = size_m / 2 * METRE_LON, size_m / 2 * METRE_LAT
    return f"{lon - half_lon:.6f},{lat - half_lat:.6f},{lon + half_lon:.6f},{lat + half_lat:.6f}"


# ---------------------------------------------------------------------------- the client
class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read the whole answer."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: application/json\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding") == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                data += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.writer.close()
            self.reader = self.writer = None
        return status, data


async def _run_clients(port: int, clients: int, seconds: float, job) -> dict[str, list]:
    """Run ``job(connection, rng, record)`` in a loop on ``clients`` connections for ``seconds``."""
    results: dict[str, list] = {}
    deadline = time.perf_counter() + seconds

    def record(kind: str, status: int, started: float) -> None:
        results.setdefault(kind, []).append((status, time.perf_counter() - started))

    async def one(index: int) -> None:
        connection, rng = Connection(port), random.Random(index)
        while time.perf_counter() < deadline:
            await job(connection, rng, record)
        if connection.writer is not None:
            connection.writer.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    return results


async def bbox_get(connection, rng, record, size_m: float = 200) -> None:
    started = time.perf_counter()
    status, _ = await connection.request("GET", f"/api/proposals?bbox={box(size_m, rng)}")
    record("GET", status, started)


async def paged_get(connection, rng, record) -> None:
    started = time.perf_counter()
    status, data = await connection.request("GET", f"/api/proposals?bbox={box(500, rng)}&limit=500")
    record("GET", status, started)
    if status == 200:
        link = next((link["href"] for link in orjson.loads(data)["links"] if link["rel"] == "next"), None)
        if link:
            parts = urlsplit(link)
            started = time.perf_counter()
            status, _ = await connection.request("GET", f"{parts.path}?{parts.query}")
            record("GET", status, started)


async def post(connection, rng, record) -> None:
    started = time.perf_counter()
    status, _ = await connection.request("POST", "/api/proposals", orjson.dumps(proposal(rng.randrange(1_000_000))))
    record("POST", status, started)


async def mixed(connection, rng, record) -> None:
    await (post(connection, rng, record) if rng.random() < 0.10 else bbox_get(connection, rng, record))


SCENARIOS = [
    ("bbox GET ~200 m, 16 connections", 16, bbox_get),
    ("bbox GET ~200 m, 64 connections", 64, bbox_get),
    ("paged 500 m box (limit 500 + next), 16 connections", 16, paged_get),
    ("paged 500 m box (limit 500 + next), 64 connections", 64, paged_get),
    ("POST /api/proposals, 50 clients", 50, post),
    ("mixed 90 % GET / 10 % POST, 50 clients", 50, mixed),
]


def server_cpu(pid: int) -> float:
    """Return the CPU seconds (user + system) a server process and its workers have used so far (Linux /proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(port: int, clients: int, seconds: float, job, pid: int | None = None) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    served = server_cpu(pid) if pid else 0.0
    started = time.perf_counter()
    results = asyncio.run(_run_clients(port, clients, seconds, job))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    requests = sum(len(rows) for rows in results.values())
    out = {"client_cpu": 100 * cpu / wall, "server_cpu_ms": 1000 * (server_cpu(pid) - served) / max(requests, 1) if pid else 0.0}
    for kind, rows in results.items():
        latencies = sorted(latency for _status, latency in rows)
        out[kind] = {
            "rate": len(rows) / wall,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "errors": sum(1 for status, _ in rows if status >= 300),
        }
    return out


# --------------------------------------------------------------------------- the servers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(kind: str, folder: Path, database: Path, python: str = PYTHON) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {
        **os.environ,
        "DIALOGKARTA_DATABASE_URL": f"sqlite:///{database}",
        "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
        "DIALOGKARTA_SECRET_KEY": "bench-serve",
        "DIALOGKARTA_RATELIMIT_ENABLED": "false",
    }
    if kind == "waitress":
        command = [str(Path(python).with_name("dialogkarta")), "serve", "--port", str(port), "--threads", "8"]
    else:
        command = [
            str(Path(python).with_name("gunicorn")),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
        ]
        command += ["--backlog", "1024", "--no-control-socket", "dialogkarta.webmap.app:create_app()"]
    log = open(folder / f"{kind}.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((folder / f"{kind}.log").read_text()[-3000:]) from None
            time.sleep(0.3)
    return process, port


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def warm(port: int) -> float:
    """Make every worker read its list (the first request after start); return the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_run_clients(port, 12, 3.0, bbox_get))
    return time.perf_counter() - started


def _spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "-"
    fmt = f"{{:.{digits}f}}"
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


def _print_figures(label: str, runs: list[dict], peer: list[dict] | None = None) -> None:
    for kind_of_request in ("GET", "POST"):
        rows = [run[kind_of_request] for run in runs if kind_of_request in run]
        if not rows:
            continue
        line = (
            f"  {label}: {kind_of_request} {_spread([r['rate'] for r in rows])} /s, "
            f"p50 {_spread([r['p50'] for r in rows], 1)} ms, p99 {_spread([r['p99'] for r in rows], 1)} ms, "
            f"non-2xx {sum(r['errors'] for r in rows)}, "
            f"client CPU {_spread([run['client_cpu'] for run in runs])} % of a core, "
            f"server CPU {_spread([run['server_cpu_ms'] for run in runs], 2)} ms per request"
        )
        others = [run[kind_of_request] for run in peer or [] if kind_of_request in run]
        if others:
            rate = statistics.median(r["rate"] for r in rows) / statistics.median(r["rate"] for r in others)
            p99 = statistics.median(r["p99"] for r in rows) / statistics.median(r["p99"] for r in others)
            cpu = statistics.median(run["server_cpu_ms"] for run in runs) / statistics.median(
                run["server_cpu_ms"] for run in peer or []
            )
            line += f"; against the peer: rate x{rate:.2f}, p99 x{p99:.2f}, server CPU per request x{cpu:.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--servers", default="waitress,gunicorn")
    parser.add_argument("--store", help="an SQLite file built by an earlier run (copied, never changed)")
    parser.add_argument("--only", default="", help="run only the scenarios whose label contains this text (e.g. POST)")
    parser.add_argument(
        "--peer-python",
        help="the Python of another install (e.g. a venv with main's checkout): its servers are measured too, "
        "runs alternating with this one's, and each figure gets a ratio against the peer",
    )
    options = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="dk-serve-") as tmp:
        folder = Path(tmp)
        seeded = Path(options.store) if options.store else folder / "seeded.sqlite"
        if not seeded.exists():
            started = time.perf_counter()
            build_store(f"sqlite:///{seeded}", options.n)
            print(f"store with {options.n} proposals and their joins built in bulk in {time.perf_counter() - started:.1f} s")
        pythons = {"this": PYTHON, **({"peer": options.peer_python} if options.peer_python else {})}
        for kind in options.servers.split(","):
            servers = {}
            try:
                for name, python in pythons.items():
                    database = folder / f"{kind}-{name}.sqlite"
                    shutil.copy(seeded, database)
                    servers[name] = start_server(kind, folder, database, python)
                    print(
                        f"\n{kind} ({name}: {python}): first requests (each worker reads its list) took {warm(servers[name][1]):.1f} s"
                    )
                figures: dict[str, dict[str, list[dict]]] = {name: {} for name in servers}
                for _run in range(options.repeat):
                    for label, clients, job in SCENARIOS:
                        if options.only not in label:
                            continue
                        for name, (process, port) in servers.items():
                            figures[name].setdefault(label, []).append(measure(port, clients, options.seconds, job, process.pid))
                for name in servers:
                    print(f"{kind}, {name}:")
                    for label, runs in figures[name].items():
                        _print_figures(label, runs, figures["peer"][label] if name == "this" and "peer" in figures else None)
            finally:
                for process, _port in servers.values():
                    stop_server(process)
            print(f"load average after {kind}: {os.getloadavg()[0]:.1f}")
    print(
        f"\nload average at the end: {os.getloadavg()[0]:.1f}; median [range] of {options.repeat} runs of {options.seconds:g} s"
    )


if __name__ == "__main__":
    main()
