"""What one bbox GET /api/proposals costs the app itself: CPU time and SQL statements, without a server or a load generator.

Each run is a fresh process that opens a copy of a store of N proposals with their joins
(``bench/export.py``'s builder), reads its public list once, then answers ``--gets`` requests for
random boxes of ``--box`` metres in Dalby's centre (``bench/serve.py``'s neighbourhood GET: the
first page, the default limit, no compression asked unless ``--gzip``) by calling the WSGI app with prepared
environs, and reports the process's CPU time per GET, the wall time, the statements each GET ran
and the body size. CPU time is what other work on a shared machine disturbs least, so this is the
figure to compare branches by: ``--peer-python`` runs the same in another install (e.g. a venv with
main's checkout), alternating runs, and prints ratios. Median [range] of ``--repeat`` runs; the
load average is printed before and after. Not part of the test run.

    python bench/get_path.py --store seeded.sqlite --repeat 7 --peer-python ../wt-old/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def child(store: Path, gets: int, box_m: float, gzip: bool) -> dict:
    """Answer ``gets`` bbox GETs in this process; return CPU and wall milliseconds, statements and bytes per GET."""
    from sqlalchemy import event
    from werkzeug.test import EnvironBuilder

    from serve import box
    from dialogkarta.webmap import db
    from dialogkarta.webmap.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="dk-get-path-"))
    shutil.copy(store, folder / "store.sqlite")
    os.environ.update(
        {
            "DIALOGKARTA_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite'}",
            "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
            "DIALOGKARTA_SECRET_KEY": "bench-get-path",
            "DIALOGKARTA_RATELIMIT_ENABLED": "false",
        }
    )
    app = create_app()
    rng = random.Random(1)
    environs = [
        EnvironBuilder(
            path="/api/proposals",
            query_string=f"bbox={box(box_m, rng)}",
            base_url="http://127.0.0.1:8000",
            headers={"Accept": "application/json", **({"Accept-Encoding": "gzip"} if gzip else {})},
        ).get_environ()
        for _ in range(100 + gets)
    ]
    sizes: list[int] = []

    def start_response(status, _headers, _exc_info=None):
        assert status.startswith("200"), status
        return lambda _data: None

    def answer(environ: dict) -> None:
        body = app(dict(environ), start_response)
        sizes.append(sum(len(chunk) for chunk in body))
        if hasattr(body, "close"):
            body.close()

    for environ in environs[:100]:  # the first reads the list; the rest warm the code paths
        answer(environ)
    sizes.clear()
    statements = []
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", lambda *args: statements.append(1))
    cpu, wall = time.process_time(), time.perf_counter()
    for environ in environs[100:]:
        answer(environ)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "cpu_ms": 1000 * cpu / gets,
        "wall_ms": 1000 * wall / gets,
        "statements": len(statements) / gets,
        "kb": statistics.median(sizes) / 1000,
    }


def _spread(values: list[float], digits: int = 3) -> str:
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--store", help="an SQLite file built by an earlier run (copied, never changed); built there if missing")
    parser.add_argument("--gets", type=int, default=3000)
    parser.add_argument("--box", type=float, default=200, help="the box's side in metres (bench/serve.py's bbox GET: 200)")
    parser.add_argument("--gzip", action="store_true", help="ask for gzip, as browsers do (each page compressed anew)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-python", help="the Python of another install, measured in alternating runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(Path(options.child), options.gets, options.box, options.gzip)))
        return

    from export import build_store, machine_line

    print(machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="dk-get-path-") as tmp:
        store = Path(options.store) if options.store else Path(tmp) / "seeded.sqlite"
        if not store.exists():
            build_store(f"sqlite:///{store}", options.n)
        pythons = {"this": sys.executable, **({"peer": options.peer_python} if options.peer_python else {})}
        runs: dict[str, list[dict]] = {name: [] for name in pythons}
        for _ in range(options.repeat):
            for name, python in pythons.items():
                command = [python, __file__, "--child", str(store), "--gets", str(options.gets), "--box", str(options.box)]
                command += ["--gzip"] if options.gzip else []
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                runs[name].append(json.loads(output.strip().splitlines()[-1]))
    for name, rows in runs.items():
        print(
            f"{name} ({pythons[name]}): per GET CPU {_spread([r['cpu_ms'] for r in rows])} ms, "
            f"wall {_spread([r['wall_ms'] for r in rows])} ms, statements {_spread([r['statements'] for r in rows], 1)}, "
            f"body {_spread([r['kb'] for r in rows], 1)} kB"
        )
    if "peer" in runs:
        ratio = statistics.median(r["cpu_ms"] for r in runs["this"]) / statistics.median(r["cpu_ms"] for r in runs["peer"])
        print(f"CPU per GET against the peer: x{ratio:.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; median [range] of {options.repeat} runs of {options.gets} GETs")


if __name__ == "__main__":
    main()
