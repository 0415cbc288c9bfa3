"""Backing up, checking and restoring the proposal store.

SQLite: ``backup`` copies the live database page by page through SQLite's online backup API
(a consistent snapshot, even while the app is writing), and the copy is a single self-contained
file (rollback journal, no ``-wal`` beside it). ``restore`` refuses a file that fails
``PRAGMA integrity_check`` or lacks the store's tables, then copies it over the live database
with the same API, so open connections see either the old or the new store, never a mix.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``, which must be on PATH.
No Flask here; the CLI wraps these functions.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from .store import init_db

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
        _pg_run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}"], engine)
        return {"path": str(target), "proposals": None}
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        destination = sqlite3.connect(partial)
        try:
            raw.driver_connection.backup(destination)  # one step: one read snapshot, never restarted
            # The copy inherits WAL mode; switch it to a single-file journal so it travels alone.
            destination.execute("PRAGMA journal_mode=DELETE")
            count = destination.execute("SELECT count(*) FROM proposals").fetchone()[0]
        finally:
            destination.close()
    finally:
        raw.close()
    problems = check_file(partial)
    if problems:
        partial.unlink(missing_ok=True)
        raise MaintenanceError(f"The backup failed its own check: {problems[0]}")
    partial.replace(target)
    return {"path": str(target), "proposals": count}


def check_file(path: str | os.PathLike) -> list[str]:
    """Return what is wrong with an SQLite store file (empty list: it is sound and complete)."""
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
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            return [f"{path} is not a readable SQLite database: {error}."]
    finally:
        connection.close()
    problems = [] if result == ["ok"] else [f"integrity check failed: {'; '.join(result[:5])}"]
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        problems.append(f"{path} is not a Dialogkarta store: tables missing: {', '.join(missing)}.")
    return problems


def integrity(engine: Engine) -> list[str]:
    """Return the live SQLite store's ``PRAGMA integrity_check`` result (``["ok"]`` when sound)."""
    raw = engine.raw_connection()
    try:
        return [row[0] for row in raw.driver_connection.execute("PRAGMA integrity_check")]
    finally:
        raw.close()


def restore(engine: Engine, source: str | os.PathLike) -> dict:
    """Replace the store's content with the backup at ``source``; return ``{"path", "proposals"}``.

    The backup is checked first and nothing is changed when it fails the check.
    """
    source = Path(source)
    if not _is_sqlite(engine):
        if not source.is_file():
            raise MaintenanceError(f"{source} does not exist.")
        _pg_run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)], engine)
        return {"path": str(source), "proposals": None}
    problems = check_file(source)
    if problems:
        raise MaintenanceError("Refusing to restore: " + " ".join(problems))
    origin = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    raw = engine.raw_connection()
    try:
        origin.backup(raw.driver_connection)
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
        origin.close()
    engine.dispose()  # pooled connections may hold pages of the old content
    init_db(engine)   # a backup from an older version gets the tables added since
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM proposals").scalar_one()
    return {"path": str(source), "proposals": count}


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
