"""Benchmark how fast ``dialogkarta serve`` answers after it is started, and which imports cost most.

Starts ``dialogkarta serve`` on a fresh instance folder N times and prints the median and range
(min–max) of the time from process start to the first 200 on ``/healthz`` (the server is ready)
and, in the same run, to the first 200 on ``/`` (the map page, the first request that needs the
map libraries). The load average is printed with it: on a shared machine it moves the figures.
Then one ``python -X importtime`` start lists the imports that cost most before the first answer.
Not part of the test run.

    python bench/startup.py            # 7 runs
    python bench/startup.py --runs 11
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SERVE = [sys.executable, "-c", "from dialogkarta.cli import cli; cli()", "serve"]
# The peer: the same server with the libraries imported before it starts, as before they were lazy.
EAGER = "import geopandas, pandas, pyogrio, pyproj, scipy.spatial, shapely, folium.plugins; "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_200(url: str, process: subprocess.Popen, deadline: float) -> float:
    """Return the monotonic time of the first 200 from ``url``."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                if response.status == 200:
                    return time.monotonic()
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}") from None
            time.sleep(0.01)
    raise RuntimeError(f"no 200 from {url} in time")


def one_start(folder: Path, extra: list[str] | None = None, eager: bool = False) -> tuple[float, float, str]:
    """Return (seconds to /healthz, seconds to /, stderr) for one fresh start (``eager``: the peer)."""
    port = free_port()
    env = {**os.environ, "DIALOGKARTA_INSTANCE_PATH": str(folder)}
    env.pop("DIALOGKARTA_DATABASE_URL", None)
    start = time.monotonic()
    code = (EAGER if eager else "") + SERVE[2]
    command = [SERVE[0], *(extra or []), "-c", code, "serve", "--port", str(port)]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "stderr.txt", "w+") as log:  # a file, not a pipe: -X importtime writes more than a pipe holds
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            ready = wait_for_200(f"http://127.0.0.1:{port}/healthz", process, start + 60) - start
            page = wait_for_200(f"http://127.0.0.1:{port}/", process, start + 60) - start
        finally:
            process.terminate()
            process.wait(timeout=20)
        log.seek(0)
        return ready, page, log.read()


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s [{min(values):.2f}–{max(values):.2f}]"


def ratio(ours: list[float], peer: list[float]) -> str:
    return f"{statistics.median(ours) / statistics.median(peer):.2f}"


def top_imports(stderr: str, count: int) -> list[tuple[int, str]]:
    """Return the ``count`` top-level imports with the largest cumulative time (µs) from ``-X importtime``."""
    rows = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 1:  # top level: imported by our code, not by another library
            rows.append((int(match.group(1)), match.group(3)))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ready, page, peer_ready, peer_page = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        one_start(Path(tmp) / "warm")  # the first start creates the instance and fills the OS file cache
        for i in range(args.runs):  # alternating, so both see the same machine load
            seconds_ready, seconds_page, _err = one_start(Path(tmp) / f"run{i}")
            ready.append(seconds_ready)
            page.append(seconds_page)
            seconds_ready, seconds_page, _err = one_start(Path(tmp) / f"peer{i}", eager=True)
            peer_ready.append(seconds_ready)
            peer_page.append(seconds_page)
        _r, _p, err = one_start(Path(tmp) / "importtime", ["-X", "importtime"])
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"dialogkarta serve, fresh instance, median [range] of {args.runs}:")
    print(f"  first 200 on /healthz: {summary(ready)}")
    print(f"  first 200 on /:        {summary(page)}")
    print("peer: the same with geopandas, pandas, pyogrio, pyproj, scipy, shapely and folium imported first:")
    print(f"  first 200 on /healthz: {summary(peer_ready)}  (ratio {ratio(ready, peer_ready)})")
    print(f"  first 200 on /:        {summary(peer_page)}  (ratio {ratio(page, peer_page)})")
    print("top imports until / answered (cumulative, one -X importtime run):")
    for micros, name in top_imports(err, 12):
        print(f"  {micros / 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
