"""Lighthouse's mobile run on the resident map (/), served by ``dialogkarta serve`` as the README's quick start does.

    DIALOGKARTA_LIGHTHOUSE=/path/to/lighthouse python bench/resident_lighthouse.py [RUNS]

Starts ``dialogkarta serve`` on a loopback port with a fresh instance folder (the bundled Dalby data, twelve
proposals sent through the API) and a stand-in tile server (the machines here are offline; each tile weighs
about what an OpenStreetMap tile does), then prints the median [range] of RUNS runs (default 5) of the
scores and timings issue #14 budgets, and the audits that did not pass in any run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogkarta.testing import Served, StandInTiles, lighthouse_scores, proposal, request  # noqa: E402

FIGURES = ("performance", "accessibility", "best-practices", "first-contentful-paint", "largest-contentful-paint",
           "total-blocking-time", "speed-index")  # fmt: skip


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    lighthouse = os.environ.get("DIALOGKARTA_LIGHTHOUSE", "lighthouse")
    with tempfile.TemporaryDirectory() as folder, StandInTiles() as tiles:
        with Served(Path(folder) / "serve", TILE_URL=tiles.url, RATELIMIT_ENABLED="false") as served:
            for i in range(12):
                assert request("POST", served.port, "/api/proposals", proposal(i))[0] == 201
            results = [lighthouse_scores(lighthouse, served.url + "/", Path(folder) / f"lh{i}.json") for i in range(runs)]
    print(f"Lighthouse {runs} runs, mobile preset, load average {os.getloadavg()[0]:.1f}")
    for name in FIGURES:
        values = [r[name] for r in results]
        unit = "" if name in ("performance", "accessibility", "best-practices") else " ms"
        print(f"{name:26} {statistics.median(values):8.2f}{unit} [{min(values):.2f}–{max(values):.2f}]")
    failing = sorted({audit for r in results for audit in r["failing"]})
    print("audits below 1 in some run:", ", ".join(failing) or "none")


if __name__ == "__main__":
    main()
