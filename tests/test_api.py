"""The JSON API: every path, every error code, and the store untouched by every refusal."""

from __future__ import annotations

import gzip
import hashlib

import orjson
import pytest
from sqlalchemy import func, select, update

from dialogkarta.layers import workflow
from dialogkarta.layers.schema import contacts, proposal_areas, proposal_services, proposals, status_history, supports
from dialogkarta.webmap import db

KVARNSKON = {"lon": 13.3600, "lat": 55.6600}  # inside Kvarnskon–Vattenrännan (under construction)
VALID = {
    **KVARNSKON,
    "category": "traffic",
    "title": "Övergångsställe",
    "description": "Ett säkert övergångsställe vid hållplatsen.",
}
JSON = {"Accept": "application/json"}
TABLES = (proposals, contacts, status_history, supports, proposal_areas, proposal_services)


def rows(app) -> dict:
    with app.app_context(), db.reading() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def post(client, body=None, **headers):
    return client.post("/api/proposals", json=VALID if body is None else body, headers={**JSON, **headers})


def create(client, **fields) -> str:
    response = post(client, {**VALID, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


# ------------------------------------------------------------------------ POST /api/proposals
def test_post_stores_and_answers_with_feature_joins_and_location(app, client):
    response = post(client)
    assert response.status_code == 201
    assert response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["type"] == "Feature" and feature["geometry"] == {"type": "Point", "coordinates": [13.36, 55.66]}
    props = feature["properties"]
    assert response.headers["Location"] == f"/p/{feature['id']}"
    assert props["area_ids"] == ["kvarnskon-vattenrannan"]
    assert props["areas"][0]["status_label"] == "Under byggnation"
    assert props["nearest"]["bus_stop"]["name"] == "Veberödsvägen (ny hållplats)"
    assert props["summary"].startswith(
        "Ditt förslag ligger i Kvarnskon–Vattenrännan (under byggnation). "
        "Närmaste busshållplats: Veberödsvägen (ny hållplats), 80 m;"
    )
    assert props["status"] == "received" and props["public"] is True
    assert rows(app)["proposals"] == 1


def test_post_answers_in_english_when_asked(client):
    props = post(client, **{"Accept-Language": "en"}).get_json()["properties"]
    assert props["summary"].startswith("Your proposal lies in Kvarnskon–Vattenrännan (under construction). Nearest bus stop:")
    assert props["category_label"] == "Traffic and streets"


def test_contact_is_stored_apart_and_never_answered(app, client):
    response = post(client, {**VALID, "name": "Anna Andersson", "email": "anna@example.se", "consent": True})
    assert response.status_code == 201
    assert "anna@example.se" not in response.get_data(as_text=True)
    assert "Anna" not in client.get(f"/api/proposals/{response.get_json()['id']}").get_data(as_text=True)
    assert rows(app)["contacts"] == 1


REFUSALS = [
    # (what, request kwargs, status, code)
    ("malformed JSON", {"data": b'{"lon": 13.36,', "content_type": "application/json"}, 400, "bad_request"),
    ("not an object", {"json": [13.36, 55.66]}, 400, "bad_request"),
    ("lon as text", {"json": {**VALID, "lon": "13.36"}}, 400, "bad_request"),
    ("lat missing", {"json": {k: v for k, v in VALID.items() if k != "lat"}}, 400, "bad_request"),
    ("lon true", {"json": {**VALID, "lon": True}}, 400, "bad_request"),
    ("title a number", {"json": {**VALID, "title": 5}}, 400, "bad_request"),
    ("consent a string", {"json": {**VALID, "consent": "yes"}}, 400, "bad_request"),
    ("unknown field", {"json": {**VALID, "priority": "high"}}, 400, "bad_request"),
    ("over 64 KB", {"json": {**VALID, "description": "x" * 70_000}}, 413, "too_large"),
    ("a form", {"data": {"lon": "13.36", "lat": "55.66"}}, 415, "unsupported_media_type"),
    ("JSON as text/plain", {"data": orjson.dumps(VALID), "content_type": "text/plain"}, 415, "unsupported_media_type"),
    ("outside Dalby", {"json": {**VALID, "lon": 13.19, "lat": 55.70}}, 422, "outside_locality"),
    ("lon and lat swapped", {"json": {**VALID, "lon": 55.66, "lat": 13.36}}, 422, "coordinates_swapped"),
    ("unknown category", {"json": {**VALID, "category": "weather"}}, 422, "unknown_category"),
    ("empty title", {"json": {**VALID, "title": "   "}}, 422, "empty"),
    ("empty description", {"json": {**VALID, "description": ""}}, 422, "empty"),
    ("title 121 characters", {"json": {**VALID, "title": "t" * 121}}, 422, "too_long"),
    ("description 2001 characters", {"json": {**VALID, "description": "d" * 2001}}, 422, "too_long"),
    ("e-mail without consent", {"json": {**VALID, "email": "anna@example.se"}}, 422, "consent_required"),
    ("name without consent", {"json": {**VALID, "name": "Anna", "consent": False}}, 422, "consent_required"),
    ("invalid e-mail", {"json": {**VALID, "email": "anna@", "consent": True}}, 422, "invalid_email"),
]


@pytest.mark.parametrize("what,kwargs,status,code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_answer_an_error_and_store_nothing(app, client, what, kwargs, status, code):
    create(client)
    before = rows(app)
    response = client.post("/api/proposals", headers=JSON, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert rows(app) == before


def test_validation_messages_follow_accept_language(client):
    outside = {**VALID, "lon": 13.19, "lat": 55.70}
    assert "utanför Dalby" in post(client, outside).get_json()["error"]["message"]
    assert "outside Dalby" in post(client, outside, **{"Accept-Language": "en-GB,en;q=0.9"}).get_json()["error"]["message"]
    assert (
        post(client, {**VALID, "lon": "x"}, **{"Accept-Language": "en"}).get_json()["error"]["message"] == "lon must be a number."
    )
    assert post(client, {**VALID, "lon": "x"}).get_json()["error"]["message"] == "lon ska vara ett tal."


def test_field_at_fault_is_named(client):
    assert post(client, {**VALID, "title": ""}).get_json()["error"]["field"] == "title"
    assert post(client, {**VALID, "title": 1}).get_json()["error"]["field"] == "title"


def test_writes_are_rate_limited_and_the_refusal_stores_nothing(app, client):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_PROPOSALS="2/minute")
    assert [post(client).status_code for _ in range(2)] == [201, 201]
    before = rows(app)
    refused = post(client, **{"Accept-Language": "en"})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == {"code": "rate_limited", "message": "Too many requests. Wait a moment and try again."}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert rows(app) == before


def test_rate_limit_switch_turns_limits_off(app, client):
    app.config.update(RATELIMIT_ENABLED=False, RATELIMIT_PROPOSALS="1/minute")
    assert {post(client).status_code for _ in range(3)} == {201}


def test_rate_limit_setting_comes_from_the_environment(monkeypatch, tmp_path):
    from dialogkarta.webmap.app import create_app

    monkeypatch.setenv("DIALOGKARTA_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("DIALOGKARTA_INSTANCE_PATH", str(tmp_path / "instance"))
    assert create_app().config["RATELIMIT_ENABLED"] is False


# ------------------------------------------------------------------------- GET /api/proposals
def test_list_is_a_feature_collection_of_public_proposals(app, client):
    first, second = create(client), create(client, category="safety", title="Belysning")
    hidden = create(client, title="Dold")
    with app.app_context(), db.transaction() as conn:
        conn.execute(update(proposals).where(proposals.c.public_id == hidden).values(hidden=True))
    response = client.get("/api/proposals")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [first, second]
    assert set(collection["features"][0]["properties"]) >= {"title", "description", "category", "status", "support_count"}


def test_list_filters(client):
    near = create(client)
    other = create(client, lon=13.3400, lat=55.6700, category="safety")
    ids = lambda query: [f["id"] for f in client.get(f"/api/proposals?{query}").get_json()["features"]]  # noqa: E731
    assert ids("bbox=13.35,55.65,13.37,55.67") == [near]
    assert ids("category=safety") == [other]
    assert ids("status=received") == [near, other]
    assert ids("status=done") == []
    assert ids("limit=1") == [near]
    assert ids("limit=1&offset=1") == [other]
    page = client.get("/api/proposals?limit=1").get_json()
    assert page["numberMatched"] == 2 and page["numberReturned"] == 1


BAD_QUERIES = [
    ("bbox=13.37,55.65,13.35,55.67", "omvänd"),  # inverted
    ("bbox=13.35,55.65,13.37,55.67,1", "4 tal"),  # five values
    ("bbox=13.35,55.65,13.37", "4 tal"),
    ("bbox=a,b,c,d", "tal"),
    ("bbox=13.35,55.65,13.37,nan", "ändliga"),
    ("bbox=200,55,201,56", "jordklotet"),
    ("limit=-1", "mellan"),
    ("limit=0", "mellan"),
    ("limit=10001", "mellan"),
    ("limit=ten", "heltal"),
    ("offset=-5", "mellan"),
    ("category=weather", "Okänd kategori"),
    ("status=lost", "Okänd status"),
]


@pytest.mark.parametrize("query,words", BAD_QUERIES, ids=[q for q, _ in BAD_QUERIES])
def test_bad_list_parameters_are_400_with_a_clear_message(client, query, words):
    response = client.get(f"/api/proposals?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert words in response.get_json()["error"]["message"]


def test_bad_parameter_message_in_english(client):
    message = client.get("/api/proposals?limit=-1", headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert message == "limit must be between 1 and 10000."


def test_full_list_is_cached_compressed_revalidated_and_invalidated_on_write(client):
    create(client)
    plain = client.get("/api/proposals")
    zipped = client.get("/api/proposals", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    etag = plain.headers["ETag"]
    assert client.get("/api/proposals", headers={"If-None-Match": etag}).status_code == 304
    create(client, title="Ett till")
    fresh = client.get("/api/proposals", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and len(fresh.get_json()["features"]) == 2


def test_cache_sees_changes_made_outside_the_api(app, client):
    public_id = create(client)
    assert len(client.get("/api/proposals").get_json()["features"]) == 1
    with app.app_context(), db.transaction() as conn:  # as a moderator would, through the store
        proposal_id = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id)).scalar_one()
        workflow.hide(conn, proposal_id, "Personuppgifter i texten", role="moderator")
    assert client.get("/api/proposals").get_json()["features"] == []


# --------------------------------------------------------------------- GET /api/proposals/<id>
def test_one_proposal_with_history_and_joins(client):
    public_id = create(client)
    response = client.get(f"/api/proposals/{public_id}")
    assert response.status_code == 200
    props = response.get_json()["properties"]
    assert [h["status"] for h in props["history"]] == ["received"]
    assert props["history"][0]["status_label"] == "Mottaget"
    assert props["summary"].startswith("Förslaget ligger i Kvarnskon–Vattenrännan")


def test_unknown_or_hidden_proposal_is_404(app, client):
    assert client.get("/api/proposals/nope").status_code == 404
    assert client.get("/api/proposals/nope").get_json()["error"]["code"] == "not_found"
    public_id = create(client)
    with app.app_context(), db.transaction() as conn:
        conn.execute(update(proposals).where(proposals.c.public_id == public_id).values(hidden=True))
    assert client.get(f"/api/proposals/{public_id}").status_code == 404


# ------------------------------------------------------------------------------- support
def test_support_once_per_browser_token_stored_hashed(app, client):
    public_id = create(client)
    first = client.post(f"/api/proposals/{public_id}/support", json={})
    assert first.status_code == 200 and first.get_json()["added"] is True and first.get_json()["support_count"] == 1
    token = client.get_cookie("dialogkarta_token").value
    again = client.post(f"/api/proposals/{public_id}/support", json={})
    assert again.get_json() == {**again.get_json(), "added": False, "support_count": 1}
    assert app.test_client().post(f"/api/proposals/{public_id}/support", json={}).get_json()["support_count"] == 2
    with app.app_context(), db.reading() as conn:
        hashes = set(conn.execute(select(supports.c.token_hash)).scalars())
    assert hashlib.sha256(token.encode()).hexdigest() in hashes and token not in hashes
    assert client.get(f"/api/proposals/{public_id}").get_json()["properties"]["support_count"] == 2


def test_support_with_an_empty_json_body(client):
    public_id = create(client)
    response = client.post(f"/api/proposals/{public_id}/support", data=b"", content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "target,kwargs,status",
    [
        ("nope", {"json": {}}, 404),
        (None, {"data": {"x": "1"}}, 415),  # a cross-site form cannot support
        (None, {}, 415),
    ],
)
def test_support_refusals_store_nothing(app, client, target, kwargs, status):
    public_id = create(client)
    before = rows(app)
    response = client.post(f"/api/proposals/{target or public_id}/support", **kwargs)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert rows(app) == before


def test_supports_are_rate_limited(app, client):
    public_id = create(client)
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_SUPPORTS="1/minute")
    assert client.post(f"/api/proposals/{public_id}/support", json={}).status_code == 200
    before = rows(app)
    other = app.test_client()
    other.set_cookie("dialogkarta_token", "another-browser-token-abcdefgh")
    assert other.post(f"/api/proposals/{public_id}/support", json={}).status_code == 429
    assert rows(app) == before


# -------------------------------------------------------------------------------- nearby
def test_nearby_lists_proposals_within_150_m_same_category_first(client):
    far = create(client, lon=13.3620, title="Långt bort")  # about 125 m east: inside
    same = create(client, lon=13.3605, category="safety", title="Samma kategori")
    create(client, lon=13.3650, title="Utanför")  # about 310 m: outside
    features = client.get("/api/proposals/nearby?lon=13.36&lat=55.66&category=safety").get_json()["features"]
    assert [f["id"] for f in features] == [same, far]
    assert 100 < features[1]["properties"]["distance_m"] < 150


@pytest.mark.parametrize(
    "query",
    ["lat=55.66", "lon=x&lat=55.66", "lon=13.36&lat=55.66&radius=-1", "lon=13.36&lat=55.66&category=weather", "lon=13.36&lat=95"],
)
def test_nearby_bad_parameters_are_400(client, query):
    assert client.get(f"/api/proposals/nearby?{query}").status_code == 400


# ------------------------------------------------------------------------------ layers
def test_layers_list_names_titles_and_counts(client):
    layers = {layer["name"]: layer for layer in client.get("/api/layers").get_json()["layers"]}
    assert layers["development-areas"]["count"] == 4
    assert layers["places"]["title"] == "Gator och platser"
    english = client.get("/api/layers", headers={"Accept-Language": "en"}).get_json()["layers"]
    assert "Development areas" in {layer["title"] for layer in english}


def test_one_layer_as_geojson_and_unknown_layer_404(client):
    response = client.get("/api/layers/service-locations")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.get_json()["type"] == "FeatureCollection"
    missing = client.get("/api/layers/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "unknown_layer"


# ------------------------------------------------------------------------------ OpenAPI
def test_openapi_document_describes_every_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {("/api" + path, method.upper()) for path, item in document["paths"].items() for method in item}
    routes = {
        (
            rule.rule.replace("<public_id>", "{public_id}")
            .replace("<name>", "{name}")
            .replace("<slug>", "{slug}")
            .replace("<question_id>", "{question_id}"),
            method,
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "surveys.")) or rule.endpoint in ("offline.supported", "proposal_shapes_api.shapes")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == described
    assert document["components"]["schemas"]["NewProposal"]["properties"]["category"]["enum"][0] == "traffic"


def test_openapi_document_is_valid_openapi_3():
    pytest.importorskip("schemathesis")
    import schemathesis
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.webmap.openapi import document

    schema = schemathesis.openapi.from_dict(document(load_locality()))
    operations = [result.ok() for result in schema.get_all_operations()]  # raises if an operation does not parse
    assert len(operations) == 17  # GET /proposals/shapes: the map's lines and areas (issue 15)


def test_honeypot_looks_like_success_and_stores_nothing(app, client):
    response = post(client, {**VALID, "website": "http://spam.example"})
    assert response.status_code == 201 and response.get_json()["properties"]["summary"]
    assert rows(app)["proposals"] == 0


def test_public_grid_generalises_positions_in_every_answer(app, client):
    public_id = create(client)
    app.config["PUBLIC_GRID_M"] = 250
    listed = client.get("/api/proposals").get_json()["features"][0]["geometry"]["coordinates"]
    single = client.get(f"/api/proposals/{public_id}").get_json()["geometry"]["coordinates"]
    assert listed == single != [13.36, 55.66]


# ------------------------------------------------------------------------ the rate limiter
def test_limits_parse_and_refuse_nonsense():
    from dialogkarta.settings import parse_limits

    assert parse_limits("10/minute; 60/hour") == [(10, 60), (60, 3600)]
    assert parse_limits("5/30") == [(5, 30.0)]
    with pytest.raises(ValueError, match="count/period"):
        parse_limits("ten per minute")


def test_unreadable_rate_limit_setting_stops_the_app_at_start(tmp_path):
    from dialogkarta.webmap.app import create_app

    with pytest.raises(ValueError, match="RATELIMIT|count/period"):
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / "i"),
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "RATELIMIT_PROPOSALS": "lots",
            }
        )


def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(tmp_path):
    from tests.test_auth import make_app

    app = make_app(tmp_path, PROXY_COUNT=1, RATELIMIT_ENABLED=True, RATELIMIT_PROPOSALS="1/minute")
    client = app.test_client()
    first = {"X-Forwarded-For": "127.0.0.2"}
    assert client.post("/api/proposals", json=VALID, headers=first).status_code == 201
    assert client.post("/api/proposals", json=VALID, headers={"X-Forwarded-For": "127.0.0.3"}).status_code == 201
    assert client.post("/api/proposals", json=VALID, headers=first).status_code == 429
