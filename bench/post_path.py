"""What one POST /api/proposals costs the server itself: CPU time and SQL statements, without HTTP or a load generator.

Each run is a fresh process that opens a copy of a store of N proposals with their joins
(``bench/export.py``'s builder), posts ``--posts`` proposals through Flask's test client (the link
hold on, rate limits off; 100 posted first to warm up) and reports the process's CPU time per POST,
wall time per POST and the statements each POST ran. CPU time is what other work on a shared
machine disturbs least, so this is the figure to compare branches by: ``--peer-python`` runs the
same in another install (e.g. a venv with main's checkout), alternating runs, and prints ratios.
Median [range] of ``--repeat`` runs; the load average is printed before and after. Not part of the test run.

    python bench/post_path.py --store seeded.sqlite --repeat 5 --peer-python ../main/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def child(store: Path, posts: int) -> dict:
    """Post ``posts`` proposals in this process; return CPU and wall milliseconds and statements per POST."""
    import orjson
    from sqlalchemy import event

    from dialogkarta.testing import proposal
    from dialogkarta.webmap import db
    from dialogkarta.webmap.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="dk-post-path-"))
    shutil.copy(store, folder / "store.sqlite")
    os.environ.update(
        {
            "DIALOGKARTA_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite'}",
            "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
            "DIALOGKARTA_SECRET_KEY": "bench-post-path",
            "DIALOGKARTA_RATELIMIT_ENABLED": "false",
            "DIALOGKARTA_HOLD_LINKS": "true",
        }
    )
    app = create_app()
    client = app.test_client()
    bodies = [orjson.dumps(proposal(i)) for i in range(100 + posts)]
    for body in bodies[:100]:
        assert client.post("/api/proposals", data=body, content_type="application/json").status_code == 201
    statements = []
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", lambda *args: statements.append(1))
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies[100:]:
        client.post("/api/proposals", data=body, content_type="application/json")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    shutil.rmtree(folder, ignore_errors=True)
    return {"cpu_ms": 1000 * cpu / posts, "wall_ms": 1000 * wall / posts, "statements": len(statements) / posts}


def _spread(values: list[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--store", help="an SQLite file built by an earlier run (copied, never changed); built there if missing")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--peer-python", help="the Python of another install, measured in alternating runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(Path(options.child), options.posts)))
        return

    from export import build_store, machine_line

    print(machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="dk-post-path-") as tmp:
        store = Path(options.store) if options.store else Path(tmp) / "seeded.sqlite"
        if not store.exists():
            build_store(f"sqlite:///{store}", options.n)
        pythons = {"this": sys.executable, **({"peer": options.peer_python} if options.peer_python else {})}
        runs: dict[str, list[dict]] = {name: [] for name in pythons}
        for _ in range(options.repeat):
            for name, python in pythons.items():
                command = [python, __file__, "--child", str(store), "--posts", str(options.posts)]
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                runs[name].append(json.loads(output.strip().splitlines()[-1]))
    for name, rows in runs.items():
        print(
            f"{name} ({pythons[name]}): per POST CPU {_spread([r['cpu_ms'] for r in rows])} ms, "
            f"wall {_spread([r['wall_ms'] for r in rows])} ms, statements {_spread([r['statements'] for r in rows], 1)}"
        )
    if "peer" in runs:
        ratio = statistics.median(r["cpu_ms"] for r in runs["this"]) / statistics.median(r["cpu_ms"] for r in runs["peer"])
        print(f"CPU per POST against the peer: x{ratio:.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; median [range] of {options.repeat} runs of {options.posts} POSTs")


if __name__ == "__main__":
    main()
