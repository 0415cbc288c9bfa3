"""PostGIS on PostgreSQL: proposals carry a geometry(Point, 4326) kept in step with lon/lat, with a
GiST index that answers the store's boxes, and backups carry them (the PostgreSQL pass of .ci/run).

Skipped on SQLite. On PostgreSQL without the PostGIS extension they skip too, unless
DIALOGKARTA_REQUIRE_POSTGIS=1 (as in CI): then they fail.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update

from dialogkarta.layers import maintenance, postgis, proposals, store
from dialogkarta.layers.schema import proposals as proposals_table
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs DIALOGKARTA_TEST_DATABASE_URL pointing at PostgreSQL with PostGIS (the PostgreSQL pass of .ci/run)",
)

SUBMISSION = {"lon": 13.3514, "lat": 55.6652, "title": "Övergångsställe", "description": "Vid skolan."}


@pytest.fixture
def pg(engine):
    """The test store, on PostgreSQL with PostGIS."""
    with engine.connect() as conn:
        if not postgis.installed(conn):
            message = "PostGIS is not installed in the test database (as a superuser: CREATE EXTENSION postgis)"
            if os.environ.get("DIALOGKARTA_REQUIRE_POSTGIS") == "1":
                pytest.fail(message)
            pytest.skip(message)
    return engine


def _submit(engine, registry, **extra):
    with engine.begin() as conn:
        record = proposals.submit(conn, registry, {**SUBMISSION, "category": registry.locality.categories[0].id, **extra})
    return record["public_id"]


def _position(engine, public_id):
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom), GeometryType(geom), lon, lat FROM proposals WHERE public_id = %(id)s",
            {"id": public_id},
        ).one()


def test_proposals_have_a_wgs84_point_geometry_with_a_gist_index(pg):
    with pg.connect() as conn:
        kind = conn.exec_driver_sql(
            "SELECT format_type(atttypid, atttypmod), attgenerated FROM pg_attribute "
            "WHERE attrelid = 'proposals'::regclass AND attname = 'geom'"
        ).one()
        method, definition = conn.exec_driver_sql(
            "SELECT am.amname, pg_get_indexdef(i.oid) FROM pg_class i JOIN pg_am am ON am.oid = i.relam "
            "WHERE i.relname = 'ix_proposals_geom'"
        ).one()
    assert tuple(kind) == ("geometry(Point,4326)", "s")  # stored, generated from lon/lat by the database
    assert method == "gist" and "(geom)" in definition


def test_the_geometry_equals_lon_lat_after_insert_after_a_move_and_after_an_edit(pg, registry):
    public_id = _submit(pg, registry)
    assert tuple(_position(pg, public_id)) == (13.3514, 55.6652, 4326, "POINT", 13.3514, 55.6652)
    with pg.begin() as conn:
        conn.execute(update(proposals_table).where(proposals_table.c.public_id == public_id).values(lon=13.3601, lat=55.6671))
    assert tuple(_position(pg, public_id))[:4] == (13.3601, 55.6671, 4326, "POINT")
    with pg.begin() as conn:
        conn.execute(update(proposals_table).where(proposals_table.c.public_id == public_id).values(title="Nytt namn"))
    assert tuple(_position(pg, public_id))[:2] == (13.3601, 55.6671)


def test_the_store_answers_a_box_through_the_gist_index(pg, registry):
    inside, outside = _submit(pg, registry), _submit(pg, registry, lon=13.3700, lat=55.6700)
    box = (13.3500, 55.6640, 13.3530, 55.6660)
    with pg.connect() as conn:
        assert [r["public_id"] for r in store.list_public(conn, bbox=box)] == [inside]
        assert store.count_proposals(conn, bbox=box) == 1
        sql = str(select(proposals_table.c.id).where(store._filters(box)).compile(dialect=conn.dialect))
    assert "proposals.geom && ST_MakeEnvelope(" in sql and outside


def test_a_store_given_postgis_after_its_upgrade_gains_the_geometry_at_the_next_start(pg, registry):
    public_id = _submit(pg, registry)
    with pg.begin() as conn:
        postgis.drop_geometry(conn)  # as if the extension came after the revision ran
        assert not postgis.has_geometry(conn)
    store.init_db(pg)
    with pg.connect() as conn:
        assert postgis.has_geometry(conn)
    assert tuple(_position(pg, public_id))[:2] == (13.3514, 55.6652)


def test_the_postgis_objects_are_part_of_the_store_and_a_backup_restores_them(pg, registry, tmp_path):
    kept = _submit(pg, registry)
    assert maintenance.store_schema_problems(pg) == []  # geom, its index, spatial_ref_sys, alembic_version
    target = tmp_path / "store.dump"
    maintenance.backup(pg, target)
    assert maintenance.dump_problems(target) == []
    later = _submit(pg, registry)
    maintenance.restore(pg, target)  # the role may not drop or create the extension: restore leaves it be
    with pg.connect() as conn:
        public_ids = conn.execute(select(proposals_table.c.public_id)).scalars().all()
        assert postgis.installed(conn) and postgis.has_geometry(conn)
    assert public_ids == [kept] and later not in public_ids
    assert tuple(_position(pg, kept))[:2] == (13.3514, 55.6652)
    assert maintenance.store_schema_problems(pg) == []
