"""GET /api/proposals/summary?bbox=...: what the resident map's view holds, as a sentence and as counts.

The map page shows the sentence beside the map and renews it when the view changes (issue #14), so a
screen reader hears what the map shows: "I kartvyn: 12 förslag i Kvarnskon–Vattenrännan, 3 besvarade."
Counts come from ``layers.view_summary`` (public proposals only, at the public map's positions); the
sentence is in the request's language.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext

from ..layers.view_summary import ViewCounts, ViewSummary
from . import db, params
from .errors import error_response
from .i18n import current_language

bp = Blueprint("view_summary", __name__)


@bp.errorhandler(params.ParameterError)
def bad_parameter(error: params.ParameterError):
    return error_response(400, "bad_request", error.message(current_language()), field=error.field)  # as /api answers


def _summary() -> ViewSummary:
    return current_app.extensions.setdefault("dialogkarta.view_summary", ViewSummary(current_app.config["PUBLIC_GRID_M"]))


def _proposals(count: int) -> str:
    return ngettext("%(num)s förslag", "%(num)s förslag", count)


def _answered(count: int) -> str:
    return ngettext("%(num)s besvarat", "%(num)s besvarade", count)


def sentence(counts: ViewCounts, area_names: dict[str, str]) -> str:
    """Say what the view holds: per development area (most proposals first), then those in none."""
    if not counts.count:
        return _("Inga förslag i kartvyn.")
    parts = [
        _(
            "%(proposals)s i %(area)s, %(answered)s",
            proposals=_proposals(a.count),
            area=area_names.get(a.area_id, a.area_id),
            answered=_answered(a.answered),
        )
        for a in counts.areas
    ]
    if counts.elsewhere:
        parts.append(
            _(
                "%(proposals)s utanför utvecklingsområdena, %(answered)s",
                proposals=_proposals(counts.elsewhere),
                answered=_answered(counts.elsewhere_answered),
            )
        )
    if len(parts) == 1:
        return _("I kartvyn: %(parts)s.", parts=parts[0])
    return _(
        "I kartvyn %(proposals)s, %(answered)s: %(parts)s.",
        proposals=_proposals(counts.count),
        answered=_answered(counts.answered),
        parts="; ".join(parts),
    )


@bp.get("/api/proposals/summary")
def summary():
    """The public proposals inside ``bbox`` (required): a sentence, and the counts per development area."""
    min_lon, min_lat, max_lon, max_lat = params.check_box(
        "bbox", params.parse_numbers("bbox", request.args.get("bbox", ""), (4,)), params.WGS84_RANGE
    )
    registry = db.registry()
    with db.reading() as conn:
        counts = _summary().counts(conn, (min_lon, min_lat, max_lon, max_lat), layers_version=registry.version)
    areas = registry.areas()
    names = {str(area_id): str(name) for area_id, name in zip(areas["id"], areas["name"])}
    return jsonify(
        {
            "text": sentence(counts, names),
            "count": counts.count,
            "answered": counts.answered,
            "areas": [
                {"id": a.area_id, "name": names.get(a.area_id, a.area_id), "count": a.count, "answered": a.answered}
                for a in counts.areas
            ],
            "elsewhere": {"count": counts.elsewhere, "answered": counts.elsewhere_answered},
        }
    )
