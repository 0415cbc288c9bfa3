"""The proposal store: round trip, personal data kept apart, supports counted once per browser."""

import pytest
from sqlalchemy import func, select, text

from dialogkarta.layers import store
from tests.conftest import on_sqlite_only
from dialogkarta.layers.schema import contacts, proposals

NEAR_KYRKA = {"lon": 13.3445, "lat": 55.6646}


def add(conn, **overrides):
    fields = {
        "lon": 13.3445,
        "lat": 55.6646,
        "category": "traffic",
        "title": "Övergångsställe",
        "description": "Vid kyrkan",
        "department": "tekniska",
    }
    fields.update(overrides)
    return store.insert_proposal(conn, **fields)


def test_a_proposal_round_trips_with_its_joins_and_history(engine):
    with engine.begin() as conn:
        ids = add(conn)
        store.save_joins(
            conn,
            ids["id"],
            ["kvarnskon"],
            [
                {"kind": "bus_stop", "service_id": "busstation", "service_name": "Dalby busstation", "distance_m": 82.74},
            ],
        )
    with engine.connect() as conn:
        record = store.get_proposal(conn, ids["public_id"])
    assert (record["title"], record["lon"], record["lat"], record["status"]) == ("Övergångsställe", 13.3445, 55.6646, "received")
    assert record["area_ids"] == ["kvarnskon"]
    assert record["nearest"]["bus_stop"] == {"id": "busstation", "name": "Dalby busstation", "distance_m": 82.7}
    assert [h["status"] for h in record["history"]] == ["received"]
    assert record["created_at"].tzinfo is not None


def test_public_ids_are_unguessable_and_unique(engine):
    with engine.begin() as conn:
        public_ids = {add(conn)["public_id"] for _ in range(50)}
    assert len(public_ids) == 50
    assert all(len(p) >= 16 for p in public_ids)


def test_the_public_view_never_contains_name_or_email(engine):
    with engine.begin() as conn:
        ids = add(conn, contact={"name": "Anna Andersson", "email": "anna@example.se", "consent_at": store.utcnow()})
    with engine.connect() as conn:
        record = store.get_proposal(conn, ids["public_id"])
        view = store.public_view(record)
        assert store.get_contact(conn, ids["id"])["email"] == "anna@example.se"
    flat = repr(view)
    assert "anna@example.se" not in flat and "Anna Andersson" not in flat
    assert "department" not in view and "id" not in view


def test_contacts_live_in_their_own_table(engine):
    with engine.begin() as conn:
        add(conn, contact={"name": "Bo", "email": "bo@example.se", "consent_at": store.utcnow()})
        assert conn.execute(select(func.count()).select_from(contacts)).scalar_one() == 1
    assert not {"name", "email"} & set(proposals.c.keys())


def test_a_browser_supports_a_proposal_once(engine):
    with engine.begin() as conn:
        public_id = add(conn)["public_id"]
        assert store.add_support(conn, public_id, "token-1") == (True, 1)
        assert store.add_support(conn, public_id, "token-1") == (False, 1)
        assert store.add_support(conn, public_id, "token-2") == (True, 2)
        assert store.add_support(conn, "no-such-id", "token-1") is None
        stored = conn.execute(text("SELECT token_hash FROM supports")).scalars().all()
    assert "token-1" not in stored and len(stored[0]) == 64


def test_filters_by_bbox_category_and_paging(engine):
    with engine.begin() as conn:
        add(conn, lon=13.34, lat=55.66, category="traffic")
        add(conn, lon=13.36, lat=55.67, category="school")
        add(conn, lon=13.35, lat=55.665, category="traffic", title="third")
    with engine.connect() as conn:
        assert len(store.list_proposals(conn, bbox=(13.345, 55.66, 13.37, 55.68))) == 2
        assert [r["category"] for r in store.list_proposals(conn, category="school")] == ["school"]
        assert [r["title"] for r in store.list_proposals(conn, limit=1, offset=2)] == ["third"]
        assert store.count_proposals(conn, category="traffic") == 2


def test_hidden_proposals_are_not_public(engine):
    with engine.begin() as conn:
        public_id = add(conn)["public_id"]
        conn.execute(proposals.update().values(hidden=True))
    with engine.connect() as conn:
        assert store.get_proposal(conn, public_id) is None
        assert store.get_proposal(conn, public_id, include_hidden=True) is not None
        assert store.list_proposals(conn) == []


@on_sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_contact_for_a_missing_proposal_is_refused_by_the_foreign_key(engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(contacts.insert().values(proposal_id=999, email="x@example.se", created_at=store.utcnow()))


def test_init_db_adds_the_columns_the_baseline_declares_to_a_store_older_than_the_migrations(engine):
    with engine.begin() as conn:
        add(conn, title="Från förra versionen")
        conn.exec_driver_sql("ALTER TABLE proposals DROP COLUMN updated_at")
        conn.exec_driver_sql("DROP TABLE alembic_version")  # made before the migrations: never stamped
    store.init_db(engine)
    with engine.connect() as conn:
        titles = conn.execute(select(proposals.c.title, proposals.c.updated_at)).all()
    assert [row.title for row in titles] == ["Från förra versionen"]
