"""The OpenAPI 3 description of the public JSON API, served at /api/openapi.json.

Written by hand as a dict: five paths do not need a generator, and the document doubles as
the API's reference (the README links to it). Category values come from the locality config.
"""

from __future__ import annotations

from .openapi_shapes import with_shapes
from ..layers.proposals import DESCRIPTION_MAX, EMAIL_MAX, NAME_MAX, TITLE_MAX

STATUSES = ["received", "forwarded", "under_consideration", "planned", "done", "declined"]


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(locality, server: str = "/api") -> dict:
    """Return the OpenAPI 3.0 document for the API of ``locality``."""
    return with_shapes(_document(locality, server))  # line and area proposals: webmap/openapi_shapes.py


def _document(locality, server: str) -> dict:
    categories = [c.id for c in locality.categories]
    geojson = "application/geo+json"
    lang_header = {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "description": "Language of messages and labels: sv (default) or en.",
        "schema": {"type": "string", "example": "en"},
    }
    public_id = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 32}}
    idempotency_header = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A random key per written proposal (e.g. a UUID), the same on every retry of it: "
        "16–64 letters, digits, - or _, bare or in double quotes. Anything else: 400.",
        "schema": {"type": "string", "pattern": '^("[A-Za-z0-9_-]{16,64}"|[A-Za-z0-9_-]{16,64})$'},
    }
    category_param = {"name": "category", "in": "query", "required": False, "schema": {"type": "string", "enum": categories}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Dialogkarta API – {locality.name}",
            "version": "1",
            "description": (
                "Residents' proposals on the map of the locality, as RFC 7946 GeoJSON (WGS84 lon/lat). "
                'Errors are {"error": {"code", "message"}} with the message in the request\'s language '
                "(Accept-Language: sv default, en). Writes are rate limited per client (429 with Retry-After)."
            ),
        },
        "servers": [{"url": server}],
        "paths": {
            **_survey_paths(lang_header),
            "/proposals": {
                "get": {
                    "operationId": "listProposals",
                    "summary": "Public proposals as a GeoJSON FeatureCollection",
                    "description": (
                        "A page of the light list (public fields, category, status, support count, development area "
                        "ids; the joins in words are on GET /proposals/{public_id}), in id order, from each server's "
                        "in-memory copy kept current by the store's version; gzip when accepted, with an ETag. "
                        "1 000 proposals per page unless limit says otherwise (at most 10 000); while more match, "
                        "links holds a next link whose after cursor continues where the page ended."
                    ),
                    "parameters": [
                        {
                            "name": "bbox",
                            "in": "query",
                            "required": False,
                            "style": "form",
                            "explode": False,
                            "description": "minlon,minlat,maxlon,maxlat (WGS84)",
                            "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                        },
                        category_param,
                        {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": STATUSES}},
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000},
                        },
                        {
                            "name": "after",
                            "in": "query",
                            "required": False,
                            "description": "Keyset cursor from a next link: the page starts after this proposal (offset is then ignored)",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                        },
                        lang_header,
                    ],
                    "responses": {
                        "200": {
                            "description": "FeatureCollection of public proposals",
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalCollection"}}},
                        },
                        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                        "400": _error("Invalid query parameter (e.g. inverted bbox, wrong count, negative limit)"),
                    },
                },
                "post": {
                    "operationId": "createProposal",
                    "summary": "Submit a proposal",
                    "description": (
                        "With an Idempotency-Key a retry is safe: the first request with a key stores the proposal "
                        "(201), the same key with the same body answers that proposal again (200) and stores nothing, "
                        "in any server process; the same key with another body is refused (422, code "
                        "idempotency_key_reused). The key is stored only as its SHA-256, deleted with the proposal. "
                        "As JSON, or as multipart/form-data with the same fields plus an optional photo (JPEG, PNG or "
                        "HEIC, read by its content; re-encoded as JPEG of at most 1600 px a side without EXIF/GPS or any "
                        "other metadata; held until a moderator publishes it). A multipart form a browser marks as sent "
                        "from another site (Sec-Fetch-Site, Origin) is refused with 403."
                    ),
                    "parameters": [lang_header, idempotency_header],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/NewProposal"}},
                            "multipart/form-data": {
                                "schema": {"$ref": "#/components/schemas/NewProposalForm"},
                                "encoding": {"photo": {"contentType": "image/jpeg, image/png, image/heic, image/heif"}},
                            },
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Stored; the proposal with its joins in words",
                            "headers": {"Location": {"description": "The proposal's permalink", "schema": {"type": "string"}}},
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalFeature"}}},
                        },
                        "200": {
                            "description": "Already stored with this Idempotency-Key and body: the same proposal, nothing new stored",
                            "headers": {"Location": {"description": "The proposal's permalink", "schema": {"type": "string"}}},
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalFeature"}}},
                        },
                        "400": _error(
                            "Malformed JSON, not an object, unknown field or wrong type, or a malformed Idempotency-Key"
                        ),
                        "403": _error("A multipart form sent from another website (code cross_site)"),
                        "413": _error("JSON body over 64 KB, or a photo over PHOTO_MAX_BYTES (code photo_too_large)"),
                        "415": _error("Neither application/json nor multipart/form-data"),
                        "422": _error(
                            "Valid JSON but not acceptable: outside the locality, unknown category, "
                            "empty or too long text, e-mail without consent, invalid e-mail, or an Idempotency-Key "
                            "already used with another body (code idempotency_key_reused); a photo that is not a "
                            "JPEG, PNG or HEIC image (invalid_photo), or has too many pixels (photo_too_many_pixels)"
                        ),
                        "429": _error("Too many proposals from this client; see Retry-After"),
                    },
                },
            },
            "/proposals/nearby": {
                "get": {
                    "operationId": "nearbyProposals",
                    "summary": "Public proposals within a radius (default 150 m), same category first, then nearest",
                    "parameters": [
                        {"name": "lon", "in": "query", "required": True, "schema": {"type": "number"}},
                        {"name": "lat", "in": "query", "required": True, "schema": {"type": "number"}},
                        {
                            "name": "radius",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 150},
                        },
                        category_param,
                    ],
                    "responses": {
                        "200": {
                            "description": "FeatureCollection; each feature has distance_m",
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalCollection"}}},
                        },
                        "400": _error("Missing or invalid lon, lat, radius or category"),
                    },
                },
            },
            "/proposals/similar": {
                "get": {
                    "operationId": "similarProposals",
                    "summary": "Public proposals of a category within 500 m whose text is like a draft's, most similar first",
                    "description": (
                        "Word-trigram similarity (Dice) of the draft's text and each proposal's title and description, "
                        "at least 0.3; at most 5 answers, from the 300 nearest proposals of the category. "
                        "Only the first 500 characters of each text are compared."
                    ),
                    "parameters": [
                        {"name": "lon", "in": "query", "required": True, "schema": {"type": "number"}},
                        {"name": "lat", "in": "query", "required": True, "schema": {"type": "number"}},
                        {**category_param, "required": True},
                        {"name": "text", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 1000}},
                    ],
                    "responses": {
                        "200": {
                            "description": "FeatureCollection; each feature has distance_m and similarity (0-1)",
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalCollection"}}},
                        },
                        "400": _error("Missing or invalid lon, lat or category, or text over 1 000 characters"),
                        "429": _error("Too many lookups from this client (RATELIMIT_SIMILAR); see Retry-After"),
                    },
                },
            },
            "/proposals/map": {
                "get": {
                    "operationId": "mapProposals",
                    "summary": "What the map shows of the public proposals in a view: points, or grid clusters with counts",
                    "description": (
                        "mode=points with complete=true: the whole public set is small (MAP_POINTS_MAX), every proposal "
                        "is in the answer and the client clusters them itself. mode=points: the proposals in bbox. "
                        "mode=clusters: every non-empty cell of a SWEREF 99 TM grid (cell_m metres, about 64 screen "
                        "pixels at the answered zoom, which is coarser than asked when bbox would span more than "
                        "4096 cells) that overlaps bbox, whole, with its count, the mean position of its members and "
                        "a count per status. numberMatched counts the proposals inside bbox, total all of them. "
                        "Points carry public_id, title, category and status; GET /proposals/{public_id} has the rest."
                    ),
                    "parameters": [
                        {
                            "name": "bbox",
                            "in": "query",
                            "required": True,
                            "style": "form",
                            "explode": False,
                            "description": "the view: minlon,minlat,maxlon,maxlat (WGS84)",
                            "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                        },
                        {
                            "name": "zoom",
                            "in": "query",
                            "required": True,
                            "description": "the web map's zoom level",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 22},
                        },
                        lang_header,
                    ],
                    "responses": {
                        "200": {
                            "description": "FeatureCollection of points or clusters, with mode, complete, zoom, "
                            "numberMatched, total (and cell_m for clusters)",
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/MapView"}}},
                        },
                        "400": _error("Missing or invalid bbox or zoom"),
                    },
                },
            },
            "/proposals/{public_id}": {
                "get": {
                    "operationId": "getProposal",
                    "summary": "One public proposal with joins, status history and labels",
                    "parameters": [public_id, lang_header],
                    "responses": {
                        "200": {
                            "description": "The proposal",
                            "content": {geojson: {"schema": {"$ref": "#/components/schemas/ProposalFeature"}}},
                        },
                        "404": _error("No public proposal with this id"),
                    },
                },
            },
            "/proposals/supported": {
                "get": {
                    "operationId": "supportedProposals",
                    "summary": "The proposals this browser has supported",
                    "description": "From the browser's own token cookie (dialogkarta_token), as POST "
                    "/proposals/{public_id}/support stored it; empty without one. Public proposals only, newest "
                    "support first, at most 1 000. Never cached (Cache-Control: private, no-store).",
                    "responses": {
                        "200": {
                            "description": "Public ids",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"supported": {"type": "array", "items": {"type": "string"}}},
                                    }
                                }
                            },
                        },
                    },
                },
            },
            "/proposals/{public_id}/support": {
                "post": {
                    "operationId": "supportProposal",
                    "summary": "Support a proposal, once per browser",
                    "description": "The browser is recognised by a random cookie token (dialogkarta_token), set on "
                    "first use and stored only as its SHA-256. The body may be empty or {} but must "
                    "be sent as application/json.",
                    "parameters": [public_id, lang_header],
                    "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {
                            "description": "Counted (added true) or already counted (added false)",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Support"}}},
                        },
                        "404": _error("No public proposal with this id"),
                        "415": _error("Not application/json"),
                        "429": _error(
                            "Too many supports from this client, or from its network for this proposal today (code support_limit)"
                        ),
                    },
                },
            },
            "/layers": {
                "get": {
                    "operationId": "listLayers",
                    "summary": "The locality's public layers: name, title, role, geometry type, feature count",
                    "parameters": [lang_header],
                    "responses": {
                        "200": {
                            "description": "Layers",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "layers": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "name": {"type": "string"},
                                                        "title": {"type": "string"},
                                                        "role": {"type": "string"},
                                                        "geometry_type": {"type": "string"},
                                                        "count": {"type": "integer"},
                                                    },
                                                },
                                            }
                                        },
                                    }
                                }
                            },
                        }
                    },
                },
            },
            "/layers/{name}": {
                "get": {
                    "operationId": "getLayer",
                    "summary": "One public layer as a GeoJSON FeatureCollection",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The layer", "content": {geojson: {"schema": {"type": "object"}}}},
                        "404": _error("No public layer with this name"),
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "MapView": {
                    "type": "object",
                    "required": ["type", "mode", "complete", "zoom", "numberMatched", "total", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "mode": {"type": "string", "enum": ["points", "clusters"]},
                        "complete": {"type": "boolean"},
                        "zoom": {"type": "integer"},
                        "cell_m": {"type": "number"},
                        "numberMatched": {"type": "integer"},
                        "total": {"type": "integer"},
                        "features": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "enum": ["Feature"]},
                                    "id": {"type": "string"},
                                    "geometry": {"$ref": "#/components/schemas/Point"},
                                    "properties": {
                                        "type": "object",
                                        "properties": {
                                            "public_id": {"type": "string"},
                                            "title": {"type": "string"},
                                            "category": {"type": "string"},
                                            "status": {"type": "string", "enum": STATUSES},
                                            "cell": {"type": "string", "description": "column:row of the SWEREF 99 TM grid"},
                                            "count": {"type": "integer", "minimum": 1},
                                            "statuses": {"type": "object", "additionalProperties": {"type": "integer"}},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "example": "outside_locality"},
                                "message": {"type": "string"},
                                "field": {"type": "string", "description": "The field at fault, when one is"},
                            },
                        }
                    },
                },
                "NewProposal": {
                    "type": "object",
                    "required": ["lon", "lat", "category", "title", "description"],
                    "additionalProperties": False,
                    "properties": {
                        "lon": {"type": "number", "example": 13.3514},
                        "lat": {"type": "number", "example": 55.6652},
                        "category": {"type": "string", "enum": categories},
                        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
                        "description": {"type": "string", "minLength": 1, "maxLength": DESCRIPTION_MAX},
                        "name": {"type": "string", "maxLength": NAME_MAX, "nullable": True},
                        "email": {"type": "string", "format": "email", "maxLength": EMAIL_MAX, "nullable": True},
                        "consent": {
                            "type": "boolean",
                            "nullable": True,
                            "description": "Required (true) when name or email is given",
                        },
                        "channel": {
                            "type": "string",
                            "enum": ["web", "workbook"],
                            "description": "workbook: sent from the paper workbook's QR code",
                        },
                        "round": {
                            "type": "string",
                            "maxLength": 64,
                            "nullable": True,
                            "description": "A workbook round declared by the locality",
                        },
                    },
                },
                "NewProposalForm": {
                    "type": "object",
                    "required": ["lon", "lat", "category", "title", "description"],
                    "properties": {
                        "lon": {"type": "number", "example": 13.3514},
                        "lat": {"type": "number", "example": 55.6652},
                        "category": {"type": "string", "enum": categories},
                        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
                        "description": {"type": "string", "minLength": 1, "maxLength": DESCRIPTION_MAX},
                        "name": {"type": "string", "maxLength": NAME_MAX},
                        "email": {"type": "string", "format": "email", "maxLength": EMAIL_MAX},
                        "consent": {
                            "type": "boolean",
                            "description": "true/on/1 or false/off/0; required (true) with name or email",
                        },
                        "channel": {"type": "string", "enum": ["web", "workbook"]},
                        "round": {"type": "string", "maxLength": 64, "description": "A workbook round declared by the locality"},
                        "photo": {"type": "string", "format": "binary", "description": "Optional: one JPEG, PNG or HEIC photo"},
                    },
                },
                "ProposalProperties": {
                    "type": "object",
                    "properties": {
                        "public_id": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "category": {"type": "string"},
                        "status": {"type": "string", "enum": STATUSES},
                        "channel": {"type": "string"},
                        "support_count": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "area_ids": {"type": "array", "items": {"type": "string"}, "description": "Development areas it lies in"},
                        "distance_m": {"type": "number", "description": "Only from /proposals/nearby and /proposals/similar"},
                        "similarity": {"type": "number", "description": "Only from /proposals/similar: 0 to 1"},
                    },
                },
                "ProposalCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "numberMatched": {"type": "integer"},
                        "numberReturned": {"type": "integer"},
                        "links": {
                            "type": "array",
                            "description": "self, and next while more match",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "href": {"type": "string"},
                                    "rel": {"type": "string"},
                                    "type": {"type": "string"},
                                    "title": {"type": "string"},
                                },
                            },
                        },
                        "features": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "enum": ["Feature"]},
                                    "id": {"type": "string"},
                                    "geometry": {"$ref": "#/components/schemas/Point"},
                                    "properties": {"$ref": "#/components/schemas/ProposalProperties"},
                                },
                            },
                        },
                    },
                },
                "Point": {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Point"]},
                        "coordinates": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                    },
                },
                "ProposalFeature": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": {"$ref": "#/components/schemas/Point"},
                        "properties": {
                            "allOf": [
                                {"$ref": "#/components/schemas/ProposalProperties"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "category_label": {"type": "string"},
                                        "status_label": {"type": "string"},
                                        "url": {"type": "string", "description": "Permalink"},
                                        "public": {"type": "boolean", "description": "false while held for moderation"},
                                        "photo": {
                                            "type": "object",
                                            "nullable": True,
                                            "description": "GET: the published photo (null when none or not yet published); "
                                            "201: the photo just sent, pending a moderator (status, width, height; no url)",
                                            "properties": {
                                                "url": {"type": "string", "description": "A JPEG, cached for a year"},
                                                "width": {"type": "integer"},
                                                "height": {"type": "integer"},
                                                "alt": {
                                                    "type": "string",
                                                    "description": "Text alternative, in the request's language",
                                                },
                                                "status": {"type": "string", "enum": ["pending"], "description": "201 only"},
                                            },
                                        },
                                        "summary": {
                                            "type": "string",
                                            "description": "The joins in words, in the request's language",
                                        },
                                        "area_ids": {"type": "array", "items": {"type": "string"}},
                                        "areas": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "name": {"type": "string"},
                                                    "status": {"type": "string"},
                                                    "status_label": {"type": "string"},
                                                    "illustrative": {"type": "boolean"},
                                                },
                                            },
                                        },
                                        "nearest": {
                                            "type": "object",
                                            "description": "Nearest service per kind",
                                            "additionalProperties": {
                                                "type": "object",
                                                "properties": {
                                                    "id": {"type": "string"},
                                                    "name": {"type": "string"},
                                                    "distance_m": {"type": "number"},
                                                    "kind_label": {"type": "string"},
                                                },
                                            },
                                        },
                                        "history": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "status": {"type": "string"},
                                                    "status_label": {"type": "string"},
                                                    "note": {"type": "string", "nullable": True},
                                                    "role": {"type": "string"},
                                                    "changed_at": {"type": "string", "format": "date-time"},
                                                },
                                            },
                                        },
                                        "answers": {
                                            "type": "array",
                                            "description": "The municipality's public answers "
                                            "(GET /proposals/{public_id} only), never who wrote them",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "body": {"type": "string"},
                                                    "department": {"type": "string", "nullable": True},
                                                    "role": {"type": "string"},
                                                    "answered_at": {"type": "string", "format": "date-time"},
                                                },
                                            },
                                        },
                                        "forwardings": {
                                            "type": "array",
                                            "description": "Where the proposal was sent, oldest first "
                                            "(GET /proposals/{public_id} only): confirm (the suggested department "
                                            "confirmed) or forward (sent on); never a note or who sent it",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "department": {"type": "string"},
                                                    "department_label": {"type": "string"},
                                                    "action": {"type": "string", "enum": ["confirm", "forward"]},
                                                    "at": {"type": "string", "format": "date-time"},
                                                },
                                            },
                                        },
                                    },
                                },
                            ]
                        },
                    },
                },
                "Support": {
                    "type": "object",
                    "properties": {
                        "public_id": {"type": "string"},
                        "added": {"type": "boolean"},
                        "support_count": {"type": "integer"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }


def _survey_paths(lang_header: dict) -> dict:
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 63}}
    texts = {"type": "object", "additionalProperties": {"type": "string"}, "description": "One text per language: sv, en, …"}
    summary = {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "title": texts,
            "opens": {"type": "string", "format": "date"},
            "closes": {"type": "string", "format": "date"},
            "open": {"type": "boolean"},
            "url": {"type": "string"},
        },
    }
    answer_value = {
        "description": "text: a string; choice: an option id (a list of ids when multiple); scale: 1–5; map: a GeoJSON "
        "geometry of the asked type (Point, LineString, Polygon) in WGS84, or a list of up to max_count of them, each "
        'a geometry or {"geometry": ..., "comment": "..."}',
    }
    return {
        "/surveys": {
            "get": {
                "operationId": "listOpenSurveys",
                "summary": "The surveys open today",
                "parameters": [lang_header],
                "responses": {
                    "200": {
                        "description": "Open surveys",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"surveys": {"type": "array", "items": summary}}}
                            }
                        },
                    }
                },
            }
        },
        "/surveys/{slug}": {
            "get": {
                "operationId": "getSurvey",
                "summary": "One survey: texts and ordered questions (text, choice, scale, map with point/line/polygon)",
                "parameters": [slug, lang_header],
                "responses": {
                    "200": {"description": "The survey", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "404": _error("No survey with this slug"),
                },
            }
        },
        "/surveys/{slug}/questions/{question_id}/grid": {
            "get": {
                "operationId": "getSurveyQuestionGrid",
                "summary": "A map question's answers counted on a SWEREF 99 TM grid, cells of fewer than k respondents left out",
                "description": "Each cell counts the respondents whose drawn points, lines or areas touch it, each once. Cells "
                "are squares aligned to multiples of the cell size in EPSG:3006, served as WGS84 polygons. k is the "
                "server's DIALOGKARTA_SURVEY_MIN_ANSWERS (5 by default), given as min_answers.",
                "parameters": [
                    slug,
                    {"name": "question_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}},
                    {
                        "name": "cell",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 25, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": {"description": "The grid", "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                    "400": _error("cell out of range"),
                    "404": _error("No survey with this slug, or no map question with this id"),
                },
            }
        },
        "/surveys/{slug}/responses": {
            "post": {
                "operationId": "answerSurvey",
                "summary": "Answer a survey; one response per browser, replaced when sent again until the survey closes",
                "parameters": [slug, lang_header],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "answers": {"type": "object", "additionalProperties": answer_value},
                                    "consent": {
                                        "type": "boolean",
                                        "description": "true to keep answers to background questions (refused without it)",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"description": "The browser's first response, stored"},
                    "200": {"description": "The browser's earlier response, replaced"},
                    "400": _error("Malformed JSON or an unknown field"),
                    "404": _error("No survey with this slug"),
                    "409": _error("The survey is closed (code survey_closed)"),
                    "413": _error("Body too large"),
                    "415": _error("Not application/json"),
                    "422": _error("An answer that does not fit its question; field names the question"),
                    "429": _error("Too many responses from this client"),
                },
            }
        },
        "/surveys/{slug}/responses/mine": {
            "get": {
                "operationId": "getMySurveyResponse",
                "summary": "This browser's response (by its token cookie), to edit it until the survey closes",
                "parameters": [slug, lang_header],
                "responses": {
                    "200": {
                        "description": "The answers as sent, drawn shapes as {geometry, comment}",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "404": _error("No survey with this slug, or no response from this browser"),
                },
            }
        },
    }
