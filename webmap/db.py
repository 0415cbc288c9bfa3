"""Wiring the store and the layer registry into the app: one engine and one registry per app."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app

try:
    import fcntl
except ImportError:  # not on Windows: writers wait in SQLite's busy handler there
    fcntl = None  # type: ignore[assignment]

from ..layers import layer_import, layer_store
from ..layers.locality import load_locality
from ..layers.registry import LayerRegistry
from ..layers.store import init_db, make_engine


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    locality = load_locality(app.config["LOCALITY_DIR"])
    # (before, after): `dialogkarta db upgrade` says
    app.extensions["dialogkarta.schema_revisions"] = init_db(
        engine, locality, public_grid_m=float(app.config["PUBLIC_GRID_M"] or 0)
    )
    registry = LayerRegistry(locality, engine)
    # Imported layers live in the store; files an earlier release kept in the folder move there once.
    layer_store.adopt_files(engine, app.config["LAYER_OVERRIDE_DIR"], registry.names())
    layer_import.remove_stale_work(app.config["LAYER_OVERRIDE_DIR"])
    app.extensions["dialogkarta.engine"] = engine
    app.extensions["dialogkarta.registry"] = registry
    app.extensions["dialogkarta.writers"] = WriterQueue.for_engine(engine)


def import_limits(max_bytes: int) -> layer_import.Limits:
    """Return the limits on imported layers: ``max_bytes`` and the configured feature and vertex counts."""
    config = current_app.config
    return layer_import.Limits(
        max_bytes=max_bytes, max_features=int(config["LAYER_MAX_FEATURES"]), max_vertices=int(config["LAYER_MAX_VERTICES"])
    )


def engine():
    return current_app.extensions["dialogkarta.engine"]


def registry() -> LayerRegistry:
    return current_app.extensions["dialogkarta.registry"]


class WriterQueue:
    """Writers to one SQLite file take turns here, in every process, before they begin.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
    100 ms each) until the busy timeout; 50 clients posting at once then spent most of their
    time asleep. A thread lock and an ``flock`` on ``<database>.writers`` queue them instead, and
    the next one starts the moment the previous commits. Opened per turn, so forked workers never
    share a lock. PostgreSQL needs none (``path`` None): it queues writers itself.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._mine = threading.local()  # a transaction inside another on the same thread already has the turn

    @classmethod
    def for_engine(cls, engine) -> "WriterQueue":
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        return cls(Path(database).with_name(Path(database).name + ".writers") if database and database != ":memory:" else None)

    @contextmanager
    def turn(self):
        if self.path is None or fcntl is None or getattr(self._mine, "turn", False):
            yield
            return
        with self._lock, open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._mine.turn = True
            try:
                yield
            finally:
                self._mine.turn = False
                fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def transaction():
    """Yield a connection inside a transaction that commits on success and rolls back on error."""
    with current_app.extensions["dialogkarta.writers"].turn(), engine().begin() as conn:
        yield conn


@contextmanager
def reading():
    with engine().connect() as conn:
        yield conn
