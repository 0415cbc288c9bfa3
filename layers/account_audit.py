"""The account changes staff make (accounts, roles, passwords, tokens), kept in ``audit_log`` beside the proposal actions."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from .schema import audit_log, users
from .store import aware, utcnow
from .vocabulary import ACCOUNT_ACTIONS

# audit_log.action for each kind of change (named in the vocabulary); proposal actions (hide, answer, ...) use other names.
ACTIONS = tuple(ACCOUNT_ACTIONS)
DETAIL_MAX = 500


def record(conn: Connection, action: str, detail: str, *, role: str, user_id: int | None = None, now=None) -> None:
    """Keep one account change: what, about whom (never a password or a token), and who did it (``cli`` from the shell)."""
    if action not in ACTIONS:
        raise ValueError(f"not an account action: {action!r}")
    conn.execute(
        insert(audit_log).values(
            at=now or utcnow(), action=action, proposal_id=None, detail=detail[:DETAIL_MAX], role=role, user_id=user_id
        )
    )


def trail(conn: Connection, limit: int = 50) -> list[dict]:
    """Return the latest account changes, newest first, each with the name of the account that made it (or None)."""
    query = (
        select(audit_log, users.c.username.label("by"))
        .outerjoin(users, users.c.id == audit_log.c.user_id)
        .where(audit_log.c.action.in_(ACTIONS))
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        .limit(limit)
    )
    return [{**dict(row._mapping), "at": aware(row.at)} for row in conn.execute(query)]
