"""Imported layers, kept in the store as versions beside the joins computed from them.

An import adds one row to ``layer_versions`` (the validated layer as GeoPackage bytes, WGS84) in
the same transaction that rewrites every proposal's joins, so a reader, another worker or a
process killed at any moment sees the old layer with the old joins or the new layer with the new
ones. A layer's current version is its highest ``version``; 0 means the bundled file. Earlier
versions stay as history (and travel with ``dialogkarta backup``). Layer files that earlier
releases kept in the override folder are adopted once, by ``adopt_files``. No Flask here.
"""

from __future__ import annotations

import logging
from datetime import datetime, UTC
from pathlib import Path
from typing import TypedDict, cast

from sqlalchemy import Connection, Engine, false, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from ..geo.errors import GeoError
from ..geo.io import gpkg_bytes, read_gpkg_bytes, read_layer
from . import layer_tables
from .schema import layer_features, layer_versions

BUNDLED = 0
log = logging.getLogger(__name__)


class LayerVersion(TypedDict):
    """One stored version of a layer, without its bytes."""

    layer: str
    version: int
    features: int
    source_name: str
    source_crs: str
    imported_at: datetime


def table_name(name: str) -> str:
    """Return the GeoPackage table name of a layer (underscores, not hyphens)."""
    return name.replace("-", "_")


def encode(frame, name: str) -> bytes:
    """Return a WGS84 frame as the GeoPackage bytes a version stores."""
    return gpkg_bytes(frame, table_name(name))


def decode(data: bytes):
    """Return the WGS84 frame a version's bytes hold."""
    return read_gpkg_bytes(data)


# The advisory lock key (PostgreSQL) that pairs "the layers" with "the joins computed from them".
LAYERS_LOCK_KEY = 5_810_241_807


# Asked by every new proposal: built once, so SQLAlchemy reuses their cache keys.
_HOLD_ON_SQLITE = update(layer_versions).where(false()).values(version=layer_versions.c.version)
_CURRENT_VERSIONS = select(layer_versions.c.layer, func.max(layer_versions.c.version)).group_by(layer_versions.c.layer)


def hold_layers(conn: Connection, exclusive: bool = False) -> None:
    """Keep every layer as it is until this transaction ends, so joins computed now are still true at commit.

    Joining a proposal holds it shared, importing a layer exclusively: a proposal joined against
    the old layer can never be committed after the new layer and its recomputed joins. PostgreSQL:
    a transaction-level advisory lock. SQLite: the store's one write lock, which a write that
    changes no row takes as well (an import takes it with its first write).
    """
    if conn.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(select(getattr(func, function)(LAYERS_LOCK_KEY)))
    else:
        conn.execute(_HOLD_ON_SQLITE)


def current_version(conn: Connection, layer: str) -> int:
    """Return the layer's current version (``BUNDLED`` when it was never imported)."""
    return conn.execute(select(func.max(layer_versions.c.version)).where(layer_versions.c.layer == layer)).scalar() or BUNDLED


def current_versions(conn: Connection) -> dict[str, int]:
    """Return ``{layer: current version}`` for every imported layer, in one query."""
    return dict(conn.execute(_CURRENT_VERSIONS).all())


def payload(conn: Connection, layer: str, version: int) -> bytes:
    """Return the GeoPackage bytes of one stored version."""
    data = conn.execute(
        select(layer_versions.c.gpkg).where(layer_versions.c.layer == layer, layer_versions.c.version == version)
    ).scalar()
    if data is None:
        raise LookupError(f"no stored version {version} of layer {layer!r}")
    return bytes(data)


def add_version(
    conn: Connection,
    layer: str,
    data: bytes,
    *,
    features: int,
    source_name: str = "",
    source_crs: str = "",
    now: datetime | None = None,
    frame=None,
) -> int:
    """Store ``data`` as the layer's next version and return its number (the caller's transaction commits it).

    Its features go into ``layer_features`` in the same transaction (``frame``: the frame ``data``
    holds, when the caller has it already). The number is taken in the same statement that
    inserts it. Two imports of one layer at once: SQLite runs them one after the other; elsewhere
    the second fails with ``IntegrityError``.
    """
    next_version = select(
        literal(layer),
        func.coalesce(func.max(layer_versions.c.version), BUNDLED) + 1,
        literal(data, layer_versions.c.gpkg.type),
        literal(features),
        literal(source_name[:200]),
        literal(source_crs[:64]),
        literal(now or datetime.now(UTC), layer_versions.c.imported_at.type),
    ).where(layer_versions.c.layer == layer)
    conn.execute(
        insert(layer_versions).from_select(
            ["layer", "version", "gpkg", "features", "source_name", "source_crs", "imported_at"], next_version
        )
    )
    version = current_version(conn, layer)
    layer_tables.write_frame(conn, layer, version, decode(data) if frame is None else frame)
    return version


def add_missing_rows(engine: Engine) -> list[tuple[str, int]]:
    """Write ``layer_features`` rows for stored versions that have none; return those versions.

    A store made before the layers were kept as rows, or restored from a backup of one, holds
    versions only as GeoPackage bytes. Safe in several processes at once; costs one query when
    nothing is missing.
    """
    with engine.connect() as conn:
        stored = set(conn.execute(select(layer_versions.c.layer, layer_versions.c.version)).all())
        present = set(conn.execute(select(layer_features.c.layer, layer_features.c.version).distinct()).all())
    missing = sorted((str(layer), int(version)) for layer, version in stored - present)
    for layer, version in missing:
        try:
            with engine.begin() as conn:
                layer_tables.write_frame(conn, layer, version, decode(payload(conn, layer, version)))
        except IntegrityError:  # another process wrote them first
            continue
    return missing


def history(conn: Connection, layer: str | None = None) -> list[LayerVersion]:
    """Return the stored versions (newest first), of one layer or all."""
    columns = [layer_versions.c[name] for name in LayerVersion.__annotations__]
    query = select(*columns).order_by(layer_versions.c.layer, layer_versions.c.version.desc())
    if layer is not None:
        query = query.where(layer_versions.c.layer == layer)
    return [cast(LayerVersion, dict(row._mapping)) for row in conn.execute(query)]


def adopt_files(engine: Engine, folder, names, now: datetime | None = None) -> list[str]:
    """Store ``<folder>/<name>.gpkg`` files an earlier release imported, for layers with no stored version.

    Their joins were computed from those files, so storing them unchanged keeps layer and joins
    in step. Safe to run in several workers at once; returns the layers adopted.
    """
    if not folder or not Path(folder).is_dir():
        return []
    adopted = []
    for name in names:
        path = Path(folder) / f"{name}.gpkg"
        if not path.is_file():
            continue
        with engine.connect() as conn:
            if current_version(conn, name) != BUNDLED:
                continue
        try:
            frame = read_layer(path)
        except GeoError:
            log.warning("the imported layer file %s cannot be read; %s is served from the bundled file", path, name)
            continue
        try:
            with engine.begin() as conn:
                if current_version(conn, name) != BUNDLED:
                    continue
                add_version(
                    conn,
                    name,
                    encode(frame, name),
                    features=len(frame),
                    source_name=f"{path.name} (earlier release)",
                    source_crs="EPSG:4326",
                    now=now,
                )
        except IntegrityError:  # another worker adopted it first
            continue
        adopted.append(name)
        log.info("adopted the imported layer file %s into the store", path)
    return adopted
