"""Read a request body that must be one JSON object: 415 when it is not JSON, 413 when too big, 400 when malformed."""

from __future__ import annotations

import orjson
from flask import request
from flask_babel import gettext as _

from .errors import BadRequest


class NotJSON(Exception):
    """The body is not ``application/json``: answered 415 by the blueprint that reads it."""


def read_json_object() -> dict:
    """Return the request body as a JSON object, or refuse it (415, 413, 400)."""
    if not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise NotJSON()
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 from werkzeug
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(_("Ogiltig JSON: %(detail)s", detail=str(exc))) from None
    if not isinstance(data, dict):
        raise BadRequest(_('Skicka ett JSON-objekt, t.ex. {"lon": 13.35, "lat": 55.66, …}.'))
    return data
