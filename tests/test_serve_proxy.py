"""`dialogkarta serve` (waitress, the README's server) behind a proxy: PROXY_COUNT tells residents apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.test_serve import free_port

PROPOSAL = {
    "lon": 13.3625,
    "lat": 55.6596,
    "category": "traffic",
    "title": "Övergångsställe",
    "description": "Ett övergångsställe vid den nya busshållplatsen.",
}


class Served:
    """`dialogkarta serve` in a child process with the given DIALOGKARTA_* settings."""

    def __init__(self, tmp_path: Path, **settings):
        self.port = free_port()
        env = {
            **os.environ,
            "DIALOGKARTA_INSTANCE_PATH": str(tmp_path / "instance"),
            **{f"DIALOGKARTA_{key}": value for key, value in settings.items()},
        }
        env.pop("DIALOGKARTA_DATABASE_URL", None)
        script = Path(sys.executable).with_name("dialogkarta")
        self.process = subprocess.Popen(
            [str(script), "serve", "--port", str(self.port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/layers", timeout=2).close()
                return
            except OSError:
                assert self.process.poll() is None, self.process.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.2)

    def propose(self, forwarded_for: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/proposals",
            data=json.dumps(PROPOSAL).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(**settings):
        started.append(Served(tmp_path, RATELIMIT_PROPOSALS="2/minute", **settings))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_behind_one_proxy_each_resident_has_their_own_limit(serve):
    server = serve(PROXY_COUNT="1")
    assert [server.propose("203.0.113.7")[0] for _ in range(2)] == [201, 201]
    status, headers = server.propose("203.0.113.7")
    assert status == 429 and int(headers["Retry-After"]) > 0
    # Another resident behind the same proxy (the proxy appends the address it saw, as nginx does).
    assert server.propose("198.51.100.2")[0] == 201
    assert server.propose("10.9.9.9, 198.51.100.3")[0] == 201  # a client-written first entry is not trusted
    assert server.propose("10.9.9.9, 203.0.113.7")[0] == 429


def test_without_a_proxy_a_forged_forwarded_for_buys_no_fresh_limit(serve):
    server = serve(PROXY_COUNT="0")
    assert [server.propose("203.0.113.7")[0] for _ in range(2)] == [201, 201]
    assert server.propose("198.51.100.2")[0] == 429
    assert server.propose("192.0.2.99")[0] == 429
