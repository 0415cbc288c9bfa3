"""Signed-cookie sessions: the serializer is built once per secret key, and a changed key still refuses old cookies."""

from __future__ import annotations

from flask import request, session


def test_the_signing_serializer_is_kept_per_secret_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    app.secret_key = "another-secret"
    assert interface.get_signing_serializer(app) is not first


def test_a_cookie_signed_with_an_old_key_is_not_read(app):
    with app.test_request_context():
        session["seen"] = True
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    app.secret_key = "another-secret"
    with app.test_request_context(headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        assert "seen" not in app.session_interface.open_session(app, request)
