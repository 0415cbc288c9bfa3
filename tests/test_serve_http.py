"""HTTP caching and compression through the servers the README runs: `dialogkarta serve` (waitress) and gunicorn."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError

import brotli
import pytest

from dialogkarta.testing import Gunicorn
from tests.test_serve import free_port


@contextmanager
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "DIALOGKARTA_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("DIALOGKARTA_DATABASE_URL", None)
    script = Path(sys.executable).with_name("dialogkarta")
    server = subprocess.Popen([str(script), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not answer"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def fetch(url: str, **headers):
    """Return (status, headers, raw body) without letting urllib decode or follow anything."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def test_waitress_sends_compressed_fingerprinted_assets_and_304s(tmp_path):
    with served(tmp_path) as base:
        status, headers, page = fetch(f"{base}/", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        html = gzip.decompress(page).decode()
        script = re.search(r'src="(/static/[0-9a-f]{16}/map\.js)"', html).group(1)
        status, headers, body = fetch(base + script, **{"Accept-Encoding": "br"})
        assert status == 200 and headers["Content-Encoding"] == "br" and "Accept-Encoding" in headers["Vary"]
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert b"import" in brotli.decompress(body)

        layer = f"{base}/ogc/collections/development-areas/items"
        status, headers, body = fetch(layer, **{"Accept-Encoding": "br"})
        assert status == 200 and headers["Content-Encoding"] == "br" and headers["ETag"].startswith('W/"')
        status, again, body = fetch(layer, **{"Accept-Encoding": "br", "If-None-Match": headers["ETag"]})
        assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]

        status, headers, _body = fetch(f"{base}/api/export/development-areas.geojson", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        status, _headers, body = fetch(
            f"{base}/api/export/development-areas.geojson", **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]}
        )
        assert status == 304 and body == b""


@pytest.mark.concurrency
def test_gunicorn_workers_agree_on_etags_and_compress(tmp_path):
    """Each request may reach another worker: the ETag comes from the data, so every worker answers 304."""
    server = Gunicorn(tmp_path, workers=2, threads=2).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        layer = f"{base}/api/layers/development-areas"
        status, headers, body = fetch(layer, **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b"{")
        for _ in range(6):
            status, _headers, body = fetch(layer, **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
            assert status == 304 and body == b""
    finally:
        server.stop()
