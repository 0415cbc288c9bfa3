"""How long the paper workbook takes to print, and to type back in.

Prints, as median and range (min–max) of ``--repeat`` runs: the time to build the whole Dalby
workbook as a PDF (cover, locality page and a page per development area; layers already loaded,
as in a running server) and its size; and the time to store ``--rows`` returned proposals from a
CSV file with ``import-proposals``' path (every row checked, then all stored in one transaction),
against the peer of sending the same rows one by one through ``POST /api/proposals`` (what staff
did before, through the single-entry page, one transaction each). Each store is a fresh SQLite file.
Not part of the test run.

    python bench/workbook.py
    python bench/workbook.py --rows 500 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time


API_FIELDS = ("lon", "lat", "category", "title", "description", "channel", "round")


def _spread(values, spec: str = ".2f") -> str:
    return f"{statistics.median(values):{spec}} [{min(values):{spec}}–{max(values):{spec}}]"


def _csv(rows: int) -> bytes:
    lines = ["category,title,description,channel,meeting,round,lon,lat,area"]
    areas = ["hagalund", "stationsomradet", "kvarnskon-vattenrannan", "paskaganget-sodra", ""]
    for i in range(rows):
        area = areas[i % len(areas)]
        where = f",,,{area}" if area else f",{13.345 + (i % 20) * 0.001:.4f},{55.662 + (i % 10) * 0.0005:.4f},"
        lines.append(f"other,Förslag {i},Skrivet i arbetsboken,workbook,Biblioteket,var-2027{where}")
    return ("\n".join(lines) + "\n").encode()


def _app(folder: str):
    from dialogkarta.webmap.app import create_app

    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from dialogkarta.layers import proposal_import
    from dialogkarta.layers.workbook_pdf import WorkbookRequest, build_pdf
    from dialogkarta.webmap import db

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    pdf_s, size = [], 0
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        with app.app_context():
            registry = db.registry()
            build_pdf(registry, WorkbookRequest(base_url="https://dialog.example.se"))  # layers loaded once, as in a server
            for _ in range(args.repeat):
                start = time.perf_counter()
                size = len(build_pdf(registry, WorkbookRequest(base_url="https://dialog.example.se")))
                pdf_s.append(time.perf_counter() - start)
            pages = 2 + len(registry.areas())
    print(f"workbook PDF, {pages} A4 pages: {_spread(pdf_s)} s, {size / 1024:.0f} kB")

    data = _csv(args.rows)
    ours, peer = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            app = _app(folder)
            with app.app_context():
                registry = db.registry()
                registry.area_index(), registry.service_index()
                start = time.perf_counter()
                submissions = proposal_import.check_rows(registry, proposal_import.read_csv(data))
                with db.transaction() as conn:
                    proposal_import.store_rows(conn, registry, submissions)
                ours.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as folder:
            app = _app(folder)
            client = app.test_client()
            with app.app_context():
                registry = db.registry()
                registry.area_index(), registry.service_index()
                submissions = proposal_import.check_rows(registry, proposal_import.read_csv(data))
            start = time.perf_counter()
            for body in submissions:  # the API's fields (it has no meeting: staff enter that)
                answer = client.post("/api/proposals", json={k: body[k] for k in API_FIELDS})
                assert answer.status_code == 201, answer.get_json()
            peer.append(time.perf_counter() - start)
    print(f"import-proposals, {args.rows} rows in one transaction: {_spread(ours)} s")
    print(
        f"peer, the same rows as {args.rows} POST /api/proposals: {_spread(peer)} s ({statistics.median(peer) / statistics.median(ours):.1f} x ours)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; median [range] of {args.repeat} runs")


if __name__ == "__main__":
    main()
