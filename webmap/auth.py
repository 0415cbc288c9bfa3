"""Who is asking: staff login and logout, and the checks every protected route uses.

For other blueprints (OGC API planner collections, exports, layer uploads)::

    from .auth import current_user, login_required

    @bp.get("/planner-export")
    @login_required(role="planner")          # pages: redirect to login; JSON: 401 / 403
    def export(): ...

    user = current_user()                    # a layers.accounts.User or None

``current_user()`` accepts, in this order, an ``Authorization: Bearer <token>`` header (tokens
from ``dialogkarta create-token USER``), ``Authorization: Basic`` (username and password, or a
token's name and the token as the password: QGIS 3.22 can send nothing else), or the session
cookie set by ``/planner/login``. Roles are a hierarchy, ``planner < moderator < admin`` (see
``layers.accounts``); a read-only token passes only views declared ``read_only=True`` (GET of the
planner's layers and OGC collections) and never more than a planner's rights. A request is
answered as JSON (401/403 with ``{"error": ...}``) when its path has ``/api/`` or starts with
``/ogc``, it sends JSON, it prefers JSON, or it carried an Authorization header; otherwise an
anonymous page request is redirected to the login page with ``?next=``.

One throttle for every way in: the login form, HTTP Basic and tokens share the per-client
``logins`` rate limit (``webmap.ratelimit``), checked before any password is hashed; a failed
Basic or token attempt counts like a login page request. Wrong passwords also lock the pair
(username, client) for a while, never the account itself, so nobody can lock out someone else;
an unknown name, a wrong password and a locked pair get the same answer.

Sessions are permanent cookies (``PERMANENT_SESSION_LIFETIME``, 8 h by default), HttpOnly,
SameSite=Lax and Secure when ``SESSION_COOKIE_SECURE`` is set; logging in clears any previous
session (no fixation). Each cookie carries the account's session version: logout (on every
device), a new password, a new role and deactivation bump it and so end every session of the
account. Login and logout are forms protected by the global CSRF check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import timedelta
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from ..layers import accounts
from . import db, ratelimit
from .errors import error_response, http_message
from .ratelimit import limited

bp = Blueprint("auth", __name__)

SESSION_KEY = "staff_user_id"
SESSION_VERSION_KEY = "staff_session_version"
_UNSET = object()


def _login_settings() -> tuple[int, timedelta]:
    config = current_app.config
    return config["LOGIN_MAX_FAILURES"], timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])


def _client_key() -> str:
    # Keyed with the app's secret so the stored value cannot be turned back into an address.
    address = (request.remote_addr or "-").encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), address, hashlib.sha256).hexdigest()


def _authenticate(conn, username: str, password: str) -> accounts.LoginResult:
    max_failures, lockout = _login_settings()
    return accounts.authenticate(conn, username, password, client=_client_key(), max_failures=max_failures, lockout=lockout)


def _from_authorization_header() -> accounts.User | None:
    retry_after = ratelimit.wait("logins")
    if retry_after:  # before any token lookup or password hash
        g._staff_user = None  # so that a template asking again (e.g. on the error page) gets None, not another abort
        abort(ratelimit.too_many(retry_after))
    user = None
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        with db.transaction() as conn:
            user = accounts.user_for_token(conn, value)
    elif scheme == "basic" and value:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        if sep:
            with db.transaction() as conn:
                if accounts.looks_like_token(password):  # QGIS 3.22: token name and token as Basic credentials
                    user = accounts.user_for_token(conn, password, name=username)
                if user is None:
                    user = _authenticate(conn, username, password).user
    if user is None:
        ratelimit.record("logins")
    return user


def _from_session() -> accounts.User | None:
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return None
    with db.reading() as conn:
        user = accounts.user_for_session(conn, user_id, session.get(SESSION_VERSION_KEY))
    if user is None:  # logged out elsewhere, new password or role, deactivated or deleted since login
        session.pop(SESSION_KEY, None)
        session.pop(SESSION_VERSION_KEY, None)
    return user


def current_user() -> accounts.User | None:
    """Return the staff user making this request (token, basic auth or session), or None."""
    cached = g.get("_staff_user", _UNSET)
    if cached is not _UNSET:
        return cached
    user = _from_authorization_header() if request.headers.get("Authorization") else _from_session()
    g._staff_user = user
    return user


def actor() -> tuple[str, int | None]:
    """Return (role, user id) of the current staff user for the audit trail; ('system', None) if none."""
    user = current_user()
    return (user.role, user.id) if user else ("system", None)


def is_json_request() -> bool:
    path = request.path
    return (
        "/api/" in path
        or path.startswith("/ogc")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
        or bool(request.headers.get("Authorization"))
    )


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


def login_required(view=None, *, role: str = "planner", read_only: bool = False):
    """Refuse anonymous requests (redirect or 401) and users below ``role`` (403).

    Usable bare (``@login_required``) or with a role (``@login_required(role="moderator")``).
    ``read_only=True`` lets read-only tokens GET the view too (layers, OGC collections).
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
            if user.scope != "full" and not (read_only and request.method in ("GET", "HEAD")):
                return _refuse(403)
            return function(*args, **kwargs)

        wrapped.required_role = role
        wrapped.token_scope = "read" if read_only else "full"
        return wrapped

    return decorator(view) if view is not None else decorator


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never "//evil.example", "https://..." or "/\t/evil.example" (browsers drop
    # tabs and newlines, turning it into "//evil.example").
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return target
    return url_for("planner.index")


@bp.route("/login", methods=["GET", "POST"])
@limited("logins")  # per client, before any hash; the same bucket counts failed Basic and token attempts
def login():
    next_url = request.values.get("next")
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        with db.transaction() as conn:
            result = _authenticate(conn, username, request.form.get("password", ""))
        if result.user is not None:
            session.clear()
            session.permanent = True
            session[SESSION_KEY] = result.user.id
            session[SESSION_VERSION_KEY] = result.session_version
            g._staff_user = result.user
            return redirect(_safe_next(next_url))
        # One answer for an unknown name, a wrong password and a locked (name, client) pair.
        flash(_("Fel användarnamn eller lösenord. Efter flera misslyckade försök i rad måste du vänta en stund."), "error")
        return render_template("planner/login.html", username=username, next_url=next_url), 401
    return render_template("planner/login.html", username="", next_url=next_url)


@bp.post("/logout")
def logout():
    user = _from_session() if session.get(SESSION_KEY) is not None else None
    if user is not None:
        with db.transaction() as conn:
            accounts.end_sessions(conn, user.id)  # every device, not only this cookie
    session.clear()
    flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))

    @app.context_processor
    def staff_context():
        return {"staff_user": current_user}
