"""Lighthouse's cumulative layout shift on the planner overlay (/planner/), logged in, desktop and mobile presets.

    DIALOGKARTA_LIGHTHOUSE=/path/to/lighthouse python bench/planner_layout_shift.py [RUNS]

Serves the app on a loopback port with a temporary SQLite store (six proposals and one planner), logs in
through the real form and hands Lighthouse the session cookie; prints the median and range of RUNS runs
(default 5) per preset. Needs Lighthouse from npm (``npm install lighthouse@12``) and /usr/bin/chromium.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogkarta.layers import proposals  # noqa: E402
from dialogkarta.testing import lighthouse_layout_shift, login, make_user  # noqa: E402
from dialogkarta.webmap import db  # noqa: E402
from dialogkarta.webmap.app import create_app  # noqa: E402


def _seed(app) -> None:
    make_user(app, "bench")
    with app.app_context(), db.transaction() as conn:
        for i in range(6):
            data = {"lon": 13.345 + i * 0.002, "lat": 55.665, "category": "traffic", "title": f"P{i}", "description": "bench"}
            proposals.submit(conn, db.registry(), data, role="planner")


def _lighthouse(lighthouse: str, url: str, headers: Path, report: Path, preset: str) -> float:
    result = lighthouse_layout_shift(lighthouse, url, headers, report, preset)
    if not result["finalDisplayedUrl"].endswith("/planner/"):
        raise SystemExit(f"Lighthouse ended on {result['finalDisplayedUrl']}, not the overlay: not logged in?")
    return result["audits"]["cumulative-layout-shift"]["numericValue"]


def main(runs: int) -> None:
    lighthouse = os.environ.get("DIALOGKARTA_LIGHTHOUSE", "lighthouse")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_PATH": f"{folder}/instance",
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
                "RATELIMIT_ENABLED": False,
                "TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",  # no tiles leave the machine
            }
        )
        _seed(app)
        client = app.test_client()
        login(client, "bench")
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        headers = Path(folder) / "headers.json"
        headers.write_text(json.dumps({"Cookie": f"{cookie.key}={cookie.value}"}))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/planner/"
        try:
            for preset in ("desktop", "mobile"):
                values = [_lighthouse(lighthouse, url, headers, Path(folder) / "report.json", preset) for _ in range(runs)]
                print(
                    f"{preset}: CLS {statistics.median(values):.3f} [{min(values):.3f}–{max(values):.3f}], "
                    f"median [range] of {runs} runs; load average {os.getloadavg()[0]:.1f}"
                )
        finally:
            server.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
