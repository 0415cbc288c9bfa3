"""The layer registry: a locality's declared layers, loaded once and kept in WGS84.

Layers are read through ``geo.io`` and cached with the spatial indexes the joins need. A layer a
planner imported lives in the store (``layers.layer_store``); the registry asks the store for
each layer's current version (one indexed query) and serves the bundled file while there is
none. The cache is keyed on that version, so every process sees an import as soon as it commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from ..geo.io import read_layer
from ..geo.joins import AreaIndex, ServiceIndex
from . import layer_store
from .locality import Layer, Locality
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")


class UnknownLayer(KeyError):
    """No layer of that name is declared for the locality."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown layer {self.name!r}"


class LayerRegistry:
    """Loads and caches a locality's layers; thread-safe for a multi-threaded server."""

    def __init__(self, locality: Locality, engine: Engine | None = None):
        self.locality = locality
        self.engine = engine  # None: bundled layers only
        self._layers = {layer.name: layer for layer in locality.layers}
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._versions: dict[str, int] = {}  # the stored version each cached frame came from
        self._pinned: dict[str, gpd.GeoDataFrame] = {}
        self._lock = threading.RLock()
        self._indexes: dict[str, object] = {}
        self._generation = 0  # bumped whenever a cached layer is dropped
        self._checked = threading.local()  # versions read once for an operation on this thread (see checked)

    def __iter__(self):
        return iter(self._layers.values())

    def names(self) -> list[str]:
        return list(self._layers)

    def get(self, name: str) -> Layer:
        try:
            return self._layers[name]
        except KeyError:
            raise UnknownLayer(name) from None

    def by_role(self, role: str) -> Layer:
        layer = next((layer for layer in self._layers.values() if layer.role == role), None)
        if layer is None:
            raise UnknownLayer(f"<role {role}>")
        return layer

    @property
    def version(self) -> int:
        """A number that changes whenever a layer changes, checked against the store first: a cache key."""
        self.refresh()
        return self._generation

    @contextmanager
    def checked(self, conn: Connection | None = None, versions: dict[str, int] | None = None) -> Iterator["LayerRegistry"]:
        """Ask the store for every layer's version once; inside, this thread's layer uses take those.

        One query for an operation that uses several layers (a proposal: boundary, areas,
        services). Pass the transaction's ``conn`` after ``layer_store.hold_layers`` so the
        versions are the ones held until its commit, or ``versions`` already read (no query).
        """
        if self.engine is None:
            yield self
            return
        if versions is not None:
            versions = dict(versions)
        elif conn is None:
            with self.engine.connect() as own:
                versions = layer_store.current_versions(own)
        else:
            versions = layer_store.current_versions(conn)
        previous = getattr(self._checked, "versions", None)
        self._checked.versions = versions
        try:
            yield self
        finally:
            self._checked.versions = previous

    def cached_versions(self) -> dict[str, int]:
        """Return the versions of the imported layers this process has cached (no query; they may be outdated).

        For work that is checked against the held versions before it counts (``proposals.store_prepared``).
        """
        with self._lock:
            return {name: version for name, version in self._versions.items() if version != layer_store.BUNDLED}

    def checked_versions(self) -> dict[str, int] | None:
        """Return the versions this thread's ``checked`` block read (None outside one, or without a store: ``{}``)."""
        if self.engine is None:
            return {}
        return getattr(self._checked, "versions", None)

    def current_version(self, name: str) -> int:
        """Return the layer's current version in the store (``layer_store.BUNDLED`` when never imported)."""
        self.get(name)
        if self.engine is None:
            return layer_store.BUNDLED
        checked = getattr(self._checked, "versions", None)
        if checked is not None:
            return checked.get(name, layer_store.BUNDLED)
        with self.engine.connect() as conn:
            return layer_store.current_version(conn, name)

    def refresh(self) -> None:
        """Drop cached layers whose current version changed (one query for all)."""
        if self.engine is None:
            return
        with self.engine.connect() as conn:
            current = layer_store.current_versions(conn)
        with self._lock:
            for name in list(self._frames):
                if self._versions.get(name) != current.get(name, layer_store.BUNDLED):
                    self.invalidate(name)

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """Return the layer as a WGS84 GeoDataFrame (cached; do not mutate it).

        The store is asked for the layer's current version on every call, so a layer imported by
        another process (the CLI, another server worker) is served from its commit on.
        """
        self.get(name)
        if name in self._pinned:
            return self._pinned[name]
        with self._lock:
            version = self.current_version(name)
            if name in self._frames and self._versions.get(name) != version:
                self.invalidate(name)
            if name not in self._frames:
                self._frames[name] = self._load(name, version)
                self._versions[name] = version
            return self._frames[name]

    def _load(self, name: str, version: int) -> gpd.GeoDataFrame:
        if version == layer_store.BUNDLED:
            return read_layer(self.locality.directory / self.get(name).path)
        assert self.engine is not None, "a stored layer version needs the registry's engine"
        with self.engine.connect() as conn:
            return layer_store.decode(layer_store.payload(conn, name, version))

    def with_frame(self, name: str, frame: gpd.GeoDataFrame) -> "LayerRegistry":
        """Return a registry that serves ``frame`` as layer ``name`` and the others as this one does.

        For computing joins against a layer before the import that brings it commits.
        """
        self.get(name)
        other = LayerRegistry(self.locality, self.engine)
        other._pinned = {**self._pinned, name: frame}
        return other

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached frames and indexes (one layer, or all) after a layer changed."""
        with self._lock:
            if name is None:
                self._frames.clear()
                self._versions.clear()
            else:
                self._frames.pop(name, None)
                self._versions.pop(name, None)
            self._indexes.clear()
            self._generation += 1

    # The three layers the joins and validation use, by role.
    def boundary(self):
        """Return the locality's participation boundary as one WGS84 geometry."""
        return self._cached("boundary", self.locality.boundary_layer, lambda frame: shapely.union_all(frame.geometry.to_numpy()))

    def areas(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("areas").name)

    def services(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("services").name)

    def area_index(self) -> AreaIndex:
        return self._cached("areas", self.by_role("areas").name, AreaIndex)

    def service_index(self) -> ServiceIndex:
        return self._cached("services", self.by_role("services").name, ServiceIndex)

    def area_rows(self) -> dict:
        """Return ``{area id: its properties}`` of the development areas (cached with the indexes; do not mutate)."""
        return self._cached(
            "area_rows",
            self.by_role("areas").name,
            lambda frame: {row["id"]: row for row in frame.drop(columns=frame.geometry.name).to_dict("records")},
        )

    def _cached(self, key: str, layer_name: str, build):
        # frame() notices a new version and clears the indexes built from the old one.
        with self._lock:
            frame = self.frame(layer_name)
            if key not in self._indexes:
                self._indexes[key] = build(frame)
            return self._indexes[key]
