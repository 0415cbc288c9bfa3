"""Who an anonymous resident is, as far as the server may know: a random browser token and a network.

One token cookie serves supports and flags alike (so one erasure covers both); only its SHA-256 is
stored. The network (IPv4 /24, IPv6 /64) is stored only as a hash keyed with the app's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, request

from ..layers import spam

TOKEN_COOKIE = "dialogkarta_token"
TOKEN_MAX_AGE = 2 * 365 * 24 * 3600


def browser_token() -> tuple[str, bool]:
    """Return this browser's random token and whether it is new (then set it with ``remember_token``)."""
    token = request.cookies.get(TOKEN_COOKIE, "")
    if 20 <= len(token) <= 100:
        return token, False
    return secrets.token_urlsafe(32), True


def network_key() -> str:
    """Return a keyed hash of the sender's network (IPv4 /24, IPv6 /64), never the address itself."""
    # Keyed with the app's secret so the stored value cannot be turned back into a network.
    network = spam.network_of(request.remote_addr).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), network, hashlib.sha256).hexdigest()


def remember_token(response: Response, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=TOKEN_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
