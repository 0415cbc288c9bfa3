"""The OpenAPI description of line and area proposals: ``geometry`` in a new proposal, the shape and its joins in answers."""

from __future__ import annotations

from ..geo.drawn import MAX_HOLES, MAX_VERTICES

POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}

SCHEMAS = {
    "LineString": {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": ["LineString"]},
            "coordinates": {"type": "array", "minItems": 2, "maxItems": MAX_VERTICES["line"], "items": POSITION},
        },
    },
    "Polygon": {
        "type": "object",
        "required": ["type", "coordinates"],
        "description": f"At most {MAX_VERTICES['polygon']} positions and {MAX_HOLES} holes; answers give the exterior ring "
        "counter-clockwise (RFC 7946)",
        "properties": {
            "type": {"type": "string", "enum": ["Polygon"]},
            "coordinates": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4, "items": POSITION}},
        },
    },
    "ProposalGeometry": {
        "oneOf": [
            {"$ref": "#/components/schemas/Point"},
            {"$ref": "#/components/schemas/LineString"},
            {"$ref": "#/components/schemas/Polygon"},
        ]
    },
    "ProposalShape": {
        "type": "object",
        "required": ["kind"],
        "description": "What was drawn and its joins, measured in SWEREF 99 TM. A point: only kind. A line: its length, "
        "the development areas it crosses with the length inside each, the services within services_within_m. An area: "
        "its size, its overlap with each development area (m² and share of both), the services inside.",
        "properties": {
            "kind": {"type": "string", "enum": ["point", "line", "area"]},
            "length_m": {"type": "number", "description": "line: length in metres"},
            "area_m2": {"type": "number", "description": "area: size in square metres"},
            "areas": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string", "nullable": True},
                        "length_m": {"type": "number", "description": "line: metres inside the development area"},
                        "overlap_m2": {"type": "number", "description": "area: square metres in common"},
                        "share_of_shape_pct": {"type": "number", "description": "area: % of the drawn area"},
                        "share_of_area_pct": {"type": "number", "description": "area: % of the development area"},
                    },
                },
            },
            "services_within_m": {"type": "number", "description": "line: the distance services are listed within"},
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string", "nullable": True},
                        "kind": {"type": "string"},
                        "distance_m": {"type": "number", "description": "line: metres to the nearest point of the line"},
                    },
                },
            },
            "repair": {
                "type": "string",
                "nullable": True,
                "description": "Why a self-crossing area was repaired (it is stored repaired)",
            },
        },
    },
}

GEOMETRY_FIELD = {
    "description": "Instead of lon and lat: a Point, a LineString (a missing footpath) or a Polygon (a park), WGS84. "
    "Refused (422, field geometry) outside the locality, over the vertex limits or malformed; a self-crossing polygon "
    "is repaired and the repair reported in shape.repair. In a form: the GeoJSON as text.",
}


SHAPES_PATH = {
    "get": {
        "operationId": "listProposalShapes",
        "summary": "Public line and area proposals for the map (each is also a point in /proposals/map)",
        "parameters": [
            {
                "name": "bbox",
                "in": "query",
                "required": False,
                "description": "minlon,minlat,maxlon,maxlat (WGS84): those whose point lies in it, widened by about 2 km",
                "schema": {"type": "string"},
            }
        ],
        "responses": {
            "200": {
                "description": "A FeatureCollection of LineString and Polygon features",
                "content": {
                    "application/geo+json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string", "enum": ["FeatureCollection"]},
                                "numberReturned": {"type": "integer"},
                                "features": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "type": {"type": "string", "enum": ["Feature"]},
                                            "id": {"type": "string"},
                                            "geometry": {"$ref": "#/components/schemas/ProposalGeometry"},
                                            "properties": {
                                                "type": "object",
                                                "properties": {
                                                    "public_id": {"type": "string"},
                                                    "title": {"type": "string"},
                                                    "category": {"type": "string"},
                                                    "status": {"type": "string"},
                                                    "kind": {"type": "string", "enum": ["line", "area"]},
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "400": {
                "description": "A malformed bbox",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
}


def with_shapes(document: dict) -> dict:
    """Add ``geometry`` to the new-proposal schemas and the shape to ``ProposalFeature``; return ``document``."""
    schemas = document["components"]["schemas"]
    schemas.update(SCHEMAS)
    schemas["NewProposal"]["properties"]["geometry"] = {"$ref": "#/components/schemas/ProposalGeometry"}
    schemas["NewProposalForm"]["properties"]["geometry"] = {"type": "string", **GEOMETRY_FIELD}
    for name in ("NewProposal", "NewProposalForm"):
        schema = schemas[name]
        schema["required"] = [field for field in schema["required"] if field not in ("lon", "lat")]
        schema["description"] = "Send lon and lat, or geometry. " + GEOMETRY_FIELD["description"]
    feature = schemas["ProposalFeature"]["properties"]
    feature["geometry"] = {"$ref": "#/components/schemas/ProposalGeometry"}
    feature["properties"]["allOf"][1]["properties"]["shape"] = {"$ref": "#/components/schemas/ProposalShape"}
    document["paths"]["/proposals/shapes"] = SHAPES_PATH
    return document
