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

from ..geo.io import read_layer
from ..geo.joins import AreaIndex, ServiceIndex
from .locality import Layer, Locality


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
        self._stamps: dict[str, tuple] = {}
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

    def _stamp(self, name: str) -> tuple:
        path = self.source_path(name)
        try:
            return path, path.stat().st_mtime_ns
        except FileNotFoundError:
            return path, None

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """Return the layer as a WGS84 GeoDataFrame (cached; do not mutate it).

        The cache is keyed on the source file and its modification time, so a layer imported by
        another process (the CLI, another server worker) is picked up on the next call.
        """
        with self._lock:
            stamp = self._stamp(name)
            if name in self._frames and self._stamps.get(name) != stamp:
                self.invalidate(name)
            if name not in self._frames:
                self._frames[name] = read_layer(stamp[0])
                self._stamps[name] = stamp
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
        return self._cached("boundary", self.locality.boundary_layer, lambda frame: shapely.union_all(frame.geometry.to_numpy()))

    def areas(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("areas").name)

    def services(self) -> gpd.GeoDataFrame:
        return self.frame(self.by_role("services").name)

    def area_index(self) -> AreaIndex:
        return self._cached("areas", self.by_role("areas").name, AreaIndex)

    def service_index(self) -> ServiceIndex:
        return self._cached("services", self.by_role("services").name, ServiceIndex)

    def _cached(self, key: str, layer_name: str, build):
        # frame() notices a replaced file and clears the indexes built from the old one.
        with self._lock:
            frame = self.frame(layer_name)
            if key not in self._indexes:
                self._indexes[key] = build(frame)
            return self._indexes[key]
