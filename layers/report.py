"""Filtering and counting proposals for the planner's overlay and summary report.

Plain functions over the records ``layers.store.list_proposals`` returns; no Flask, no
drawing (charts are drawn by ``webmap.planner_report``). Counts per development area use the
stored join results (``area_ids``), the same ones the proposal pages show.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime, UTC
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from .schema import proposal_areas, proposal_services, proposals

FILTERS = ("category", "status", "channel", "department", "area", "date_from", "date_to", "near_kind", "near_min")
NEAR_MIN_MAX = 100_000


class NearFilterError(ValueError):
    """The "at least N services of a kind within its radius" filter got something else."""


_COLUMNS = (
    "id",
    "public_id",
    "lon",
    "lat",
    "category",
    "title",
    "status",
    "channel",
    "department",
    "also_departments",
    "hidden",
    "created_at",
)


def load_records(conn: Connection, timezone: str = "UTC") -> list[dict]:
    """Return every proposal (hidden ones too) with its development areas and ``within`` counts
    (``{kind: services within the kind's radius}``), oldest first, ``created_at`` in ``timezone``
    (the locality's: date filters and the timeline count the days its residents live by).

    Three plain table reads instead of ``store.list_proposals``: the overlay and the report need
    neither the nearest services' names nor support counts (about 5x faster at 10 000 proposals).
    """
    areas: dict[int, list[str]] = {}
    for proposal_id, area_id in conn.execute(
        select(proposal_areas.c.proposal_id, proposal_areas.c.area_id).order_by(proposal_areas.c.area_id)
    ):
        areas.setdefault(proposal_id, []).append(area_id)
    within: dict[int, dict[str, int]] = {}
    services = proposal_services.c
    for proposal_id, kind, count in conn.execute(
        select(services.proposal_id, services.kind, services.within_count).where(services.within_count.is_not(None))
    ):
        within.setdefault(proposal_id, {})[kind] = count
    records = []
    zone = ZoneInfo(timezone)
    query = select(*(proposals.c[name] for name in _COLUMNS)).order_by(proposals.c.created_at, proposals.c.id)
    for row in conn.execute(query):
        record = dict(row._mapping)
        created = record["created_at"]
        record["created_at"] = (created.replace(tzinfo=UTC) if created.tzinfo is None else created).astimezone(zone)
        record["area_ids"] = areas.get(record["id"], [])
        record["within"] = within.get(record["id"], {})
        records.append(record)
    return records


def _day(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def filter_records(
    records,
    *,
    category=None,
    status=None,
    channel=None,
    department=None,
    area=None,
    date_from=None,
    date_to=None,
    near_kind=None,
    near_min=None,
    include_hidden=True,
) -> list[dict]:
    """Return the records matching every given filter (empty values are ignored; dates inclusive).

    ``department`` matches the responsible department or one informed too. ``near_kind`` keeps
    proposals with at least ``near_min`` (1 when not given) services of that kind within the
    kind's radius; a proposal whose counts are not computed yet has none.
    """
    start, end = _day(date_from), _day(date_to)
    least = _at_least(near_min) if near_kind else 0
    result = []
    for r in records:
        if not include_hidden and r.get("hidden"):
            continue
        if category and r["category"] != category:
            continue
        if status and r["status"] != status:
            continue
        if channel and r["channel"] != channel:
            continue
        if department and department != r.get("department") and department not in (r.get("also_departments") or "").split(","):
            continue
        if area and area not in r.get("area_ids", ()):
            continue
        if near_kind and r.get("within", {}).get(near_kind, 0) < least:
            continue
        created = r["created_at"].date() if isinstance(r["created_at"], datetime) else _day(r["created_at"])
        if start and (created is None or created < start):
            continue
        if end and (created is None or created > end):
            continue
        result.append(r)
    return result


def _at_least(value) -> int:
    if value in (None, ""):
        return 1
    text = str(value)
    if not (text.isascii() and text.isdigit()) or int(text) > NEAR_MIN_MAX:
        raise NearFilterError(f"expected a whole number of services from 0 to {NEAR_MIN_MAX}, got {value!r}")
    return int(text)


def area_counts(records, area_ids) -> dict[str, int]:
    """Return ``{area id: number of records lying in it}`` for every area, zeros included."""
    counts = Counter(a for r in records for a in r.get("area_ids", ()))
    return {area_id: counts.get(area_id, 0) for area_id in area_ids}


def counts_by(records, key: str) -> dict[str, int]:
    """Return counts of ``record[key]`` (missing as ''), most common first."""
    return dict(Counter((r.get(key) or "") for r in records).most_common())


def timeline(records, period: str = "week") -> list[tuple[str, int]]:
    """Return (period start as YYYY-MM-DD, count) of submissions, oldest first; ``week`` or ``day``."""
    counter: Counter = Counter()
    for r in records:
        day = r["created_at"].date()
        if period == "week":
            day = date.fromordinal(day.toordinal() - day.weekday())
        counter[day.isoformat()] += 1
    return sorted(counter.items())


def median_hours_to_first_answer(records, first_answers: dict) -> float | None:
    """Return the median hours from submission to first answer among answered records, or None."""
    hours = [(first_answers[r["id"]] - r["created_at"]).total_seconds() / 3600 for r in records if r["id"] in first_answers]
    return statistics.median(hours) if hours else None


def summary(records, area_ids, first_answers: dict) -> dict:
    """Return every figure of the summary report."""
    answered = sum(1 for r in records if r["id"] in first_answers)
    return {
        "total": len(records),
        "hidden": sum(1 for r in records if r.get("hidden")),
        "answered": answered,
        "by_area": area_counts(records, area_ids),
        "outside_areas": sum(1 for r in records if not r.get("area_ids")),
        "by_category": counts_by(records, "category"),
        "by_channel": counts_by(records, "channel"),
        "by_status": counts_by(records, "status"),
        "by_department": counts_by(records, "department"),
        "timeline": timeline(records),
        "median_hours_to_first_answer": median_hours_to_first_answer(records, first_answers),
    }
