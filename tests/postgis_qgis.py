"""Helpers for the tests of QGIS on the database: a PostGIS store or a reason to skip, and a throwaway read-only role."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager

import pytest
from sqlalchemy import make_url

from dialogkarta.layers import qgis_db
from dialogkarta.layers.store import make_engine
from tests.conftest import TEST_DATABASE_URL

REQUIRED = os.environ.get("DIALOGKARTA_REQUIRE_QGIS") == "1"


def postgis_missing() -> str | None:
    """Return why the test database is not PostGIS, or None when it is."""
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        return "needs DIALOGKARTA_TEST_DATABASE_URL pointing at PostgreSQL with PostGIS (the PostgreSQL pass of .ci/run)"
    engine = make_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as conn:
            if not qgis_db.has_postgis(conn):
                return "the test database has no postgis extension (CREATE EXTENSION postgis, as a superuser)"
    finally:
        engine.dispose()
    return None


def require_postgis(required: bool = False) -> None:
    """Skip without a PostGIS test database; fail instead when ``required`` (a PostgreSQL pass that must run it)."""
    reason = postgis_missing()
    if reason is None:
        return
    if required and TEST_DATABASE_URL:
        pytest.fail(f"DIALOGKARTA_REQUIRE_QGIS=1 and a test database is set, but {reason}")
    pytest.skip(reason)


@contextmanager
def reader_role(runner):
    """Create a read-only role with ``dialogkarta qgis-role`` (a fresh name per test); yield ``(name, password, url)``."""
    name, password = f"dk_qgis_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    result = runner.invoke(
        args=["qgis-role", "--name", name, "--password-env", "DK_TEST_QGIS_PASSWORD"], env={"DK_TEST_QGIS_PASSWORD": password}
    )
    assert result.exit_code == 0, result.output
    url = make_url(TEST_DATABASE_URL).set(username=name, password=password)
    try:
        yield name, password, url
    finally:
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            database = conn.exec_driver_sql("SELECT current_database()").scalar()
            conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}")
            conn.exec_driver_sql(f"REVOKE ALL ON SCHEMA public FROM {name}")
            conn.exec_driver_sql(f'REVOKE ALL ON DATABASE "{database}" FROM {name}')
            conn.exec_driver_sql(f"DROP ROLE {name}")
        engine.dispose()
