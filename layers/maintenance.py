"""Backing up, checking and restoring the proposal store.

SQLite: ``backup`` copies the live database page by page through SQLite's online backup API
(a consistent snapshot, even while the app is writing), and the copy is a single self-contained
file (rollback journal, no ``-wal`` beside it). ``restore`` refuses a file that fails
``PRAGMA integrity_check``, lacks the store's tables or holds anything the schema does not
declare, then copies it over the live database with the same API, so open connections see
either the old or the new store, never a mix. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean``, which must be on PATH; the dump's table of contents and table
definitions are checked the same way first.

Trust nothing: a backup or a live store may carry a trigger, a view, an index, a table or a
column that ``layers.schema`` does not declare (a trigger could copy every new contact row
elsewhere), so ``schema_problems`` compares the store's objects with the declaration and
anything extra is refused. Missing tables and columns are fine: ``init_db`` adds them.
``consistency_problems`` finds rows that point at nothing (joins to areas or services no longer
in the layers, supports and other rows of proposals that no longer exist) and ``repair`` fixes
them. No Flask here; the CLI wraps these functions.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, UniqueConstraint, delete, exists, func, select

from . import postgis, qgis_db, schema
from .store import init_db, note_everything_changed

VERSION_TABLE = "alembic_version"  # the schema revision the store is at (layers/migrations)

# A backup without these is not a Dialogkarta store (tables added later are created on restore).
REQUIRED_TABLES = ("proposals", "contacts", "status_history", "supports")


class MaintenanceError(Exception):
    """A backup or restore that cannot be done, explained in one sentence for the operator."""


def _is_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite"


def backup(engine: Engine, target: str | os.PathLike) -> dict:
    """Write a consistent copy of the store to ``target``; return ``{"path", "proposals"}``."""
    target = Path(target)
    if target.exists():
        raise MaintenanceError(f"{target} already exists; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not _is_sqlite(engine):
        _pg_run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", *_made_at_start(engine)], engine)
        return {"path": str(target), "proposals": None}
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        destination = sqlite3.connect(partial)
        try:
            _sqlite(raw).backup(destination)  # one step: one read snapshot, never restarted
            # The copy inherits WAL mode; switch it to a single-file journal so it travels alone.
            destination.execute("PRAGMA journal_mode=DELETE")
            count = destination.execute("SELECT count(*) FROM proposals").fetchone()[0]
        finally:
            destination.close()
    finally:
        raw.close()
    # A tampered live store is still backed up as it is (evidence); restoring that copy is refused.
    problems = check_file(partial, schema_objects=False)
    if problems:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"The backup failed its own check: {problems[0]}")
    partial.replace(target)
    return {"path": str(target), "proposals": count}


def check_file(path: str | os.PathLike, schema_objects: bool = True) -> list[str]:
    """Return what is wrong with an SQLite store file (empty list: it is sound and complete).

    With ``schema_objects`` (the default) anything the schema does not declare is a problem too.
    """
    path = Path(path)
    if not path.is_file():
        return [f"{path} does not exist or is not a file."]
    if Path(f"{path}-wal").exists():
        # Opened read-only the -wal file would be ignored, and what it holds silently lost.
        return [f"{path} has a -wal file beside it: copy a live store with `dialogkarta backup`, not cp."]
    try:
        # Read-only and immutable: checking a file never changes it or creates -wal/-shm files.
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        return [f"{path} cannot be opened as SQLite: {error}."]
    try:
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            found = sqlite_objects(connection)
        except sqlite3.DatabaseError as error:
            return [f"{path} is not a readable SQLite database: {error}."]
    finally:
        connection.close()
    problems = [] if result == ["ok"] else [f"integrity check failed: {'; '.join(result[:5])}"]
    missing = [t for t in REQUIRED_TABLES if t not in found.tables]
    if missing:
        problems.append(f"{path} is not a Dialogkarta store: tables missing: {', '.join(missing)}.")
    return problems + (schema_problems(found, "sqlite") if schema_objects else [])


# ------------------------------------------------------------------ schema objects
@dataclass(frozen=True)
class SchemaObjects:
    """The objects a store holds: tables with their columns, and the names of its other objects."""

    tables: dict  # table name -> set of column names
    indexes: set  # (table or None, index name)
    triggers: set  # (table, trigger name)
    views: set  # view names (materialised ones too)
    rules: frozenset | set = frozenset()  # (table, rule name): PostgreSQL's query rewrite rules


# Names SQLite gives its own objects (unique/primary key indexes, AUTOINCREMENT, ANALYZE); only
# SQLite can create them, short of editing sqlite_master with PRAGMA writable_schema.
_SQLITE_INTERNAL = re.compile(r"^sqlite_(autoindex_.+|sequence|stat\d)$")


def sqlite_objects(connection: sqlite3.Connection) -> SchemaObjects:
    """Return the schema objects of an SQLite database (a ``sqlite3`` connection)."""
    tables, indexes, triggers, views = {}, set(), set(), set()
    for kind, name, table in connection.execute("SELECT type, name, tbl_name FROM sqlite_master"):
        if _SQLITE_INTERNAL.match(name) and kind in ("table", "index"):  # SQLite's own bookkeeping
            continue
        if kind == "table":
            tables[name] = {row[0] for row in connection.execute("SELECT name FROM pragma_table_xinfo(?)", (name,))}
        elif kind == "index":
            indexes.add((table, name))
        elif kind == "trigger":
            triggers.add((table, name))
        elif kind == "view":
            views.add(name)
    return SchemaObjects(tables, indexes, triggers, views)


def postgresql_objects(conn: Connection) -> SchemaObjects:
    """Return the schema objects of the current PostgreSQL schema (a SQLAlchemy connection),
    leaving out those that belong to an extension (e.g. PostGIS's ``spatial_ref_sys``)."""
    not_extension = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {}.oid AND d.deptype = 'e')"
    tables: dict[str, set[str]] = {}
    indexes: set[tuple[str | None, str]] = set()
    views: set[str] = set()
    for name, kind, table in conn.exec_driver_sql(
        "SELECT c.relname, c.relkind, t.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid "
        f"WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'i', 'I') AND {not_extension.format('c')} "
        f"AND (t.oid IS NULL OR {not_extension.format('t')})"
    ):
        if kind in ("r", "p", "f"):
            tables[name] = set()
        elif kind in ("v", "m"):
            views.add(name)
        else:
            indexes.add((table, name))
    for table, column in conn.exec_driver_sql(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
        "AND a.attnum > 0 AND NOT a.attisdropped"
    ):
        if table in tables:
            tables[table].add(column)
    triggers = set(
        conn.exec_driver_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
        ).all()
    )
    rules = set(
        conn.exec_driver_sql(
            "SELECT c.relname, r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            f"AND r.rulename <> '_RETURN' AND {not_extension.format('c')}"
        ).all()
    )
    return SchemaObjects(tables, indexes, {tuple(t) for t in triggers}, views, {tuple(r) for r in rules})


def declared_index_names(dialect: str) -> set[str]:
    """Return the names of the indexes a store made from ``layers.schema`` holds on ``dialect``.

    SQLite backs primary keys and unique constraints with ``sqlite_autoindex_*`` indexes (left
    out of ``sqlite_objects``); PostgreSQL names them after the constraint (``<table>_pkey``,
    ``<table>_<columns>_key``, or the declared name).
    """
    names = {str(index.name) for table in schema.metadata.tables.values() for index in table.indexes}
    if dialect == "postgresql":
        names |= postgis.INDEXES | {f"{VERSION_TABLE}_pkc"}  # Alembic names its primary key so
        for table in schema.metadata.tables.values():
            names.add(f"{table.name}_pkey")
            for constraint in table.constraints:
                if isinstance(constraint, UniqueConstraint):
                    names.add(
                        constraint.name
                        if isinstance(constraint.name, str)
                        else f"{table.name}_{'_'.join(constraint.columns.keys())}_key"
                    )
    return names


def schema_problems(found: SchemaObjects, dialect: str) -> list[str]:
    """Return a sentence for every object in ``found`` that ``layers.schema`` does not declare.

    Alembic's ``alembic_version`` table belongs to the store too, and on PostgreSQL so do the
    PostGIS geometry column and index (``layers.postgis``) and what ``layers.qgis_db`` adds for QGIS.
    """
    declared = {name: set(table.columns.keys()) for name, table in schema.metadata.tables.items()}
    declared[VERSION_TABLE] = {"version_num"}
    known = declared_index_names(dialect)
    views = found.views
    if dialect == "postgresql":
        for table, column in postgis.COLUMNS:
            declared[table].add(column)
        declared.update({name: set(columns) for name, columns in qgis_db.EXTRA_TABLES.items()})
        for name, columns in qgis_db.EXTRA_COLUMNS.items():
            declared[name] |= columns
        known |= qgis_db.EXTRA_INDEXES
        views = {view for view in views if not qgis_db.is_view(view)}
    problems = []
    for table in sorted(set(found.tables) - set(declared)):
        problems.append(f"table {table} is not part of the store's schema.")
    for table in sorted(set(found.tables) & set(declared)):
        for column in sorted(found.tables[table] - declared[table]):
            problems.append(f"column {table}.{column} is not part of the store's schema.")
    for table, index in sorted(found.indexes):
        if index not in known:
            problems.append(f"index {index}{f' on {table}' if table else ''} is not part of the store's schema.")
    for table, trigger in sorted(found.triggers):
        problems.append(f"trigger {trigger} on {table} is not part of the store's schema (it declares no triggers).")
    for view in sorted(views):
        problems.append(f"view {view} is not part of the store's schema (it declares no views).")
    for table, rule in sorted(found.rules):
        problems.append(f"rule {rule} on {table} is not part of the store's schema (it declares no rules).")
    return problems


def store_schema_problems(engine: Engine) -> list[str]:
    """Return what the live store holds beyond its declared schema (empty list: nothing)."""
    if _is_sqlite(engine):
        raw = engine.raw_connection()
        try:
            return schema_problems(sqlite_objects(_sqlite(raw)), "sqlite")
        finally:
            raw.close()
    with engine.connect() as conn:
        return schema_problems(postgresql_objects(conn), "postgresql")


# ------------------------------------------------------------------ consistency
@dataclass(frozen=True)
class Inconsistency:
    """Rows that point at nothing: what, how many, and how to repair it."""

    what: str
    count: int
    repair: str

    def __str__(self) -> str:
        return f"{self.what}: {self.count} row(s). Repair: {self.repair}"


REFRESH_HINT = "`dialogkarta join --refresh` (or `dialogkarta check --repair`) recomputes every proposal's joins."
DELETE_HINT = "`dialogkarta check --repair` deletes them."


def _orphan_tables():
    """Return (table, column) for every table whose rows belong to a proposal (by foreign key)."""
    for table in schema.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column is schema.proposals.c.id for fk in column.foreign_keys):
                yield table, column


def consistency_problems(conn: Connection, registry) -> list[Inconsistency]:
    """Return the rows that point at nothing: joins to development areas or services no longer in
    the layers, and supports, flags and other rows of proposals that no longer exist."""
    problems = []
    area_ids = {str(a) for a in registry.areas()["id"]}
    service_ids = {str(s) for s in registry.services()["id"]}
    stale_areas = [a for (a,) in conn.execute(select(schema.proposal_areas.c.area_id)) if str(a) not in area_ids]
    if stale_areas:
        shown = ", ".join(sorted(set(stale_areas))[:5])
        problems.append(
            Inconsistency(f"joins to development areas no longer in the layer ({shown})", len(stale_areas), REFRESH_HINT)
        )
    stale_services = [s for (s,) in conn.execute(select(schema.proposal_services.c.service_id)) if str(s) not in service_ids]
    if stale_services:
        shown = ", ".join(sorted(set(stale_services))[:5])
        problems.append(
            Inconsistency(
                f"nearest-service joins to services no longer in the layer ({shown})", len(stale_services), REFRESH_HINT
            )
        )
    for table, column in _orphan_tables():
        count = conn.execute(
            select(func.count()).select_from(table).where(column.is_not(None), ~_proposal_exists(column))
        ).scalar_one()
        if count:
            problems.append(Inconsistency(f"{table.name} of proposals that no longer exist", count, DELETE_HINT))
    return problems


def _proposal_exists(column):
    return exists().where(schema.proposals.c.id == column)


def repair(conn: Connection, registry) -> dict:
    """Delete rows of proposals that no longer exist and recompute every proposal's joins; return counts."""
    from .proposals import refresh_joins

    deleted = {}
    for table, column in _orphan_tables():
        count = conn.execute(delete(table).where(column.is_not(None), ~_proposal_exists(column))).rowcount
        if count:
            deleted[table.name] = count
    return {"deleted": deleted, "rejoined": refresh_joins(conn, registry)}


def _sqlite(raw) -> sqlite3.Connection:
    """The sqlite3 connection under a pooled SQLAlchemy connection of a SQLite engine."""
    connection = raw.driver_connection
    if not isinstance(connection, sqlite3.Connection):
        raise MaintenanceError("This needs a SQLite store.")
    return connection


def integrity(engine: Engine) -> list[str]:
    """Return the live SQLite store's ``PRAGMA integrity_check`` result (``["ok"]`` when sound)."""
    raw = engine.raw_connection()
    try:
        return [row[0] for row in _sqlite(raw).execute("PRAGMA integrity_check")]
    finally:
        raw.close()


def _made_at_start(engine: Engine) -> list[str]:
    """pg_dump options leaving out what ``qgis_db.install`` makes at every start (views, ``layer_styles``)."""
    if not isinstance(engine, Engine):  # a stand-in that only carries a URL
        return []
    with engine.connect() as conn:
        names = [*qgis_db.views_present(conn), *qgis_db.EXTRA_TABLES, *qgis_db.EXTRA_SEQUENCES]
    return [f"--exclude-table={name}" for name in names]


def restore(engine: Engine, source: str | os.PathLike, locality=None, public_grid_m: float = 0) -> dict:
    """Replace the store's content with the backup at ``source``; return ``{"path", "proposals"}``.

    The backup is checked first and nothing is changed when it fails the check. With the
    ``locality`` (and ``PUBLIC_GRID_M``), what a start adds is added at once: the bundled layers as
    rows and, on PostGIS, the QGIS views, made again whether the restore succeeds or fails.
    """
    source = Path(source)
    if not _is_sqlite(engine):
        if not source.is_file():
            raise MaintenanceError(f"{source} does not exist.")
        problems = dump_problems(source)
        if problems:
            raise MaintenanceError("Refusing to restore: " + " ".join(problems))
        toc = _pg_output(["pg_restore", "--list", "-f", "-", str(source)])
        if isinstance(engine, Engine):
            with engine.begin() as conn:
                qgis_db.drop_views(conn)  # they read the tables pg_restore replaces; made again below
        try:
            _restore_postgresql(engine, source, toc)
        except BaseException:
            if isinstance(engine, Engine) and locality is not None:  # the old content is still there: so are its views
                qgis_db.install(engine, locality, public_grid_m)
            raise
        if isinstance(engine, Engine):  # not a stand-in that only carries a URL
            if not re.search(rf"^\d+;.* TABLE \S+ {VERSION_TABLE} ", toc, re.M):
                with engine.begin() as conn:  # a backup from before the migrations: the revision left here is not its own
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")
            init_db(engine, locality, public_grid_m)  # a backup from an older version gets the tables (and geometry) added since
            with engine.begin() as conn:
                note_everything_changed(conn)  # the list every process keeps is of the old content
        return {"path": str(source), "proposals": None}
    problems = check_file(source)
    if problems:
        raise MaintenanceError("Refusing to restore: " + " ".join(problems))
    origin = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    raw = engine.raw_connection()
    try:
        origin.backup(_sqlite(raw))
        _sqlite(raw).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
        origin.close()
    engine.dispose()  # pooled connections may hold pages of the old content
    init_db(engine, locality, public_grid_m)  # a backup from an older version gets the tables added since
    with engine.begin() as conn:
        note_everything_changed(conn)  # the list every process keeps is of the old content
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM proposals").scalar_one()
    return {"path": str(source), "proposals": count}


def _restore_postgresql(engine: Engine, source: Path, toc: str) -> None:
    """Run pg_restore's script for ``source`` in one transaction, after dropping the store's tables it lacks."""
    with tempfile.TemporaryDirectory() as folder:
        contents = Path(folder) / "contents.list"
        contents.write_text(_without_extensions(toc))
        script = Path(folder) / "restore.sql"
        _pg_output(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--use-list={contents}", "-f", str(script), str(source)]
        )
        # Tables added since the backup was made may reference its tables (proposal_shapes -> proposals), and
        # --clean drops only what the backup holds: drop them first, in the same transaction as the restore.
        dumped = set(re.findall(r"^\d+;.* TABLE \S+ (\w+) ", toc, re.M))
        newer = sorted(_store_tables(engine) - dumped)
        drops = "".join(f'DROP TABLE IF EXISTS public."{table}" CASCADE;\n' for table in newer)
        script.write_text(drops + script.read_text())
        _pg_run(["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", str(script)], engine)


# pg_restore --list: "215; 1259 16386 TABLE public proposals owner"; the kind may be two words.
_TOC_LINE = re.compile(
    r"^\d+;\s+\d+\s+\d+\s+(?P<kind>TABLE DATA|MATERIALIZED VIEW DATA|MATERIALIZED VIEW|EVENT TRIGGER|"
    r"FOREIGN TABLE|FK CONSTRAINT|SEQUENCE OWNED BY|SEQUENCE SET|DEFAULT ACL|INDEX ATTACH|"
    r"ROW SECURITY|[A-Z]+)\s+(?P<rest>.*)$"
)
_REFUSED_KINDS = {
    "TRIGGER": "trigger",
    "VIEW": "view",
    "MATERIALIZED VIEW": "view",
    "RULE": "rule",
    "EVENT TRIGGER": "event trigger",
    "POLICY": "policy",
    "FUNCTION": "function",
    "PROCEDURE": "procedure",
    "FOREIGN TABLE": "foreign table",
}
_CREATE_TABLE = re.compile(r"^CREATE TABLE (?:\w+\.)?\"?(\w+)\"? \((.*?)\n\);", re.S | re.M)


_EXTENSION_ENTRY = re.compile(
    rf"^\d+;\s+\d+\s+\d+\s+(EXTENSION |COMMENT - EXTENSION |TABLE DATA \S+ ({'|'.join(sorted(postgis.EXTENSION_TABLES))}) )"
)


def _store_tables(engine: Engine) -> set[str]:
    """Return which of the store's own tables (the schema's and the migrations' version table) the database has now."""
    if not isinstance(engine, Engine):  # a stand-in that only carries a URL
        return set()
    from sqlalchemy import inspect

    ours = set(schema.metadata.tables) | {VERSION_TABLE}
    return ours & set(inspect(engine).get_table_names())


def _without_extensions(toc: str) -> str:
    """Return a dump's table of contents without its extensions and their tables' rows (PostGIS's
    ``spatial_ref_sys``): a store's role may not drop, create or write them, so the target database
    keeps what a superuser created in it."""
    return "".join(line for line in toc.splitlines(keepends=True) if not _EXTENSION_ENTRY.match(line))


def dump_problems(source: str | os.PathLike) -> list[str]:
    """Return what a ``pg_dump --format=custom`` file holds beyond the declared schema (``pg_restore`` reads it)."""
    toc = _pg_output(["pg_restore", "--list", "-f", "-", str(source)])
    found = SchemaObjects({}, set(), set(), set(), set())
    problems = []
    for line in toc.splitlines():
        match = _TOC_LINE.match(line.strip())
        if not match:
            continue
        kind, words = match["kind"], match["rest"].split()
        if kind in _REFUSED_KINDS:
            on = f" on {words[1]}" if len(words) >= 4 else ""  # schema, [table,] name, owner
            problems.append(
                f"{_REFUSED_KINDS[kind]} {words[-2] if len(words) >= 2 else '?'}{on} is not part of the store's schema."
            )
        elif kind == "TABLE" and len(words) >= 2:
            found.tables[words[1]] = set()
        elif kind == "INDEX" and len(words) >= 2:
            found.indexes.add((None, words[1]))  # the table list names no table for an index
    for table, body in _CREATE_TABLE.findall(_pg_output(["pg_restore", "--schema-only", "-f", "-", str(source)])):
        if table in found.tables:
            found.tables[table] = {
                line.split()[0].strip('"')
                for line in body.splitlines()
                if line.strip() and not line.strip().startswith("CONSTRAINT")
            }
    return problems + schema_problems(found, "postgresql")


def _pg_output(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise MaintenanceError(f"{command[0]} is not installed or not on PATH.") from None
    if completed.returncode != 0:
        raise MaintenanceError(f"{command[0]} cannot read the backup: {completed.stderr.strip()[:500]}")
    return completed.stdout


def _pg_run(command: list[str], engine: Engine) -> None:
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password  # never on the command line, where `ps` shows it
    # URL.set(password=None) keeps the password; _replace removes it from the DSN.
    dsn = url.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)
    target = ["--dbname", dsn]
    try:
        completed = subprocess.run(command + target, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise MaintenanceError(f"{command[0]} is not installed or not on PATH.") from None
    if completed.returncode != 0:
        raise MaintenanceError(f"{command[0]} failed: {completed.stderr.strip()[:500]}")
