"""Serving at scale: pages cost a constant number of queries, writes are cheap, the list follows every write."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogkarta.layers import proposals, public_list, store, workflow
from dialogkarta.layers.schema import proposals as proposals_table
from dialogkarta.testing import Statements
from dialogkarta.webmap import api, db

BOX = "13.30,55.60,13.40,55.70"  # holds every seeded proposal


def _add(app, count: int, start: int = 0) -> None:
    with app.app_context(), db.transaction() as conn:
        registry = db.registry()
        for i in range(start, start + count):
            data = {
                "lon": 13.3400 + 0.00002 * (i % 500),
                "lat": 55.6600 + 0.00002 * (i // 500),
                "category": "traffic" if i % 2 else "parks_nature",
                "title": f"Förslag {i}",
                "description": "Beskrivning",
            }
            proposals.submit(conn, registry, data)


@pytest.fixture
def many(app):
    _add(app, 505)
    return app


def _statements(app, client, url: str, headers=None) -> tuple[int, dict]:
    with app.app_context():
        engine = db.engine()
    with Statements(engine) as sql:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return len(sql.seen), response.get_json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/proposals?limit={n}",
        "/api/proposals?bbox=" + BOX + "&limit={n}",
        "/api/proposals?category=traffic&limit={n}",
        "/ogc/collections/proposals/items?limit={n}",
        "/ogc/collections/proposals/items?bbox=" + BOX + "&limit={n}",
        "/ogc/collections/proposals/items?bbox=6163000,393000,6173000,399000&bbox-crs=EPSG:3006&limit={n}",
    ],
)
def test_a_page_of_500_with_joins_costs_the_same_queries_as_a_page_of_5(many, url):
    client = many.test_client()
    client.get("/api/proposals")  # each process reads its list once; afterwards a page asks only for the version
    few, small = _statements(many, client, url.format(n=5))
    lots, large = _statements(many, client, url.format(n=500))
    assert len(small["features"]) == 5 and len(large["features"]) >= 250
    assert all(f["properties"]["area_ids"] is not None for f in large["features"])
    assert few == lots


def test_a_page_of_the_list_asks_the_store_only_for_its_version(many):
    client = many.test_client()
    client.get("/api/proposals")
    count, body = _statements(many, client, "/api/proposals?limit=500&bbox=" + BOX)
    assert count == 1 and body["numberReturned"] == 500


def test_the_list_is_paged_with_next_links_that_walk_every_proposal_once(many):
    client = many.test_client()
    first = client.get("/api/proposals").get_json()
    assert first["numberMatched"] == 505 and first["numberReturned"] == 505  # under the default limit
    seen, url, pages = [], "/api/proposals?limit=200", 0
    while url:
        page = client.get(url).get_json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
        if pages == 2:
            _add(many, 3, start=1000)  # written while a client walks the pages: the walk still ends with it
    assert pages == 3 and len(seen) == len(set(seen)) == 508


def test_the_default_page_is_bounded(many, monkeypatch):
    monkeypatch.setattr(api, "LIST_LIMIT_DEFAULT", 100)
    body = many.test_client().get("/api/proposals").get_json()
    assert body["numberMatched"] == 505 and body["numberReturned"] == 100
    assert [link["rel"] for link in body["links"]] == ["self", "next"]


def test_a_write_is_applied_by_reading_only_the_proposal_it_changed(many):
    client = many.test_client()
    before = client.get("/api/proposals").get_json()
    created = client.post(
        "/api/proposals", json={"lon": 13.36, "lat": 55.66, "category": "traffic", "title": "Ny", "description": "Ny"}
    )
    assert created.status_code == 201
    with many.app_context():
        engine = db.engine()
    with Statements(engine) as sql:
        after = client.get("/api/proposals").get_json()
    assert after["numberMatched"] == before["numberMatched"] + 1
    assert after["features"][-1]["id"] == created.get_json()["id"]
    reads = [s for s in sql.seen if "proposals.description" in s]
    assert len(reads) == 1 and "IN (" in reads[0]  # the one changed proposal, not the whole list


def _fresh_features(app) -> tuple:
    with app.app_context(), db.reading() as conn:
        rebuilt = public_list.PublicList(api.list_properties, app.config["PUBLIC_GRID_M"]).current(conn)
    return rebuilt.features


def test_the_list_kept_by_deltas_equals_the_list_built_from_scratch(many):
    client = many.test_client()
    client.get("/api/proposals")
    with many.app_context(), db.transaction() as conn:
        ids = list(conn.execute(select(proposals_table.c.id).order_by(proposals_table.c.id).limit(4)).scalars())
        workflow.hide(conn, ids[0], "Personuppgifter", role="moderator")
        workflow.change_status(conn, ids[1], "forwarded", role="planner")
        public_id = conn.execute(select(proposals_table.c.public_id).where(proposals_table.c.id == ids[2])).scalar_one()
        store.add_support(conn, public_id, "token-a")
    _add(many, 2, start=2000)
    with many.app_context(), db.transaction() as conn:
        workflow.restore(conn, ids[0], role="moderator")
        workflow.hide(conn, ids[3], "Reklam", role="moderator")
    kept = many.test_client().get("/api/proposals")  # same app, same in-memory list, brought up to date
    assert kept.get_json()["numberMatched"] == 506
    with many.app_context(), db.reading() as conn:
        assert many.extensions["dialogkarta.public_list"].current(conn).features == _fresh_features(many)


def test_a_post_stores_a_proposal_in_few_statements(app):
    client = app.test_client()
    client.post("/api/proposals", json={"lon": 13.36, "lat": 55.66, "category": "traffic", "title": "A", "description": "A"})
    with app.app_context():
        engine = db.engine()
    with Statements(engine) as sql:
        response = client.post(
            "/api/proposals", json={"lon": 13.36, "lat": 55.66, "category": "traffic", "title": "B", "description": "B"}
        )
    assert response.status_code == 201
    first_lines = [s.split("\n")[0] for s in sql.seen]
    writes = [s for s in first_lines if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    # the layers held; the proposal, its first status, the version bumped and the change noted; its joins in
    # two multi-row inserts. Nothing deleted, nothing read back: the answer is built from what was written.
    assert len(writes) <= 7 and not [s for s in writes if s.startswith("DELETE")], first_lines
    reads = [s for s in sql.seen if s.startswith("SELECT") and "layer_versions" not in s and "pg_advisory" not in s]
    assert reads == [], first_lines  # only the layers' versions (and, on PostgreSQL, the shared hold on them)
    versions = [s for s in sql.seen if s.startswith("SELECT") and "layer_versions" in s]
    assert len(versions) == 1, first_lines  # once, in the transaction: the joins before it used the cached layers
    body = response.get_json()["properties"]
    with app.app_context(), db.reading() as conn:
        stored = store.get_proposal(conn, body["public_id"])
    assert stored is not None and body["area_ids"] == stored["area_ids"]
    assert {kind: near["distance_m"] for kind, near in stored["nearest"].items()} == {
        kind: near["distance_m"] for kind, near in body["nearest"].items()
    }


def test_a_write_to_a_listed_table_without_a_new_version_is_caught(app, every_list_write_is_versioned):
    """The suite-wide guard behind ``map_view.store_version``: it does notice a forgotten ``note_changes``."""
    _add(app, 1)
    assert every_list_write_is_versioned.violations == []
    with app.app_context(), db.transaction() as conn:
        store.save_joins(conn, 1, [], [], note=False)  # the application's own code, the version left alone
    assert [s.split()[0] for s in every_list_write_is_versioned.violations] == ["DELETE", "DELETE"]
    every_list_write_is_versioned.violations.clear()
    with app.app_context(), db.transaction() as conn:
        store.save_joins(conn, 1, [], [])
    assert every_list_write_is_versioned.violations == []


# ------------------------------------------------------------- two worker processes, one store
@pytest.mark.concurrency
def test_every_worker_lists_a_proposal_once_its_write_is_acknowledged(tmp_path):
    """Interleaved writes and reads across two worker processes: no missing proposal, no stale count, in list and map."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from dialogkarta.testing import Gunicorn, proposal, public_id_of, request

    server = Gunicorn(tmp_path, workers=2, threads=4).start()
    acknowledged: dict[str, int] = {}  # public id -> supports acknowledged
    lock = threading.Lock()
    problems: list[str] = []

    def listed() -> dict[str, int]:
        supports, url = {}, "/api/proposals?limit=10000"
        while url:
            status, body = request("GET", server.port, url)
            assert status == 200, body
            supports |= {feature["id"]: feature["properties"]["support_count"] for feature in body["features"]}
            url = next((link["href"].split(f":{server.port}", 1)[1] for link in body["links"] if link["rel"] == "next"), None)
        return supports

    def mapped() -> set[str]:
        status, body = request("GET", server.port, "/api/proposals/map?bbox=13.2,55.5,13.5,55.8&zoom=14")
        assert status == 200 and body["complete"], body
        return {feature["properties"]["public_id"] for feature in body["features"]}

    def client(n: int) -> None:
        for i in range(15):
            status, body = request("POST", server.port, "/api/proposals", proposal(n * 100 + i))
            assert status == 201, body
            public_id = public_id_of(body)
            with lock:
                acknowledged[public_id] = 0
            if i % 3 == 0:  # a support changes a listed proposal in place
                status, body = request("POST", server.port, f"/api/proposals/{public_id}/support", {})
                assert status in (200, 201), body
                with lock:
                    acknowledged[public_id] = 1
            for _ in range(2):  # two reads: with two workers busy, they are not always the same one
                with lock:
                    expected = dict(acknowledged)
                seen = listed()
                missing = set(expected) - set(seen)
                stale = [p for p, count in expected.items() if p in seen and seen[p] < count]
                if missing or stale:
                    problems.append(f"{len(missing)} acknowledged proposals missing from a list, {len(stale)} stale")
                if set(expected) - mapped():
                    problems.append("acknowledged proposals missing from the map")

    try:
        listed()  # both workers may have their list already; the writes come as deltas
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(client, range(6)))
        assert problems == []
        assert listed() == acknowledged and len(acknowledged) == 90
    finally:
        server.stop()
