"""Bulk actions on the planner's filtered table: one forwarding or one status change, with one note, for many proposals.

Each change goes through ``layers.workflow`` exactly as a single action does, so status history, forwardings and
audit rows are written per proposal. The caller runs ``apply`` inside one transaction: the first refusal raises,
and the transaction undoes every change made before it (all or nothing). No Flask here.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import proposals
from .workflow import WorkflowError, change_status, forward

ACTIONS = ("forward", "status")
BULK_MAX = 500


class BulkError(WorkflowError):
    """A bulk action refused as a whole; says which proposal stopped it and why (sv and en)."""

    code = "bulk"


def apply(conn: Connection, public_ids, action: str, value: str, *, departments, role: str, user_id=None, note: str = "") -> int:
    """Forward every listed proposal to department ``value``, or move each to status ``value``; return how many."""
    if action not in ACTIONS:
        raise BulkError(f"Okänd åtgärd {action!r}.", f"unknown action {action!r}; expected forward or status")
    wanted = list(dict.fromkeys(public_ids))
    if not wanted:
        raise BulkError("Inga förslag är valda.", "no proposals were chosen")
    if len(wanted) > BULK_MAX:
        raise BulkError(
            f"Högst {BULK_MAX} förslag åt gången; filtrera tabellen snävare.",
            f"at most {BULK_MAX} proposals at a time; narrow the filter",
        )
    rows = {row.public_id: row for row in conn.execute(select(proposals).where(proposals.c.public_id.in_(wanted)))}
    missing = [public_id for public_id in wanted if public_id not in rows]
    if missing:
        raise BulkError(f"Förslaget {missing[0]} finns inte.", f"no proposal {missing[0]}")
    for public_id in wanted:
        row = rows[public_id]
        try:
            if action == "forward":
                forward(conn, row.id, value, departments=departments, role=role, user_id=user_id, note=note)
            else:
                change_status(conn, row.id, value, role=role, user_id=user_id, note=note or None)
        except WorkflowError as error:
            raise BulkError(
                f"Inget ändrades: ”{row.title}” ({public_id}): {error.message('sv')}",
                f"nothing was changed: “{row.title}” ({public_id}): {error.message('en')}",
            ) from error
    return len(wanted)
