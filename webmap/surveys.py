"""The survey API under /api/surveys: the open surveys, one survey's questions, and answering it.

JSON only, with the proposal API's error shape (``{"error": {"code", "message", "field"}}``):
400 malformed, 404 unknown survey, 409 closed, 415 not JSON, 422 an answer that does not fit its
question (``field`` names the question). One response per browser (the random token cookie the
support button uses); answering again replaces the earlier response until the survey closes.
"""

from __future__ import annotations

from datetime import date

import orjson
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from ..layers import survey_answers, surveys
from ..layers.store import utcnow
from . import db, params
from .client import browser_token, remember_token
from .errors import BadRequest, error_response, http_message
from .i18n import current_language
from .json_body import NotJSON, read_json_object
from .ratelimit import limited
from .security import csrf

bp = Blueprint("surveys", __name__)
csrf.exempt(bp)  # JSON only, as the proposal API: a cross-site form cannot send application/json


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    return error_response(400, "bad_request", error.message, **({"field": error.field} if error.field else {}))


@bp.errorhandler(NotJSON)
def not_json(_error):
    return error_response(415, "unsupported_media_type", http_message(415))


@bp.errorhandler(survey_answers.SurveyClosed)
def closed(error: survey_answers.SurveyClosed):
    return error_response(409, error.code, error.message(current_language()))


def _today() -> date:
    """The date on the locality's calendar (``timezone`` in locality.toml): surveys open and close by it."""
    return db.registry().locality.today(utcnow())


def _summary(survey: surveys.Survey, today: date) -> dict:
    return {
        "slug": survey.slug,
        "title": survey.title,
        "opens": survey.opens.isoformat(),
        "closes": survey.closes.isoformat(),
        "open": survey.is_open(today),
        "url": url_for("surveys.survey", slug=survey.slug),
    }


@bp.get("")
def open_surveys():
    """The surveys open today, each with its title in every language and its URL."""
    today = _today()
    with db.reading() as conn:
        found = surveys.list_surveys(conn, open_on=today)
    return jsonify({"surveys": [_summary(survey, today) for survey in found]})


@bp.get("/<slug>")
def survey(slug: str):
    """One survey: its texts and ordered questions, open or not."""
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
    if found is None:
        return error_response(404, "not_found", http_message(404))
    return jsonify(_summary(found, _today()) | {"intro": found.intro, "questions": found.definition()["questions"]})


@bp.post("/<slug>/responses")
@limited("proposals")
def respond(slug: str):
    """Answer a survey: 201 for this browser's first response, 200 when it replaces an earlier one."""
    data = read_json_object()
    unknown = sorted(set(data) - {"answers", "consent"})
    if unknown:
        raise BadRequest(
            _("Okänt fält: %(fields)s. Tillåtna fält: %(allowed)s.", fields=", ".join(unknown), allowed="answers, consent"),
            unknown[0],
        )
    consent = data.get("consent", False)
    if not isinstance(consent, bool):
        raise BadRequest(_("consent ska vara true eller false."), "consent")
    registry = db.registry()
    token, new_token = browser_token()
    with db.transaction() as conn:
        found = surveys.get_survey(conn, slug)
        if found is None:
            return error_response(404, "not_found", http_message(404))
        checked = survey_answers.check_answers(
            found, data.get("answers", {}), registry.boundary(), registry.locality.name, consent=consent
        )
        first = survey_answers.save_response(conn, found, token, checked, utcnow(), _today())
    response = jsonify({"survey": slug, "updated": not first, "shapes": len(checked.shapes), "repairs": checked.repairs()})
    response.status_code = 201 if first else 200
    if new_token:
        remember_token(response, token)
    return response


@bp.get("/<slug>/responses/mine")
def my_response(slug: str):
    """This browser's response, to edit it until the survey closes; 404 when it has not answered."""
    token, new_token = browser_token()
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
        answered = None if found is None or new_token else survey_answers.load_response(conn, found, token)
    if answered is None:
        return error_response(404, "not_found", http_message(404))
    response = jsonify({"survey": slug, "answers": answered["answers"], "updated_at": answered["updated_at"].isoformat()})
    response.headers["Cache-Control"] = "private, no-store"
    return response


GRID_CELL_M = 100
GRID_CELL_RANGE = (25, 1000)


@bp.errorhandler(params.ParameterError)
def bad_parameter(error: params.ParameterError):
    return error_response(400, "bad_request", error.message(current_language()), field=error.field)


@bp.get("/<slug>/questions/<question_id>/grid")
def question_grid(slug: str, question_id: str):
    """A map question's answers as counts on a SWEREF 99 TM grid; cells of fewer than k respondents are left out."""
    cell_m = _cell_size()
    k = current_app.config["SURVEY_MIN_ANSWERS"]
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
        question = next((q for q in found.questions if q.id == question_id), None) if found else None
        if question is None or question.type != "map":
            return error_response(404, "not_found", http_message(404))
        grid = survey_answers.question_grid(conn, found, question_id, cell_m, k).to_crs("EPSG:4326")
    features = [
        {"type": "Feature", "properties": {"count": int(count)}, "geometry": geometry.__geo_interface__}
        for count, geometry in zip(grid["count"], grid.geometry)
    ]
    body = {"type": "FeatureCollection", "cell_m": cell_m, "min_answers": k, "crs_of_cells": "EPSG:3006", "features": features}
    return Response(orjson.dumps(body), mimetype="application/geo+json")


def _cell_size() -> int:
    low, high = GRID_CELL_RANGE
    cell = params.parse_int("cell", request.args.get("cell"), GRID_CELL_M, low, high)
    assert cell is not None  # a default is given
    return cell
