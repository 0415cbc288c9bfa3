"""The activity plan: meetings, walks, surveys and other activities, with every revision kept.

Each create or update writes a numbered revision with what changed (``{field: [old, new]}``),
the role and the time; the user id is kept for the internal audit but never returned by the
public functions. Linked proposals are part of an activity and appear in its revisions.
Positions are WGS84 lon/lat and optional; callers check them against the locality. No Flask.
"""

from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import Connection, delete, func, insert, select, update

from ..geo.errors import UserError
from .schema import activities, activity_proposals, activity_revisions, proposals
from .store import aware, inserted_id, utcnow
from .vocabulary import ACTIVITY_KINDS, ACTIVITY_STATUSES

KINDS = tuple(ACTIVITY_KINDS)
STATUSES = tuple(ACTIVITY_STATUSES)
RELATIONS = ("produced", "answers")
FIELDS = ("kind", "title", "description", "date", "place", "lon", "lat", "status", "proposals")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidActivity(UserError):
    """An activity that cannot be saved; ``field`` names what to fix (messages in sv and en)."""

    code = "invalid_activity"

    def __init__(self, en: str, field: str | None = None, sv: str | None = None):
        super().__init__(sv or _SV.get(field or "", en), en, field=field)
        self.field = field


_SV = {
    "kind": "Välj ett slag av aktivitet.",
    "status": "Välj en status.",
    "title": "Rubriken ska ha 1–200 tecken.",
    "description": "Beskrivningen får ha högst 4000 tecken.",
    "place": "Platsen får ha högst 200 tecken.",
    "date": "Ange datum som ÅÅÅÅ-MM-DD.",
    "lon": "Ange både longitud och latitud, eller ingen av dem.",
}


def clean(fields: dict, conn) -> dict:
    """Return validated activity fields; ``proposals`` is a list of (public_id, relation) pairs."""
    kind = fields.get("kind")
    if kind not in KINDS:
        raise InvalidActivity(f"kind must be one of {', '.join(KINDS)}", "kind")
    status = fields.get("status") or "planned"
    if status not in STATUSES:
        raise InvalidActivity(f"status must be one of {', '.join(STATUSES)}", "status")
    title = (fields.get("title") or "").strip()
    if not title or len(title) > 200:
        raise InvalidActivity("title must be 1-200 characters", "title")
    description = (fields.get("description") or "").strip()
    if len(description) > 4000:
        raise InvalidActivity("description is at most 4000 characters", "description")
    place = (fields.get("place") or "").strip()
    if len(place) > 200:
        raise InvalidActivity("place is at most 200 characters", "place")
    day = (fields.get("date") or "").strip()
    try:
        if not _DATE.match(day):
            raise ValueError
        date.fromisoformat(day)
    except ValueError:
        raise InvalidActivity("date must be YYYY-MM-DD", "date") from None
    lon, lat = fields.get("lon"), fields.get("lat")
    if (lon is None) != (lat is None):
        raise InvalidActivity("give both lon and lat, or neither", "lon")
    if lon is not None and lat is not None:
        lon, lat = float(lon), float(lat)
    links = []
    for item in fields.get("proposals") or ():
        public_id, relation = (item, "produced") if isinstance(item, str) else tuple(item)
        if relation not in RELATIONS:
            raise InvalidActivity(
                f"relation must be one of {', '.join(RELATIONS)}", "proposals", sv="Okänd koppling till förslag."
            )
        exists = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id)).first()
        if exists is None:
            raise InvalidActivity(f"no proposal {public_id!r}", "proposals", sv=f"Det finns inget förslag {public_id!r}.")
        links.append((public_id, relation))
    links = sorted(dict(links).items())
    return {
        "kind": kind,
        "title": title,
        "description": description,
        "date": day,
        "place": place,
        "lon": lon,
        "lat": lat,
        "status": status,
        "proposals": links,
    }


def _links(conn: Connection, activity_id: int) -> list[tuple[str, str]]:
    query = (
        select(proposals.c.public_id, activity_proposals.c.relation)
        .join(proposals, proposals.c.id == activity_proposals.c.proposal_id)
        .where(activity_proposals.c.activity_id == activity_id)
        .order_by(proposals.c.public_id)
    )
    return [(r.public_id, r.relation) for r in conn.execute(query)]


def _snapshot(conn: Connection, activity_id: int) -> dict | None:
    row = conn.execute(select(activities).where(activities.c.id == activity_id)).first()
    if row is None:
        return None
    snap = {name: getattr(row, name) for name in FIELDS if name != "proposals"}
    snap["proposals"] = _links(conn, activity_id)
    return snap


def _set_links(conn: Connection, activity_id: int, links) -> None:
    conn.execute(delete(activity_proposals).where(activity_proposals.c.activity_id == activity_id))
    for public_id, relation in links:
        proposal_id = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id)).scalar_one()
        conn.execute(insert(activity_proposals).values(activity_id=activity_id, proposal_id=proposal_id, relation=relation))


def _revise(conn: Connection, activity_id: int, changes: dict, role: str, user_id, now) -> None:
    number = (
        conn.execute(
            select(func.coalesce(func.max(activity_revisions.c.revision), 0)).where(
                activity_revisions.c.activity_id == activity_id
            )
        ).scalar_one()
        + 1
    )
    conn.execute(
        insert(activity_revisions).values(
            activity_id=activity_id,
            revision=number,
            changes=json.dumps(changes, ensure_ascii=False),
            role=role,
            user_id=user_id,
            changed_at=now,
        )
    )


def create(conn: Connection, fields: dict, *, role: str, user_id=None, now=None) -> int:
    """Add an activity and its first revision; return its id."""
    now = now or utcnow()
    values = clean(fields, conn)
    activity_id = inserted_id(
        conn.execute(
            insert(activities).values(
                **{k: v for k, v in values.items() if k != "proposals"},
                created_at=now,
                updated_at=now,
            )
        )
    )
    _set_links(conn, activity_id, values["proposals"])
    changes = {name: [None, _jsonable(values[name])] for name in FIELDS if values[name] not in (None, "", [])}
    _revise(conn, activity_id, changes, role, user_id, now)
    return activity_id


def update_activity(conn: Connection, activity_id: int, fields: dict, *, role: str, user_id=None, now=None) -> dict:
    """Change an activity; record a revision of what changed and return it (empty if nothing did)."""
    now = now or utcnow()
    before = _snapshot(conn, activity_id)
    if before is None:
        raise InvalidActivity(f"no activity with id {activity_id}", sv="Aktiviteten finns inte.")
    values = clean({**before, **fields}, conn)
    changes = {
        name: [_jsonable(before[name]), _jsonable(values[name])]
        for name in FIELDS
        if _jsonable(before[name]) != _jsonable(values[name])
    }
    if not changes:
        return {}
    conn.execute(
        update(activities)
        .where(activities.c.id == activity_id)
        .values(**{k: v for k, v in values.items() if k != "proposals"}, updated_at=now)
    )
    if "proposals" in changes:
        _set_links(conn, activity_id, values["proposals"])
    _revise(conn, activity_id, changes, role, user_id, now)
    return changes


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _public(row, links) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "description": row.description,
        "date": row.date,
        "place": row.place,
        "lon": row.lon,
        "lat": row.lat,
        "status": row.status,
        "proposals": [{"public_id": p, "relation": r} for p, r in links],
        "updated_at": aware(row.updated_at),
    }


def list_activities(conn: Connection) -> list[dict]:
    """Return every activity, by date, with its linked proposals (public fields only)."""
    rows = conn.execute(select(activities).order_by(activities.c.date, activities.c.id)).all()
    return [_public(row, _links(conn, row.id)) for row in rows]


def get_activity(conn: Connection, activity_id: int) -> dict | None:
    """Return one activity with its revisions oldest first (role, time, changes; no user)."""
    row = conn.execute(select(activities).where(activities.c.id == activity_id)).first()
    if row is None:
        return None
    record = _public(row, _links(conn, activity_id))
    record["revisions"] = [
        {"revision": r.revision, "role": r.role, "changed_at": aware(r.changed_at), "changes": json.loads(r.changes)}
        for r in conn.execute(
            select(activity_revisions)
            .where(activity_revisions.c.activity_id == activity_id)
            .order_by(activity_revisions.c.revision)
        )
    ]
    return record


def for_proposal(conn: Connection, proposal_id: int) -> list[dict]:
    """Return the activities a proposal is linked to: ``{"id", "title", "date", "relation"}``, by date."""
    query = (
        select(activities.c.id, activities.c.title, activities.c.date, activity_proposals.c.relation)
        .join(activity_proposals, activity_proposals.c.activity_id == activities.c.id)
        .where(activity_proposals.c.proposal_id == proposal_id)
        .order_by(activities.c.date, activities.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def visible_titles(conn: Connection, public_ids) -> dict[str, str]:
    """Titles of the linked proposals anyone may see (hidden ones are left out)."""
    if not public_ids:
        return {}
    rows = conn.execute(
        select(proposals.c.public_id, proposals.c.title).where(
            proposals.c.public_id.in_(list(public_ids)), proposals.c.hidden.is_(False)
        )
    )
    return dict(rows.all())
