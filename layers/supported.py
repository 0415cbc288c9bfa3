"""Which public proposals one browser has supported, found from its random token as ``add_support`` stored it.

Nothing new is stored: the ``supports`` rows already hold the token's SHA-256, so a browser that
sends its token cookie can be told what it supported (its support buttons then say so after a
reload), and nobody else can.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import proposals, supports
from .store import hash_token

SUPPORTED_MAX = 1000  # newest first; a browser that supported more sees those marked


def supported_by(conn: Connection, token: str, limit: int = SUPPORTED_MAX) -> list[str]:
    """Return the public ids of the public proposals supported with ``token``, newest support first."""
    query = (
        select(proposals.c.public_id)
        .join(supports, supports.c.proposal_id == proposals.c.id)
        .where(supports.c.token_hash == hash_token(token), proposals.c.hidden.is_(False))
        .order_by(supports.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars())
