"""Flask's signed-cookie sessions, with the signing serializer built once per secret key instead of on every request."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    """Flask's ``SecureCookieSessionInterface``; building its serializer encodes a JSON document each time, so keep it.

    Keyed by the secret key and its fallbacks, so a changed key gets a new serializer; the
    serializer holds no per-request state.
    """

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self._serializers:
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]
