"""Drive a running Dialogkarta from outside: gunicorn on a loopback socket, JSON requests, staff logins.

Shared by the tests and the benchmarks (``bench/`` never imports ``tests/``), in the way
``flask.testing`` ships with Flask. Nothing here is used by the app itself.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from sqlalchemy import Engine, event, func, insert, select

from .layers import accounts, maintenance
from .layers.schema import proposals as proposals_table
from .layers.schema import supports as supports_table
from .layers.store import make_engine, utcnow
from .layers.vocabulary import PROPOSAL_STATUSES
from .webmap import db

PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
DALBY = (13.3514, 55.6652)
PASSWORD = "correct horse battery"
# Debian's Chromium as Playwright drives it here: no sandbox as root, and no background connections
# (the machine's network is closed; Chromium would retry them at every start).
CHROMIUM = os.environ.get("DIALOGKARTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Gunicorn:
    """gunicorn with ``workers`` gthread workers on a loopback socket opened here, its own SQLite file."""

    def __init__(self, folder: Path, workers: int = 3, threads: int = 4):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.database = folder / "served.sqlite"
        self.env = {
            **os.environ,
            "DIALOGKARTA_DATABASE_URL": f"sqlite:///{self.database}",
            "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance"),
            "DIALOGKARTA_SECRET_KEY": "concurrency-test",
            "DIALOGKARTA_RATELIMIT_ENABLED": "false",
            "DIALOGKARTA_HOLD_LINKS": "false",
        }
        self.workers, self.threads = workers, threads
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.socket.getsockname()[1]
        self.process: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        # As the README says: create the tables once, then start the workers (no create race).
        subprocess.run(
            [str(Path(PYTHON).with_name("dialogkarta")), "init-db"],
            env=self.env,
            cwd=self.folder,
            check=True,
            capture_output=True,
        )
        fd = self.socket.fileno()
        self.log = open(self.folder / "gunicorn.log", "w")  # noqa: SIM115 - open while the server runs; stop() closes it
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "--bind",
                f"fd://{fd}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                "gthread",
                "--graceful-timeout",
                "5",
                "--no-control-socket",
                "dialogkarta.webmap.app:create_app()",
            ],
            env=self.env,
            cwd=self.folder,
            pass_fds=(fd,),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches master and workers at once
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.port, "/api/layers")[0] == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "gunicorn.log").read_text()[-3000:])
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def kill(self) -> None:
        assert self.process is not None, "start() first"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.socket.close()
        self.log.close()


def request(method: str, port: int, path: str, body=None, headers=None, timeout=30) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else {}
        except ValueError:
            return response.status, {"raw": data[:200]}
    finally:
        connection.close()


def public_id_of(body: dict) -> str:
    """The public id in a 201 answer, whether a plain object or a GeoJSON Feature."""
    for candidate in (
        body.get("public_id"),
        body.get("id"),
        (body.get("properties") or {}).get("public_id"),
        (body.get("proposal") or {}).get("public_id"),
    ):
        if isinstance(candidate, str):
            return candidate
    raise AssertionError(f"no public id in {body}")


def proposal(i: int) -> dict:
    return {
        "lon": DALBY[0] + (i % 11) * 0.0004,
        "lat": DALBY[1] + (i % 5) * 0.0003,
        "category": "traffic",
        "title": f"Förslag {i}",
        "description": f"Samtidigt skrivet förslag nummer {i}",
    }


def make_user(app, username: str, role: str = "planner", password: str = PASSWORD):
    with app.app_context(), db.transaction() as conn:
        return accounts.create_user(conn, username, password, role)


def csrf_token(client, url: str = "/planner/login") -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {url} ({page.status_code})"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/planner/login", data={"username": username, "password": password, "csrf_token": token})


def store_facts(path: Path) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            ids = conn.execute(select(proposals_table.c.public_id)).scalars().all()
            supports = conn.execute(select(func.count()).select_from(supports_table)).scalar_one()
        return {"public_ids": ids, "supports": supports, "integrity": maintenance.integrity(engine)}
    finally:
        engine.dispose()


def bulk_proposals(conn, points, *, hidden_every: int = 0, first_id: int = 1) -> list[str]:
    """Insert one public proposal per (lon, lat) in bulk, without joins or history; return their public ids.

    For tests and benchmarks of what reads the proposals' positions (the maps): every
    ``hidden_every``-th one is hidden, statuses and categories rotate. The i-th is numbered
    ``first_id + i`` in its public id and title; the database assigns the row ids.
    """
    now = utcnow()
    statuses, categories = list(PROPOSAL_STATUSES), ["traffic", "parks_nature", "other"]
    rows = [
        {
            "public_id": f"bulk{first_id + i:011d}",
            "lon": float(lon),
            "lat": float(lat),
            "category": categories[i % len(categories)],
            "title": f"Förslag {first_id + i}",
            "description": "En beskrivning.",
            "channel": "web",
            "status": statuses[i % len(statuses)],
            "department": "kommunkontoret",
            "also_departments": "",
            "hidden": bool(hidden_every) and i % hidden_every == 0,
            "created_at": now,
            "updated_at": now,
        }
        for i, (lon, lat) in enumerate(points)
    ]
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(proposals_table), rows[start : start + 20_000])
    return [row["public_id"] for row in rows]


def random_points_in(boundary, n: int, seed: int = 1) -> list[tuple[float, float]]:
    """Return ``n`` random (lon, lat) points inside ``boundary`` (a WGS84 polygon)."""
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    min_x, min_y, max_x, max_y = boundary.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        xy = np.column_stack([rng.uniform(min_x, max_x, n), rng.uniform(min_y, max_y, n)])
        inside = shapely.covers(boundary, shapely.points(xy))
        points.extend(map(tuple, xy[inside].tolist()))
    return points[:n]


class Statements:
    """Counts the SQL statements an engine runs inside a ``with`` block (``seen`` holds their text)."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)


class UnversionedWrites:
    """Watches every engine for a transaction that changes what the lists and maps show without bumping the version.

    The public list (``layers.public_list``), the map caches (``layers.map_view``) and the data
    ETags and download caches (``store.data_fingerprint``) trust ``store.list_version``; that holds
    only if every write of the application's own code to the tables they read happens in a transaction that calls ``store.note_changes`` (or starts a new
    epoch). ``violations`` lists the offending statements; writes made by test or benchmark code
    itself (bulk seeding) are not the application's and are left alone.
    """

    WATCHED = ("proposals", "supports", "proposal_areas", "proposal_services", "status_history", "answers")
    _WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

    def __init__(self):
        root = Path(__file__).resolve().parents[1]
        self.application = tuple(str(root / folder) + os.sep for folder in ("layers", "webmap"))
        self.violations: list[str] = []

    def __enter__(self) -> "UnversionedWrites":
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._forget)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Engine, "commit", self._commit)
        event.remove(Engine, "rollback", self._forget)

    def _statement(self, conn, _cursor, statement, *_args) -> None:
        match = self._WRITE.match(statement)
        if not match:
            return
        table = match.group(1).lower()
        if table == "store_version":
            conn.info["dk_versioned"] = True
        elif table in self.WATCHED and self._from_application():
            conn.info.setdefault("dk_writes", []).append(" ".join(statement.split())[:120])

    def _from_application(self) -> bool:
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename.startswith(self.application):
                return True
            frame = frame.f_back
        return False

    def _commit(self, conn) -> None:
        if conn.info.get("dk_writes") and not conn.info.get("dk_versioned"):
            self.violations.extend(conn.info["dk_writes"])
        self._forget(conn)

    def _forget(self, conn) -> None:
        conn.info.pop("dk_writes", None)
        conn.info.pop("dk_versioned", None)


def lighthouse_layout_shift(lighthouse: str, url: str, headers: Path, report: Path, preset: str, timeout: int = 300) -> dict:
    """Run Lighthouse's layout-shift audit on ``url`` (headers from a JSON file, e.g. a staff cookie); return its report."""
    return run_lighthouse(
        lighthouse, url, report, preset, timeout, "--only-audits=cumulative-layout-shift", f"--extra-headers={headers}"
    )


def run_lighthouse(lighthouse: str, url: str, report: Path, preset: str, timeout: int, *options: str) -> dict:
    """Run the Lighthouse CLI with Debian's Chromium, headless, on ``url`` and return its JSON report."""
    command = [
        lighthouse,
        url,
        *options,
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        *(["--preset=desktop"] if preset == "desktop" else []),
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM, "HOME": str(report.parent)}
    subprocess.run(command, env=env, check=True, timeout=timeout, capture_output=True)
    return json.loads(report.read_text())


class Served:
    """``dialogkarta serve`` (waitress, as the README's quick start runs it) on a free loopback port, its own instance folder."""

    def __init__(self, folder: Path, **settings: str):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "DIALOGKARTA_INSTANCE_PATH": str(folder / "instance")}
        self.env.pop("DIALOGKARTA_DATABASE_URL", None)  # the embedded default: SQLite in the instance folder
        self.env.update({f"DIALOGKARTA_{name}": value for name, value in settings.items()})
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Served":
        self.log = open(self.folder / "serve.log", "w")  # noqa: SIM115 - open while the server runs; __exit__ closes it
        self.process = subprocess.Popen(
            [str(Path(PYTHON).with_name("dialogkarta")), "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.port, "/")[0] == 200:  # the first map page: folium has drawn it once
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "serve.log").read_text()[-3000:])
            time.sleep(0.2)
        raise RuntimeError("dialogkarta serve did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()


def stand_in_tile(size: int = 256, seed: int = 1) -> bytes:
    """A PNG map tile of about an OpenStreetMap tile's weight (15–20 KB): a few flat areas and noisy detail."""
    import random
    import struct
    import zlib

    rng = random.Random(seed)
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            shade = 226 if (x // 64 + y // 64) % 2 else 238
            if (x * 7 + y * 13) % 29 < 3:  # thin "streets" and "labels"
                shade = rng.randrange(90, 200)
            row += bytes((shade, shade - 4, shade - 12))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


class StandInTiles:
    """A tile server on loopback answering every ``/{z}/{x}/{y}.png`` with one stand-in tile (the machines here are offline)."""

    def __init__(self):
        import http.server
        import threading

        tile = stand_in_tile()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.send_header("Cache-Control", "public, max-age=86400")
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StandInTiles":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


LIGHTHOUSE_BUDGET_AUDITS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "speed-index")


def lighthouse_scores(lighthouse: str, url: str, report: Path, preset: str = "mobile", timeout: int = 300) -> dict:
    """Run Lighthouse (performance, accessibility, best practices) on ``url``; return the scores and timings.

    ``{"performance": 0.98, ..., "first-contentful-paint": 1612.0 (ms), ..., "failing": {audit id: score}}``,
    with its simulated throttling (the mobile preset is Lighthouse's default: a mid-range phone on a slow 4G).
    """
    result = run_lighthouse(
        lighthouse, url, report, preset, timeout, "--only-categories=performance,accessibility,best-practices"
    )
    scores = {name: category["score"] for name, category in result["categories"].items()}
    audits = result["audits"]
    scores.update({name: audits[name]["numericValue"] for name in LIGHTHOUSE_BUDGET_AUDITS})
    scores["failing"] = {
        ref["id"]: audits[ref["id"]]["score"]
        for category in result["categories"].values()
        for ref in category["auditRefs"]
        if ref["weight"] and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1
    }
    return scores


class RedisServer:
    """A throwaway ``redis-server`` on a free local port, nothing saved to disk: ``with RedisServer(folder) as url``."""

    def __init__(self, folder: Path, program: str = "redis-server"):
        self.folder, self.program = folder, program
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        import redis

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen([self.program, *options], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        client, deadline = redis.Redis.from_url(url), time.monotonic() + 15
        while True:
            try:
                client.ping()
                return url
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError(f"{self.program} did not start on port {port}") from None
                time.sleep(0.05)

    def __exit__(self, *_exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
