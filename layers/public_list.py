"""The public proposal list each process keeps in memory, brought up to date by the store's version.

A ``PublicList`` holds every public proposal's light list feature (the caller picks its properties
from the public columns, support count and development area ids) serialised once, in id order,
with the true positions, categories and statuses as arrays for filtering. Each read asks the
store for its ``(epoch, version)`` (one primary-key read); when the version moved, only the
proposals changed since are read again and replaced, added or dropped; a new epoch (a restore,
a layer import) or a process too far behind rebuilds the whole list. Writes bump the version in
their own transaction (``store.note_changes``), so any process sees a write once it is committed.
No Flask here: the API pages through a ``Snapshot``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
from sqlalchemy import Connection

from ..geo.generalise import snap_to_grid
from . import store


@dataclass(frozen=True)
class Snapshot:
    """The list at one version: parallel arrays in id order and each proposal's feature as JSON bytes."""

    epoch: str
    version: int
    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray
    status: np.ndarray
    features: tuple[bytes, ...]

    def matching(self, bbox=None, category: str | None = None, status: str | None = None) -> np.ndarray:
        """Return the positions (in id order) of the proposals inside ``bbox`` (true positions) with that category/status."""
        mask = np.ones(len(self.ids), dtype=bool)
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            mask &= (self.lon >= min_lon) & (self.lon <= max_lon) & (self.lat >= min_lat) & (self.lat <= max_lat)
        if category is not None:
            mask &= self.category == category
        if status is not None:
            mask &= self.status == status
        return np.flatnonzero(mask)

    def after(self, positions: np.ndarray, after_id: int) -> np.ndarray:
        """Return the positions whose proposal id is greater than ``after_id`` (a keyset cursor)."""
        return positions[np.searchsorted(self.ids[positions], after_id, side="right") :]


def _empty(epoch: str, version: int) -> Snapshot:
    return Snapshot(
        epoch,
        version,
        np.array([], dtype=np.int64),
        np.array([]),
        np.array([]),
        np.array([], dtype=object),
        np.array([], dtype=object),
        (),
    )


class PublicList:
    """One process's copy of the public list; thread-safe.

    ``properties(record)`` picks a feature's properties from a record of public columns, support
    count and ``area_ids``; ``grid_m`` generalises the published positions.
    """

    def __init__(self, properties: Callable[[dict], dict], grid_m: float = 0):
        self.properties = properties
        self.grid_m = grid_m
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def current(self, conn: Connection) -> Snapshot:
        """Return the list as of the store's current version, reading only what changed since the last call."""
        epoch, version = store.list_version(conn)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.epoch == epoch and snapshot.version >= version:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.epoch == epoch and snapshot.version >= version:
                return snapshot  # another thread brought it up to date meanwhile
            changed = None
            if snapshot is not None and snapshot.epoch == epoch:
                changed = store.changed_since(conn, snapshot.version, version)
            if snapshot is None or changed is None:
                snapshot = self._rows_into(_empty(epoch, version), conn, None)
            else:
                snapshot = self._rows_into(snapshot, conn, changed, version)
            self._snapshot = snapshot
            return snapshot

    def _rows_into(self, snapshot: Snapshot, conn: Connection, ids: list[int] | None, version: int | None = None) -> Snapshot:
        # ids None: read every public proposal; else read these (the public ones among them) and replace them.
        records = store.list_public(conn, ids=ids) if ids is None or ids else []
        areas = store.public_area_ids(conn, ids) if records else {}
        new_ids = np.array([r["id"] for r in records], dtype=np.int64)
        lon = np.array([r["lon"] for r in records], dtype=float)
        lat = np.array([r["lat"] for r in records], dtype=float)
        features = [self._feature(r, areas.get(r["id"], []), public) for r, public in zip(records, self._published(lon, lat))]
        category = np.array([r["category"] for r in records], dtype=object)
        status = np.array([r["status"] for r in records], dtype=object)
        if ids is None:
            order = np.argsort(new_ids, kind="stable")
            return Snapshot(
                snapshot.epoch,
                snapshot.version,
                new_ids[order],
                lon[order],
                lat[order],
                category[order],
                status[order],
                tuple(features[i] for i in order.tolist()),
            )
        keep = ~np.isin(snapshot.ids, np.asarray(ids, dtype=np.int64))
        all_ids = np.concatenate([snapshot.ids[keep], new_ids])
        order = np.argsort(all_ids, kind="stable")
        kept = np.flatnonzero(keep)
        merged = [snapshot.features[i] for i in kept.tolist()] + features
        return Snapshot(
            snapshot.epoch,
            version if version is not None else snapshot.version,
            all_ids[order],
            np.concatenate([snapshot.lon[keep], lon])[order],
            np.concatenate([snapshot.lat[keep], lat])[order],
            np.concatenate([snapshot.category[keep], category])[order],
            np.concatenate([snapshot.status[keep], status])[order],
            tuple(merged[i] for i in order.tolist()),
        )

    def _published(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[float, float]]:
        if self.grid_m and len(lon):
            lon, lat = snap_to_grid(lon, lat, self.grid_m)
        return list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist()))

    def _feature(self, record: dict, area_ids: list[str], position: tuple[float, float]) -> bytes:
        return orjson.dumps(
            {
                "type": "Feature",
                "id": record["public_id"],
                "geometry": {"type": "Point", "coordinates": [round(position[0], 7), round(position[1], 7)]},
                "properties": self.properties({**record, "area_ids": area_ids}),
            }
        )


def collection(features: list[bytes], matched: int, links: list[dict]) -> bytes:
    """Return a GeoJSON FeatureCollection from serialised features, without parsing them again."""
    head = orjson.dumps({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features)})
    return head[:-1] + b',"features":[' + b",".join(features) + b'],"links":' + orjson.dumps(links) + b"}"
