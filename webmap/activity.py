"""The public activity plan at /activity-plan: meetings, walks, surveys and more, on a map and in a
list, each with its linked proposals and the full revision history (role, time, what changed).
Planners add and edit activities; every save is a revision. Who edited is shown as a role only.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..geo.errors import UserError
from ..geo.validate import check_in_locality
from ..layers import activities
from ..layers.vocabulary import ACTIVITY_KINDS, ACTIVITY_STATUSES, label
from . import db
from .auth import actor, login_required
from .i18n import current_language

bp = Blueprint("activity", __name__)

FIELD_LABELS = {
    "kind": _l("Slag"),
    "title": _l("Rubrik"),
    "description": _l("Beskrivning"),
    "date": _l("Datum"),
    "place": _l("Plats"),
    "lon": _l("Longitud"),
    "lat": _l("Latitud"),
    "status": _l("Status"),
    "proposals": _l("Kopplade förslag"),
}
_IDS = re.compile(r"[A-Za-z0-9_-]+")


@bp.app_context_processor
def activity_labels():
    lang = current_language()
    return {
        "kind_label": lambda k: label(ACTIVITY_KINDS, k, lang),
        "activity_status_label": lambda s: label(ACTIVITY_STATUSES, s, lang),
        "field_label": lambda f: str(FIELD_LABELS.get(f, f)),
    }


def revision_value(field: str, value, titles: dict) -> str:
    """One side of a revision's change as readers see it: labels, not ids; hidden proposals unnamed."""
    if value is None or value == "" or value == []:
        return "–"
    if field == "kind":
        return label(ACTIVITY_KINDS, value, current_language())
    if field == "status":
        return label(ACTIVITY_STATUSES, value, current_language())
    if field == "proposals":
        names = [titles.get(public_id) for public_id, _relation in value]
        shown = [name for name in names if name]
        hidden = len(names) - len(shown)
        return "; ".join(shown + ([_("%(n)s dolt förslag", n=hidden)] if hidden else []))
    return str(value)


def _map_parts(items):
    from . import planner_map  # folium, imported when a map is first drawn

    registry = db.registry()
    return planner_map.activity_map(
        registry,
        items,
        current_app.config["TILE_URL"],
        current_app.config["TILE_ATTRIBUTION"],
        current_language(),
        lambda a: url_for("activity.show", activity_id=a["id"]),
    )


@bp.get("/activity-plan")
def index():
    from . import planner_map  # folium, imported when a map is first drawn

    with db.reading() as conn:
        items = activities.list_activities(conn)
        titles = activities.visible_titles(conn, {p["public_id"] for a in items for p in a["proposals"]})
    return render_template(
        "activity/index.html", items=items, titles=titles, map_parts=_map_parts(items), assets=planner_map.asset_urls()
    )


@bp.get("/activity-plan/activities.json")
def index_json():
    with db.reading() as conn:
        items = activities.list_activities(conn)
        titles = activities.visible_titles(conn, {p["public_id"] for a in items for p in a["proposals"]})
    for item in items:
        item["proposals"] = [p for p in item["proposals"] if p["public_id"] in titles]
        item["updated_at"] = item["updated_at"].isoformat()
    return jsonify({"activities": items})


@bp.get("/activity-plan/<int:activity_id>")
def show(activity_id: int):
    from . import planner_map  # folium, imported when a map is first drawn

    with db.reading() as conn:
        item = activities.get_activity(conn, activity_id)
        if item is None:
            abort(404)
        ids = {p["public_id"] for p in item["proposals"]}
        ids |= {pair[0] for r in item["revisions"] for side in r["changes"].get("proposals", ()) if side for pair in side}
        titles = activities.visible_titles(conn, ids)
    return render_template(
        "activity/show.html",
        a=item,
        titles=titles,
        revision_value=revision_value,
        map_parts=_map_parts([item]) if item["lon"] is not None else None,
        assets=planner_map.asset_urls(),
    )


def _form_fields(form) -> dict:
    fields = {key: form.get(key, "").strip() for key in ("kind", "title", "description", "date", "place", "status")}
    lon, lat = form.get("lon", "").strip(), form.get("lat", "").strip()
    if lon or lat:
        try:
            lon_f, lat_f = float(lon.replace(",", ".")), float(lat.replace(",", "."))
        except ValueError:
            raise activities.InvalidActivity(
                "give longitude and latitude as numbers, or leave both empty",
                "lon",
                sv=_("Ange longitud och latitud som tal, eller lämna båda tomma."),
            ) from None
        lon_f, lat_f = check_in_locality(lon_f, lat_f, db.registry().boundary(), db.registry().locality.name)
        fields["lon"], fields["lat"] = lon_f, lat_f
    else:
        fields["lon"] = fields["lat"] = None
    links = [(pid, "produced") for pid in _IDS.findall(form.get("produced", ""))]
    links += [(pid, "answers") for pid in _IDS.findall(form.get("answers", ""))]
    fields["proposals"] = links
    return fields


def _save(activity_id=None):
    role, user_id = actor()
    lang = current_language()
    try:
        fields = _form_fields(request.form)
        with db.transaction() as conn:
            if activity_id is None:
                activity_id = activities.create(conn, fields, role=role, user_id=user_id)
            else:
                activities.update_activity(conn, activity_id, fields, role=role, user_id=user_id)
    except UserError as error:  # InvalidActivity, or a position outside the locality
        flash(error.message(lang), "error")
        return None
    flash(_("Aktiviteten är sparad."), "info")
    return redirect(url_for("activity.show", activity_id=activity_id))


def _form_page(item, status=200):
    from . import planner_map  # folium, imported when a map is first drawn

    config = current_app.config
    parts = planner_map.base_map(db.registry(), config["TILE_URL"], config["TILE_ATTRIBUTION"], current_language())
    return render_template(
        "activity/edit.html",
        a=item,
        kinds=activities.KINDS,
        statuses=activities.STATUSES,
        map_parts=parts,
        assets=planner_map.asset_urls(),
    ), status


@bp.route("/activity-plan/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "POST":
        response = _save()
        if response is not None:
            return response
        return _form_page(_echo(request.form), 422)
    return _form_page({"kind": "open_meeting", "status": "planned", "proposals": []})


@bp.route("/activity-plan/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit(activity_id: int):
    with db.reading() as conn:
        item = activities.get_activity(conn, activity_id)
    if item is None:
        abort(404)
    if request.method == "POST":
        response = _save(activity_id)
        if response is not None:
            return response
        return _form_page({**_echo(request.form), "id": activity_id}, 422)
    return _form_page(item)


def _echo(form) -> dict:
    item = {key: form.get(key, "") for key in ("kind", "title", "description", "date", "place", "status", "lon", "lat")}
    item["proposals"] = [{"public_id": p, "relation": "produced"} for p in _IDS.findall(form.get("produced", ""))]
    item["proposals"] += [{"public_id": p, "relation": "answers"} for p in _IDS.findall(form.get("answers", ""))]
    return item
