"""How many public proposals a map view holds, per development area, and how many of them have a public answer.

For the resident map's text beside the map (issue #14: "12 förslag i Kvarnskon–Vattenrännan, 3 besvarade").
The public proposals' positions (generalised by ``grid_m``, as the public map shows them), their development
areas and whether they have at least one public answer are read once per version of the store and layers;
each view is then counted with arrays. Hidden proposals are never read. No Flask here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, select

from . import map_view
from .schema import answers, proposal_areas
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


@dataclass(frozen=True)
class AreaCount:
    """Proposals of one development area inside a view, and how many of them have been answered."""

    area_id: str
    count: int
    answered: int


@dataclass(frozen=True)
class ViewCounts:
    """A view's public proposals: all, answered, per development area (most first), and those in no area."""

    count: int
    answered: int
    areas: list[AreaCount]
    elsewhere: int
    elsewhere_answered: int


@dataclass(frozen=True)
class _Table:
    lon: np.ndarray
    lat: np.ndarray
    answered: np.ndarray  # bool per proposal
    member_row: np.ndarray  # (row, area) pairs: the proposal at ``row`` lies in ``area_ids[area]``
    member_area: np.ndarray
    area_ids: list[str]
    in_an_area: np.ndarray  # bool per proposal


def _read(conn: Connection, grid_m: float) -> _Table:
    table = map_view.load_table(conn, include_hidden=False, grid_m=grid_m)  # id order, the public map's positions
    ids = table.id

    def rows_of(proposal_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each id's row in the table, and which ids have one (a hidden proposal has none)."""
        at = np.clip(np.searchsorted(ids, proposal_ids), 0, max(len(ids) - 1, 0))
        found = (ids[at] == proposal_ids) if len(ids) else np.zeros(len(proposal_ids), dtype=bool)
        return at, found

    answered_ids = np.array(conn.execute(select(answers.c.proposal_id).distinct()).scalars().all(), dtype="int64")
    answered = np.zeros(len(ids), dtype=bool)
    at, found = rows_of(answered_ids)
    answered[at[found]] = True

    pairs = conn.execute(select(proposal_areas.c.proposal_id, proposal_areas.c.area_id)).all()
    area_ids = sorted({area for _pid, area in pairs})
    index = {area: i for i, area in enumerate(area_ids)}
    at, found = rows_of(np.array([pid for pid, _area in pairs], dtype="int64"))
    member_area = np.array([index[area] for _pid, area in pairs], dtype="int64")[found]
    member_row = at[found]
    in_an_area = np.zeros(len(ids), dtype=bool)
    in_an_area[member_row] = True
    return _Table(table.lon, table.lat, answered, member_row, member_area, area_ids, in_an_area)


class ViewSummary:
    """The public proposals' counts per view, cached per version of the store and layers; thread-safe."""

    def __init__(self, grid_m: float = 0):
        self.grid_m = grid_m
        self._lock = threading.Lock()
        self._cached: tuple[tuple, _Table] | None = None

    def _table(self, conn: Connection, layers_version) -> _Table:
        key = (map_view.store_version(conn), layers_version)
        cached = self._cached
        if cached is None or cached[0] != key:
            with self._lock:
                cached = self._cached
                if cached is None or cached[0] != key:
                    cached = self._cached = (key, _read(conn, self.grid_m))
        return cached[1]

    def counts(self, conn: Connection, bbox: tuple[float, float, float, float], layers_version=None) -> ViewCounts:
        """Count the public proposals inside ``bbox`` (min lon, min lat, max lon, max lat; edges included)."""
        table = self._table(conn, layers_version)
        min_lon, min_lat, max_lon, max_lat = bbox
        inside = (table.lon >= min_lon) & (table.lon <= max_lon) & (table.lat >= min_lat) & (table.lat <= max_lat)
        members = inside[table.member_row]
        areas_n = len(table.area_ids)
        per_area = np.bincount(table.member_area[members], minlength=areas_n)
        answered_per_area = np.bincount(
            table.member_area[members], weights=table.answered[table.member_row[members]], minlength=areas_n
        )
        areas = [AreaCount(table.area_ids[i], int(per_area[i]), int(answered_per_area[i])) for i in range(areas_n) if per_area[i]]
        areas.sort(key=lambda area: (-area.count, area.area_id))
        elsewhere = inside & ~table.in_an_area
        return ViewCounts(
            count=int(inside.sum()),
            answered=int((inside & table.answered).sum()),
            areas=areas,
            elsewhere=int(elsewhere.sum()),
            elsewhere_answered=int((elsewhere & table.answered).sum()),
        )
