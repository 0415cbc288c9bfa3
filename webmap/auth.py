"""Who is asking: staff login and logout, and the checks every protected route uses.

For other blueprints (OGC API planner collections, exports, layer uploads)::

    from .auth import current_user, login_required

    @bp.get("/planner-export")
    @login_required(role="planner")          # pages: redirect to login; JSON: 401 / 403
    def export(): ...

    user = current_user()                    # a layers.accounts.User or None

``current_user()`` accepts, in this order, an ``Authorization: Bearer <token>`` header (tokens
from ``dialogkarta create-token NAME``), ``Authorization: Basic`` (username and password, counted
towards the lock-out), or the session cookie set by ``/planner/login``. Roles are a hierarchy,
``planner < moderator < admin`` (see ``layers.accounts``). A request is answered as JSON (401/403
with ``{"error": ...}``) when its path has ``/api/`` or starts with ``/ogc``, it sends JSON, it
prefers JSON, or it carried an Authorization header; otherwise an anonymous page request is
redirected to the login page with ``?next=``.

Sessions are permanent cookies (``PERMANENT_SESSION_LIFETIME``, 8 h by default), HttpOnly,
SameSite=Lax and Secure when ``SESSION_COOKIE_SECURE`` is set; logging in clears any previous
session (no fixation). Login and logout are forms protected by the global CSRF check.
"""
from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from functools import wraps

from flask import (
    Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _

from ..layers import accounts
from . import db
from .errors import error_response, http_message
from .ratelimit import limited

bp = Blueprint("auth", __name__)

SESSION_KEY = "staff_user_id"
_UNSET = object()


def _login_settings() -> tuple[int, timedelta]:
    config = current_app.config
    return config["LOGIN_MAX_FAILURES"], timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])


def _from_authorization_header():
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        with db.transaction() as conn:
            return accounts.user_for_token(conn, value.strip())
    if scheme == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        max_failures, lockout = _login_settings()
        with db.transaction() as conn:
            return accounts.authenticate(conn, username, password, max_failures=max_failures, lockout=lockout).user
    return None


def current_user() -> accounts.User | None:
    """Return the staff user making this request (token, basic auth or session), or None."""
    cached = g.get("_staff_user", _UNSET)
    if cached is not _UNSET:
        return cached
    user = None
    if request.headers.get("Authorization"):
        user = _from_authorization_header()
    else:
        user_id = session.get(SESSION_KEY)
        if user_id is not None:
            with db.reading() as conn:
                user = accounts.get_user(conn, user_id)
            if user is None:
                session.pop(SESSION_KEY, None)  # deactivated or deleted since login
    g._staff_user = user
    return user


def actor() -> tuple[str, int | None]:
    """Return (role, user id) of the current staff user for the audit trail; ('system', None) if none."""
    user = current_user()
    return (user.role, user.id) if user else ("system", None)


def is_json_request() -> bool:
    path = request.path
    return ("/api/" in path or path.startswith("/ogc") or request.is_json
            or request.accept_mimetypes.best == "application/json" or bool(request.headers.get("Authorization")))


def _refuse(status: int):
    if is_json_request():
        from flask import jsonify
        code = "unauthorized" if status == 401 else "forbidden"
        response = jsonify({"error": {"code": code, "message": http_message(status)}})
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="dialogkarta", Basic realm="dialogkarta"'
        return response
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return error_response(403, "forbidden", http_message(403))


def login_required(view=None, *, role: str = "planner"):
    """Refuse anonymous requests (redirect or 401) and users below ``role`` (403).

    Usable bare (``@login_required``) or with a role (``@login_required(role="moderator")``).
    """
    accounts.role_allows(role, role)  # fail at import time on a misspelt role

    def decorator(function):
        @wraps(function)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return _refuse(401)
            if not user.has_role(role):
                return _refuse(403)
            return function(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator(view) if view is not None else decorator


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never "//evil.example", "https://..." or "/\t/evil.example" (browsers drop
    # tabs and newlines, turning it into "//evil.example").
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)):
        return target
    return url_for("planner.index")


@bp.route("/login", methods=["GET", "POST"])
@limited("logins")  # per client, on top of the per-account lock-out: no password spraying across accounts
def login():
    next_url = request.values.get("next")
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        max_failures, lockout = _login_settings()
        with db.transaction() as conn:
            result = accounts.authenticate(conn, username, password, max_failures=max_failures, lockout=lockout)
        if result.user is not None:
            session.clear()
            session.permanent = True
            session[SESSION_KEY] = result.user.id
            g._staff_user = result.user
            return redirect(_safe_next(next_url))
        if result.reason == "locked":
            flash(_("För många misslyckade inloggningar. Kontot är låst en stund; försök igen senare."), "error")
        else:
            flash(_("Fel användarnamn eller lösenord."), "error")
        return render_template("planner/login.html", username=username, next_url=next_url), 401
    return render_template("planner/login.html", username="", next_url=next_url)


@bp.post("/logout")
def logout():
    session.clear()
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))

    @app.context_processor
    def staff_context():
        return {"staff_user": current_user}
