"""Residents' photos: served by content hash, published or rejected by moderators.

``GET /photos/<sha256>.jpg`` sends a published photo of a visible proposal to anyone, and a
pending one (or one of a hidden proposal) to logged-in staff only: 404 for everyone else, the same
answer as for no photo at all. A rejected photo is never sent. Published photos are cached for a year (the URL is the content's hash); pending ones
are not stored by any cache. ``POST /planner/photos/<id>/publish`` and ``/reject`` are moderator
forms on the moderation page (CSRF like every form), audit-logged.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _

from ..layers import photos
from . import db
from .auth import actor, current_user, login_required
from .i18n import current_language

bp = Blueprint("photos", __name__)
YEAR_S = 365 * 24 * 3600


@bp.app_context_processor
def photo_limits():
    """The photo field's stated limit (``resident/photo_field.html``), the one the server holds uploads to."""
    return {"photo_max_bytes": current_app.config["PHOTO_MAX_BYTES"]}


@bp.get("/photos/<sha256>.jpg")
def photo(sha256: str):
    if not photos.SHA256.match(sha256):
        abort(404)
    with db.reading() as conn:
        published = photos.file_is_public(conn, sha256)
        kept = published or bool(photos.statuses_of_file(conn, sha256) & {"pending", "published"})
    if not published and not (kept and current_user() is not None):
        abort(404)
    path = photos.file_path(current_app.config["PHOTO_DIR"], sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, etag=sha256, max_age=None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{sha256[:16]}.jpg"'
    if published:
        response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    else:
        response.headers["Cache-Control"] = "private, no-store"  # a pending photo must never sit in a shared cache
    return response


@bp.post("/planner/photos/<int:photo_id>/<any(publish, reject):decision>")
@login_required(role="moderator")
def decide(photo_id: int, decision: str):
    role, user_id = actor()
    try:
        with db.transaction() as conn:
            photos.decide(conn, photo_id, decision, current_app.config["PHOTO_DIR"], role=role, user_id=user_id)
    except photos.PhotoDecisionError as error:
        flash(_("Kunde inte spara: %(reason)s", reason=error.message(current_language())), "error")
    else:
        flash(_("Bilden är publicerad.") if decision == "publish" else _("Bilden är avvisad och borttagen."), "info")
    back = request.form.get("back", "")
    if back.startswith("/planner/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("planner.moderation"))
