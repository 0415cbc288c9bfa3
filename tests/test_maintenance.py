"""Backup, check and restore of the store (SQLite; PostgreSQL when the suite runs on it), functions and CLI."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import maintenance, proposals
from dialogkarta.layers.schema import contacts
from dialogkarta.layers.schema import proposals as proposals_table
from dialogkarta.layers.store import init_db, make_engine
from tests.conftest import TEST_DATABASE_URL, on_sqlite_only
from dialogkarta.cli import cli

SUBMISSION = {
    "lon": 13.3514,
    "lat": 55.6652,
    "category": "traffic",
    "title": "Övergångsställe",
    "description": "Ett säkert övergångsställe vid skolan.",
}


def _category(registry):
    return registry.locality.categories[0].id


def _add(engine, registry, n=1, **extra):
    with engine.begin() as conn:
        return [
            proposals.submit(conn, registry, {**SUBMISSION, "category": _category(registry), "title": f"Förslag {i}", **extra})
            for i in range(n)
        ]


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(proposals_table)).scalar_one()


@on_sqlite_only
def test_backup_is_a_consistent_single_file_copy(engine, registry, tmp_path):
    _add(engine, registry, 3)
    target = tmp_path / "backups" / "copy.sqlite"
    result = maintenance.backup(engine, target)
    assert result == {"path": str(target), "proposals": 3}
    assert not (tmp_path / "backups" / "copy.sqlite-wal").exists()
    assert maintenance.check_file(target) == []
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM proposals").fetchone()[0] == 3


@on_sqlite_only
def test_backup_refuses_to_overwrite(engine, tmp_path):
    target = tmp_path / "exists.sqlite"
    target.write_bytes(b"keep me")
    with pytest.raises(maintenance.MaintenanceError, match="already exists"):
        maintenance.backup(engine, target)
    assert target.read_bytes() == b"keep me"


@on_sqlite_only
def test_backup_while_writers_write_is_consistent(engine, registry, tmp_path):
    _add(engine, registry, 1)
    stop = threading.Event()

    def write():
        while not stop.is_set():
            _add(engine, registry, 1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        targets = [tmp_path / f"b{i}.sqlite" for i in range(5)]
        for target in targets:
            maintenance.backup(engine, target)
    finally:
        stop.set()
        writer.join()
    for target in targets:
        assert maintenance.check_file(target) == []
        with sqlite3.connect(target) as copy:
            # every proposal in the copy has its first status: no half-written submission
            orphans = copy.execute(
                "SELECT count(*) FROM proposals p WHERE NOT EXISTS (SELECT 1 FROM status_history h WHERE h.proposal_id = p.id)"
            ).fetchone()[0]
            assert orphans == 0


@on_sqlite_only
def test_restore_brings_back_the_backed_up_content(engine, registry, tmp_path):
    _add(engine, registry, 2)
    target = tmp_path / "copy.sqlite"
    maintenance.backup(engine, target)
    _add(engine, registry, 5)
    assert _count(engine) == 7
    result = maintenance.restore(engine, target)
    assert result["proposals"] == 2
    assert _count(engine) == 2
    assert maintenance.integrity(engine) == ["ok"]
    _add(engine, registry, 1)  # the restored store takes new writes
    assert _count(engine) == 3


@on_sqlite_only
@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "tables missing"),
        (b"this is not a database at all" * 100, "not a readable SQLite database"),
    ],
)
def test_restore_refuses_a_file_that_is_not_a_store(engine, registry, tmp_path, content, message):
    _add(engine, registry, 1)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(content)
    with pytest.raises(maintenance.MaintenanceError, match=message):
        maintenance.restore(engine, bad)
    assert _count(engine) == 1


@on_sqlite_only
def test_restore_refuses_a_database_without_the_tables(engine, registry, tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE proposals (id INTEGER PRIMARY KEY)")
    with pytest.raises(maintenance.MaintenanceError, match="contacts, status_history, supports"):
        maintenance.restore(engine, other)


@on_sqlite_only
def test_restore_refuses_a_corrupt_backup(engine, registry, tmp_path):
    _add(engine, registry, 30)
    target = tmp_path / "copy.sqlite"
    maintenance.backup(engine, target)
    data = bytearray(target.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Scribble over the third page onwards (b-tree pages), keeping the header intact.
    for i in range(2 * page_size + 8, min(len(data), 2 * page_size + 200)):
        data[i] = 0xFF
    target.write_bytes(bytes(data))
    assert maintenance.check_file(target) != []
    with pytest.raises(maintenance.MaintenanceError, match="Refusing"):
        maintenance.restore(engine, target)
    assert _count(engine) == 30


@on_sqlite_only
def test_restore_refuses_a_live_file_with_its_wal(engine, registry, tmp_path):
    other = make_engine(f"sqlite:///{tmp_path / 'live.sqlite'}")
    init_db(other)
    conn = other.connect()  # keeps the -wal file in place
    try:
        conn.exec_driver_sql("SELECT 1")
        assert (tmp_path / "live.sqlite-wal").exists()
        with pytest.raises(maintenance.MaintenanceError, match="-wal"):
            maintenance.restore(engine, tmp_path / "live.sqlite")
    finally:
        conn.close()
        other.dispose()


# ------------------------------------------------------------------------------- CLI


@on_sqlite_only
def test_cli_backup_restore_and_check(app, runner, tmp_path):
    from dialogkarta.webmap import db

    with app.app_context():
        _add(db.engine(), db.registry(), 4)
    target = tmp_path / "cli-backup.sqlite"
    result = runner.invoke(cli, ["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "4 proposals" in result.output
    with app.app_context():
        _add(db.engine(), db.registry(), 2)
    result = runner.invoke(cli, ["restore", str(target)], input="n\n")
    assert result.exit_code != 0  # declined at the prompt
    with app.app_context():
        assert _count(db.engine()) == 6
    result = runner.invoke(cli, ["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert "4 proposals" in result.output
    with app.app_context():
        assert _count(db.engine()) == 4
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 0 and "ok" in result.output


@on_sqlite_only
def test_cli_restore_refuses_garbage(app, runner, tmp_path):
    bad = tmp_path / "garbage.sqlite"
    bad.write_bytes(b"\x00" * 4096)
    result = runner.invoke(cli, ["restore", "--yes", str(bad)])
    assert result.exit_code != 0
    assert "Refusing to restore" in result.output


@on_sqlite_only
def test_backup_keeps_contacts_apart_but_complete(engine, registry, tmp_path):
    _add(engine, registry, 1, name="Anna Andersson", email="anna@example.se", consent=True)
    target = tmp_path / "copy.sqlite"
    maintenance.backup(engine, target)
    restored = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    init_db(restored)
    maintenance.restore(restored, target)
    with restored.connect() as conn:
        assert conn.execute(select(contacts.c.email)).scalar_one() == "anna@example.se"


def test_postgresql_backup_and_restore_call_pg_dump_and_pg_restore(tmp_path, monkeypatch):
    """The PostgreSQL branch, with stand-ins for pg_dump/pg_restore/psql: the password goes by environment."""
    import os
    import stat
    from types import SimpleNamespace

    from sqlalchemy.engine import make_url

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    for tool in ("pg_dump", "pg_restore", "psql"):
        script = bin_dir / tool
        script.write_text(
            f'#!/bin/sh\necho "{tool} $* PGPASSWORD=$PGPASSWORD" >> {log}\n'
            'out=""; for a in "$@"; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac;'
            ' [ "$out" = "-f" ] && [ "$a" != "-" ] && echo "-- restore" > "$a"; out="$a"; done\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    engine = SimpleNamespace(url=make_url("postgresql+psycopg://planner:s3cret@db.example:5432/dialogkarta"))
    target = tmp_path / "pg.dump"
    assert maintenance.backup(engine, target) == {"path": str(target), "proposals": None}
    assert target.read_text() == "dump\n"
    maintenance.restore(engine, target)
    dump_call, list_call, schema_call, contents_call, script_call, restore_call = log.read_text().splitlines()
    assert contents_call.startswith("pg_restore --list")
    assert list_call.startswith("pg_restore --list") and schema_call.startswith("pg_restore --schema-only")
    assert dump_call.startswith("pg_dump --format=custom") and "PGPASSWORD=s3cret" in dump_call
    assert "--dbname postgresql://planner@db.example:5432/dialogkarta" in dump_call
    assert "s3cret" not in dump_call.split("PGPASSWORD=")[0]  # never on the command line
    assert script_call.startswith("pg_restore --clean --if-exists")
    assert "--use-list=" in script_call  # without the extensions, which the store's role may not drop
    assert restore_call.startswith("psql") and "--single-transaction" in restore_call and "ON_ERROR_STOP=1" in restore_call
    assert "--dbname postgresql://planner@db.example:5432/dialogkarta" in restore_call and "PGPASSWORD=s3cret" in restore_call


on_postgresql = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs DIALOGKARTA_TEST_DATABASE_URL pointing at PostgreSQL (the PostgreSQL pass of .ci/run runs it)",
)


@on_postgresql
def test_postgresql_backup_and_restore_round_trip_for_real(engine, registry, tmp_path):
    _add(engine, registry, 3, name="Anna", email="anna@example.se", consent=True)
    target = tmp_path / "store.dump"
    maintenance.backup(engine, target)
    _add(engine, registry, 2)
    assert _count(engine) == 5
    maintenance.restore(engine, target)
    assert _count(engine) == 3
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contacts)).scalar_one() == 3


# ------------------------------------------------------------- trust nothing (#9)
EXTRAS = {
    "trigger": "CREATE TRIGGER leak AFTER INSERT ON contacts BEGIN UPDATE contacts SET name = name; END",
    "view": "CREATE VIEW everyone AS SELECT name, email FROM contacts",
    "table": "CREATE TABLE stash (email TEXT)",
    "index": "CREATE INDEX ix_contacts_email ON contacts (email)",
    "column": "ALTER TABLE proposals ADD COLUMN tracker TEXT",
}


def _tamper(path, sql):
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    sqlite3.connect(path).close()


@on_sqlite_only
@pytest.mark.parametrize("kind", list(EXTRAS))
def test_restore_refuses_a_backup_with_anything_the_schema_does_not_declare(engine, registry, tmp_path, kind):
    _add(engine, registry, 2)
    target = tmp_path / "copy.sqlite"
    maintenance.backup(engine, target)
    _tamper(target, EXTRAS[kind])
    _add(engine, registry, 1)
    with pytest.raises(maintenance.MaintenanceError, match=f"Refusing to restore: .*{kind} .*not part of the store's schema"):
        maintenance.restore(engine, target)
    assert _count(engine) == 3  # nothing changed
    with engine.connect() as conn:
        assert maintenance.schema_problems(maintenance.sqlite_objects(conn.connection.driver_connection), "sqlite") == []


@on_sqlite_only
def test_cli_restore_names_the_extra_trigger(app, runner, tmp_path):
    target = tmp_path / "copy.sqlite"
    assert runner.invoke(cli, ["backup", str(target)]).exit_code == 0
    _tamper(target, EXTRAS["trigger"])
    result = runner.invoke(cli, ["restore", "--yes", str(target)])
    assert result.exit_code != 0
    assert "Refusing to restore" in result.output and "trigger leak on contacts" in result.output


@on_sqlite_only
def test_check_refuses_a_live_store_with_an_extra_trigger_and_says_what_to_do(app, runner):
    from dialogkarta.webmap import db

    assert runner.invoke(cli, ["check"]).exit_code == 0
    with app.app_context(), db.transaction() as conn:
        conn.exec_driver_sql(EXTRAS["trigger"])
    result = runner.invoke(cli, ["check"])
    assert result.exit_code != 0
    assert "trigger leak on contacts is not part of the store's schema" in result.output
    assert "DROP TRIGGER" in result.output


@on_sqlite_only
def test_cli_backup_of_a_tampered_store_warns_that_restore_will_refuse_it(app, runner, tmp_path):
    from dialogkarta.webmap import db

    with app.app_context(), db.transaction() as conn:
        conn.exec_driver_sql(EXTRAS["view"])
    result = runner.invoke(cli, ["backup", str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 0 and (tmp_path / "copy.sqlite").exists()
    assert "Warning" in result.output and "view everyone" in result.output and "will refuse" in result.output


def test_check_reports_joins_to_areas_no_longer_in_the_layer_and_repairs_them(app, runner):
    from dialogkarta.layers.schema import proposal_areas
    from dialogkarta.webmap import db

    with app.app_context():
        inside = db.registry().areas().geometry.iloc[0].representative_point()
        _add(db.engine(), db.registry(), 1, lon=inside.x, lat=inside.y)  # inside a development area
        with db.transaction() as conn:
            before = sorted(conn.execute(select(proposal_areas.c.area_id)).scalars())
            assert before  # the submission was joined to an area
            # the area was removed from the development-areas layer (an import) after the join was stored
            conn.execute(proposal_areas.update().values(area_id="rivet-omrade"))
    result = runner.invoke(cli, ["check"])
    assert result.exit_code != 0
    assert "joins to development areas no longer in the layer (rivet-omrade): 1 row(s)" in result.output
    assert "dialogkarta join --refresh" in result.output and "check --repair" in result.output
    repaired = runner.invoke(cli, ["check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "recomputed joins for 1 proposals" in repaired.output
    with app.app_context(), db.reading() as conn:
        assert sorted(conn.execute(select(proposal_areas.c.area_id)).scalars()) == before


def test_check_reports_services_no_longer_in_the_layer(engine, registry):
    from dialogkarta.layers.schema import proposal_services

    _add(engine, registry, 1)
    with engine.begin() as conn:
        conn.execute(proposal_services.update().where(proposal_services.c.kind == "school").values(service_id="nedlagd-skola"))
        problems = maintenance.consistency_problems(conn, registry)
    assert [(p.count, "nedlagd-skola" in p.what, "join --refresh" in p.repair) for p in problems] == [(1, True, True)]


@on_sqlite_only
def test_check_reports_supports_of_missing_proposals_and_repair_deletes_them(app, runner, tmp_path):
    from dialogkarta.layers import store
    from dialogkarta.layers.schema import supports
    from dialogkarta.webmap import db

    with app.app_context():
        kept, gone = _add(db.engine(), db.registry(), 2)
        with db.transaction() as conn:
            store.add_support(conn, kept["public_id"], "token-a")
            store.add_support(conn, gone["public_id"], "token-a")
            store.add_support(conn, gone["public_id"], "token-b")
        path = db.engine().url.database
    with sqlite3.connect(path) as raw:  # foreign keys off, as in a store restored from an old copy
        raw.execute("DELETE FROM proposals WHERE public_id = ?", (gone["public_id"],))
    result = runner.invoke(cli, ["check"])
    assert result.exit_code != 0
    assert "supports of proposals that no longer exist: 2 row(s). Repair: `dialogkarta check --repair`" in result.output
    repaired = runner.invoke(cli, ["check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "2 supports" in repaired.output
    with app.app_context(), db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(supports)).scalar_one() == 1


PG_EXTRAS = [
    ("CREATE FUNCTION leak() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$", "DROP FUNCTION leak()"),
    ("CREATE TRIGGER leak AFTER INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION leak()", "DROP TRIGGER leak ON contacts"),
    ("CREATE VIEW everyone AS SELECT name, email FROM contacts", "DROP VIEW everyone"),
    ("CREATE TABLE stash (email text)", "DROP TABLE stash"),
    ("CREATE INDEX ix_contacts_email ON contacts (email)", "DROP INDEX ix_contacts_email"),
    ("ALTER TABLE proposals ADD COLUMN tracker text", "ALTER TABLE proposals DROP COLUMN tracker"),
]


@on_postgresql
def test_postgresql_restore_refuses_a_dump_with_extra_objects(engine, registry, tmp_path):
    _add(engine, registry, 2)
    with engine.begin() as conn:
        for create, _drop in PG_EXTRAS:
            conn.exec_driver_sql(create)
    target = tmp_path / "store.dump"
    try:
        maintenance.backup(engine, target)
        live = " ".join(maintenance.store_schema_problems(engine))
    finally:
        with engine.begin() as conn:
            for _create, drop in reversed(PG_EXTRAS):
                conn.exec_driver_sql(drop)
    for what in (
        "trigger leak on contacts",
        "view everyone",
        "table stash",
        "index ix_contacts_email",
        "column proposals.tracker",
    ):
        assert what in live
    assert maintenance.store_schema_problems(engine) == []
    _add(engine, registry, 1)
    with pytest.raises(maintenance.MaintenanceError) as refused:
        maintenance.restore(engine, target)
    for what in (
        "function leak()",
        "trigger leak on contacts",
        "view everyone",
        "table stash",
        "index ix_contacts_email",
        "column proposals.tracker",
    ):
        assert what in str(refused.value)
    assert str(refused.value).startswith("Refusing to restore")
    assert _count(engine) == 3


def test_only_sqlites_own_bookkeeping_names_are_ignored(tmp_path):
    path = tmp_path / "planted.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE proposals (id INTEGER PRIMARY KEY, public_id TEXT UNIQUE)")
        conn.execute("PRAGMA writable_schema=ON")  # the one way to plant an object under SQLite's reserved prefix
        conn.execute(
            "INSERT INTO sqlite_master VALUES ('view', 'sqlite_view', 'sqlite_view', 0, 'CREATE VIEW sqlite_view AS SELECT 1')"
        )
    conn.close()
    with sqlite3.connect(path) as conn:
        found = maintenance.sqlite_objects(conn)
    conn.close()
    assert found.views == {"sqlite_view"}
    assert found.indexes == set()  # sqlite_autoindex_proposals_1 (UNIQUE) is SQLite's own
