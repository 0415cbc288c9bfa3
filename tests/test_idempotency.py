"""POST /api/proposals with an Idempotency-Key: a retry answers the same proposal and stores no second one."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import idempotency
from dialogkarta.layers.schema import idempotency_keys, proposals
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

from .conftest import fresh_database_url

PROPOSAL = {"lon": 13.3514, "lat": 55.6652, "category": "traffic", "title": "Övergångsställe", "description": "Vid skolan."}


def count(app, table=proposals) -> int:
    with app.app_context(), db.reading() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def post(client, body, key=None, **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/proposals", json=body, headers=headers)


def test_the_same_key_twice_stores_one_proposal_and_answers_it_again_with_200(app, client):
    key = str(uuid.uuid4())
    first = post(client, PROPOSAL, key)
    again = post(client, PROPOSAL, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["properties"]["summary"] == first.get_json()["properties"]["summary"]
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app) == 1


def test_the_same_body_with_another_key_is_another_proposal(app, client):
    assert post(client, PROPOSAL, str(uuid.uuid4())).status_code == 201
    assert post(client, PROPOSAL, str(uuid.uuid4())).status_code == 201
    assert count(app) == 2


def test_without_a_key_every_post_is_a_new_proposal(app, client):
    assert post(client, PROPOSAL).status_code == 201
    assert post(client, PROPOSAL).status_code == 201
    assert count(app) == 2


def test_the_same_key_with_a_different_body_is_refused_with_a_clear_message(app, client):
    key = str(uuid.uuid4())
    assert post(client, PROPOSAL, key).status_code == 201
    refused = post(client, {**PROPOSAL, "title": "Något annat"}, key, **{"Accept-Language": "en"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "already used for a different proposal" in error["message"]
    assert count(app) == 1


def test_key_order_and_spacing_of_the_body_do_not_make_another_body(app, client):
    key = str(uuid.uuid4())
    assert post(client, PROPOSAL, key).status_code == 201
    reordered = client.post(
        "/api/proposals",
        data='{"description": "Vid skolan.", "title": "Övergångsställe", "category": "traffic", "lat": 55.6652, "lon": 13.3514}',
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    assert reordered.status_code == 200
    assert count(app) == 1


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        "x" * 65,
        "has spaces in the key 12345",
        "ÅÄÖ-not-ascii-0123456789",
        "semi;colon;0123456789abc",
        '"unbalanced-0123456789abc',
        "0123456789abcdef\x7f",
    ],
    ids=["empty", "too-short", "too-long", "spaces", "non-ascii", "punctuation", "unbalanced-quote", "control"],
)
def test_a_malformed_key_is_400_and_stores_nothing(app, client, key):
    response = client.post(
        "/api/proposals",
        json=PROPOSAL,
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1"), "Accept-Language": "en"},
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "Idempotency-Key"
    assert "16–64" in error["message"]
    assert count(app) == 0


@pytest.mark.parametrize("key", ["0123456789abcdef", "A" * 64, '"8e03978e-40d5-43e8-bc93-6894a57f9324"', "a_b-c" * 4])
def test_well_formed_keys_are_taken_bare_or_quoted(app, client, key):
    assert post(client, PROPOSAL, key).status_code == 201
    assert post(client, PROPOSAL, key).status_code == 200
    assert count(app) == 1


def test_only_the_keys_hash_is_stored_tied_to_its_proposal(app, client):
    key = str(uuid.uuid4())
    public_id = post(client, PROPOSAL, key).get_json()["id"]
    with app.app_context(), db.reading() as conn:
        row = conn.execute(
            select(idempotency_keys.c.key_hash, proposals.c.public_id).join(
                proposals, proposals.c.id == idempotency_keys.c.proposal_id
            )
        ).one()
    assert row.public_id == public_id
    assert row.key_hash == idempotency.hash_key(key) and key not in row.key_hash


def test_a_held_proposal_is_answered_again_as_held(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": fresh_database_url(tmp_path, "held.sqlite"),
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            "HOLD_LINKS": True,
        }
    )
    client, key = app.test_client(), str(uuid.uuid4())
    body = {**PROPOSAL, "description": "Se https://example.org"}
    first, again = post(client, body, key), post(client, body, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["properties"]["public"] is False
    assert again.get_json()["properties"]["public"] is False
    assert count(app) == 1


def test_a_filled_honeypot_stores_neither_a_proposal_nor_its_key(app, client):
    key = str(uuid.uuid4())
    assert post(client, {**PROPOSAL, "website": "http://spam.example"}, key).status_code == 201
    assert count(app) == 0 and count(app, idempotency_keys) == 0


def test_a_refused_body_stores_no_key_and_the_corrected_body_may_use_it(app, client):
    key = str(uuid.uuid4())
    assert post(client, {**PROPOSAL, "title": ""}, key).status_code == 422
    assert count(app, idempotency_keys) == 0
    assert post(client, PROPOSAL, key).status_code == 201


def test_deleting_a_proposal_deletes_its_key(app, client):
    post(client, PROPOSAL, str(uuid.uuid4()))
    with app.app_context(), db.transaction() as conn:
        conn.execute(proposals.delete())
    assert count(app, idempotency_keys) == 0


def test_a_key_taken_by_another_transaction_is_reported(app, client):
    public_id = post(client, PROPOSAL).get_json()["id"]
    with app.app_context(), db.transaction() as conn:
        proposal_id = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id)).scalar_one()
        idempotency.remember(conn, "k" * 64, "r" * 64, proposal_id)
    with app.app_context(), pytest.raises(idempotency.KeyTaken), db.transaction() as conn:
        idempotency.remember(conn, "k" * 64, "r" * 64, proposal_id)


def test_concurrent_workers_sending_one_key_store_one_proposal(tmp_path):
    """Four apps with their own engines (as four worker processes have) post the same key at once."""
    url = fresh_database_url(tmp_path, "race.sqlite")
    apps = [
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / f"instance{i}"),
                "DATABASE_URL": url,
                "SECRET_KEY": "test-secret",
                "RATELIMIT_ENABLED": False,
            }
        )
        for i in range(4)
    ]
    for app in apps:  # the layers' indexes are built before the race, not inside it
        assert app.test_client().get("/api/proposals/nearby?lon=13.3514&lat=55.6652").status_code == 200
    key, start, answers = str(uuid.uuid4()), threading.Barrier(len(apps)), []

    def send(app):
        start.wait()
        response = post(app.test_client(), PROPOSAL, key)
        answers.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=send, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({public_id for _, public_id in answers}) == 1
    assert count(apps[0]) == 1
    assert count(apps[0], idempotency_keys) == 1


@pytest.mark.concurrency
def test_gunicorn_workers_answer_twenty_senders_of_one_key_with_one_proposal(tmp_path):
    """Three worker processes, twenty clients sending the same key at once (PostgreSQL too, with its URL)."""
    from concurrent.futures import ThreadPoolExecutor

    from dialogkarta.testing import Gunicorn, request

    server = Gunicorn(tmp_path)
    server.env["DIALOGKARTA_DATABASE_URL"] = fresh_database_url(tmp_path, "served.sqlite")
    server.start()
    key = str(uuid.uuid4())
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(
                pool.map(lambda _: request("POST", server.port, "/api/proposals", PROPOSAL, {"Idempotency-Key": key}), range(20))
            )
        listed = request("GET", server.port, "/api/proposals")[1]
    finally:
        server.stop()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201]
    assert len({body["id"] for _, body in answers}) == 1
    assert listed["numberMatched"] == 1
