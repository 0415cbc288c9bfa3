"""The app served over real HTTP on a loopback port chosen by the OS, in a child process.

GDAL (through pyogrio) holds the GIL while it fetches, so a server thread in the test process
would never answer it: ``LiveProcess`` runs ``create_app(config)`` in its own interpreter. The
test process seeds the same database file through its own app. ``python -m tests.live CONFIG``
is the child's entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from datetime import UTC

ROOT = Path(__file__).resolve().parents[1]


class LiveProcess:
    """``with LiveProcess(config) as server: server.url`` serves ``create_app(config)`` until the block ends."""

    def __init__(self, config: dict):
        self.config = config
        self.process = None
        self.url = None

    def command(self) -> list[str]:
        """The child process that serves the app and prints its port."""
        return [sys.executable, "-m", "tests.live", json.dumps(self.config)]

    def __enter__(self):
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise RuntimeError(f"live server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line)}"
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def _serve(config: dict) -> None:
    import logging

    from werkzeug.serving import make_server

    from dialogkarta.webmap.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the test output
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))


# ------------------------------------------------------------- a seeded store
PLANTED_NAME = "Zlatan Plantersson"
PLANTED_EMAIL = "planted.resident@example.se"
HIDDEN_TITLE = "HEMLIGT-DOLT-FORSLAG"
SUPPORT_TOKEN = "support-token-planted-0123456789"
PASSWORD = "a-long-test-password-123"


def seed(app, count: int = 5) -> dict:
    """Add ``count`` public proposals (the first with a consenting resident's contact details, a
    confirmation of its department and a public answer), one hidden proposal, a support, and staff accounts; return what tests need.
    """
    from datetime import datetime, timedelta

    from sqlalchemy import insert, update

    from dialogkarta.layers import accounts, proposals, schema, store
    from dialogkarta.webmap import db

    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    out = {"public": [], "hidden": None, "tokens": {}}
    with app.app_context(), db.transaction() as conn:
        registry = db.registry()
        for i in range(count):
            data = {
                "lon": 13.3450 + 0.0012 * i,
                "lat": 55.6640 + 0.0004 * i,
                "category": "traffic",
                "title": f"Förslag {i} åäö",
                "description": f"Beskrivning {i}",
            }
            if i == 0:
                data.update(name=PLANTED_NAME, email=PLANTED_EMAIL, consent=True)
            record = proposals.submit(conn, registry, data, now=start + timedelta(days=i))
            out["public"].append(record)
        first = out["public"][0]
        first_id = conn.execute(schema.proposals.select().where(schema.proposals.c.public_id == first["public_id"])).first().id
        conn.execute(
            insert(schema.forwardings).values(
                proposal_id=first_id,
                to_department=first["department"],
                action="confirm",
                role="planner",
                forwarded_at=start + timedelta(days=5),
            )
        )
        if "answers" in schema.metadata.tables:
            conn.execute(
                insert(schema.metadata.tables["answers"]).values(
                    proposal_id=first_id,
                    body="Vi tittar på det / We are looking into it",
                    role="planner",
                    answered_at=start + timedelta(days=10),
                )
            )
        store.add_support(conn, first["public_id"], SUPPORT_TOKEN)
        hidden = proposals.submit(
            conn,
            registry,
            {
                "lon": 13.3500,
                "lat": 55.6655,
                "category": "other",
                "title": HIDDEN_TITLE,
                "description": "dold",
                "name": "Dold Person",
                "email": "dold.person@example.se",
                "consent": True,
            },
            now=start + timedelta(days=20),
        )
        conn.execute(
            update(schema.proposals)
            .where(schema.proposals.c.public_id == hidden["public_id"])
            .values(hidden=True, hidden_reason="personangrepp")
        )
        out["hidden"] = hidden
        for role in ("planner", "admin"):
            accounts.create_user(conn, f"test-{role}", PASSWORD, role=role)
            out["tokens"][role] = accounts.create_token(conn, f"test-{role}", f"test-{role}-token").token
    return out


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
