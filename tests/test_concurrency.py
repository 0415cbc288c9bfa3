"""Concurrency and durability: many writers at once, and a writer killed mid-burst.

Two levels. The store itself, written by several OS processes through ``layers.proposals.submit``
(no HTTP), killed with SIGKILL. And the production setup the README describes: gunicorn with
several workers over one SQLite file, on a loopback socket opened here and passed to gunicorn
(no port race), with rate limiting off; 50 concurrent clients post 500 proposals and supports,
then a server is killed with SIGKILL in a write burst. Every proposal acknowledged with 201
must be in the store exactly once, and the store must pass ``PRAGMA integrity_check``.

Marked ``concurrency`` (deselect with ``-m "not concurrency"``); the module takes about 30 s on
two cores. Figures go to test-artifacts/concurrency.txt.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dialogkarta.layers.store import init_db, make_engine
from dialogkarta.testing import PYTHON, Gunicorn, proposal, public_id_of, request, store_facts

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[1]
SUPPORT_COOKIE = "dialogkarta_token"  # webmap.client.TOKEN_COOKIE

WRITER = r"""
import sys
from dialogkarta.layers import proposals
from dialogkarta.layers.locality import load_locality
from dialogkarta.layers.registry import LayerRegistry
from dialogkarta.layers.store import make_engine

engine = make_engine(sys.argv[1])
registry = LayerRegistry(load_locality())
label = sys.argv[2]
for i in range(int(sys.argv[3])):
    with engine.begin() as conn:
        record = proposals.submit(conn, registry, {
            "lon": 13.3514 + (i % 7) * 0.0005, "lat": 55.6652, "category": "traffic",
            "title": f"{label} {i}", "description": "skrivet under last"})
    # printed only after the commit: an acknowledged proposal
    print(record["public_id"], flush=True)
"""


ARTIFACT = ROOT / "test-artifacts" / "concurrency.txt"


def record_figure(line: str) -> None:
    """Append one line of figures to test-artifacts/concurrency.txt (for the issue's note)."""
    ARTIFACT.parent.mkdir(exist_ok=True)
    with ARTIFACT.open("a") as out:
        out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


# --------------------------------------------------------------------------- store level


def _spawn_writer(url: str, label: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-c", WRITER, url, label, str(count)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_writer_killed_mid_burst_loses_no_acknowledged_proposal(tmp_path):
    path = tmp_path / "store.sqlite"
    init_db(make_engine(f"sqlite:///{path}"))
    victim = _spawn_writer(f"sqlite:///{path}", "victim", 100_000)
    survivor = _spawn_writer(f"sqlite:///{path}", "survivor", 60)
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        line = victim.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    os.kill(victim.pid, signal.SIGKILL)  # mid-burst: the next transaction is in flight
    rest, _ = victim.communicate(timeout=30)
    acknowledged += rest.split()  # lines already flushed before the kill count as acknowledged
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err[-2000:]
    acknowledged += out.split()
    assert victim.returncode == -signal.SIGKILL
    facts = store_facts(path)
    assert facts["integrity"] == ["ok"]
    assert len(acknowledged) >= 100
    missing = set(acknowledged) - set(facts["public_ids"])
    record_figure(
        f"store writer SIGKILL: acknowledged={len(acknowledged)} stored={len(facts['public_ids'])} "
        f"lost={len(missing)} integrity={facts['integrity'][0]}"
    )
    assert not missing, f"{len(missing)} acknowledged proposals lost"
    assert len(facts["public_ids"]) == len(set(facts["public_ids"]))


# ------------------------------------------------------------------ HTTP under gunicorn


def _has_route(rule: str, method: str) -> bool:
    from dialogkarta.webmap.app import create_app
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"TESTING": True, "INSTANCE_PATH": folder, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{folder}/probe.sqlite"}
        )
        return any(r.rule == rule and method in r.methods for r in app.url_map.iter_rules())


needs_post_api = pytest.mark.skipif(
    not _has_route("/api/proposals", "POST"), reason="POST /api/proposals not there yet (issue 3)"
)


@pytest.fixture
def gunicorn(tmp_path):
    server = Gunicorn(tmp_path).start()
    yield server
    server.stop()


@needs_post_api
def test_500_proposals_from_50_clients_are_stored_once_and_supports_counted(gunicorn):
    def post(i):
        return request("POST", gunicorn.port, "/api/proposals", proposal(i))

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(500)))
    statuses = [status for status, _ in answers]
    record_figure(f"gunicorn 3x4: 500 POSTs by 50 clients: 201={statuses.count(201)} 5xx={sum(s >= 500 for s in statuses)}")
    assert statuses.count(201) == 500, {s: statuses.count(s) for s in set(statuses)}
    acknowledged = [public_id_of(body) for _, body in answers]
    assert len(set(acknowledged)) == 500
    facts = store_facts(gunicorn.database)
    assert sorted(facts["public_ids"]) == sorted(acknowledged)
    assert [body["properties"]["title"] for _, body in answers] == [f"Förslag {i}" for i in range(500)]

    # Supports: 50 clients each support 10 proposals, each twice at once; counted exactly once each.
    targets = acknowledged[:20]

    def support(args):
        client, target = args
        cookie = {"Cookie": f"{SUPPORT_COOKIE}=client-{client:03d}-token-abcdefghijklmnop"}
        return request("POST", gunicorn.port, f"/api/proposals/{target}/support", {}, cookie)[0]

    jobs = [(c, targets[(c + k) % 20]) for c in range(50) for k in range(10)] * 2
    with ThreadPoolExecutor(max_workers=50) as pool:
        support_statuses = list(pool.map(support, jobs))
    assert all(200 <= s < 300 for s in support_statuses), {s: support_statuses.count(s) for s in set(support_statuses)}
    facts = store_facts(gunicorn.database)
    record_figure(
        f"gunicorn 3x4: 1000 support POSTs (500 distinct) by 50 clients: stored={facts['supports']} "
        f"5xx={sum(s >= 500 for s in support_statuses)}"
    )
    assert facts["supports"] == 500
    expected = dict.fromkeys(targets, 0)
    for _client, t in jobs[:500]:
        expected[t] += 1
    for target, count in expected.items():
        status, body = request("GET", gunicorn.port, f"/api/proposals/{target}")
        assert status == 200
        props = body.get("properties", body)
        assert props["support_count"] == count
    assert facts["integrity"] == ["ok"]


@needs_post_api
def test_server_killed_mid_burst_loses_no_acknowledged_proposal(gunicorn):
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()
    errors = []

    def client(n):
        i = 0
        while not stop.is_set():
            try:
                status, body = request("POST", gunicorn.port, "/api/proposals", proposal(n * 1000 + i), timeout=10)
            except (OSError, http.client.HTTPException) as error:  # the server is gone: refused, reset, cut short
                errors.append(type(error).__name__)
                return
            if status == 201:
                with lock:
                    acknowledged.append(public_id_of(body))
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    gunicorn.kill()  # SIGKILL to master and every worker, while 20 clients are writing
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 100
    facts = store_facts(gunicorn.database)
    assert facts["integrity"] == ["ok"]
    lost = set(acknowledged) - set(facts["public_ids"])
    record_figure(
        f"gunicorn SIGKILL mid-burst (20 clients): acknowledged={len(acknowledged)} "
        f"stored={len(facts['public_ids'])} lost={len(lost)} integrity={facts['integrity'][0]}"
    )
    assert not lost, f"{len(lost)} acknowledged proposals lost"
    assert len(facts["public_ids"]) == len(set(facts["public_ids"]))
    # a restarted server reads the same store
    server = Gunicorn(gunicorn.folder / "again", workers=1, threads=2)
    server.database = gunicorn.database
    server.env["DIALOGKARTA_DATABASE_URL"] = f"sqlite:///{gunicorn.database}"
    server.start()
    try:
        status, _ = request("GET", server.port, f"/api/proposals/{acknowledged[-1]}")
        assert status == 200
    finally:
        server.stop()
