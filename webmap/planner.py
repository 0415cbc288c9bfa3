"""Planner workspace under /planner (issue 4): overlay map, proposal pages, routing, status,
answers, staff entry, moderation and the summary report.

Every view here needs a logged-in staff user (``webmap.auth.login_required``); the login and
logout views live in ``webmap.auth``. Views read the request, call one function of
``layers.workflow`` / ``layers.proposals`` / ``layers.report`` and redirect or render.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from flask_babel import gettext as _

from ..geo.errors import UserError
from ..layers import proposals as proposal_service
from ..layers import export as table_export
from ..layers import report as report_data
from ..layers import account_audit, activities, bulk, photos, saved_filters, store, workflow
from ..layers import accounts as staff_accounts
from ..layers.vocabulary import (
    ACCOUNT_ACTIONS,
    CHANNELS,
    PROPOSAL_STATUSES,
    ROLES,
    TOKEN_SCOPES,
    TOKEN_STATUSES,
    label,
    labels,
    translate,
)
from ..layers.map_view import MapView
from . import db, params
from .auth import actor, current_user, login_required
from .i18n import current_language

bp = Blueprint("planner", __name__)


@bp.app_context_processor
def label_context():
    lang = current_language()
    return {
        "status_label": lambda s: label(PROPOSAL_STATUSES, s, lang),
        "channel_label": lambda c: label(CHANNELS, c, lang),
        "role_label": lambda r: label(ROLES, r, lang),
    }


def _labels(lang: str) -> dict:
    locality = db.registry().locality
    return {
        "categories": {c.id: c.label(lang) for c in locality.categories},
        "departments": {d: locality.department_label(d, lang) for d in locality.departments},
        "statuses": labels(PROPOSAL_STATUSES, lang),
        "channels": labels(CHANNELS, lang),
    }


def _area_names() -> dict:
    areas = db.registry().areas()
    return dict(zip(areas["id"], areas["name"]))


def _load(conn, public_id: str) -> dict:
    record = store.get_proposal(conn, public_id, include_hidden=True)
    if record is None:
        abort(404)
    return record


# ------------------------------------------------------------------------------ overlay
@bp.get("/")
@login_required
def index(status: int = 200, query: str | None = None):
    from . import planner_map  # folium, imported when a map is first drawn

    registry = db.registry()
    lang = current_language()
    parts = planner_map.overlay_map(registry, current_app.config["TILE_URL"], current_app.config["TILE_ATTRIBUTION"], lang)
    config = {  # for static/planner/overlay.js; texts keep gettext's %(name)s for its t()
        "proposalsUrl": url_for("planner.api_proposals"),
        "mapUrl": url_for("planner.api_proposal_map"),
        "proposalUrl": url_for("planner.proposal", public_id="__id__"),
        "areasUrl": url_for("planner.api_areas"),
        "tableCsvUrl": url_for("planner.table_csv"),
        "indexUrl": url_for("planner.index"),
        "query": request.query_string.decode() if query is None else query,  # a refused form keeps its filter
        "labels": _labels(lang),
        "text": {
            "noProposals": _("Inga förslag matchar filtret."),
            "proposalsIn": _("Förslag i %(area)s"),
            "count": _("antal förslag"),
            "matching": _("%(n)s förslag matchar filtret."),
            "shown": _("Tabellen visar %(shown)s av %(n)s."),
            "cluster": _("%(count)s förslag"),
            "clusterOne": _("1 förslag"),
        },
    }
    return render_template(
        "planner/index.html",
        map_parts=parts,
        assets=planner_map.asset_urls(),
        config_json=orjson.dumps(config).decode().replace("</", "<\\/"),
        labels=_labels(lang),
        areas=_area_names(),
        saved=_saved_filters(),
        near_kinds=_near_kinds(lang),
    ), status


def _near_kinds(lang: str) -> dict[str, str]:
    """The service kinds the overlay can filter on, each labelled with its radius ("Skola (800 m)")."""
    locality = db.registry().locality
    return {
        kind: f"{translate(labels, lang, default=kind)} ({locality.radius_m(kind):.0f} m)"
        for kind, labels in locality.service_kinds.items()
    }


@bp.get("/api/areas")
@login_required(read_only=True)
def api_areas():
    areas = db.registry().areas()
    return Response(areas[["id", "name", "status", "geometry"]].to_json(drop_id=True), mimetype="application/geo+json")


TABLE_LIMIT_DEFAULT = 500  # the overlay's table: rows per page, and the most a page may ask for
TABLE_LIMIT_MAX = 10_000


@bp.get("/api/proposals")
@login_required(read_only=True)
def api_proposals():
    """One page of the proposals matching the filters (``limit``, ``offset``, a ``next`` link while more match),
    with their total and the counts per development area of all of them."""
    filters = {name: request.args.get(name) or None for name in report_data.FILTERS}
    try:
        limit = params.parse_int("limit", request.args.get("limit"), TABLE_LIMIT_DEFAULT, 1, TABLE_LIMIT_MAX)
        offset = params.parse_int("offset", request.args.get("offset"), 0, 0, params.MAX_OFFSET)
    except params.ParameterError as error:
        message = error.message(current_language())
        return jsonify({"error": {"code": "bad_request", "field": error.field, "message": message}}), 400
    assert limit is not None and offset is not None
    with db.reading() as conn:
        records = planner_map_view().records(conn)  # cached per store version, shared with the overlay's map
    try:
        selected = report_data.filter_records(records, **filters)
    except ValueError as error:
        return _bad_filter(error)
    area_ids = list(db.registry().areas()["id"])
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {
                "public_id": r["public_id"],
                "title": r["title"],
                "category": r["category"],
                "status": r["status"],
                "channel": r["channel"],
                "department": r["department"],
                "created_at": r["created_at"].isoformat(),
                "area_ids": r["area_ids"],
                "hidden": bool(r["hidden"]),
                "url": url_for("planner.proposal", public_id=r["public_id"]),
            },
        }
        for r in selected[offset : offset + limit]
    ]
    links = []
    if offset + limit < len(selected):
        args = {key: value for key, value in request.args.items() if key not in ("limit", "offset")}
        links.append({"rel": "next", "href": url_for("planner.api_proposals", **args, limit=limit, offset=offset + limit)})
    body = {
        "type": "FeatureCollection",
        "features": features,
        "total": len(selected),
        "numberReturned": len(features),
        "offset": offset,
        "links": links,
        "area_counts": report_data.area_counts(selected, area_ids),
    }
    return Response(orjson.dumps(body), mimetype="application/geo+json")


def _bad_filter(error: ValueError):
    """400 for a filter the overlay cannot apply: a service count that is not a whole number, or a bad date."""
    if isinstance(error, report_data.NearFilterError):
        message = _("Ange antalet tjänster som ett heltal från 0 till %(most)s.", most=report_data.NEAR_MIN_MAX)
    else:
        message = _("Datum anges som ÅÅÅÅ-MM-DD.")
    return jsonify({"error": {"code": "invalid_filter", "message": message}}), 400


# ------------------------------------------------------------------------------ the filtered table: bulk, CSV, saved filters
def _filtered(args: MultiDict) -> list[dict]:
    """The proposals the overlay's table shows for these filter parameters; ValueError on a bad filter."""
    filters = {name: args.get(name) or None for name in report_data.FILTERS}
    with db.reading() as conn:
        records = report_data.load_records(conn, db.registry().locality.timezone)
    return report_data.filter_records(records, **filters)


def _saved_filters() -> list[dict]:
    user_id = actor()[1]
    with db.reading() as conn:
        return saved_filters.for_user(conn, user_id) if user_id is not None else []


def _back_to_overlay(query: str):
    return redirect(url_for("planner.index") + ("?" + query if query else ""), code=303)


@bp.post("/bulk")
@login_required
def bulk_action():
    """Forward, or set the status of, every proposal listed from the filtered table, with one note: all or nothing."""
    role, user_id = actor()
    action = request.form.get("action", "")
    value = request.form.get("department" if action == "forward" else "status", "")
    try:
        with db.transaction() as conn:
            changed = bulk.apply(
                conn,
                request.form.getlist("public_id"),
                action,
                value,
                departments=db.registry().locality.departments,
                role=role,
                user_id=user_id,
                note=request.form.get("note", ""),
            )
    except workflow.WorkflowError as error:  # the transaction is rolled back: nothing changed
        flash(error.message(current_language()), "error")
        return index(400, _posted_query())
    flash(_("%(n)s förslag är ändrade.", n=changed), "info")
    return _back_to_overlay(_posted_query())


def _posted_query() -> str:
    """The overlay filter a form was sent from, cleaned; empty if it is not a valid filter."""
    try:
        return saved_filters.clean_query(request.form.get("query", ""))
    except saved_filters.SavedFilterError:
        return ""


@bp.get("/table.csv")
@login_required(read_only=True)
def table_csv():
    """The overlay's table for the same filters as CSV: its columns, labels in the page's language, formulas guarded."""
    lang = current_language()
    try:
        records = _filtered(request.args)
    except ValueError as error:
        return _bad_filter(error)
    text = _labels(lang)
    names = _area_names()
    header = [_("Rubrik"), _("Kategori"), _("Status"), _("Kanal"), _("Förvaltning"), _("Områden"), _("Inkom")]
    rows = [
        [
            r["title"],
            text["categories"].get(r["category"], r["category"]),
            text["statuses"].get(r["status"], r["status"]),
            text["channels"].get(r["channel"], r["channel"]),
            text["departments"].get(r["department"], r["department"] or ""),
            ", ".join(names.get(a, a) for a in r["area_ids"]),
            r["created_at"].date().isoformat(),
        ]
        for r in records
    ]
    body = table_export.csv_table(header, rows, bom=request.args.get("bom") == "1")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=forslag-filtrerade.csv", "Cache-Control": "no-store"},
    )


@bp.post("/filters")
@login_required
def save_filter():
    user_id = actor()[1]
    query = request.form.get("query", "")
    try:
        with db.transaction() as conn:
            saved_filters.save(conn, user_id, request.form.get("name", ""), query)
    except saved_filters.SavedFilterError as error:
        flash(error.message(current_language()), "error")
        return index(400, _posted_query())
    flash(_("Filtret är sparat."), "info")
    return _back_to_overlay(saved_filters.clean_query(query))


@bp.post("/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int):
    user_id = actor()[1]
    try:
        with db.transaction() as conn:
            saved_filters.remove(conn, user_id, filter_id)
    except saved_filters.SavedFilterError as error:
        flash(error.message(current_language()), "error")
        return index(404)
    flash(_("Filtret är borttaget."), "info")
    return _back_to_overlay("")


def planner_map_view() -> MapView:
    """The overlay's cached clusters: every proposal, hidden ones too, at its exact position."""
    return current_app.extensions.setdefault(
        "dialogkarta.map_view.planner",
        MapView(planner=True, points_max=current_app.config["MAP_POINTS_MAX"], timezone=db.registry().locality.timezone),
    )


@bp.get("/api/proposals/map")
@login_required(read_only=True)
def api_proposal_map():
    """The overlay's view of the filtered proposals in ``bbox`` at ``zoom``: points or grid clusters."""
    filters = {name: request.args.get(name) or None for name in report_data.FILTERS}
    try:
        bbox = params.check_box("bbox", params.parse_numbers("bbox", request.args.get("bbox", ""), (4,)), params.WGS84_RANGE)
        zoom = params.parse_zoom(request.args.get("zoom"))
    except params.ParameterError as error:
        message = error.message(current_language())
        return jsonify({"error": {"code": "bad_request", "field": error.field, "message": message}}), 400
    try:
        with db.reading() as conn:
            answer = planner_map_view().answer(conn, tuple(bbox), zoom, filters)
    except ValueError as error:
        return _bad_filter(error)
    return Response(orjson.dumps(answer), mimetype="application/geo+json")


# ------------------------------------------------------------------------------ proposal page
@bp.get("/p/<public_id>")
@login_required
def proposal(public_id: str):
    from . import planner_map  # folium, imported when a map is first drawn

    registry = db.registry()
    locality = registry.locality
    lang = current_language()
    with db.reading() as conn:
        record = _load(conn, public_id)
        contact = store.get_contact(conn, record["id"])
        answers = workflow.public_answers(conn, record["id"])
        forwardings = workflow.forwardings_of(conn, record["id"])
        open_flags = workflow.open_flag_count(conn, record["id"])
        linked_activities = activities.for_proposal(conn, record["id"])
        photo = photos.of_proposal(conn, record["id"])
    names = _area_names()
    kinds = locality.service_kinds
    nearest = [
        {"kind": translate(kinds.get(kind), lang, default=kind), "name": near["name"], "distance_m": near["distance_m"]}
        for kind, near in sorted(record["nearest"].items(), key=lambda item: item[1]["distance_m"])
    ]
    within = [
        {"kind": kind, "radius_m": w["radius_m"], "count": w["count"], "label": locality.kind_label(kind, lang, w["count"])}
        for kind, w in sorted(record.get("within", {}).items(), key=lambda item: (item[1]["radius_m"], item[0]))
    ]
    config = current_app.config
    return render_template(
        "planner/proposal.html",
        p=record,
        assets=planner_map.asset_urls(),
        map_parts=planner_map.base_map(registry, config["TILE_URL"], config["TILE_ATTRIBUTION"], lang),
        map_data=orjson.dumps(planner_map.proposal_map_data(registry, record, lang)).decode().replace("</", "<\\/"),
        contact=contact,
        answers=answers,
        forwardings=forwardings,
        areas=[(a, names.get(a, a)) for a in record["area_ids"]],
        nearest=nearest,
        within=within,
        labels=_labels(lang),
        next_statuses=workflow.allowed_next(record["status"]),
        open_flags=open_flags,
        activities=linked_activities,
        also=[d for d in (record["also_departments"] or "").split(",") if d],
        photo=photo,
    )


def _back(public_id: str):
    return redirect(url_for("planner.proposal", public_id=public_id))


def _workflow_action(public_id: str, action, done_message: str):
    try:
        with db.transaction() as conn:
            action(conn, _load(conn, public_id))
    except workflow.WorkflowError as error:  # the transaction is rolled back
        flash(_("Kunde inte spara: %(reason)s", reason=error.message(current_language())), "error")
        return _back(public_id)
    flash(done_message, "info")
    return _back(public_id)


@bp.post("/p/<public_id>/recompute")
@login_required
def recompute(public_id: str):
    registry = db.registry()
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.recompute_joins(conn, registry, r["id"]),
        _("Områden och närmaste service är omräknade."),
    )


@bp.post("/p/<public_id>/forward")
@login_required
def forward(public_id: str):
    role, user_id = actor()
    departments = db.registry().locality.departments
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.forward(
            conn,
            r["id"],
            request.form.get("department", ""),
            departments=departments,
            role=role,
            user_id=user_id,
            note=request.form.get("note", ""),
        ),
        _("Förslaget är skickat till förvaltningen."),
    )


@bp.post("/p/<public_id>/status")
@login_required
def change_status(public_id: str):
    role, user_id = actor()
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.change_status(
            conn, r["id"], request.form.get("status", ""), role=role, user_id=user_id, note=request.form.get("note") or None
        ),
        _("Statusen är ändrad."),
    )


@bp.post("/p/<public_id>/answer")
@login_required
def answer(public_id: str):
    role, user_id = actor()
    departments = db.registry().locality.departments
    department = request.form.get("department") or None
    if department is not None and department not in departments:
        department = None
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.answer(
            conn, r["id"], request.form.get("body", ""), role=role, user_id=user_id, department=department
        ),
        _("Svaret är publicerat."),
    )


@bp.post("/p/<public_id>/hide")
@login_required(role="moderator")
def hide(public_id: str):
    role, user_id = actor()
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.hide(conn, r["id"], request.form.get("reason", ""), role=role, user_id=user_id),
        _("Förslaget är dolt för allmänheten."),
    )


@bp.post("/p/<public_id>/restore")
@login_required(role="moderator")
def restore(public_id: str):
    role, user_id = actor()
    return _workflow_action(
        public_id,
        lambda conn, r: workflow.restore(conn, r["id"], role=role, user_id=user_id, note=request.form.get("note", "")),
        _("Förslaget visas igen."),
    )


@bp.get("/moderation")
@login_required(role="moderator")
def moderation():
    with db.reading() as conn:
        queue = workflow.moderation_queue(conn)
        photo_queue = photos.pending(conn)
        trail = workflow.audit_trail(conn, limit=100, actions=("hide", "restore", "auto_hide", "photo_publish", "photo_reject"))
    return render_template("planner/moderation.html", queue=queue, trail=trail, photo_queue=photo_queue)


# ------------------------------------------------------------------------------ staff entry
@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    lang = current_language()
    form = request.form.to_dict() if request.method == "POST" else {"channel": "open_meeting"}
    if request.method == "POST":
        data = {key: form.get(key, "") for key in ("category", "title", "description", "channel", "meeting", "name", "email")}
        data["consent"] = form.get("consent") == "on"
        try:
            data["lon"], data["lat"] = float(form.get("lon", "")), float(form.get("lat", ""))
        except ValueError:
            data["lon"] = data["lat"] = None
        try:
            with db.transaction() as conn:
                record = proposal_service.submit(conn, db.registry(), data, role="planner")
        except UserError as error:
            flash(error.message(lang), "error")
            return _new_page(form, lang), 422
        flash(_("Förslaget är registrerat."), "info")
        return redirect(url_for("planner.proposal", public_id=record["public_id"]))
    return _new_page(form, lang)


def _new_page(form: dict, lang: str) -> str:
    from . import planner_map  # folium, imported when a map is first drawn

    config = current_app.config
    return render_template(
        "planner/new.html",
        form=form,
        labels=_labels(lang),
        channels=proposal_service.CHANNELS,
        map_parts=planner_map.base_map(db.registry(), config["TILE_URL"], config["TILE_ATTRIBUTION"], lang),
        assets=planner_map.asset_urls(),
    )


# ------------------------------------------------------------------------------ report
@bp.get("/report")
@login_required
def report():
    from . import planner_report

    return planner_report.render()


# ------------------------------------------------------------------------------ accounts (admin)
@bp.route("/users", methods=["GET", "POST"])
@login_required(role="admin")
def users():
    if request.method == "POST":
        return _account_change(
            lambda conn: staff_accounts.create_user(
                conn,
                request.form.get("username", "").strip(),
                request.form.get("password", ""),
                request.form.get("role", "planner"),
            ),
            _("Kontot är skapat."),
            "account_create",
            f"{request.form.get('username', '').strip()} ({request.form.get('role', 'planner')})",
        )
    return _users_page()


@bp.post("/users/<username>/role")
@login_required(role="admin")
def set_role(username: str):
    return _account_change(
        lambda conn: staff_accounts.set_role(conn, username, request.form.get("role", "")),
        _("Rollen är ändrad och kontots inloggningar är avslutade."),
        "account_role",
        f"{username} -> {request.form.get('role', '')}",
    )


@bp.post("/users/<username>/active")
@login_required(role="admin")
def set_active(username: str):
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    if active is None:
        flash(_("Ange om kontot ska vara aktivt (1) eller inaktivt (0)."), "error")
        return _users_page(400)
    return _account_change(
        lambda conn: staff_accounts.set_active(conn, username, active),
        _("Kontot är aktiverat.") if active else _("Kontot är inaktiverat: dess inloggningar och tokens fungerar inte längre."),
        "account_active" if active else "account_inactive",
        username,
    )


@bp.post("/tokens/<int:token_id>/revoke")
@login_required(role="admin")
def revoke_token(token_id: int):
    return _account_change(
        lambda conn: staff_accounts.revoke_token(conn, token_id=token_id),
        _("Token är återkallad."),
        "token_revoke",
        f"#{token_id}",
    )


def _account_change(change, done: str, action: str, detail: str):
    """Run one account change and keep it in the audit log; on bad input say why with 400/404 and change nothing."""
    user = current_user()
    try:
        with db.transaction() as conn:
            change(conn)
            account_audit.record(conn, action, detail, role=user.role, user_id=user.id)
    except staff_accounts.AccountError as error:
        flash(error.message(current_language()), "error")
        return _users_page(404 if isinstance(error, staff_accounts.UnknownAccount) else 400)
    flash(done, "info")
    return redirect(url_for("planner.users"))


def _users_page(status: int = 200):
    with db.reading() as conn:
        people, tokens = staff_accounts.list_users(conn), staff_accounts.list_tokens(conn)
        changes = account_audit.trail(conn)
    lang = current_language()
    return render_template(
        "planner/users.html",
        accounts=people,
        tokens=tokens,
        roles=staff_accounts.ROLES,
        scope_labels=labels(TOKEN_SCOPES, lang),
        token_status_labels=labels(TOKEN_STATUSES, lang),
        account_action_labels=labels(ACCOUNT_ACTIONS, lang),
        me=current_user(),
        changes=changes,
    ), status
