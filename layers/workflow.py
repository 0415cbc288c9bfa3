"""The planner's side of a proposal: status, forwarding to departments, public answers, moderation.

Every change is kept: status changes in ``status_history`` (public, by role), forwardings in
``forwardings`` (date, from, to, note, role; a confirmation of the department a proposal already
has is recorded as ``confirm``, with no "from"), answers in ``answers`` (public text), and every
staff action in ``audit_log`` with the user id (internal, never public). Public functions
(``public_answers``, ``public_answers_for``) return only what anyone may read: text, department,
date and role, never a user id, a username or contact data. No Flask here.

Status workflow::

    received -> forwarded -> under_consideration -> planned -> done
          \\__________\\________________\\______________\\-> declined (with a public reason)

A status may move forward past steps (a planner may go straight from received to planned),
never backwards, except that a declined proposal may be reopened as under_consideration.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..geo.errors import UserError
from .schema import answers, audit_log, flags, forwardings, proposals, status_history
from .store import aware, inserted_id, note_changes, utcnow
from .records import JoinResult
from .vocabulary import PROPOSAL_STATUSES

STATUSES = tuple(PROPOSAL_STATUSES)  # in workflow order
FLOW = ("received", "forwarded", "under_consideration", "planned", "done")
CONFIRM, FORWARD = "confirm", "forward"  # forwardings.action
ANSWER_MAX = 4000
NOTE_MAX = 2000


class WorkflowError(UserError):
    """A status change, forwarding, answer or moderation action that is not allowed; says why (sv and en)."""

    code = "workflow"


def _proposal(conn: Connection, proposal_id: int):
    row = conn.execute(select(proposals).where(proposals.c.id == proposal_id)).first()
    if row is None:
        raise WorkflowError("Förslaget finns inte.", f"no proposal with id {proposal_id}")
    return row


def _audit(conn: Connection, action: str, proposal_id, detail: str, role: str, user_id, now) -> None:
    conn.execute(
        insert(audit_log).values(at=now, action=action, proposal_id=proposal_id, detail=detail, role=role, user_id=user_id)
    )


_WHAT_SV = {"the reason": "Skälet", "the note": "Anteckningen", "the answer": "Svaret"}


def _clean(text, max_length: int, what: str, required: bool) -> str:
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    sv = _WHAT_SV.get(what, what)
    if text is None:
        raise WorkflowError(f"{sv} måste vara text.", f"{what} must be text")
    if required and not text:
        raise WorkflowError(f"{sv} får inte vara tomt.", f"{what} must not be empty")
    if len(text) > max_length:
        raise WorkflowError(
            f"{sv} är för långt: högst {max_length} tecken.", f"{what} is too long: at most {max_length} characters"
        )
    return text


def allowed_next(status: str) -> tuple[str, ...]:
    """Return the statuses a proposal in ``status`` may move to."""
    if status == "declined":
        return ("under_consideration",)
    if status == "done":
        return ()
    position = FLOW.index(status) if status in FLOW else 0
    return FLOW[position + 1 :] + ("declined",)


def change_status(
    conn: Connection, proposal_id: int, status: str, *, role: str, user_id=None, note: str | None = None, now=None
) -> None:
    """Move a proposal to ``status``; ``declined`` needs a public reason in ``note``."""
    now = now or utcnow()
    row = _proposal(conn, proposal_id)
    if status not in STATUSES:
        raise WorkflowError(f"Okänd status {status!r}.", f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if status not in allowed_next(row.status):
        raise WorkflowError(
            f"Statusen kan inte ändras från {row.status} till {status}.",
            f"a proposal that is {row.status} cannot become {status}",
        )
    note = _clean(note, NOTE_MAX, "the reason", required=status == "declined") or None
    # Compare-and-set: if another planner changed the status meanwhile, nothing is written.
    changed = conn.execute(
        update(proposals)
        .where(proposals.c.id == proposal_id, proposals.c.status == row.status)
        .values(status=status, updated_at=now)
    ).rowcount
    if changed != 1:
        raise WorkflowError(
            "Statusen ändrades nyss av någon annan; ladda om sidan.",
            "the status was changed by someone else just now; reload the page",
        )
    conn.execute(insert(status_history).values(proposal_id=proposal_id, status=status, note=note, role=role, changed_at=now))
    note_changes(conn, [proposal_id])
    _audit(conn, "status", proposal_id, f"{row.status} -> {status}", role, user_id, now)


def forward(
    conn: Connection, proposal_id: int, to_department: str, *, departments, role: str, user_id=None, note: str = "", now=None
) -> None:
    """Confirm (same department) or change the responsible department and record which it was.

    Choosing the department the proposal already has (the routing table's suggestion) is a
    ``confirm``, recorded without a "from"; another department is a ``forward`` from the old one.
    A proposal still ``received`` becomes ``forwarded`` either way.
    """
    now = now or utcnow()
    row = _proposal(conn, proposal_id)
    if to_department not in departments:
        raise WorkflowError(f"Okänd förvaltning {to_department!r}.", f"unknown department {to_department!r}")
    note = _clean(note, NOTE_MAX, "the note", required=False)
    action = CONFIRM if to_department == row.department else FORWARD
    conn.execute(
        insert(forwardings).values(
            proposal_id=proposal_id,
            from_department=None if action == CONFIRM else row.department,
            to_department=to_department,
            action=action,
            note=note,
            role=role,
            user_id=user_id,
            forwarded_at=now,
        )
    )
    conn.execute(update(proposals).where(proposals.c.id == proposal_id).values(department=to_department, updated_at=now))
    note_changes(conn, [proposal_id])
    detail = to_department if action == CONFIRM else f"{row.department} -> {to_department}"
    _audit(conn, action, proposal_id, detail, role, user_id, now)
    if row.status == "received":
        change_status(conn, proposal_id, "forwarded", role=role, user_id=user_id, now=now)


def answer(
    conn: Connection, proposal_id: int, body: str, *, role: str, user_id=None, department: str | None = None, now=None
) -> int:
    """Publish an answer to a proposal; return its id. The text is public, the author is not."""
    now = now or utcnow()
    row = _proposal(conn, proposal_id)
    body = _clean(body, ANSWER_MAX, "the answer", required=True)
    answer_id = inserted_id(
        conn.execute(
            insert(answers).values(
                proposal_id=proposal_id,
                body=body,
                department=department or row.department,
                role=role,
                user_id=user_id,
                answered_at=now,
            )
        )
    )
    conn.execute(update(proposals).where(proposals.c.id == proposal_id).values(updated_at=now))
    note_changes(conn, [proposal_id])
    _audit(conn, "answer", proposal_id, f"answer {answer_id}", role, user_id, now)
    return answer_id


def _public_answer(row) -> dict:
    return {"body": row.body, "department": row.department, "role": row.role, "answered_at": aware(row.answered_at)}


def public_answers(conn: Connection, proposal_id: int) -> list[dict]:
    """Return a proposal's answers, oldest first, as anyone may see them.

    Each is ``{"body", "department", "role", "answered_at"}``; never who wrote it.
    """
    return public_answers_for(conn, [proposal_id]).get(proposal_id, [])


def public_answers_for(conn: Connection, proposal_ids) -> dict[int, list[dict]]:
    """Return ``{proposal id: [public answer, ...]}`` for many proposals at once (for the public layer)."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    result: dict[int, list[dict]] = {}
    query = select(answers).where(answers.c.proposal_id.in_(ids)).order_by(answers.c.answered_at, answers.c.id)
    for row in conn.execute(query):
        result.setdefault(row.proposal_id, []).append(_public_answer(row))
    return result


def first_answer_times(conn: Connection) -> dict[int, datetime]:
    """Return ``{proposal id: time of its first answer}``."""
    query = select(answers.c.proposal_id, func.min(answers.c.answered_at)).group_by(answers.c.proposal_id)
    return {pid: aware(at) for pid, at in conn.execute(query)}


def is_confirmation(row) -> bool:
    """Return whether a forwardings row confirmed a department (rows from before #13 say so by "from" = "to")."""
    return row.action == CONFIRM or row.from_department == row.to_department


def forwardings_of(conn: Connection, proposal_id: int) -> list[dict]:
    """Return a proposal's forwardings, oldest first (for staff pages; includes no user id).

    Each is ``{"from", "to", "confirmed", "note", "role", "at"}``; a confirmation has no "from".
    """
    query = (
        select(forwardings).where(forwardings.c.proposal_id == proposal_id).order_by(forwardings.c.forwarded_at, forwardings.c.id)
    )
    return [
        {
            "from": None if is_confirmation(r) else r.from_department,
            "to": r.to_department,
            "confirmed": is_confirmation(r),
            "note": r.note,
            "role": r.role,
            "at": aware(r.forwarded_at),
        }
        for r in conn.execute(query)
    ]


def public_forwardings(conn: Connection, proposal_id: int) -> list[dict]:
    """Return where a proposal went, oldest first, as anyone may see it: the resident's forwarding log.

    Each is ``{"department", "action" (confirm | forward), "at", "answers"}``, where ``answers`` are
    the public answers that department gave after this step and before the next one (``public_answers``'
    shape). Never the note (staff write it for each other), the role's user or the department it came from.
    """
    query = (
        select(forwardings.c.to_department, forwardings.c.from_department, forwardings.c.action, forwardings.c.forwarded_at)
        .where(forwardings.c.proposal_id == proposal_id)
        .order_by(forwardings.c.forwarded_at, forwardings.c.id)
    )
    steps = [
        {"department": r.to_department, "action": CONFIRM if is_confirmation(r) else FORWARD, "at": aware(r.forwarded_at)}
        for r in conn.execute(query)
    ]
    given = public_answers(conn, proposal_id)
    for position, step in enumerate(steps):
        until = steps[position + 1]["at"] if position + 1 < len(steps) else None
        step["answers"] = [
            a
            for a in given
            if a["department"] == step["department"]
            and a["answered_at"] >= step["at"]
            and (until is None or a["answered_at"] < until)
        ]
    return steps


def audit_trail(
    conn: Connection, proposal_id: int | None = None, limit: int = 200, actions: tuple[str, ...] | None = None
) -> list[dict]:
    """Return staff actions newest first, of one proposal or of the given kinds (internal: includes user ids)."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if proposal_id is not None:
        query = query.where(audit_log.c.proposal_id == proposal_id)
    if actions is not None:
        query = query.where(audit_log.c.action.in_(actions))
    return [{**dict(r._mapping), "at": aware(r.at)} for r in conn.execute(query)]


# ------------------------------------------------------------------------------ moderation
def hide(conn: Connection, proposal_id: int, reason: str, *, role: str, user_id=None, now=None) -> None:
    """Hide a proposal from the public with a reason; it is kept and can be restored."""
    now = now or utcnow()
    _proposal(conn, proposal_id)
    reason = _clean(reason, NOTE_MAX, "the reason", required=True)
    conn.execute(update(proposals).where(proposals.c.id == proposal_id).values(hidden=True, hidden_reason=reason, updated_at=now))
    note_changes(conn, [proposal_id])
    _audit(conn, "hide", proposal_id, reason, role, user_id, now)


def restore(conn: Connection, proposal_id: int, *, role: str, user_id=None, note: str = "", now=None) -> None:
    """Show a hidden proposal again; open flags count as reviewed."""
    now = now or utcnow()
    _proposal(conn, proposal_id)
    conn.execute(update(proposals).where(proposals.c.id == proposal_id).values(hidden=False, hidden_reason=None, updated_at=now))
    note_changes(conn, [proposal_id])
    conn.execute(update(flags).where(flags.c.proposal_id == proposal_id, flags.c.reviewed_at.is_(None)).values(reviewed_at=now))
    _audit(conn, "restore", proposal_id, _clean(note, NOTE_MAX, "the note", required=False), role, user_id, now)


def flag(
    conn: Connection, public_id: str, token: str, reason: str = "", *, threshold: int, client: str | None = None, now=None
) -> dict | None:
    """Record a resident's flag (once per browser token); hide the proposal once ``threshold`` open flags
    come from that many distinct clients, unless a moderator has restored it before.

    ``client`` is a pseudonymous key for the sender's network (a keyed hash of its IPv4 /24 or
    IPv6 /64, never the address): a browser that drops its cookie gets a new token, but not a new
    client, so one person cannot hide a proposal alone. A proposal a moderator restored has been
    judged acceptable: new flags put it back in the moderation queue but never hide it again.
    Return ``{"added", "hidden"}``, or None if there is no visible proposal.
    """
    now = now or utcnow()
    row = conn.execute(select(proposals.c.id, proposals.c.hidden).where(proposals.c.public_id == public_id)).first()
    if row is None or row.hidden:
        return None
    token_hash = hashlib.sha256(token.encode("utf-8")).hexdigest()
    reason = (reason or "").strip()[:500]
    added = True
    try:
        with conn.begin_nested():
            conn.execute(
                insert(flags).values(proposal_id=row.id, token_hash=token_hash, client_hash=client, reason=reason, created_at=now)
            )
    except IntegrityError:
        added = False
    open_flags = open_flag_count(conn, row.id)
    flaggers = conn.execute(
        select(func.count(func.distinct(func.coalesce(flags.c.client_hash, flags.c.token_hash)))).where(
            and_(flags.c.proposal_id == row.id, flags.c.reviewed_at.is_(None))
        )
    ).scalar_one()
    hidden = False
    if added and threshold > 0 and flaggers >= threshold and not was_restored(conn, row.id):
        conn.execute(
            update(proposals).where(proposals.c.id == row.id).values(hidden=True, hidden_reason="flagged", updated_at=now)
        )
        note_changes(conn, [row.id])
        _audit(conn, "auto_hide", row.id, f"{open_flags} flags", "system", None, now)
        hidden = True
    return {"added": added, "hidden": hidden}


def was_restored(conn: Connection, proposal_id: int) -> bool:
    """Return whether a moderator has ever restored (or published) the proposal."""
    query = select(audit_log.c.id).where(audit_log.c.proposal_id == proposal_id, audit_log.c.action == "restore")
    return conn.execute(query.limit(1)).first() is not None


def open_flag_count(conn: Connection, proposal_id: int) -> int:
    query = select(func.count()).select_from(flags).where(and_(flags.c.proposal_id == proposal_id, flags.c.reviewed_at.is_(None)))
    return conn.execute(query).scalar_one()


def moderation_queue(conn: Connection) -> list[dict]:
    """Return hidden proposals and visible proposals with open flags, for moderators."""
    counts: dict[int, int] = dict(
        conn.execute(  # type: ignore[arg-type]
            select(flags.c.proposal_id, func.count()).where(flags.c.reviewed_at.is_(None)).group_by(flags.c.proposal_id)
        ).all()
    )
    query = (
        select(
            proposals.c.id,
            proposals.c.public_id,
            proposals.c.title,
            proposals.c.hidden,
            proposals.c.hidden_reason,
            proposals.c.updated_at,
        )
        .where((proposals.c.hidden.is_(True)) | (proposals.c.id.in_(list(counts) or [-1])))
        .order_by(proposals.c.updated_at.desc())
    )
    return [{**dict(r._mapping), "open_flags": counts.get(r.id, 0)} for r in conn.execute(query)]


def recompute_joins(conn: Connection, registry, proposal_id: int) -> JoinResult:
    """Recompute and store one proposal's development areas and nearest services; return them."""
    from .layer_store import hold_layers
    from .proposals import compute_joins
    from .store import save_joins

    row = _proposal(conn, proposal_id)
    hold_layers(conn)
    joins = compute_joins(registry, [(row.lon, row.lat)])[0]
    save_joins(conn, proposal_id, joins["area_ids"], joins["nearest"])
    return joins
