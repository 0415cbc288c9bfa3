"""QGIS straight to the database: PyQGIS (QGIS 3.22) connects to a PostGIS store as the read-only role
``dialogkarta qgis-role`` makes, opens the proposal views and the layers' views with their default
styles from ``layer_styles``, and can change nothing.

Runs in the PostgreSQL pass (``DIALOGKARTA_TEST_DATABASE_URL``, PostGIS created); skips without it.
There, with ``DIALOGKARTA_REQUIRE_QGIS=1``, a missing PyQGIS or PostGIS fails instead.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from dialogkarta.layers import export
from dialogkarta.layers.styles import PROPOSAL_STATUS_COLORS
from dialogkarta.layers.vocabulary import PROPOSAL_STATUSES, translate
from dialogkarta.webmap import db
from tests.conftest import TEST_DATABASE_URL
from tests.contracts import assert_exact, proposal_row
from tests.live import seed
from tests.postgis_qgis import reader_role, require_postgis
from tests.qgis.pyqgis import REQUIRED, run_qgis

pytestmark = pytest.mark.qgis

VIEWS = {"public_proposals": "id", "planner_proposals": "id", "layer_development_areas": "fid", "layer_service_locations": "fid"}


@pytest.fixture
def opened(app, runner, tmp_path):
    """What QGIS reports after opening the views as the read-only role, with the seeded store's counts."""
    if not TEST_DATABASE_URL:
        pytest.skip("needs DIALOGKARTA_TEST_DATABASE_URL pointing at PostgreSQL with PostGIS (the PostgreSQL pass of .ci/run)")
    require_postgis(required=REQUIRED)
    seeded = seed(app, count=4)
    with app.app_context():
        registry = db.registry()
        expected = {
            "public_proposals": len(seeded["public"]),
            "planner_proposals": len(seeded["public"]) + 1,  # and the hidden one
            "layer_development_areas": len(registry.areas()),
            "layer_service_locations": len(registry.services()),
        }
        kinds = export.service_kinds(registry)
    with reader_role(runner) as (name, password, url):
        server = make_url(TEST_DATABASE_URL)
        step = {
            "do": "postgres",
            "host": server.host or "127.0.0.1",
            "port": server.port or 5432,
            "dbname": server.database,
            "user": name,
            "password": password,
            "tables": VIEWS,
        }
        answer = run_qgis([step], tmp_path)
        yield answer["steps"][0], expected, kinds, url


def test_qgis_opens_each_view_as_the_read_only_role_with_every_feature(opened):
    layers, expected, _kinds, _url = opened
    for view, count in expected.items():
        assert layers[view]["valid"], (view, layers[view].get("error"))
        assert layers[view]["crs"] == "EPSG:4326" and layers[view]["count"] == count, view


def test_qgis_sees_the_public_fields_exactly_and_the_joins_in_the_planner_view(opened):
    layers, _expected, kinds, _url = opened
    assert_exact(layers["public_proposals"]["fields"], proposal_row(kinds), "public_proposals in QGIS")
    planner = set(layers["planner_proposals"]["fields"])
    assert {"area_ids", "area_names", "department", "hidden"} <= planner
    assert {f"nearest_{kind}" for kind in kinds} | {f"nearest_{kind}_m" for kind in kinds} <= planner
    assert not planner & {"contact_name", "contact_email", "name", "email"}


def test_qgis_applies_the_default_style_from_layer_styles(opened):
    layers, _expected, _kinds, _url = opened
    for view in ("public_proposals", "planner_proposals"):
        renderer = layers[view]["renderer"]
        assert renderer["type"] == "categorizedSymbol" and renderer["attribute"] == "status", view
        by_value = {c["value"]: c for c in renderer["categories"]}
        for status, labels in PROPOSAL_STATUSES.items():
            assert by_value[status]["label"] == translate(labels, "sv")
            assert by_value[status]["layers"][0]["shape"] == "diamond"
            assert by_value[status]["layers"][0]["color"] == PROPOSAL_STATUS_COLORS[status]
        assert layers[view]["styles_in_database"]["count"] >= 1
    assert layers["layer_development_areas"]["renderer"]["attribute"] == "status"
    assert layers["layer_service_locations"]["renderer"]["attribute"] == "kind"


def test_the_role_can_change_nothing_in_qgis_or_in_sql(opened):
    layers, expected, _kinds, url = opened
    for view, count in expected.items():
        assert not (layers[view]["can_add"] or layers[view]["can_change"] or layers[view]["can_delete"]), view
        assert layers[view]["added"] is False and layers[view]["count_after_add"] == count, view
    reader = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with reader.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
            conn.exec_driver_sql("SET default_transaction_read_only = off")
            conn.execute(text("INSERT INTO layer_service_locations (fid, version) VALUES (999, 999)"))
    finally:
        reader.dispose()
