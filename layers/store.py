"""The proposal store: functions over an SQLAlchemy ``Connection``; no Flask, no spatial logic.

SQLite by default (WAL journal, foreign keys on, a busy timeout so concurrent writers wait
rather than fail), PostgreSQL by URL. Public reads never touch the ``contacts`` table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import itertools
import math
import secrets
from datetime import datetime, timedelta, UTC

from sqlalchemy.exc import IntegrityError
from sqlalchemy import Connection, CursorResult, Engine, and_, case, create_engine, event, func, insert, select

from ..geo.errors import UserError
from ..geo.generalise import snap_to_grid
from . import layer_store, layer_tables, postgis, qgis_db  # qgis_db also drops its views before metadata.drop_all
from .records import NearestService, ProposalRecord, WithinCount
from .schema import (
    contacts,
    proposal_areas,
    proposal_changes,
    proposal_services,
    proposals,
    status_history,
    store_version,
    supports,
)
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

PUBLIC_COLUMNS = (
    "public_id",
    "lon",
    "lat",
    "category",
    "title",
    "description",
    "channel",
    "status",
    "created_at",
    "updated_at",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine, locality=None, public_grid_m: float = 0) -> tuple[str | None, str]:
    """Bring the store to the newest schema revision (``layers.migrations``) and write its version row (idempotent).

    An empty database is created at the head; a store made before the migrations is brought up to
    their baseline and stamped there first (the only place missing columns are still added).
    With the ``locality``: its bundled layers are stored as rows where missing and, on PostGIS, the
    geometry columns, views, styles and grants QGIS reads are brought up to date (``layers.qgis_db``;
    they follow the locality and ``PUBLIC_GRID_M``, so every start rewrites them rather than a revision).
    Return the store's revision before and after.
    """
    from . import migrations  # Alembic is imported when a store is opened, not with the web app

    revisions = migrations.upgrade(engine)
    with engine.begin() as conn:
        if conn.execute(select(store_version.c.id)).first() is None:
            conn.execute(insert(store_version).values(id=1, epoch=secrets.token_hex(8), version=0))
    if locality is not None:
        layer_tables.seed_bundled(engine, locality)
        layer_store.add_missing_rows(engine)
        qgis_db.install(engine, locality, public_grid_m)
    return revisions


def inserted_id(result: CursorResult) -> int:
    """The primary key of the row an INSERT statement just added."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the statement inserted no row")
    return int(key[0])


def new_public_id() -> str:
    """Return an unguessable identifier for permalinks (96 random bits) that starts with a letter or digit."""
    while True:
        # A leading '-' (or '_') would make a spreadsheet read the id as a formula, and CSV exports quote it.
        public_id = secrets.token_urlsafe(12)
        if public_id[0].isalnum():
            return public_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def aware(value):
    """Return a datetime as UTC-aware: SQLite gives back naive ones, and everything is stored in UTC."""
    # SQLite returns naive datetimes; everything is stored in UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# ------------------------------------------------------------ the list's version (issue 11)
CHANGES_KEPT = 20_000  # versions of change rows kept; a process further behind rebuilds its list

# The statements every new proposal runs, built once: SQLAlchemy then reuses their cache keys and
# compiled forms instead of building and hashing new statement objects on each submission.
_BUMP_VERSION = (
    store_version.update()
    .where(store_version.c.id == 1)
    .values(version=store_version.c.version + 1)
    .returning(store_version.c.version)
)
_INSERT_CHANGES = insert(proposal_changes)
_READ_VERSION = select(store_version.c.epoch, store_version.c.version).where(store_version.c.id == 1)
_INSERT_PROPOSAL = insert(proposals)
_INSERT_STATUS = insert(status_history)
_INSERT_AREAS = insert(proposal_areas)
_INSERT_SERVICES = insert(proposal_services)


def note_changes(conn: Connection, proposal_ids) -> int:
    """Bump the store's version and record which proposals changed; return the new version.

    Every write that changes what the public list shows (a proposal's row, its supports or its
    development areas) calls this in its transaction. The row lock on ``store_version`` makes
    concurrent writers commit their versions in order.
    """
    version = conn.execute(_BUMP_VERSION).scalar()
    if version is None:  # a store made before the version row existed and not yet opened by init_db
        version = 1
        conn.execute(insert(store_version).values(id=1, epoch=secrets.token_hex(8), version=version))
    rows = [{"version": version, "proposal_id": int(pid)} for pid in set(proposal_ids)]
    if rows:
        conn.execute(_INSERT_CHANGES, rows)
    if version % 1000 == 0:
        conn.execute(proposal_changes.delete().where(proposal_changes.c.version <= version - CHANGES_KEPT))
    return version


def note_everything_changed(conn: Connection) -> None:
    """Start a new epoch: every process rebuilds its list (after a restore or a layer import)."""
    updated = conn.execute(store_version.update().where(store_version.c.id == 1).values(epoch=secrets.token_hex(8))).rowcount
    if not updated:
        conn.execute(insert(store_version).values(id=1, epoch=secrets.token_hex(8), version=0))


def list_version(conn: Connection) -> tuple[str, int]:
    """Return the store's ``(epoch, version)``: one primary-key read."""
    row = conn.execute(_READ_VERSION).first()
    return (row.epoch, row.version) if row else ("", 0)


def changed_since(conn: Connection, version: int, upto: int) -> list[int] | None:
    """Return the ids of proposals changed after ``version`` up to ``upto``, or None if that is no longer known."""
    if upto - version > CHANGES_KEPT // 2:
        return None
    query = (
        select(proposal_changes.c.proposal_id)
        .where(proposal_changes.c.version > version, proposal_changes.c.version <= upto)
        .distinct()
    )
    return sorted(conn.execute(query).scalars())


def insert_proposal(
    conn: Connection,
    *,
    lon,
    lat,
    category,
    title,
    description,
    department,
    also_departments=(),
    channel="web",
    meeting=None,
    contact=None,
    role="resident",
    now=None,
    hidden_reason=None,
) -> dict:
    """Insert a proposal with its first status, and its contact row if any; return ids.

    A ``hidden_reason`` (e.g. ``pending_review``) stores it hidden until a moderator restores it.
    """
    now = now or utcnow()
    public_id = new_public_id()
    row = {
        "public_id": public_id,
        "lon": lon,
        "lat": lat,
        "category": category,
        "title": title,
        "description": description,
        "channel": channel,
        "meeting": meeting,
        "status": "received",
        "department": department,
        "also_departments": ",".join(also_departments),
        "hidden": hidden_reason is not None,
        "hidden_reason": hidden_reason,
        "created_at": now,
        "updated_at": now,
    }
    proposal_id = inserted_id(conn.execute(_INSERT_PROPOSAL, row))
    conn.execute(_INSERT_STATUS, {"proposal_id": proposal_id, "status": "received", "role": role, "changed_at": now})
    if contact:
        conn.execute(insert(contacts), {"proposal_id": proposal_id, "created_at": now, **contact})
    note_changes(conn, [proposal_id])
    return {"id": proposal_id, "public_id": public_id, "created_at": now}


def save_joins(conn: Connection, proposal_id: int, area_ids, nearest, new: bool = False, note: bool = True) -> None:
    """Replace a proposal's stored join results (``new``: it has none yet, nothing to delete).

    ``nearest`` is an iterable of dicts with ``kind, service_id, service_name, distance_m, radius_m, within_count``.
    ``note=False`` leaves the version to the caller (a new proposal's insert noted it; a bulk
    refresh starts a new epoch once).
    """
    if not new:
        conn.execute(proposal_areas.delete().where(proposal_areas.c.proposal_id == proposal_id))
        conn.execute(proposal_services.delete().where(proposal_services.c.proposal_id == proposal_id))
    if note:
        note_changes(conn, [proposal_id])
    if area_ids:
        conn.execute(_INSERT_AREAS, [{"proposal_id": proposal_id, "area_id": a} for a in area_ids])
    rows = [{"proposal_id": proposal_id, **n} for n in nearest]
    if rows:
        conn.execute(_INSERT_SERVICES, rows)


def _records(conn: Connection, rows) -> list[ProposalRecord]:
    """Return rows as dicts with their join results and support counts, in three queries."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    low, high = min(ids), max(ids)
    if high - low + 1 <= 2 * len(ids):
        # Nearly contiguous ids (a keyset page): a range scan is about 3x faster than IN (thousands).
        def selects(column):
            return column.between(low, high)
    else:

        def selects(column):
            return column.in_(ids)

    areas: dict[int, list[str]] = {}
    nearest: dict[int, dict[str, NearestService]] = {}
    within: dict[int, dict[str, WithinCount]] = {}
    for pid, area in conn.execute(
        select(proposal_areas.c.proposal_id, proposal_areas.c.area_id)
        .where(selects(proposal_areas.c.proposal_id))
        .order_by(proposal_areas.c.proposal_id, proposal_areas.c.area_id)
    ):
        areas.setdefault(pid, []).append(area)
    for pid, kind, service_id, name, metres, radius, count in conn.execute(
        select(
            proposal_services.c.proposal_id,
            proposal_services.c.kind,
            proposal_services.c.service_id,
            proposal_services.c.service_name,
            proposal_services.c.distance_m,
            proposal_services.c.radius_m,
            proposal_services.c.within_count,
        )
        .where(selects(proposal_services.c.proposal_id))
        .order_by(proposal_services.c.proposal_id, proposal_services.c.kind)
    ):
        nearest.setdefault(pid, {})[kind] = {"id": service_id, "name": name, "distance_m": round(metres, 1)}
        if count is not None:
            within.setdefault(pid, {})[kind] = {"radius_m": radius, "count": count}
    counts: dict[int, int] = dict(
        conn.execute(  # type: ignore[arg-type]
            select(supports.c.proposal_id, func.count()).where(selects(supports.c.proposal_id)).group_by(supports.c.proposal_id)
        ).all()
    )
    records = []
    for row in rows:
        record = row._asdict()
        record["created_at"], record["updated_at"] = aware(record["created_at"]), aware(record["updated_at"])
        record["area_ids"] = areas.get(row.id, [])
        record["nearest"] = nearest.get(row.id, {})
        record["within"] = within.get(row.id, {})
        record["support_count"] = counts.get(row.id, 0)
        records.append(record)
    return records


def _filters(bbox=None, category=None, status=None, include_hidden=False):
    conditions = []
    if not include_hidden:
        conditions.append(proposals.c.hidden.is_(False))
    if bbox is not None:
        conditions.append(postgis.in_box(proposals.c.lon, proposals.c.lat, bbox))  # each engine's fastest way
    if category is not None:
        conditions.append(proposals.c.category == category)
    if status is not None:
        conditions.append(proposals.c.status == status)
    return and_(True, *conditions)


def list_proposals(
    conn: Connection, *, bbox=None, category=None, status=None, include_hidden=False, limit=None, offset=0
) -> list[ProposalRecord]:
    """Return proposals (with join results and support counts) oldest first, filtered and paged."""
    query = (
        select(proposals)
        .where(_filters(bbox, category, status, include_hidden))
        .order_by(proposals.c.created_at, proposals.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return _records(conn, conn.execute(query).all())


def list_public(
    conn: Connection, *, bbox=None, category=None, status=None, limit=None, offset=0, ids=None, after_id=None
) -> list[dict]:
    """Return public proposals' public columns and support counts, oldest first, filtered and paged, without joins.

    ``ids`` (internal ids) picks those proposals only; ``after_id`` starts after that id (keyset
    pages); either way the order is by id and each record carries its ``id``. One query, no
    per-proposal join rows (``public_area_ids`` and ``list_proposals`` add those).
    """
    support_count = select(func.count()).select_from(supports).where(supports.c.proposal_id == proposals.c.id).scalar_subquery()
    conditions = [_filters(bbox, category, status)]
    order = [proposals.c.created_at, proposals.c.id]
    if ids is not None or after_id is not None:
        order = [proposals.c.id]
    if ids is not None:
        conditions.append(proposals.c.id.in_(ids))
    if after_id is not None:
        conditions.append(proposals.c.id > after_id)
    query = (
        select(proposals.c.id, *[proposals.c[column] for column in PUBLIC_COLUMNS], support_count.label("support_count"))
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
        .offset(offset or None)
    )
    records = []
    for row in conn.execute(query):
        record = dict(row._mapping)
        record["created_at"], record["updated_at"] = aware(record["created_at"]), aware(record["updated_at"])
        records.append(record)
    return records


def public_area_ids(conn: Connection, ids=None, between=None) -> dict[int, list[str]]:
    """Return ``{proposal id: [area ids]}`` for these proposals, or those with ids in ``between`` (low, high), in one query."""
    query = select(proposal_areas.c.proposal_id, proposal_areas.c.area_id).order_by(
        proposal_areas.c.proposal_id, proposal_areas.c.area_id
    )
    if ids is not None:
        query = query.where(proposal_areas.c.proposal_id.in_(ids))
    if between is not None:
        query = query.where(proposal_areas.c.proposal_id.between(*between))
    areas: dict[int, list[str]] = {}
    for pid, area in conn.execute(query):
        areas.setdefault(pid, []).append(area)
    return areas


def count_proposals(conn: Connection, *, bbox=None, category=None, status=None, include_hidden=False) -> int:
    query = select(func.count()).select_from(proposals).where(_filters(bbox, category, status, include_hidden))
    return conn.execute(query).scalar_one()


def get_proposal(conn: Connection, public_id: str, include_hidden=False) -> ProposalRecord | None:
    """Return one proposal with joins, support count and status history, or None."""
    row = conn.execute(select(proposals).where(proposals.c.public_id == public_id)).first()
    if row is None or (row.hidden and not include_hidden):
        return None
    record = _records(conn, [row])[0]
    record["history"] = [
        {"status": h.status, "note": h.note, "role": h.role, "changed_at": aware(h.changed_at)}
        for h in conn.execute(
            select(status_history)
            .where(status_history.c.proposal_id == row.id)
            .order_by(status_history.c.changed_at, status_history.c.id)
        )
    ]
    return record


def public_view(record: ProposalRecord, grid_m: float = 0) -> dict:
    """Return the fields of a proposal that anyone may see: never contact data or internal ids.

    ``grid_m > 0`` generalises the position (config ``PUBLIC_GRID_M``): the point moves to the
    centre of its grid cell and distances are rounded to the grid, so they cannot give it away.
    """
    view = {key: record[key] for key in PUBLIC_COLUMNS}  # type: ignore[literal-required]
    view["area_ids"] = list(record.get("area_ids", []))
    view["nearest"] = dict(record.get("nearest", {}))
    if grid_m:
        view["lon"], view["lat"] = snap_to_grid(view["lon"], view["lat"], grid_m)
        view["nearest"] = {
            kind: {**near, "distance_m": float(round(near["distance_m"] / grid_m) * grid_m)}
            for kind, near in view["nearest"].items()
        }
    view["support_count"] = record.get("support_count", 0)
    if "history" in record:
        view["history"] = [dict(h) for h in record["history"]]
    return view


def get_contact(conn: Connection, proposal_id: int) -> dict | None:
    row = conn.execute(select(contacts).where(contacts.c.proposal_id == proposal_id)).first()
    return dict(row._mapping) if row else None


class SupportLimitReached(UserError):
    """A network has given a proposal as many supports today as it may; ``retry_after`` is in seconds."""

    code = "support_limit"

    def __init__(self, limit: int, retry_after: float):
        super().__init__(
            f"Förslaget har redan fått {limit} stöd från ditt nätverk det senaste dygnet, så många som går. "
            "Försök igen i morgon.",
            f"This proposal has already had {limit} supports from your network in the last 24 hours, "
            "as many as allowed. Try again tomorrow.",
        )
        self.retry_after = retry_after


def add_support(
    conn: Connection, public_id: str, token: str, now=None, client: str | None = None, per_client_daily: int = 0
) -> tuple[bool, int] | None:
    """Record one support per browser token; return (newly added, total), or None if no such proposal.

    ``client`` is a keyed hash of the sender's network; with ``per_client_daily > 0`` a network
    that gave this proposal that many supports in the last 24 hours gets ``SupportLimitReached``,
    so a browser that drops its cookie (a new token) does not buy unlimited supports.
    """
    now = now or utcnow()
    row = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id, proposals.c.hidden.is_(False))).first()
    if row is None:
        return None
    token_hash = hash_token(token)
    exists = conn.execute(
        select(supports.c.id).where(supports.c.proposal_id == row.id, supports.c.token_hash == token_hash)
    ).first()
    if exists is None and client is not None and per_client_daily > 0:
        _check_network_cap(conn, row.id, client, per_client_daily, now)
    if exists is None:
        try:
            with conn.begin_nested():  # a concurrent identical support loses the race harmlessly
                conn.execute(
                    insert(supports).values(proposal_id=row.id, token_hash=token_hash, client_hash=client, created_at=now)
                )
            added = True
            note_changes(conn, [row.id])
        except IntegrityError:
            added = False
    else:
        added = False
    total = conn.execute(select(func.count()).select_from(supports).where(supports.c.proposal_id == row.id)).scalar_one()
    return added, total


def _check_network_cap(conn: Connection, proposal_id: int, client: str, limit: int, now: datetime) -> None:
    since = now - timedelta(days=1)
    count, oldest = conn.execute(
        select(func.count(), func.min(supports.c.created_at)).where(
            supports.c.proposal_id == proposal_id, supports.c.client_hash == client, supports.c.created_at > since
        )
    ).one()
    if count >= limit:
        raise SupportLimitReached(limit, max((aware(oldest) - since).total_seconds(), 1.0))


def all_points(conn: Connection) -> list:
    """Return (id, lon, lat) for every proposal, for recomputing joins."""
    return list(conn.execute(select(proposals.c.id, proposals.c.lon, proposals.c.lat).order_by(proposals.c.id)).all())


# ------------------------------------------------------------------ keyset paging (issue 5)
def _page_conditions(bbox=None, created_between=None, include_hidden=False):
    conditions = [_filters(bbox=bbox, include_hidden=include_hidden)]
    start, end = created_between or (None, None)
    if start is not None:
        conditions.append(proposals.c.created_at >= start)
    if end is not None:
        conditions.append(proposals.c.created_at <= end)
    return and_(*conditions)


def page_proposals(
    conn: Connection,
    *,
    after_id: int = 0,
    limit: int = 1000,
    offset: int = 0,
    bbox=None,
    created_between=None,
    include_hidden=False,
) -> list[ProposalRecord]:
    """Return up to ``limit`` proposals with ``id > after_id`` in id order (keyset paging).

    Exports and the OGC API walk the store with this, one index range scan per page; ``offset``
    skips rows after ``after_id`` (for clients that ask by offset). ``created_between`` is a
    ``(start, end)`` pair of aware datetimes, either end None for open.
    """
    query = (
        select(proposals)
        .where(proposals.c.id > after_id, _page_conditions(bbox, created_between, include_hidden))
        .order_by(proposals.c.id)
        .limit(limit)
    )
    if offset:
        query = query.offset(offset)
    return _records(conn, conn.execute(query).all())


def count_page_proposals(conn: Connection, *, bbox=None, created_between=None, include_hidden=False) -> int:
    """Return how many proposals ``page_proposals`` would walk through with these filters."""
    query = select(func.count()).select_from(proposals).where(_page_conditions(bbox, created_between, include_hidden))
    return conn.execute(query).scalar_one()


def proposal_points(conn: Connection, *, bbox=None, created_between=None, include_hidden=False):
    """Return arrays of id, lon and lat of the matching proposals, in id order (no joins, no text)."""
    query = (
        select(proposals.c.id, proposals.c.lon, proposals.c.lat)
        .where(_page_conditions(bbox, created_between, include_hidden))
        .order_by(proposals.c.id)
    )
    result = conn.execute(query)
    rows = result.cursor.fetchall()  # the DB-API's plain tuples: building Row objects doubled the time at 200 000
    result.close()
    points = np.fromiter(itertools.chain.from_iterable(rows), dtype="float64", count=3 * len(rows)).reshape(-1, 3)
    return points[:, 0].astype("int64"), points[:, 1], points[:, 2]


def proposals_by_ids(conn: Connection, ids: list[int], include_hidden=False) -> list[ProposalRecord]:
    """Return the proposals with these ids (with joins and support counts), in id order."""
    if not ids:
        return []
    query = select(proposals).where(proposals.c.id.in_(ids), _filters(include_hidden=include_hidden)).order_by(proposals.c.id)
    return _records(conn, conn.execute(query).all())


def data_fingerprint(conn: Connection) -> tuple:
    """Return a small value that changes whenever a public output of the store could (caches and ETags key on it).

    The store's ``(epoch, version)``, one primary-key read: every write to what public outputs
    read (proposals, supports, status history, answers, joins) bumps it in its transaction
    (``note_changes``; ``dialogkarta.testing.UnversionedWrites`` holds the whole suite to it), and a
    restore or layer import starts a new epoch. Read from the database, so every process and every
    app server on one store agrees.
    """
    return list_version(conn)


def proposal_extent(conn: Connection, include_hidden: bool = False) -> tuple | None:
    """Return ``(minlon, minlat, maxlon, maxlat, first created_at, last created_at)``, or None if no proposals."""
    p = proposals.c
    query = select(
        func.min(p.lon), func.min(p.lat), func.max(p.lon), func.max(p.lat), func.min(p.created_at), func.max(p.created_at)
    )
    if not include_hidden:
        query = query.where(p.hidden.is_(False))
    row = conn.execute(query).one()
    return None if row[0] is None else tuple(row)


def nearest_ids(
    conn: Connection, lon: float, lat: float, reach_deg: float, category: str | None = None, limit: int = 200
) -> list[int]:
    """Return ids of public proposals within about ``reach_deg`` (degrees of latitude) of lon/lat.

    Same category first, then nearest by an equirectangular approximation computed in the
    database: a short list for the caller to measure exactly, whatever the number of proposals.
    """
    k = math.cos(math.radians(lat))
    squared = ((proposals.c.lon - lon) * k) * ((proposals.c.lon - lon) * k) + (proposals.c.lat - lat) * (proposals.c.lat - lat)
    box = (lon - reach_deg / max(k, 0.01), lat - reach_deg, lon + reach_deg / max(k, 0.01), lat + reach_deg)
    order = [squared] if category is None else [case((proposals.c.category == category, 0), else_=1), squared]
    query = select(proposals.c.id).where(_filters(bbox=box), squared <= reach_deg * reach_deg).order_by(*order).limit(limit)
    return list(conn.execute(query).scalars())
