"""OGC API – Features under /ogc: Part 1 (Core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference).

Hand-written rather than pygeoapi: four read-only JSON views over what ``layers`` already
offers (the registry's frames and the store's keyset pages), with our own privacy rules
(``layers.export.Audience``) and our own login (``webmap.auth``) applied in one place.

Collections: every public layer of the locality, ``proposals`` (public fields, hidden ones left
out) and, for logged-in planners (HTTP Basic, a Bearer token or the session), ``proposals-planner``.
Items are CRS84 lon/lat unless ``crs`` asks for EPSG:3006 or EPSG:3008, whose coordinates come in
the CRS's own axis order (northing, easting), as Part 2 requires; ``bbox-crs`` likewise.
Proposals are paged through the store by id: a ``next`` link carries ``offset`` for the
client's bookkeeping and ``after`` (the last id) so the server continues with an index range
scan instead of skipping rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import datetime, UTC
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, abort, current_app, request, url_for

from ..geo.crs import SWEREF99TM, SWEREF99_1330, WGS84, parse_crs, valid_bounds
from ..geo.io import GEOJSON_DECIMALS, feature_dict, rfc7946_geometry
from ..layers import store
from ..layers.export import PLANNER, PROPOSALS, Audience, RowContext, rows_for_records
from . import conditional, db, params
from .errors import BadRequest
from .auth import current_user, login_required
from .i18n import current_language
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    shapely = lazy_module("shapely")

bp = Blueprint("ogc", __name__)

PLANNER_PROPOSALS = "proposals-planner"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
SUPPORTED_CRS = {CRS84: WGS84, EPSG_URI.format(3006): SWEREF99TM, EPSG_URI.format(3008): SWEREF99_1330}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
DEFAULT_LIMIT, MAX_LIMIT = 10, 10000
PROPOSALS_MAX_LIMIT = 1000  # a page of proposals carries joins and answers: 10 000 of them took 1.5 s at 200 000
ITEM_PARAMS = {"limit", "offset", "after", "bbox", "bbox-crs", "crs", "datetime", "f", "lang"}
METRIC_DECIMALS = 3  # millimetres
JSON, GEOJSON = "application/json", "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    # OGC's exception shape ({code, description}) inside our usual error envelope.
    body = {
        "code": "InvalidParameterValue",
        "description": error.message,
        "error": {"code": "invalid_parameter", "message": error.message},
    }
    return Response(orjson.dumps(body), status=400, mimetype=JSON)


@bp.errorhandler(params.ParameterError)
def bad_parameter(error: params.ParameterError):
    return bad_request(BadRequest(error.message(current_language())))


@bp.errorhandler(404)
def not_found(_error):
    # The same two shapes as a 400: OGC's {code, description} and our usual envelope.
    sv_en = "Samlingen eller objektet finns inte. / The collection or feature does not exist."
    body = {"code": "NotFound", "description": sv_en, "error": {"code": "not_found", "message": sv_en}}
    return Response(orjson.dumps(body), status=404, mimetype=JSON)


@bp.after_request
def allow_cross_origin(response: Response) -> Response:
    # Public collections are open data: browser GIS clients on other origins may read them.
    # Never for the planner collection (and "*" never carries cookies or credentials anyway).
    if PLANNER_PROPOSALS not in request.path and not request.headers.get("Authorization"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def _json(data, mimetype: str = JSON, headers: dict | None = None) -> Response:
    response = Response(orjson.dumps(data), mimetype=mimetype)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _base() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def _check_format():
    fmt = request.args.get("f")
    if fmt not in (None, "", "json", "geojson", "application/json", "application/geo+json"):
        raise BadRequest(f"f={fmt} is not offered; this API answers in JSON (f=json).")


# ----------------------------------------------------------------- collections
def _is_planner() -> bool:
    user = current_user()
    return user is not None and user.has_role("planner")


def _public_audience() -> Audience:
    return Audience(grid_m=current_app.config["PUBLIC_GRID_M"])


def _collections(planner: bool) -> list[str]:
    names = [layer.name for layer in db.registry() if layer.public]
    names.append(PROPOSALS)
    if planner:
        names.append(PLANNER_PROPOSALS)
    return names


def _titles(name: str) -> tuple[str, str]:
    registry = db.registry()
    lang = current_language()
    place = registry.locality.name
    if name == PROPOSALS:
        return (
            (f"Förslag från invånare i {place}", "Publika fält, status, svar och anslutning till områden och service.")
            if lang == "sv"
            else (f"Residents' proposals, {place}", "Public fields, status, answers and joins to areas and services.")
        )
    if name == PLANNER_PROPOSALS:
        return (
            (f"Förslag (handläggare), {place}", "Med förvaltning, vidarebefordran, historik och moderering.")
            if lang == "sv"
            else (f"Proposals (planners), {place}", "With department, forwarding, history and moderation.")
        )
    layer = registry.get(name)
    return layer.label(lang), f"{layer.label('sv')} / {layer.label('en')}"


def _collection(name: str) -> dict:
    registry = db.registry()
    base = _base()
    title, description = _titles(name)
    if name in (PROPOSALS, PLANNER_PROPOSALS):
        with db.reading() as conn:
            bbox, interval = _proposal_extent(
                conn,
                include_hidden=name == PLANNER_PROPOSALS,
                grid_m=0 if name == PLANNER_PROPOSALS else _public_audience().grid_m,
            )
    else:
        frame = registry.frame(name)
        bbox, interval = [float(v) for v in frame.total_bounds] if len(frame) else None, None
    extent = {"spatial": {"bbox": [bbox or [float(v) for v in registry.boundary().bounds]], "crs": CRS84}}
    if interval is not None:
        extent["temporal"] = {"interval": [interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {
        "id": name,
        "title": title,
        "description": description,
        "itemType": "feature",
        "extent": extent,
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "links": [
            {"href": f"{base}/collections/{name}", "rel": "self", "type": JSON, "title": title},
            {"href": f"{base}/collections/{name}/items", "rel": "items", "type": GEOJSON, "title": title},
        ],
    }


def _proposal_extent(conn, include_hidden: bool, grid_m: float = 0):
    row = store.proposal_extent(conn, include_hidden=include_hidden)
    if row is None:
        return None, [None, None]
    bbox = [row[0], row[1], row[2], row[3]]
    if grid_m:  # the extent of the generalised points: exact corners would give a lone point away
        from ..geo.generalise import snap_to_grid

        bbox = [*snap_to_grid(row[0], row[1], grid_m), *snap_to_grid(row[2], row[3], grid_m)]
    return bbox, [_rfc3339(row[4]), _rfc3339(row[5])]


def _rfc3339(value) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _require(name: str) -> None:
    if name == PLANNER_PROPOSALS:
        return  # guarded by the view's login_required
    if name not in _collections(planner=False):
        abort(404)


# ----------------------------------------------------------------------- views
@bp.get("", strict_slashes=False)
@bp.get("/")
def landing():
    _check_format()
    base = _base()
    place = db.registry().locality.name
    return _json(
        {
            "title": f"Dialogkarta {place} – OGC API Features",
            "description": f"Lager och invånarförslag för {place} / Layers and residents' proposals for {place}",
            "links": [
                {"href": f"{base}/", "rel": "self", "type": JSON, "title": "This document"},
                {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI 3.0"},
                {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "Conformance"},
                {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "Collections"},
            ],
        }
    )


@bp.get("/conformance")
def conformance():
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


def _public_version() -> tuple:
    # The collection list grows by the planner's collection for a planner.
    return conditional.data_version(), _is_planner()


@bp.get("/collections")
@conditional.etagged(_public_version)
def collections():
    _check_format()
    base = _base()
    return _json(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON, "title": "Collections"}],
            "collections": [_collection(name) for name in _collections(_is_planner())],
            "crs": list(SUPPORTED_CRS),
        }
    )


@bp.get(f"/collections/{PLANNER_PROPOSALS}")
@login_required(role="planner", read_only=True)
def planner_collection():
    _check_format()
    return _json(_collection(PLANNER_PROPOSALS))


@bp.get("/collections/<name>")
@conditional.etagged(_public_version)
def collection(name: str):
    _check_format()
    _require(name)
    return _json(_collection(name))


@bp.get(f"/collections/{PLANNER_PROPOSALS}/items")
@login_required(role="planner", read_only=True)
def planner_items():
    return _items(PLANNER_PROPOSALS, PLANNER)


@bp.get("/collections/<name>/items")
@conditional.etagged(_public_version)
def items(name: str):
    _require(name)
    return _items(name, _public_audience())


@bp.get(f"/collections/{PLANNER_PROPOSALS}/items/<feature_id>")
@login_required(role="planner", read_only=True)
def planner_item(feature_id: str):
    return _item(PLANNER_PROPOSALS, feature_id, PLANNER)


@bp.get("/collections/<name>/items/<feature_id>")
@conditional.etagged(_public_version)
def item(name: str, feature_id: str):
    _require(name)
    return _item(name, feature_id, _public_audience())


# ------------------------------------------------------------------ parameters
def _crs_param(key: str) -> tuple[str, str]:
    value = request.args.get(key)
    if not value:
        return CRS84, WGS84
    text = value.strip().strip("[]<>")
    if text.upper().startswith("EPSG:") and text[5:].isdigit():
        text = EPSG_URI.format(text[5:])
    if text not in SUPPORTED_CRS:
        raise BadRequest(f"{key}={value} is not supported; use one of {', '.join(SUPPORTED_CRS)}.")
    return text, SUPPORTED_CRS[text]


def _int_param(key: str, default: int, minimum: int, maximum: int, clamp: bool = False) -> int:
    return params.parse_int(key, request.args.get(key), default, minimum, maximum, clamp=clamp)


def _bbox_param() -> tuple[list[float] | None, str]:
    value = request.args.get("bbox")
    _uri, bbox_crs = _crs_param("bbox-crs")
    if not value:
        if request.args.get("bbox-crs"):
            raise BadRequest("bbox-crs needs a bbox.")
        return None, bbox_crs
    numbers = params.parse_numbers("bbox", value, (4, 6))
    if len(numbers) == 6:  # 3-D box: we have no heights; use the horizontal part
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if bbox_crs != WGS84:  # EPSG axis order for the SWEREF systems: northing, easting
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    return params.check_box("bbox", numbers, valid_bounds(bbox_crs)), bbox_crs


def _datetime_param():
    return params.parse_interval("datetime", request.args.get("datetime"))


def _check_params() -> None:
    unknown = sorted(set(request.args) - ITEM_PARAMS)
    if unknown:
        raise BadRequest(f"Unknown query parameter {', '.join(unknown)}; known: {', '.join(sorted(ITEM_PARAMS))}.")
    _check_format()


# ---------------------------------------------------------------------- items
def _box_polygon(bbox, crs: str):
    """Return the bbox as a WGS84 polygon (densified edges, so a SWEREF box keeps its shape)."""
    box = shapely.segmentize(shapely.box(*bbox), max_segment_length=(bbox[2] - bbox[0] + bbox[3] - bbox[1]) / 40 or 1)
    if crs == WGS84:
        return box
    return gpd.GeoSeries([box], crs=parse_crs(crs)).to_crs(WGS84).iloc[0]


def _metric_coords(geometries, crs: str):
    """Return geometries in a SWEREF CRS with axes swapped to its authority order (northing, easting)."""
    series = gpd.GeoSeries(geometries, crs=WGS84).to_crs(parse_crs(crs))
    return shapely.transform(series.to_numpy(), lambda xy: xy[:, ::-1])


def _features(geometries, properties: list[dict], ids: list, crs: str) -> list[dict]:
    if crs == WGS84:
        geoms = rfc7946_geometry(gpd.GeoSeries(geometries, crs=WGS84)).to_numpy()
        decimals = GEOJSON_DECIMALS
    else:
        oriented = shapely.orient_polygons(np.asarray(geometries, dtype=object), exterior_cw=False)
        geoms = _metric_coords(oriented, crs)
        decimals = METRIC_DECIMALS
    return [feature_dict(g, p, i, decimals) for g, p, i in zip(geoms, properties, ids)]


def _collection_response(features, name, matched, limit, offset, next_after, uri):
    base = _base()
    args = {k: v for k, v in request.args.items() if k not in ("offset", "after", "limit")}
    links = [
        {
            "href": f"{base}/collections/{name}/items?{urlencode({**request.args})}"
            if request.args
            else f"{base}/collections/{name}/items",
            "rel": "self",
            "type": GEOJSON,
            "title": "This page",
        }
    ]
    if next_after is not None:
        cursor = {"after": next_after} if next_after != "" else {}
        query = urlencode({**args, "limit": limit, "offset": offset + limit, **cursor})
        links.append({"href": f"{base}/collections/{name}/items?{query}", "rel": "next", "type": GEOJSON, "title": "Next page"})
    if offset > 0:
        query = urlencode({**args, "limit": limit, "offset": max(0, offset - limit)})
        links.append(
            {"href": f"{base}/collections/{name}/items?{query}", "rel": "prev", "type": GEOJSON, "title": "Previous page"}
        )
    links.append({"href": f"{base}/collections/{name}", "rel": "collection", "type": JSON, "title": "Collection"})
    body = {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "timeStamp": _rfc3339(datetime.now(UTC)),
        "numberReturned": len(features),
    }
    if matched is not None:
        body["numberMatched"] = matched
    return _json(body, GEOJSON, {"Content-Crs": f"<{uri}>"})


def _items(name: str, audience: Audience):
    _check_params()
    maximum = PROPOSALS_MAX_LIMIT if name in (PROPOSALS, PLANNER_PROPOSALS) else MAX_LIMIT
    limit = _int_param("limit", DEFAULT_LIMIT, 1, maximum, clamp=True)  # Part 1: a larger limit may be lowered
    offset = _int_param("offset", 0, 0, params.MAX_OFFSET)
    after = _int_param("after", 0, 0, params.INT64_MAX)
    created = _datetime_param()
    uri, crs = _crs_param("crs")
    bbox, bbox_crs = _bbox_param()
    if name in (PROPOSALS, PLANNER_PROPOSALS):
        return _proposal_items(name, audience, limit, offset, after, created, uri, crs, bbox, bbox_crs)
    frame = db.registry().frame(name)
    if bbox is not None:
        hits = frame.sindex.query(_box_polygon(bbox, bbox_crs), predicate="intersects")
        frame = frame.iloc[np.sort(hits)]
    matched = len(frame)
    page = frame.iloc[offset : offset + limit]
    ids = _layer_ids(page)
    properties = _layer_properties(page)
    features = _features(page.geometry.to_numpy(), properties, ids, crs)
    more = offset + limit < matched
    return _collection_response(features, name, matched, limit, offset, "" if more else None, uri)


def _layer_ids(frame) -> list:
    if "id" in frame:
        return [str(v) for v in frame["id"]]
    return [str(i) for i in frame.index]


def _layer_properties(frame) -> list[dict]:
    props = frame.drop(columns=frame.geometry.name)
    return orjson.loads(props.to_json(orient="records", date_format="iso", force_ascii=False))


def _proposal_items(name, audience, limit, offset, after, created, uri, crs, bbox, bbox_crs):
    include_hidden = audience.planner
    exact = None
    envelope = None
    if bbox is not None:
        if bbox_crs == WGS84:
            envelope = bbox
        else:
            polygon = _box_polygon(bbox, bbox_crs)
            envelope, exact = list(polygon.bounds), polygon
    skip = 0 if after else offset  # a next link's cursor replaces the offset: an index range scan, no skipping
    with db.reading() as conn:
        if exact is None:
            matched = store.count_page_proposals(conn, bbox=envelope, created_between=created, include_hidden=include_hidden)
            records = (
                []
                if skip >= matched
                else store.page_proposals(
                    conn,
                    after_id=after,
                    limit=limit,
                    offset=skip,
                    bbox=envelope,
                    created_between=created,
                    include_hidden=include_hidden,
                )
            )
        else:  # a SWEREF box is not a lon/lat box: its envelope in SQL, the box itself on the points, vectorised
            ids, lons, lats = store.proposal_points(conn, bbox=envelope, created_between=created, include_hidden=include_hidden)
            ids = ids[shapely.intersects_xy(exact, lons, lats)]  # for points: on the edge counts
            matched = len(ids)
            page = ids[ids > after][skip : skip + limit]
            records = store.proposals_by_ids(conn, page.tolist(), include_hidden=include_hidden)
        rows = rows_for_records(conn, RowContext.of(db.registry(), audience), records)
    points = shapely.points([(r["lon"], r["lat"]) for r in rows]) if rows else np.array([], dtype=object)
    properties = [{k: _plain(v) for k, v in r.items() if k not in ("lon", "lat")} for r in rows]
    features = _features(points, properties, [r["id"] for r in rows], crs)
    full = len(records) == limit and offset + limit < matched
    return _collection_response(features, name, matched, limit, offset, records[-1]["id"] if full else None, uri)


def _plain(value):
    if isinstance(value, datetime):
        return _rfc3339(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _item(name: str, feature_id: str, audience: Audience):
    _check_format()
    uri, crs = _crs_param("crs")
    base = _base()
    if name in (PROPOSALS, PLANNER_PROPOSALS):
        with db.reading() as conn:
            record = store.get_proposal(conn, feature_id, include_hidden=audience.planner)
            if record is None:
                abort(404)
            row = rows_for_records(conn, RowContext.of(db.registry(), audience), [record])[0]
        geometry = shapely.Point(row["lon"], row["lat"])
        properties = {k: _plain(v) for k, v in row.items() if k not in ("lon", "lat")}
    else:
        frame = db.registry().frame(name)
        ids = _layer_ids(frame)
        if feature_id not in ids:
            abort(404)
        match = frame.iloc[[ids.index(feature_id)]]
        geometry, properties = match.geometry.iloc[0], _layer_properties(match)[0]
    feature = _features([geometry], [properties], [feature_id], crs)[0]
    feature["links"] = [
        {"href": f"{base}/collections/{name}/items/{feature_id}", "rel": "self", "type": GEOJSON, "title": "This feature"},
        {"href": f"{base}/collections/{name}", "rel": "collection", "type": JSON, "title": "Collection"},
    ]
    return _json(feature, GEOJSON, {"Content-Crs": f"<{uri}>"})


# --------------------------------------------------------------------- OpenAPI
def _parameter(name, description, schema, where="query", required=False, **extra) -> dict:
    return {"name": name, "in": where, "description": description, "required": required, "schema": schema, **extra}


@bp.get("/api")
def api():
    _check_format()
    base = _base()
    crs_schema = {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS), "default": CRS84}
    limit = _parameter(
        "limit",
        f"Features per page; a larger limit is lowered to {PROPOSALS_MAX_LIMIT} for proposals.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        style="form",
        explode=False,
    )
    offset = _parameter(
        "offset", "Features to skip.", {"type": "integer", "minimum": 0, "maximum": params.MAX_OFFSET, "default": 0}
    )
    bbox = _parameter(
        "bbox",
        "minx,miny,maxx,maxy in bbox-crs axis order.",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
        explode=False,
    )
    common = [
        limit,
        offset,
        bbox,
        _parameter("bbox-crs", "CRS of bbox.", crs_schema),
        _parameter("crs", "CRS of the response.", crs_schema),
        _parameter(
            "after", "Keyset cursor from a next link (proposals).", {"type": "integer", "minimum": 0, "maximum": params.INT64_MAX}
        ),
    ]
    feature_collection = {"description": "Features (GeoJSON)", "content": {GEOJSON: {"schema": {"type": "object"}}}}
    paths = {
        "/": {
            "get": {
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "responses": {"200": {"description": "Links", "content": {JSON: {}}}},
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformance",
                "responses": {"200": {"description": "conformsTo", "content": {JSON: {}}}},
            }
        },
        "/collections": {
            "get": {
                "summary": "Collections",
                "operationId": "getCollections",
                "responses": {"200": {"description": "Collections", "content": {JSON: {}}}},
            }
        },
    }
    for name in _collections(planner=True):
        secured = [{"basicAuth": []}, {"bearerAuth": []}] if name == PLANNER_PROPOSALS else None
        parameters = common + (
            [_parameter("datetime", "RFC 3339 instant or interval on created_at.", {"type": "string"})]
            if name in (PROPOSALS, PLANNER_PROPOSALS)
            else []
        )
        operations = {
            f"/collections/{name}": {
                "get": {
                    "summary": f"Collection {name}",
                    "operationId": f"describe-{name}",
                    "responses": {"200": {"description": "Collection", "content": {JSON: {}}}},
                }
            },
            f"/collections/{name}/items": {
                "get": {
                    "summary": f"Features of {name}",
                    "operationId": f"items-{name}",
                    "parameters": parameters,
                    "responses": {"200": feature_collection},
                }
            },
            f"/collections/{name}/items/{{featureId}}": {
                "get": {
                    "summary": f"One feature of {name}",
                    "operationId": f"item-{name}",
                    "parameters": [
                        _parameter("featureId", "Feature id.", {"type": "string"}, where="path", required=True),
                        _parameter("crs", "CRS of the response.", crs_schema),
                    ],
                    "responses": {
                        "200": {"description": "Feature", "content": {GEOJSON: {}}},
                        "404": {"description": "Not found"},
                    },
                }
            },
        }
        if secured:
            for op in operations.values():
                op["get"]["security"] = secured
        paths.update(operations)
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": f"Dialogkarta {db.registry().locality.name} – OGC API Features",
            "version": "1.0.0",
            "license": {"name": "See data/README.md"},
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            }
        },
    }
    return _json(document, OPENAPI)
