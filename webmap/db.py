"""Wiring the store and the layer registry into the app: one engine and one registry per app."""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app

from ..layers import layer_import, layer_store
from ..layers.locality import load_locality
from ..layers.registry import LayerRegistry
from ..layers.store import init_db, make_engine


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    init_db(engine)
    registry = LayerRegistry(load_locality(app.config["LOCALITY_DIR"]), engine)
    # Imported layers live in the store; files an earlier release kept in the folder move there once.
    layer_store.adopt_files(engine, app.config["LAYER_OVERRIDE_DIR"], registry.names())
    layer_import.remove_stale_work(app.config["LAYER_OVERRIDE_DIR"])
    app.extensions["dialogkarta.engine"] = engine
    app.extensions["dialogkarta.registry"] = registry


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


@contextmanager
def transaction():
    """Yield a connection inside a transaction that commits on success and rolls back on error."""
    with engine().begin() as conn:
        yield conn


@contextmanager
def reading():
    with engine().connect() as conn:
        yield conn
