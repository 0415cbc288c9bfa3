"""Personal data: erasing a person's contact details on request, and deleting them on schedule.

Contact details (name, e-mail) live only in ``contacts``, one row per proposal. Erasing or
purging removes those rows; the proposals stay, anonymous, with their status history.
Supports and flags are anonymous (a hash of a random browser token, no link to a name or
address), so a person's supports can only be found from that token, which ``erase`` accepts too.
No Flask here; the CLI and the app wrap these functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select

from .schema import contacts, flags, proposals, status_history, supports
from .store import hash_token, note_changes, utcnow

# A proposal in one of these statuses is closed: its contact details are kept only for the
# retention period after the (latest) closing, so the resident can still be reached about it.
CLOSED_STATUSES = ("done", "declined")


def erase(conn: Connection, *, email: str | None = None, support_token: str | None = None) -> dict:
    """Delete the contact rows with ``email`` (case-insensitive), and the supports and flags of ``support_token``.

    Return the number of rows deleted per table: ``{"contacts": n, "supports": m, "flags": k}``.
    """
    if not email and not support_token:
        raise ValueError("give an e-mail address, a support token or both")
    deleted = {"contacts": 0, "supports": 0, "flags": 0}
    if email:
        address = email.strip().lower()
        deleted["contacts"] = conn.execute(delete(contacts).where(func.lower(contacts.c.email) == address)).rowcount
    if support_token:
        supported = conn.execute(
            select(supports.c.proposal_id).where(supports.c.token_hash == hash_token(support_token))
        ).scalars()
        note_changes(conn, list(supported))  # their support counts drop
        deleted["supports"] = conn.execute(delete(supports).where(supports.c.token_hash == hash_token(support_token))).rowcount
        # A flag's free-text reason may say something about who wrote it; it goes too.
        deleted["flags"] = conn.execute(delete(flags).where(flags.c.token_hash == hash_token(support_token))).rowcount
    return deleted


def closed_since(conn: Connection, before: datetime) -> list[int]:
    """Return ids of proposals that are closed now and were last closed before ``before``."""
    last_closed = (
        select(status_history.c.proposal_id, func.max(status_history.c.changed_at).label("closed_at"))
        .where(status_history.c.status.in_(CLOSED_STATUSES))
        .group_by(status_history.c.proposal_id)
        .subquery()
    )
    query = (
        select(proposals.c.id)
        .select_from(proposals.outerjoin(last_closed, last_closed.c.proposal_id == proposals.c.id))
        .where(proposals.c.status.in_(CLOSED_STATUSES))
        .where(
            or_(
                last_closed.c.closed_at < before,
                # Closed without a history row (set directly): the last change is the closing.
                and_(last_closed.c.closed_at.is_(None), proposals.c.updated_at < before),
            )
        )
    )
    return list(conn.execute(query).scalars())


def purge_contacts(
    conn: Connection, retention_days: int | float, now: datetime | None = None, max_days: int | float | None = None
) -> int:
    """Delete contact details of proposals closed more than ``retention_days`` ago; return the count.

    With ``max_days``, contact details of any proposal submitted more than ``max_days`` ago go
    too, closed or not, so that a proposal nobody closes does not keep them for ever.
    """
    if retention_days is None or retention_days < 0:
        raise ValueError(f"retention must be zero or more days, got {retention_days!r}")
    if max_days is not None and max_days < 0:
        raise ValueError(f"maximum retention must be zero or more days, got {max_days!r}")
    now = now or utcnow()
    before = now - timedelta(days=retention_days)
    submitted_before = None if max_days is None else now - timedelta(days=max_days)
    # SQLite stores naive UTC datetimes; compare like with like.
    if conn.engine.url.get_backend_name() == "sqlite":
        before = before.replace(tzinfo=None)
        submitted_before = submitted_before and submitted_before.replace(tzinfo=None)
    ids = set(closed_since(conn, before))
    if submitted_before is not None:
        ids |= set(conn.execute(select(proposals.c.id).where(proposals.c.created_at < submitted_before)).scalars())
    if not ids:
        return 0
    return conn.execute(delete(contacts).where(contacts.c.proposal_id.in_(sorted(ids)))).rowcount
