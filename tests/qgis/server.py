"""The app over real HTTP (``tests.live.LiveProcess``) with a log of every request it receives.

Each request becomes one JSON line: method, path, query string and the Authorization scheme (never
the credentials), so a test can see what a client such as QGIS really sends. ``python -m
tests.qgis.server CONFIG LOG`` is the child's entry point.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.live import LiveProcess


class LoggedLiveProcess(LiveProcess):
    """``with LoggedLiveProcess(config, log) as server:``; ``server.requests()`` reads the log so far."""

    def __init__(self, config: dict, log: Path):
        super().__init__(config)
        self.log = Path(log)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.qgis.server", json.dumps(self.config), str(self.log)]

    def requests(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]


def _logging(app, log: Path):
    def middleware(environ, start_response):
        scheme = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[0] or None
        entry = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "auth": scheme,
            "accept": environ.get("HTTP_ACCEPT", ""),
            "agent": environ.get("HTTP_USER_AGENT", ""),
        }
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
        return app(environ, start_response)

    return middleware


def _serve(config: dict, log: Path) -> None:
    import logging

    from werkzeug.serving import make_server

    from dialogkarta.webmap.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(config)
    app.wsgi_app = _logging(app.wsgi_app, log)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]), Path(sys.argv[2]))
