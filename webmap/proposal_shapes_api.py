"""GET /api/proposals/shapes?bbox=...: the public line and area proposals the resident map draws as lines and areas.

Each is also a point in ``/api/proposals/map`` (clusters and counts stay point-based); this gives the
shapes themselves, with what a popup needs first (the popup fetches the rest from the item). Hidden
proposals are never listed; nothing about who sent one.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, request

from ..layers import proposal_shapes
from . import db, params
from .errors import error_response
from .i18n import current_language

bp = Blueprint("proposal_shapes_api", __name__)


@bp.errorhandler(params.ParameterError)
def bad_parameter(error: params.ParameterError):
    return error_response(400, "bad_request", error.message(current_language()), field=error.field)  # as /api answers


@bp.get("/api/proposals/shapes")
def shapes():
    """Public line and area proposals near ``bbox`` (optional, WGS84) as a FeatureCollection."""
    bbox = None
    if "bbox" in request.args:
        box = params.parse_numbers("bbox", request.args.get("bbox", ""), (4,))
        bbox = tuple(params.check_box("bbox", box, params.WGS84_RANGE))
    with db.reading() as conn:
        features = proposal_shapes.public_shapes(conn, bbox)
    body = {"type": "FeatureCollection", "numberReturned": len(features), "features": features}
    response = Response(orjson.dumps(body), mimetype="application/geo+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
