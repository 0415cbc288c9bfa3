"""The data ETags' fingerprint is the store's version: one read, and it moves with a write from any app on the same store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogkarta.layers import store, workflow
from dialogkarta.layers.schema import proposals
from dialogkarta.testing import Statements
from dialogkarta.webmap import conditional, db
from dialogkarta.webmap.app import create_app
from tests.routes import PROPOSAL

URLS = [
    "/ogc/collections/proposals/items",
    "/ogc/collections/proposals/items/{id}",
    "/api/export/proposals.geojson",
    "/api/proposals",
]


@pytest.fixture
def other(app, tmp_path):
    """A second app server on the same store, as behind a load balancer: its own process state, one database."""
    return create_app({**app.config, "INSTANCE_PATH": str(tmp_path / "other-instance")})


def test_the_fingerprint_is_one_primary_key_read(app):
    with app.app_context(), db.reading() as conn, Statements(conn.engine) as sql:
        store.data_fingerprint(conn)
    assert len(sql.seen) == 1 and "store_version" in sql.seen[0]


def test_a_data_version_asks_the_store_twice_whatever_its_size(app):
    app.test_client().post("/api/proposals", json=PROPOSAL)
    with app.test_request_context(), Statements(db.engine()) as sql:
        conditional.data_version()
    assert len(sql.seen) == 2  # the store's version and the imported layers' versions


@pytest.mark.parametrize("url", URLS)
def test_a_proposal_posted_through_another_app_changes_the_etag(app, other, url):
    client = app.test_client()
    url = url.format(id=other.test_client().post("/api/proposals", json=PROPOSAL).get_json()["id"])
    before = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": before}).status_code == 304
    other.test_client().post("/api/proposals", json={**PROPOSAL, "title": "Ännu en bänk"})
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_a_status_and_an_answer_given_through_another_app_change_the_etag(app, other):
    client = app.test_client()
    client.post("/api/proposals", json=PROPOSAL)
    url = "/ogc/collections/proposals/items"
    seen = [client.get(url).headers["ETag"]]
    with other.app_context(), db.transaction() as conn:
        proposal_id = conn.execute(select(proposals.c.id)).scalar_one()
        workflow.change_status(conn, proposal_id, "forwarded", role="planner")
    seen.append(client.get(url).headers["ETag"])
    with other.app_context(), db.transaction() as conn:
        workflow.answer(conn, proposal_id, "Vi ser över korsningen i vår.", role="planner")
    seen.append(client.get(url).headers["ETag"])
    assert len(set(seen)) == 3
    assert client.get(url, headers={"If-None-Match": seen[-1]}).status_code == 304
