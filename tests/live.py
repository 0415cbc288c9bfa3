"""A Flask app served on a loopback port chosen by the OS, for clients that need real HTTP (GDAL)."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LiveServer:
    """``with LiveServer(app) as server: server.url`` serves ``app`` in a thread until the block ends."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
