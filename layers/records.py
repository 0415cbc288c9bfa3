"""The shapes of the records that travel between the store, the joins and the views.

Declared so that a reader (and mypy) knows what a proposal record or a join result holds
without running the code; they are plain dicts at run time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class ServiceJoin(TypedDict):
    """The nearest service of one kind to a point, and how many of that kind lie within the kind's
    radius, as the joins compute them (metres in SWEREF 99 TM)."""

    kind: str
    service_id: str
    service_name: str
    distance_m: float
    radius_m: float
    within_count: int


class JoinResult(TypedDict):
    """What one proposal's position joins to: the development areas it lies in, the nearest services."""

    area_ids: list[str]
    nearest: list[ServiceJoin]


class NearestService(TypedDict):
    """A stored join, keyed by kind in a record's ``nearest``: the service and its distance (0.1 m)."""

    id: str
    name: str
    distance_m: float


class WithinCount(TypedDict):
    """A stored count, keyed by kind in a record's ``within``: services of that kind within ``radius_m``."""

    radius_m: float
    count: int


class HistoryEntry(TypedDict):
    status: str
    note: str | None
    role: str
    changed_at: datetime


class ProposalRecord(TypedDict, total=False):
    """A stored proposal with its joins and support count (``layers.store`` reads it; views pick fields).

    ``id`` is internal; ``public_id`` is what permalinks and outputs carry. ``history`` is present
    when a single proposal is read. Contact details are never part of a record.
    """

    id: int
    public_id: str
    lon: float
    lat: float
    category: str
    title: str
    description: str
    channel: str
    meeting: str | None
    status: str
    department: str | None
    also_departments: str
    hidden: bool
    hidden_reason: str | None
    created_at: datetime
    updated_at: datetime
    area_ids: list[str]
    nearest: dict[str, NearestService]
    within: dict[str, WithinCount]  # planner-only: never copied into a public view
    support_count: int
    history: list[HistoryEntry]
    shape: dict  # a line or area proposal's shape and its joins (layers/proposal_shapes.py); {"kind": "point"} otherwise
