"""Duplicates by meaning: proposals of the same category within 500 m whose words are like the draft's."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogkarta.geo.crs import to_sweref, to_wgs84_xy
from dialogkarta.layers import similar

HERE = (13.3600, 55.6600)
CROSSING = {"title": "Övergångsställe vid skolan", "description": "Barnen springer över vägen. Bygg ett säkert övergångsställe."}
DRAFT = "Säkert övergångsställe till skolan behövs. Det är farligt att korsa vägen."


def metres_east(metres: float) -> tuple[float, float]:
    easting, northing = to_sweref(*HERE)
    lon, lat = to_wgs84_xy(easting + metres, northing)
    return float(lon[0]) if hasattr(lon, "__len__") else float(lon), float(lat[0]) if hasattr(lat, "__len__") else float(lat)


def create(client, metres=0.0, category="traffic", **text) -> str:
    lon, lat = metres_east(metres)
    body = {"lon": lon, "lat": lat, "category": category, **CROSSING, **text}
    response = client.post("/api/proposals", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def offered(client, text=DRAFT, category="traffic") -> list[str]:
    query = {"lon": HERE[0], "lat": HERE[1], "category": category, "text": text}
    response = client.get("/api/proposals/similar", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [feature["id"] for feature in response.get_json()["features"]]


@pytest.mark.parametrize(
    "draft, other",
    [
        ("Övergångsställe vid skolan", "Säkert övergångsställe till skolan behövs"),
        ("Cykelställ vid stationen. Fler cykelställ behövs.", "Fler cykelställ vid busstationen"),
        ("Trafiken är för snabb på Lundavägen, sätt upp farthinder", "Farthinder på Lundavägen behövs, bilarna kör för fort"),
        ("Belysning på cykelvägen", "Gatlampor saknas längs cykelvägen, mörkt på kvällen"),
        ("Pedestrian crossing at the school", "A safe pedestrian crossing near the school is needed"),
    ],
)
def test_rewordings_of_one_idea_reach_the_threshold(draft, other):
    assert similar.similarity(similar.trigrams(draft), similar.trigrams(other)) >= similar.THRESHOLD


@pytest.mark.parametrize(
    "draft, other",
    [
        ("Fler parkbänkar i parken", "Övergångsställe vid skolan. Det är farligt att korsa vägen."),
        ("Belysning på cykelvägen. Det är mörkt.", "Fler papperskorgar vid torget. Det skräpar ner."),
        ("Bättre busstider till Lund", "Hundrastgård i Dalby. En inhägnad yta för hundar."),
    ],
)
def test_unrelated_proposals_stay_below_it(draft, other):
    assert similar.similarity(similar.trigrams(draft), similar.trigrams(other)) < similar.THRESHOLD


def test_filler_words_alone_make_no_two_texts_alike():
    assert similar.trigrams("det är och att för med") == frozenset()


def test_a_similar_text_400_m_away_in_the_same_category_is_offered(client):
    public_id = create(client, metres=400)
    assert offered(client) == [public_id]


def test_another_category_a_place_600_m_away_or_other_words_are_not(client):
    create(client, metres=400, category="safety")
    create(client, metres=600)
    create(client, metres=100, title="Fler parkbänkar", description="Det behövs fler bänkar att vila på i parken.")
    assert offered(client) == []


def test_a_hidden_proposal_is_never_offered(client):
    create(client, metres=50, description="Säkert övergångsställe vid skolan, se https://example.se/skolvag")  # held
    assert offered(client) == []


def test_the_most_similar_comes_first_and_each_says_how_similar_and_how_far(client):
    loose = create(client, metres=300, title="Övergångsställe", description="Bilarna kör fort förbi förskolan på morgonen.")
    close = create(client, metres=450, title="Säkert övergångsställe till skolan", description="Farligt att korsa vägen.")
    response = client.get(
        "/api/proposals/similar", query_string={"lon": HERE[0], "lat": HERE[1], "category": "traffic", "text": DRAFT}
    )
    features = response.get_json()["features"]
    assert [f["id"] for f in features] == [close, loose]
    first = features[0]["properties"]
    assert first["similarity"] > features[1]["properties"]["similarity"] >= similar.THRESHOLD
    assert first["distance_m"] == pytest.approx(450, abs=1)


def test_only_a_bounded_set_of_the_nearest_candidates_is_scored(app, client, monkeypatch):
    monkeypatch.setattr(similar, "CANDIDATES_MAX", 2)
    create(client, metres=10, title="Fler parkbänkar", description="Bänkar i parken.")
    create(client, metres=20, title="Papperskorgar", description="Fler papperskorgar vid torget.")
    create(client, metres=300)  # similar, but the two nearest were all that was scored
    assert offered(client) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"lon": HERE[0], "lat": HERE[1], "text": DRAFT}, "category"),
        ({"lon": HERE[0], "lat": HERE[1], "category": "nonsense", "text": DRAFT}, "category"),
        ({"lon": HERE[0], "lat": 95, "category": "traffic", "text": DRAFT}, "lon"),
        ({"lon": HERE[0], "lat": HERE[1], "category": "traffic", "text": "x" * 1001}, "text"),
    ],
)
def test_a_bad_question_is_a_400_naming_the_field(client, query, field):
    response = client.get("/api/proposals/similar", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_an_empty_draft_is_offered_nothing(client):
    create(client, metres=100)
    assert offered(client, text="") == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lon=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20)),
    lat=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    category=st.one_of(st.none(), st.sampled_from(["traffic", "", "*", "traffic\x00"]), st.text(max_size=30)),
    text=st.one_of(st.none(), st.text(max_size=1200), st.sampled_from(["\u202e" * 50, "ﷺ" * 300, "%" * 999])),
)
def test_any_question_is_answered_200_or_400_never_500(client, lon, lat, category, text):
    query = {k: v for k, v in (("lon", lon), ("lat", lat), ("category", category), ("text", text)) if v is not None}
    assert client.get("/api/proposals/similar", query_string=query).status_code in (200, 400)


def test_a_client_asking_too_often_is_told_to_wait_in_both_languages(app):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_SIMILAR="2/minute")
    client = app.test_client()
    query = {"lon": HERE[0], "lat": HERE[1], "category": "traffic", "text": DRAFT}
    statuses = [client.get("/api/proposals/similar", query_string=query) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[-1]
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "rate_limited"
    english = client.get("/api/proposals/similar", query_string=query, headers={"Accept-Language": "en"})
    assert english.status_code == 429 and english.get_json()["error"]["message"] != refused.get_json()["error"]["message"]
