"""The quick start's promise: `dialogkarta serve` answers on its port with the bundled data."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_the_app_on_the_embedded_default(tmp_path):
    port = free_port()
    script = Path(sys.executable).with_name("dialogkarta")
    env = {**os.environ, "DIALOGKARTA_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("DIALOGKARTA_DATABASE_URL", None)
    server = subprocess.Popen(
        [str(script), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.2)
        assert response.status == 200 and "Dalby" in body
        assert (tmp_path / "instance" / "dialogkarta.sqlite").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
