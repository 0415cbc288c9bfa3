"""The ``Idempotency-Key`` header of ``POST /api/proposals``: its form checked here, honoured by the store.

Optional. A key is 16 to 64 letters, digits, ``-`` or ``_`` (a UUID fits), bare or as a quoted
string (the IETF draft's form); anything else is refused with 400 before anything is read or
written. The first request with a key stores the proposal (201); the same key with the same body
answers that proposal again (200), with no second row; the same key with another body is refused
(422, ``idempotency_key_reused``). See ``layers/idempotency.py`` for how concurrent senders meet.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import request
from flask_babel import gettext as _

from ..layers import idempotency
from ..layers.records import ProposalRecord
from . import db
from .errors import BadRequest

HEADER = "Idempotency-Key"
_KEY = r"[A-Za-z0-9_-]{16,64}"
KEY_FORM = re.compile(rf'(?:"(?P<quoted>{_KEY})"|(?P<bare>{_KEY}))')


def request_key() -> str | None:
    """Return the request's idempotency key, None without one; ``BadRequest`` for a malformed one."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    match = KEY_FORM.fullmatch(raw.strip())
    if match is None:
        raise BadRequest(
            _(
                "Idempotency-Key ska vara 16–64 tecken: bokstäverna A–Z och a–z, siffror, - och _ "
                "(till exempel ett slumpat UUID)."
            ),
            HEADER,
        )
    return match.group("quoted") or match.group("bare")


def submit_once(data: dict, submit: Callable) -> tuple[ProposalRecord, bool]:
    """Run ``submit(conn)`` in a transaction unless this request's key already stored a proposal.

    Return the record and whether it is an earlier submission's (a replay).
    """
    key = request_key()
    if key is None:
        with db.transaction() as conn:
            return submit(conn), False
    key_hash, request_hash = idempotency.hash_key(key), idempotency.hash_request(data)
    try:
        with db.transaction() as conn:
            replay = idempotency.find(conn, key_hash, request_hash)
            if replay is not None:
                return replay.record, True
            record = submit(conn)
            if "id" in record:  # a trapped bot's answer is stored nowhere, and neither is its key
                idempotency.remember(conn, key_hash, request_hash, record["id"])
            return record, False
    except idempotency.KeyTaken:  # a concurrent request with this key committed first: answer with its proposal
        with db.reading() as conn:
            replay = idempotency.find(conn, key_hash, request_hash)
        if replay is None:
            raise
        return replay.record, True
