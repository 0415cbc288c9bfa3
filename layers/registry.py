"""The layer registry: a locality's declared layers, loaded once and kept in WGS84.

Layers are read through ``geo.io`` and cached with the spatial indexes the joins need.
A planner's imported file replaces a bundled layer by being placed in the override folder
(``<override_dir>/<layer name>.gpkg``); the registry prefers it over the bundled file.
"""
from __future__ import annotations

import threading
from pathlib import Path

import geopandas as gpd
import shapely

from geo.io import read_layer
from geo.joins import AreaIndex, ServiceIndex
from layers.locality import Layer, Locality


class UnknownLayer(KeyError):
    """No layer of that name is declared for the locality."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown layer {self.name!r}"


class LayerRegistry:
    """Loads and caches a locality's layers; thread-safe for a multi-threaded server."""

    def __init__(self, locality: Locality, override_dir=None):
        self.locality = locality
        self.override_dir = Path(override_dir) if override_dir else None
        self._layers = {layer.name: layer for layer in locality.layers}
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._lock = threading.RLock()
        self._indexes: dict[str, object] = {}
        self.version = 0  # bumped whenever a layer is replaced, so caches can key on it

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

    def source_path(self, name: str) -> Path:
        """Return the file a layer is read from: an imported override, else the bundled file."""
        layer = self.get(name)
        if self.override_dir is not None:
            override = self.override_dir / f"{name}.gpkg"
            if override.exists():
                return override
        return self.locality.directory / layer.path

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """Return the layer as a WGS84 GeoDataFrame (cached; do not mutate it)."""
        with self._lock:
            if name not in self._frames:
                self._frames[name] = read_layer(self.source_path(name))
            return self._frames[name]

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached frames and indexes (one layer, or all) after a layer changed."""
        with self._lock:
            if name is None:
                self._frames.clear()
            else:
                self._frames.pop(name, None)
            self._indexes.clear()
            self.version += 1

    # The three layers the joins and validation use, by role.
    def boundary(self):
        """Return the locality's participation boundary as one WGS84 geometry."""
        return self._cached("boundary", lambda: shapely.union_all(self.frame(self.locality.boundary_layer).geometry.to_numpy()))

    def areas(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("areas").name)

    def services(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("services").name)

    def area_index(self) -> AreaIndex:
        return self._cached("areas", lambda: AreaIndex(self.areas()))

    def service_index(self) -> ServiceIndex:
        return self._cached("services", lambda: ServiceIndex(self.services()))

    def _cached(self, key, build):
        with self._lock:
            if key not in self._indexes:
                self._indexes[key] = build()
            return self._indexes[key]
