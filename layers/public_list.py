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

from typing import TYPE_CHECKING

import operator
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from ..geo.generalise import snap_to_grid
from . import store
from .lon_order import LonOrder
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


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
    features: list[bytes]  # never changed in place: an update makes a new list
    order: LonOrder

    def matching(self, bbox=None, category: str | None = None, status: str | None = None) -> np.ndarray:
        """Return the positions (in id order) of the proposals inside ``bbox`` (true positions) with that category/status."""
        if bbox is not None:
            found = self.order.band(self.lon, bbox[0], bbox[2])
            if found is not None:  # a small box: check the few proposals in its band of longitude
                lat = self.lat[found]
                keep = (lat >= bbox[1]) & (lat <= bbox[3])
                if category is not None:
                    keep &= self.category[found] == category
                if status is not None:
                    keep &= self.status[found] == status
                inside = found[keep]
                inside.sort()
                return inside
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

    def pick(self, positions: np.ndarray) -> Sequence[bytes]:
        """Return the serialised features at ``positions``."""
        wanted = positions.tolist()
        if len(wanted) < 2:
            return [self.features[i] for i in wanted]
        return operator.itemgetter(*wanted)(self.features)


BUILD_PAGE = 5_000  # proposals read and serialised at a time when the whole list is read: memory stays bounded


@dataclass(frozen=True)
class _Rows:
    """Proposals read from the store, as the snapshot's columns (ids ascending)."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    category: np.ndarray
    status: np.ndarray
    features: list[bytes]


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
        self._words: dict[str, str] = {}  # one str object per category/status value, shared by every row

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
                snapshot = self._read_all(conn, epoch, version)
            else:
                snapshot = _apply(
                    snapshot, version, changed, self._read(conn, store.list_public(conn, ids=changed) if changed else [])
                )
            self._snapshot = snapshot
            return snapshot

    def _read_all(self, conn: Connection, epoch: str, version: int) -> Snapshot:
        parts, after = [], 0
        while True:
            records = store.list_public(conn, after_id=after, limit=BUILD_PAGE)
            if not records:
                break
            parts.append(self._read(conn, records, between=(records[0]["id"], records[-1]["id"])))
            after = records[-1]["id"]
        lon = np.concatenate([p.lon for p in parts]) if parts else np.array([])
        return Snapshot(
            epoch,
            version,
            np.concatenate([p.ids for p in parts]) if parts else np.array([], dtype=np.int64),
            lon,
            np.concatenate([p.lat for p in parts]) if parts else np.array([]),
            np.concatenate([p.category for p in parts]) if parts else np.array([], dtype=object),
            np.concatenate([p.status for p in parts]) if parts else np.array([], dtype=object),
            [feature for p in parts for feature in p.features],
            LonOrder.build(lon),
        )

    def _read(self, conn: Connection, records: list[dict], between=None) -> _Rows:
        # records in id order; their development areas in one more query
        if not records:
            return _Rows(np.array([], dtype=np.int64), np.array([]), np.array([]), _objects([]), _objects([]), [])
        ids = [r["id"] for r in records]
        areas = store.public_area_ids(conn, between=between) if between else store.public_area_ids(conn, ids=ids)
        lon = np.array([r["lon"] for r in records], dtype=float)
        lat = np.array([r["lat"] for r in records], dtype=float)
        published = self._published(lon, lat)
        words = self._words
        return _Rows(
            np.array(ids, dtype=np.int64),
            lon,
            lat,
            _objects([words.setdefault(r["category"], r["category"]) for r in records]),
            _objects([words.setdefault(r["status"], r["status"]) for r in records]),
            [self._feature(r, areas.get(r["id"], []), position) for r, position in zip(records, published)],
        )

    def _published(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[float, float]]:
        if self.grid_m and len(lon):
            lon, lat = snap_to_grid(lon, lat, self.grid_m)
        return list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist()))

    def _feature(self, record: dict, area_ids: list[str], position: tuple[float, float]) -> bytes:
        # Copied to its own size: orjson's answer keeps a 4 KB buffer, 400 MB for 100 000 features of 450 bytes.
        return bytes(
            memoryview(
                orjson.dumps(
                    {
                        "type": "Feature",
                        "id": record["public_id"],
                        "geometry": {"type": "Point", "coordinates": [round(position[0], 7), round(position[1], 7)]},
                        "properties": self.properties({**record, "area_ids": area_ids}),
                    }
                )
            )
        )


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _apply(snapshot: Snapshot, version: int, changed: list[int], rows: _Rows) -> Snapshot:
    """Return ``snapshot`` with the ``changed`` proposals replaced by ``rows`` (those still public), at ``version``."""
    old = snapshot.ids
    if not len(old) or (len(rows.ids) == len(changed) and changed[0] > old[-1]):
        # Only new proposals, after every listed one (the common write): append.
        lon = np.concatenate([snapshot.lon, rows.lon])
        return Snapshot(
            snapshot.epoch,
            version,
            np.concatenate([old, rows.ids]),
            lon,
            np.concatenate([snapshot.lat, rows.lat]),
            np.concatenate([snapshot.category, rows.category]),
            np.concatenate([snapshot.status, rows.status]),
            snapshot.features + rows.features,
            snapshot.order.appended(lon),
        )
    wanted = np.asarray(changed, dtype=np.int64)
    where = np.minimum(np.searchsorted(old, wanted), len(old) - 1)
    listed = old[where] == wanted
    if listed.all() and np.array_equal(rows.ids, wanted):
        # Listed proposals that changed and stay public (a status, a support): replace in place.
        positions = where.tolist()
        moved = not np.array_equal(snapshot.lon[positions], rows.lon)
        lon, lat, category, status = (a.copy() for a in (snapshot.lon, snapshot.lat, snapshot.category, snapshot.status))
        for array, new in ((lon, rows.lon), (lat, rows.lat), (category, rows.category), (status, rows.status)):
            array[positions] = new
        features = list(snapshot.features)
        for position, feature in zip(positions, rows.features):
            features[position] = feature
        by_lon = LonOrder.build(lon) if moved else snapshot.order
        return Snapshot(snapshot.epoch, version, old, lon, lat, category, status, features, by_lon)
    keep = np.ones(len(old), dtype=bool)
    keep[where[listed]] = False
    kept = np.flatnonzero(keep)
    all_ids = np.concatenate([old[kept], rows.ids])
    order = np.argsort(all_ids, kind="stable")
    merged = [snapshot.features[i] for i in kept.tolist()] + rows.features
    lon = np.concatenate([snapshot.lon[kept], rows.lon])[order]
    return Snapshot(
        snapshot.epoch,
        version,
        all_ids[order],
        lon,
        np.concatenate([snapshot.lat[kept], rows.lat])[order],
        np.concatenate([snapshot.category[kept], rows.category])[order],
        np.concatenate([snapshot.status[kept], rows.status])[order],
        [merged[i] for i in order.tolist()],
        LonOrder.build(lon),
    )


def collection(features: Sequence[bytes], matched: int, links: list[dict]) -> bytes:
    """Return a GeoJSON FeatureCollection from serialised features, without parsing them again."""
    head = orjson.dumps({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features)})
    return head[:-1] + b',"features":[' + b",".join(features) + b'],"links":' + orjson.dumps(links) + b"}"
