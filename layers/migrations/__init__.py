"""Schema migrations of the proposal store (Alembic, configured here in code: no alembic.ini).

``upgrade(engine)`` brings any store to the newest revision, and ``init_db`` calls it: an empty
database is created at head; a store made before the migrations (its tables but no
``alembic_version``) is first brought up to the baseline (release 0.1's tables,
``baseline_schema.py``: missing tables, columns and indexes added, as ``init_db`` always did) and
stamped there. Revisions live in ``versions/``, numbered 0001, 0002, ...

Adding a table, column or index: declare it in ``layers/schema.py``, then let Alembic write its
revision against a store at head (the SQLite default, or DIALOGKARTA_DATABASE_URL)::

    dialogkarta db revision -m "Proposals keep their shapes"

read and trim the file it prints (autogenerate does not see renames or data changes; ``ruff
format`` and ``ruff check --fix`` it), and keep PostgreSQL-only DDL behind
``if op.get_bind().dialect.name == "postgresql"`` (see ``0002``).
``tests/test_migrations.py`` fails while ``layers/schema.py`` and the head disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, inspect, text

from .. import postgis, schema
from . import baseline_schema

if TYPE_CHECKING:
    from alembic.config import Config

BASELINE = "0001"
_HERE = Path(__file__).parent
_LOCK = 7_356_421  # PostgreSQL advisory lock key: app servers starting together upgrade one at a time


def newest() -> str:
    """Return the newest revision by its file's number, without importing Alembic (every start asks)."""
    return max(path.name[:4] for path in (_HERE / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _stored(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """Return the newest revision the code knows, as Alembic reads the revisions."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_config()).get_current_head())


def current(engine: Engine) -> str | None:
    """Return the store's revision (None: not stamped, an empty database or one made before the migrations)."""
    with engine.connect() as conn:
        return _stored(conn)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the newest revision; return ``(revision before, revision now)``. Idempotent."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite and _stored(conn) != newest():
            # SQLite alters a table by copying it and dropping the old one, and with foreign keys on
            # that drop deletes every row that references it (ON DELETE CASCADE): they go off for the
            # upgrade, outside its transaction (SQLite ignores the pragma inside one), and are checked after.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                before = _stored(conn)
                if before != newest():
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")
                    if sqlite:  # Python's sqlite3 would run DDL outside any transaction: begin one, holding the write lock
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    before = _stored(conn)  # another server may have upgraded while this one waited
                    dangling = _dangling(conn)
                    _upgrade(conn, before)
                    if _dangling(conn) > dangling:
                        raise RuntimeError("the upgrade would leave rows that reference nothing; nothing was changed")
                # PostGIS created after the revision that adds the geometry ran: add it now.
                postgis.note_geometry(engine, postgis.add_geometry(conn))
                return before, str(_stored(conn))
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _dangling(conn: Connection) -> int:
    """Rows whose foreign key points at nothing (SQLite; PostgreSQL never lets them be)."""
    if conn.dialect.name != "sqlite":
        return 0
    return len(conn.exec_driver_sql("PRAGMA foreign_key_check").all())


def _upgrade(conn: Connection, before: str | None) -> None:
    from alembic import command  # 0.3-0.4 s of imports: only when there is something to do

    if before is None and inspect(conn).has_table("proposals"):
        adopt_unversioned(conn)
    command.upgrade(_config(conn), "head")


def adopt_unversioned(conn: Connection) -> None:
    """Bring a store made before the migrations up to the baseline's tables, then stamp it there."""
    from alembic import command

    baseline_schema.metadata.create_all(conn)
    add_missing_columns(conn, baseline_schema.metadata)
    for table in baseline_schema.metadata.sorted_tables:  # create_all makes indexes only with a new table
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    command.stamp(_config(conn), BASELINE)


def add_missing_columns(conn: Connection, metadata: MetaData) -> None:
    """Add the columns ``metadata`` declares that an older store's tables lack (nullable or with a server default)."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            server_default = getattr(column.server_default, "arg", None)
            default = f" DEFAULT {server_default}" if server_default is not None else ""
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}')


def include_object(obj, name, kind, _reflected, _compare_to) -> bool:
    """Leave out of comparisons what ``layers.schema`` does not declare on purpose: PostGIS's objects and ``layers.qgis_db``'s."""
    from .. import qgis_db  # what every start rewrites for QGIS on PostGIS (views, styles, a geometry column)

    if kind == "table":
        return name not in postgis.EXTENSION_TABLES and name not in qgis_db.EXTRA_TABLES
    if kind == "column":
        return (obj.table.name, name) not in postgis.COLUMNS and name not in qgis_db.EXTRA_COLUMNS.get(obj.table.name, ())
    if kind == "index":
        return name not in postgis.INDEXES and name not in qgis_db.EXTRA_INDEXES
    return True


def schema_diff(engine: Engine) -> list:
    """Return Alembic's differences between the store and ``layers.schema`` (empty: they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return compare_metadata(context, schema.metadata)


def new_revision(engine: Engine, message: str) -> str:
    """Write a revision for what ``layers.schema`` declares beyond the head (autogenerate); return its path."""
    from alembic import command

    upgrade(engine)
    number = f"{int(newest()) + 1:04d}"
    with engine.begin() as conn:
        script = command.revision(_config(conn), message=message, autogenerate=True, rev_id=number)
    if script is None or isinstance(script, list):
        raise RuntimeError("Alembic wrote no single revision")
    return str(script.path)


def run_environment(context) -> None:
    """The body of ``env.py``: run the migrations on the connection ``upgrade`` passed in."""
    conn = context.config.attributes["connection"]
    if conn is None:
        raise RuntimeError("run the migrations through dialogkarta.layers.migrations (or `dialogkarta db upgrade`)")
    context.configure(
        connection=conn,
        target_metadata=schema.metadata,
        include_object=include_object,
        compare_type=True,
        render_as_batch=True,  # SQLite alters a table by copying it: revisions then work on both engines
    )
    with context.begin_transaction():
        context.run_migrations()
