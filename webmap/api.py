"""The JSON API under /api: layers and proposals as RFC 7946 GeoJSON, submitting and supporting.

Errors are ``{"error": {"code", "message"}}`` in the request's language (``Accept-Language``,
Swedish by default): 400 malformed JSON, wrong types or bad query parameters, 404 unknown,
413 body over 64 KB, 415 not JSON, 422 validation (``UserError``, see ``webmap/errors.py``),
429 rate limited. The OpenAPI 3 description is ``webmap/openapi.py``, served at
``/api/openapi.json``.

The public list is kept in memory, each proposal serialised once with orjson, and brought up to
date by the store's version (``layers.public_list``), so writes by any process, the planner's
included, are seen on the next request; a page is a join of those bytes, gzipped at level 1 when
asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gzip
import hashlib
import threading
from collections import OrderedDict

import orjson
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from ..geo.io import frame_to_geojson
from ..layers import proposals as submission
from ..layers import similar as similar_text
from ..layers import photos, proposal_shapes, spam, store, workflow
from ..layers.map_view import MapView
from ..layers.public_list import PublicList
from ..layers.public_list import collection as public_list_collection
from ..layers.registry import UnknownLayer
from ..layers.vocabulary import PROPOSAL_STATUSES
from . import conditional, db, idempotency, params, photo_upload, photo_view
from .client import browser_token, network_key, remember_token
from .errors import BadRequest, error_response, http_message
from .i18n import current_language
from .json_body import NotJSON, read_json_object
from .ratelimit import limited
from .wording import category_label, join_sentence, joins_detail, status_label
from .security import csrf
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # JSON only: a cross-site form cannot send application/json without a CORS preflight

GEOJSON = "application/geo+json"
SUBMISSION_FIELDS = {"lon", "lat", "category", "title", "description", "name", "email", "consent", spam.HONEYPOT_FIELD}
TEXT_FIELDS = ("category", "title", "description", "name", "email", spam.HONEYPOT_FIELD)
SUBMISSION_FIELDS |= {"channel", "round"}  # the paper workbook's QR code (layers/workbook.py)
SUBMISSION_FIELDS |= {"geometry"}  # a line or an area instead of lon/lat (layers/proposal_shapes.py)
TEXT_FIELDS += ("channel", "round")
LIST_LIMIT_DEFAULT = 1_000
LIST_LIMIT_MAX = 10_000
NEARBY_RADIUS_M = 150
NEARBY_RADIUS_MAX_M = 1000
NEARBY_MAX = 20
SIMILAR_TEXT_MAX = 1_000  # characters of the draft a client may send; the first similar_text.TEXT_MAX are compared


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    extra = {"field": error.field} if error.field else {}
    return error_response(400, "bad_request", error.message, **extra)


@bp.errorhandler(params.ParameterError)
def bad_parameter(error: params.ParameterError):
    return error_response(400, "bad_request", error.message(current_language()), field=error.field)


# -------------------------------------------------------------------------- features
def _grid() -> float:
    return current_app.config["PUBLIC_GRID_M"]


def list_properties(view: dict) -> dict:
    """The language-neutral properties every listed proposal carries (the map labels them itself)."""
    return {
        key: view[key]
        for key in (
            "public_id",
            "title",
            "description",
            "category",
            "status",
            "channel",
            "support_count",
            "created_at",
            "updated_at",
            "area_ids",
        )
    }


def proposal_feature(record: dict, registry, lang: str, own: bool = False, history: bool = True) -> dict:
    """Return one proposal as a GeoJSON Feature with its joins in words, labels and permalink."""
    view = store.public_view(record, grid_m=_grid())
    detail = joins_detail(view, registry, lang)
    properties = list_properties(view)
    properties.update(
        {
            "category_label": category_label(registry.locality, view["category"], lang),
            "status_label": status_label(view["status"]),
            "url": url_for("resident.proposal", public_id=view["public_id"], _external=True),
            "area_ids": view["area_ids"],
            "areas": detail["areas"],
            "nearest": detail["nearest"],
            "summary": join_sentence(detail, own=own),
            "public": not record.get("hidden", False),
        }
    )
    if history and "history" in view:
        properties["history"] = [
            {
                "status": h["status"],
                "status_label": status_label(h["status"]),
                "note": h.get("note"),
                "role": h.get("role"),
                "changed_at": h["changed_at"],
            }
            for h in view["history"]
        ]
    return shaped_feature(
        {
            "type": "Feature",
            "id": view["public_id"],
            "geometry": {"type": "Point", "coordinates": [round(view["lon"], 7), round(view["lat"], 7)]},
            "properties": properties,
        },
        record.get("shape"),
    )


def shaped_feature(feature: dict, shape: dict | None) -> dict:
    """Give a proposal's Feature its line or area (``properties.shape`` says which, with its joins; a point stays)."""
    shape = dict(shape or {"kind": "point"})
    if "geometry" in shape:
        feature["geometry"] = shape.pop("geometry")
    feature["properties"]["shape"] = shape
    return feature


def _list_feature(view: dict) -> dict:
    return {
        "type": "Feature",
        "id": view["public_id"],
        "geometry": {"type": "Point", "coordinates": [round(view["lon"], 7), round(view["lat"], 7)]},
        "properties": list_properties(view),
    }


def geojson_response(payload, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype=GEOJSON)


# ------------------------------------------------------------------ the list
def public_list() -> PublicList:
    """This process's in-memory public list (kept current by the store's version, see ``layers.public_list``)."""
    extensions = current_app.extensions
    if "dialogkarta.public_list" not in extensions:
        extensions["dialogkarta.public_list"] = PublicList(lambda record: list_properties(record), _grid())
    return extensions["dialogkarta.public_list"]


class _GzipBodies:
    """The gzip copies of the latest list pages asked for compressed, by ETag (a page is the same bytes for everyone)."""

    SIZE = 32

    def __init__(self):
        self._lock = threading.Lock()
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, etag: str, body: bytes) -> bytes:
        with self._lock:
            if etag in self._bodies:
                self._bodies.move_to_end(etag)
                return self._bodies[etag]
        zipped = gzip.compress(body, compresslevel=1)  # a third of level 6's CPU for a fifth more bytes (bench/get_path.py)
        with self._lock:
            self._bodies[etag] = zipped
            while len(self._bodies) > self.SIZE:
                self._bodies.popitem(last=False)
        return zipped


def _gzip_bodies() -> _GzipBodies:
    return current_app.extensions.setdefault("dialogkarta.list_gzip", _GzipBodies())


def _list_response(body: bytes, etag: str) -> Response:
    zipped = "gzip" in request.headers.get("Accept-Encoding", "")
    etag += "-gzip" if zipped else ""  # each encoding is its own representation
    if etag in request.if_none_match:
        response = Response(status=304)
    elif zipped:
        response = Response(_gzip_bodies().get(etag, body), mimetype=GEOJSON)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(body, mimetype=GEOJSON)
    response.set_etag(etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _list_links(limit: int, offset: int, next_after: int | None) -> list[dict]:
    args = {k: v for k, v in request.args.items() if k not in ("offset", "after", "limit")}
    this_page = url_for("api.list_proposals", **request.args, _external=True)  # from BASE_URL when set, never a forged Host
    links = [{"href": this_page, "rel": "self", "type": GEOJSON, "title": "This page"}]
    if next_after is not None:
        query = {**args, "limit": limit, "offset": offset + limit, "after": next_after}
        links.append(
            {"href": url_for("api.list_proposals", **query, _external=True), "rel": "next", "type": GEOJSON, "title": "Next page"}
        )
    return links


# ------------------------------------------------------------------ query parameters
def _number_list(name: str, count: int) -> list[float]:
    return params.parse_numbers(name, request.args.get(name, ""), (count,))


def parse_bbox() -> tuple[float, float, float, float] | None:
    if "bbox" not in request.args:
        return None
    box = params.check_box("bbox", _number_list("bbox", 4), params.WGS84_RANGE)
    return tuple(box)


def parse_int(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    return params.parse_int(name, request.args.get(name), default, minimum, maximum)


def parse_category(locality) -> str | None:
    category = request.args.get("category")
    if category is None:
        return None
    if locality.category(category) is None:
        known = ", ".join(c.id for c in locality.categories)
        raise BadRequest(_("Okänd kategori %(category)s. Välj en av: %(known)s.", category=category, known=known), "category")
    return category


def parse_status() -> str | None:
    status = request.args.get("status")
    if status is None:
        return None
    if status not in PROPOSAL_STATUSES:
        raise BadRequest(
            _("Okänd status %(status)s. Välj en av: %(known)s.", status=status, known=", ".join(PROPOSAL_STATUSES)), "status"
        )
    return status


# ------------------------------------------------------------------------ the body
@bp.errorhandler(NotJSON)
def unsupported(_error):
    return error_response(415, "unsupported_media_type", http_message(415))


def check_submission_types(data: dict) -> None:
    """Refuse unknown fields and values of the wrong JSON type (400); values are judged later (422)."""
    unknown = sorted(set(data) - SUBMISSION_FIELDS)
    if unknown:
        raise BadRequest(
            _(
                "Okänt fält: %(fields)s. Tillåtna fält: %(allowed)s.",
                fields=", ".join(unknown),
                allowed=", ".join(sorted(SUBMISSION_FIELDS - {spam.HONEYPOT_FIELD})),
            ),
            unknown[0],
        )
    for axis in ("lon", "lat") if "geometry" not in data else ():  # a geometry is checked in layers/proposal_shapes.py
        value = data.get(axis)
        if value is None:
            raise BadRequest(_("%(field)s saknas: ange platsen som lon och lat (WGS84).", field=axis), axis)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(_("%(field)s ska vara ett tal.", field=axis), axis)
    for field in TEXT_FIELDS:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise BadRequest(_("%(field)s ska vara text.", field=field), field)
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        raise BadRequest(_("consent ska vara true eller false."), "consent")


# ------------------------------------------------------------------------ the token
# ---------------------------------------------------------------------------- routes
def _layers_version() -> tuple:
    return conditional.data_version(proposals=False)


@bp.get("/layers")
@conditional.etagged(_layers_version)
def layers():
    registry = db.registry()
    lang = current_language()
    return jsonify(
        {
            "layers": [
                {
                    "name": layer.name,
                    "title": layer.label(lang),
                    "role": layer.role,
                    "geometry_type": layer.geometry_type,
                    "count": len(registry.frame(layer.name)),
                }
                for layer in registry
                if layer.public
            ]
        }
    )


@bp.get("/layers/<name>")
@conditional.etagged(_layers_version)
def layer(name: str):
    registry = db.registry()
    if not registry.get(name).public:
        raise UnknownLayer(name)  # non-public layers do not exist for the public API
    return Response(frame_to_geojson(registry.frame(name)), mimetype=GEOJSON)


@bp.get("/proposals")
def list_proposals():
    """Public proposals as a page of a FeatureCollection (light features), with a ``next`` link while more match."""
    locality = db.registry().locality
    bbox, category, status = parse_bbox(), parse_category(locality), parse_status()
    limit = parse_int("limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)
    offset = parse_int("offset", 0, 0, params.MAX_OFFSET)
    after = parse_int("after", 0, 0, params.INT64_MAX)
    with db.reading() as conn:
        snapshot = public_list().current(conn)
    positions = snapshot.matching(bbox, category, status)
    matched = len(positions)
    # A next link's cursor replaces the offset (as on /ogc): the page starts after that id, nothing skipped.
    remaining = snapshot.after(positions, after) if after else positions
    start = 0 if after else offset
    page = remaining[start : start + limit]
    next_after = int(snapshot.ids[page[-1]]) if start + limit < len(remaining) else None
    body = public_list_collection(snapshot.pick(page), matched, _list_links(limit, offset, next_after))
    origin = f"{request.scheme}://{request.host}{request.root_path}"  # what the links' host may come from
    tag = hashlib.blake2b(f"{origin}|{request.full_path}".encode(), digest_size=8).hexdigest()
    return _list_response(body, f"{snapshot.epoch}.{snapshot.version}.{tag}")


@bp.post("/proposals")
@limited("proposals")
def create_proposal():
    """Submit a proposal: 201 with the stored Feature (joins in words) and a Location header (200: a key's replay)."""
    data, upload = photo_upload.read_submission() if photo_upload.is_multipart() else (read_json_object(), None)
    check_submission_types(data)
    photo = photo_upload.prepare_photo(upload) if upload else None  # refused (422) before anything is stored
    registry = db.registry()
    lang = current_language()
    # Checked and joined before the writers' queue, against the layers this process has cached; the
    # transaction holds the layers and joins again only if an import has changed them since.
    with registry.checked(versions=registry.cached_versions()):
        prepared = submission.prepare(registry, data, hold_links=current_app.config["HOLD_LINKS"])
    held = {}

    def store(conn):
        record, held["versions"] = submission.store_prepared(conn, registry, prepared)
        if photo and "id" in record:  # not for a bot's trapped submission, which is never stored
            photo_upload.keep_photo(conn, record["id"], photo)
        return record

    record, replayed = idempotency.submit_once(data, store)  # an Idempotency-Key sent again: the same proposal, 200
    if "shape" not in record:  # a replay reads the stored proposal back
        with db.reading() as conn:
            record["shape"] = proposal_shapes.public_shape(proposal_shapes.shapes_of(conn, [record["id"]]).get(record["id"]))
    with registry.checked(versions=held.get("versions")):  # the answer's words from the layers it was stored with
        feature = proposal_feature(record, registry, lang, own=True)
    feature["properties"]["photo"] = photo_view.received(photo)
    response = geojson_response(feature, status=200 if replayed else 201)
    response.headers["Location"] = url_for("resident.proposal", public_id=record["public_id"])
    return response


def public_map_view() -> MapView:
    """The public map's cached clusters (one per app; its cache follows the store's version)."""
    config = current_app.config
    return current_app.extensions.setdefault(
        "dialogkarta.map_view.public", MapView(planner=False, grid_m=_grid(), points_max=config["MAP_POINTS_MAX"])
    )


def parse_map_view() -> tuple[tuple[float, float, float, float], int]:
    """Return the viewport's ``bbox`` and ``zoom``, both required."""
    bbox = parse_bbox()
    if bbox is None:
        raise params.required(
            "bbox", "kartvyn som minlon,minlat,maxlon,maxlat (WGS84)", "the view as minlon,minlat,maxlon,maxlat (WGS84)"
        )
    return bbox, params.parse_zoom(request.args.get("zoom"))


@bp.get("/proposals/map")
def proposal_map():
    """What the map shows in ``bbox`` at ``zoom``: all points for a small set, the view's points, or grid clusters."""
    bbox, zoom = parse_map_view()
    with db.reading() as conn:
        answer = public_map_view().answer(conn, bbox, zoom)
    return geojson_response(answer)


@bp.get("/proposals/nearby")
def nearby():
    """Public proposals within ``radius`` metres (150 by default) of lon/lat: same category first, then nearest."""
    registry = db.registry()
    lon, lat = _number_list("lon", 1)[0], _number_list("lat", 1)[0]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequest(_("lon ska vara -180..180 och lat -90..90."), "lon")
    radius = parse_int("radius", NEARBY_RADIUS_M, 1, NEARBY_RADIUS_MAX_M)
    category = parse_category(registry.locality)
    with db.reading() as conn:
        close = submission.nearby(conn, lon, lat, radius, category, grid_m=_grid(), limit=NEARBY_MAX)
    features = []
    for distance, view in close:
        feature = _list_feature(view)
        feature["properties"]["distance_m"] = round(distance, 1)
        features.append(feature)
    return geojson_response({"type": "FeatureCollection", "numberReturned": len(features), "features": features})


@bp.get("/proposals/similar")
@limited("similar")
def similar():
    """Public proposals of ``category`` within 500 m of lon/lat whose text is like ``text``: most similar first."""
    registry = db.registry()
    lon, lat = _number_list("lon", 1)[0], _number_list("lat", 1)[0]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequest(_("lon ska vara -180..180 och lat -90..90."), "lon")
    category = parse_category(registry.locality)
    if category is None:
        raise params.required("category", "förslagets kategori", "the proposal's category")
    text = request.args.get("text", "")
    if len(text) > SIMILAR_TEXT_MAX:
        raise BadRequest(_("%(name)s får vara högst %(max)d tecken.", name="text", max=SIMILAR_TEXT_MAX), "text")
    with db.reading() as conn:
        found = similar_text.similar(conn, lon, lat, category, text, grid_m=_grid())
    features = []
    for score, distance, view in found:
        feature = _list_feature(view)
        feature["properties"].update(distance_m=round(distance, 1), similarity=score)
        features.append(feature)
    return geojson_response({"type": "FeatureCollection", "numberReturned": len(features), "features": features})


@bp.get("/proposals/<public_id>")
def get_proposal(public_id: str):
    registry = db.registry()
    with db.reading() as conn:
        record = store.get_proposal(conn, public_id)
        answers = workflow.public_answers(conn, record["id"]) if record else []
        forwardings = workflow.public_forwardings(conn, record["id"]) if record else []
        published = photos.published_of(conn, record["id"]) if record else None
        if record:
            record["shape"] = proposal_shapes.public_shape(proposal_shapes.shapes_of(conn, [record["id"]]).get(record["id"]))
    if record is None:
        return error_response(404, "not_found", http_message(404))
    lang = current_language()
    feature = proposal_feature(record, registry, lang)
    feature["properties"]["photo"] = photo_view.public(published, record)  # null until a moderator publishes it
    feature["properties"]["answers"] = answers  # the municipality's public answers, never their author
    feature["properties"]["forwardings"] = [  # where it went and when; never a note or who sent it
        {
            "department": step["department"],
            "department_label": registry.locality.department_label(step["department"], lang),
            "action": step["action"],
            "at": step["at"],
        }
        for step in forwardings
    ]
    return geojson_response(feature)


@bp.post("/proposals/<public_id>/support")
@limited("supports")
def support(public_id: str):
    """Support a proposal once per browser (a random cookie token, stored only as its hash)."""
    read_json_object()  # JSON only (an empty body is fine): a cross-site form cannot post here
    token, new_token = browser_token()
    config = current_app.config
    per_network = config["RATELIMIT_SUPPORTS_PER_NETWORK"] if config["RATELIMIT_ENABLED"] else 0
    try:
        with db.transaction() as conn:
            result = store.add_support(conn, public_id, token, client=network_key(), per_client_daily=per_network)
    except store.SupportLimitReached as error:
        response = error_response(429, error.code, error.message(current_language()))
        response.headers["Retry-After"] = str(int(error.retry_after + 0.999))
        return response
    if result is None:
        return error_response(404, "not_found", http_message(404))
    added, total = result
    response = jsonify(
        {
            "public_id": public_id,
            "added": added,
            "support_count": total,
            "message": _("Tack för ditt stöd!") if added else _("Du har redan stött det här förslaget."),
        }
    )
    if new_token:
        remember_token(response, token)
    return response


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    server = (current_app.config.get("BASE_URL") or "") + "/api"  # relative unless BASE_URL says where we are
    return jsonify(document(db.registry().locality, server))
