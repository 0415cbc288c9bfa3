"""The JSON API under /api: layers and proposals as RFC 7946 GeoJSON."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from geo.io import frame_to_geojson
from layers.registry import UnknownLayer
from webmap import db
from webmap.i18n import current_language
from webmap.security import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # JSON only: a cross-site form cannot send application/json without a CORS preflight

GEOJSON = "application/geo+json"


@bp.get("/layers")
def layers():
    registry = db.registry()
    lang = current_language()
    return jsonify({"layers": [
        {"name": layer.name, "title": layer.label(lang), "role": layer.role,
         "geometry_type": layer.geometry_type, "count": len(registry.frame(layer.name))}
        for layer in registry if layer.public
    ]})


@bp.get("/layers/<name>")
def layer(name: str):
    registry = db.registry()
    if not registry.get(name).public:
        raise UnknownLayer(name)  # non-public layers do not exist for the public API
    return Response(frame_to_geojson(registry.frame(name)), mimetype=GEOJSON)
