"""Residents flag a proposal as inappropriate: POST /p/<public_id>/flag.

One flag per browser (a random token in an HttpOnly cookie, stored only as a hash); when a
proposal has open flags from ``FLAG_HIDE_THRESHOLD`` distinct networks (IPv4 /24, IPv6 /64) it
is hidden pending a moderator's review, unless a moderator has restored it before
(``/planner/moderation``; hiding and restoring by hand are planner views). Form posts need the
CSRF token like every form; a JSON client sends it in ``X-CSRFToken``.
"""

from __future__ import annotations


from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request
from flask_babel import gettext as _

from ..layers import workflow
from . import db
from .client import browser_token, network_key, remember_token
from .ratelimit import limited

bp = Blueprint("moderation", __name__)


@bp.post("/p/<public_id>/flag")
@limited("flags")  # a browser without the cookie gets a new token, so flags are limited per client too
def flag(public_id: str):
    token, _new = browser_token()
    payload = request.get_json(silent=True) if request.is_json else request.form
    reason = str((payload or {}).get("reason", ""))[:500]
    with db.transaction() as conn:
        result = workflow.flag(
            conn, public_id, token, reason, threshold=current_app.config["FLAG_HIDE_THRESHOLD"], client=network_key()
        )
    if result is None:
        abort(404)
    message = _("Tack. En moderator tittar på förslaget.")
    if request.is_json or request.accept_mimetypes.best == "application/json":
        response = jsonify({"flagged": True, "message": message})
    else:
        flash(message, "info")
        response = redirect("/" if result["hidden"] else f"/p/{public_id}")
    remember_token(response, token)
    return response
