"""Idempotency keys of submissions: the same key sent twice gives the same proposal, never a second row.

A client (the resident map sending what a phone kept offline, or any API client) names each
written proposal with a random key. The store keeps only the key's SHA-256, a SHA-256 of the
request body it came with, and the proposal it created, in ``idempotency_keys`` (deleted with
the proposal). The key row is written in the proposal's own transaction; its primary key makes
two concurrent senders of one key, in any process and on SQLite or PostgreSQL, end with one
proposal: the later one fails on the key (``KeyTaken``), rolls back, and finds the earlier.
Nothing here parses HTTP: the web layer checks the key's form and calls these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import UserError
from .records import ProposalRecord
from .schema import idempotency_keys, proposals
from .store import get_proposal, utcnow


class KeyReused(UserError):
    """The key was already used for a different submission."""

    code = "idempotency_key_reused"

    def __init__(self):
        super().__init__(
            "Idempotency-Key har redan använts för ett annat förslag. Skicka ett nytt förslag med en ny nyckel.",
            "The Idempotency-Key was already used for a different proposal. Send a new proposal with a new key.",
            field="Idempotency-Key",
        )


class KeyTaken(Exception):
    """Another transaction stored this key first; roll back and look it up again."""


@dataclass(frozen=True)
class Replay:
    """What an earlier submission with the same key left: its proposal, for the same answer again."""

    record: ProposalRecord


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def hash_request(data: dict) -> str:
    """A hash of a submission's JSON object that ignores key order and whitespace."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find(conn: Connection, key_hash: str, request_hash: str) -> Replay | None:
    """Return the proposal stored under ``key_hash``, None if the key is new; ``KeyReused`` for another body."""
    row = conn.execute(
        select(idempotency_keys.c.request_hash, proposals.c.public_id)
        .join(proposals, proposals.c.id == idempotency_keys.c.proposal_id)
        .where(idempotency_keys.c.key_hash == key_hash)
    ).first()
    if row is None:  # a new key (a deleted proposal's key went with it)
        return None
    if row.request_hash != request_hash:
        raise KeyReused()
    record = get_proposal(conn, row.public_id, include_hidden=True)
    return Replay(record) if record else None


def remember(conn: Connection, key_hash: str, request_hash: str, proposal_id: int, now=None) -> None:
    """Store the key of a proposal just inserted in this transaction; ``KeyTaken`` if another got there first."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(idempotency_keys).values(
                    key_hash=key_hash, request_hash=request_hash, proposal_id=proposal_id, created_at=now or utcnow()
                )
            )
    except IntegrityError as error:
        raise KeyTaken() from error
