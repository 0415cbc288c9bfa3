"""Planners' survey pages under /planner/surveys: the rounds with their response counts, and one round's results.

The results page counts every question over the respondents a cross-filter keeps
(``?where=question=answer``) and maps drawn answers on a SWEREF 99 TM grid (``?cell=`` metres);
both parameters are checked, and a bad one is a 400 page saying what is wrong.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file

from ..layers import survey_export, survey_results, surveys
from . import db, params
from .auth import login_required
from .errors import error_response
from .i18n import current_language

bp = Blueprint("survey_results", __name__)

CELL_M = 100
CELL_RANGE = (25, 1000)
MAX_FILTER_LENGTH = 200


@bp.get("")
@login_required(role="planner")
def index():
    lang = current_language()
    with db.reading() as conn:
        rounds = surveys.list_surveys(conn)
        counts = survey_results.response_counts(conn)
    rows = [
        {"survey": found, "title": surveys.in_language(found.title, lang), "responses": counts.get(found.slug, 0)}
        for found in rounds
    ]
    return render_template("planner/surveys.html", rows=rows)


@bp.get("/<slug>")
@login_required(role="planner")
def results(slug: str):
    from . import survey_report  # matplotlib and geopandas, imported when results are first drawn

    lang = current_language()
    raw_where = request.args.get("where", "")
    try:
        if len(raw_where) > MAX_FILTER_LENGTH:
            raise params.ParameterError(
                "where",
                f"where är för långt (högst {MAX_FILTER_LENGTH} tecken).",
                f"where is too long (at most {MAX_FILTER_LENGTH} characters).",
            )
        cell_m = params.parse_int("cell", request.args.get("cell"), CELL_M, *CELL_RANGE)
    except params.ParameterError as error:
        return error_response(400, "bad_request", error.message(lang))
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
        if found is None:
            abort(404)
        try:
            where = survey_results.parse_where(found, raw_where)
        except survey_results.InvalidFilter as error:
            return error_response(400, "bad_request", error.message(lang))
        data = survey_report.build(conn, db.registry(), found, where, cell_m, lang)
    return render_template(
        "planner/survey_results.html",
        survey=found,
        title=surveys.in_language(found.title, lang),
        where=where.as_text() if where else "",
        cell_m=cell_m,
        cell_range=CELL_RANGE,
        **data,
    )


@bp.get("/<slug>/export.gpkg")
@login_required(role="planner")
def export_gpkg(slug: str):
    """The drawn answers with their joins, a GeoPackage layer per map question in EPSG:3006 (as ``survey export``)."""
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
        if found is None:
            abort(404)
        layers = survey_export.answer_layers(conn, db.registry(), found)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{slug}.gpkg"
        survey_export.write_survey(layers, found, "gpkg", path, db.registry().locality)
        data = path.read_bytes()  # read before the folder goes; a survey's answers are a few megabytes at most
    response = send_file(
        io.BytesIO(data), mimetype="application/geopackage+sqlite3", as_attachment=True, download_name=f"{slug}.gpkg"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
