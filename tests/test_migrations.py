"""Schema migrations (Alembic): a store made by release 0.1 upgrades with every row kept, the
migrations' head agrees with layers/schema.py, and upgrading again changes nothing (both engines)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Table, inspect
from sqlalchemy.engine import make_url

from dialogkarta.layers import migrations, schema
from dialogkarta.layers.migrations import baseline_schema
from dialogkarta.layers.store import init_db, make_engine
from tests.conftest import fresh_database_url, on_sqlite_only

RELEASE_0_1 = Path(__file__).parent / "data" / "release_0_1"  # made by make_store.py there, with that release's code


@pytest.fixture
def release_store(tmp_path):
    """A store exactly as release 0.1 left it: its SQLite file, or its pg_dump restored into the emptied test database."""
    url = fresh_database_url(tmp_path, "release.sqlite")
    if url.startswith("sqlite"):
        shutil.copy(RELEASE_0_1 / "store.sqlite", tmp_path / "release.sqlite")
    else:
        parsed = make_url(url)
        dsn = parsed.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)
        env = {**os.environ, "PGPASSWORD": parsed.password or ""}
        subprocess.run(["pg_restore", "--no-owner", "--dbname", dsn, str(RELEASE_0_1 / "store.pgdump")], check=True, env=env)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def every_row(engine, columns=None) -> dict[str, list[tuple]]:
    """Return every row of every table the store holds (or of ``columns``: {table: [column]}), in a stable order."""
    found = {}
    with engine.connect() as conn:
        names = columns or {
            table: [c["name"] for c in inspect(conn).get_columns(table)]
            for table in inspect(conn).get_table_names()
            if table not in ("alembic_version", "spatial_ref_sys")
        }
        for table, cols in names.items():
            listed = ", ".join(f'"{c}"' for c in cols)
            found[table] = sorted(conn.exec_driver_sql(f'SELECT {listed} FROM "{table}"').all(), key=repr)
    return found


def test_the_release_store_is_what_release_0_1_made(release_store):
    before = every_row(release_store)
    # The release's tables (the baseline may be a later store made without migrations), none stamped.
    assert {"proposals", "contacts", "status_history", "supports", "users", "survey_responses"} <= set(before)
    assert set(before) <= set(baseline_schema.metadata.tables)
    assert all(before[table] for table in before)  # and rows in each
    assert migrations.current(release_store) is None


def test_a_store_made_by_release_0_1_upgrades_with_every_row_kept(release_store):
    before = every_row(release_store)
    assert init_db(release_store) == (None, migrations.head())
    after = every_row(release_store, columns={table: release_columns(table) for table in before})
    assert {table: len(rows) for table, rows in after.items()} == {table: len(rows) for table, rows in before.items()}
    assert after == before
    assert migrations.current(release_store) == migrations.head()
    assert migrations.schema_diff(release_store) == []


def release_columns(table) -> list[str]:
    """The release's columns of ``table`` (the upgrade may add more, e.g. the geometry on PostGIS)."""
    return [column.name for column in baseline_schema.metadata.tables[table].columns]


def test_an_empty_database_is_created_at_the_head(engine):
    assert migrations.current(engine) == migrations.head()
    assert migrations.schema_diff(engine) == []


def test_the_migrations_head_agrees_with_layers_schema(engine):
    """A table declared in layers/schema.py without a revision fails here (on SQLite and in the PostgreSQL pass)."""
    assert migrations.schema_diff(engine) == []


def test_the_schema_comparison_sees_a_table_without_a_revision(engine):
    unmigrated = Table("unmigrated_example", schema.metadata, Column("id", Integer, primary_key=True))
    try:
        diff = migrations.schema_diff(engine)
    finally:
        schema.metadata.remove(unmigrated)
    assert [(step[0], step[1].name) for step in diff] == [("add_table", "unmigrated_example")]


def schema_shape(engine) -> dict:
    """Every table's columns (name, type, nullable, default) and index names, as plain values."""
    with engine.connect() as conn:
        found = inspect(conn)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in found.get_columns(table)],
                sorted(str(index["name"]) for index in found.get_indexes(table)),
            )
            for table in found.get_table_names()
        }


def test_upgrading_twice_changes_nothing(release_store):
    init_db(release_store)
    rows, shape = every_row(release_store), schema_shape(release_store)
    assert init_db(release_store) == (migrations.head(), migrations.head())
    assert every_row(release_store) == rows
    assert schema_shape(release_store) == shape


def test_cli_db_upgrade_and_current_name_the_revision(runner):
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"revision {migrations.head()}" in upgraded.output
    current = runner.invoke(args=["db", "current"])
    assert current.exit_code == 0 and current.output.strip() == f"{migrations.head()} (newest: {migrations.head()})"


def test_every_start_knows_the_newest_revision_without_alembic():
    """Starts compare the store with the newest file's number; Alembic reads the same head from the revisions."""
    assert migrations.newest() == migrations.head()


def test_a_backup_made_by_release_0_1_restores_and_is_upgraded(engine):
    from dialogkarta.layers import maintenance

    backup = RELEASE_0_1 / ("store.sqlite" if engine.dialect.name == "sqlite" else "store.pgdump")
    maintenance.restore(engine, backup)
    assert migrations.current(engine) == migrations.head()
    assert migrations.schema_diff(engine) == []
    assert maintenance.store_schema_problems(engine) == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM proposals").scalar_one() == 3


BATCH_REVISION = '''"""Proposals gain a column and lose it again, by copying the table as SQLite must.

Revision ID: 0099
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposals", recreate="always") as batch:
        batch.add_column(sa.Column("scratch", sa.Integer))
    with op.batch_alter_table("proposals", recreate="always") as batch:
        batch.drop_column("scratch")


def downgrade() -> None:
    pass
'''


def with_revision(tmp_path, monkeypatch, source: str) -> None:
    """Make the migrations read a copy of themselves with one more revision, 0099."""
    copy = tmp_path / "migrations"
    shutil.copytree(Path(migrations.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    (copy / "versions" / "0099_extra.py").write_text(source.format(head=migrations.head()), encoding="utf-8")
    monkeypatch.setattr(migrations, "_HERE", copy)


@on_sqlite_only  # PostgreSQL alters tables in place
def test_a_revision_that_copies_a_table_keeps_the_rows_that_reference_it(release_store, tmp_path, monkeypatch):
    """On SQLite a table is altered by copying it: with foreign keys on, dropping the old copy would cascade."""
    init_db(release_store)
    before = every_row(release_store)
    with_revision(tmp_path, monkeypatch, BATCH_REVISION)
    assert init_db(release_store)[1] == "0099"
    assert every_row(release_store) == before
    with release_store.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again for the app


FAILING_REVISION = (
    BATCH_REVISION.split("def upgrade")[0]
    + """def upgrade() -> None:
    op.add_column("proposals", sa.Column("scratch", sa.Integer))
    op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True))
    raise RuntimeError("a revision that fails half way")
"""
)


def test_an_upgrade_that_fails_half_way_changes_nothing(release_store, tmp_path, monkeypatch):
    init_db(release_store)
    rows, shape, head = every_row(release_store), schema_shape(release_store), migrations.head()
    with_revision(tmp_path, monkeypatch, FAILING_REVISION)
    with pytest.raises(RuntimeError, match="half way"):
        init_db(release_store)
    assert migrations.current(release_store) == head
    assert every_row(release_store) == rows and schema_shape(release_store) == shape  # no "scratch" column
