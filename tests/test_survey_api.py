"""The survey API: open surveys listed, answers with drawn points, lines and areas checked and kept once per browser."""

from datetime import UTC, datetime
from importlib.resources import files

import pytest
import shapely
from sqlalchemy import func, select

from dialogkarta.layers import surveys
from dialogkarta.layers.schema import survey_responses, survey_shapes
from dialogkarta.webmap import db
from tests.routes import open_example_survey

SLUG = "trygghet-och-vagar"
URL = f"/api/surveys/{SLUG}/responses"
WAY = {"type": "LineString", "coordinates": [[13.345, 55.664], [13.348, 55.665], [13.350, 55.666]]}
PARK = {
    "type": "Polygon",
    "coordinates": [[[13.349, 55.664], [13.351, 55.664], [13.351, 55.665], [13.349, 55.665], [13.349, 55.664]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[13.349, 55.664], [13.351, 55.665], [13.351, 55.664], [13.349, 55.665], [13.349, 55.664]]],
}
SPOT = {"type": "Point", "coordinates": [13.3514, 55.6652]}
MALMO = {"type": "Point", "coordinates": [13.0038, 55.6050]}


@pytest.fixture
def survey_app(app):
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
        closed = open_example_survey()
        surveys.save_survey(conn, surveys.Survey("stangd", closed.title, closed.intro, closed.opens.replace(year=2020),
                                                 closed.opens.replace(year=2020), closed.questions))  # fmt: skip
    return app


def stored(app):
    with app.app_context(), db.reading() as conn:
        responses = conn.execute(select(func.count()).select_from(survey_responses)).scalar_one()
        shapes = conn.execute(select(survey_shapes.c.question_id, survey_shapes.c.kind, survey_shapes.c.repair)).all()
    return responses, sorted(shapes, key=lambda row: (row[0], row[1]))


def test_only_open_surveys_are_listed(survey_app):
    listed = survey_app.test_client().get("/api/surveys").get_json()["surveys"]
    assert [(s["slug"], s["open"], s["url"]) for s in listed] == [(SLUG, True, f"/api/surveys/{SLUG}")]


def test_a_survey_serves_its_questions_in_order(survey_app):
    survey = survey_app.test_client().get(f"/api/surveys/{SLUG}").get_json()
    assert [q["id"] for q in survey["questions"]][:3] == ["unsafe_places", "way_to_school", "green_spaces"]
    assert survey["questions"][1]["geometry"] == "line" and survey["title"]["en"] == "Safety and routes in Dalby"
    assert survey_app.test_client().get("/api/surveys/ingen-sadan").status_code == 404


def test_an_answer_with_a_drawn_line_and_area_is_stored_and_replaced_when_sent_again(survey_app):
    client = survey_app.test_client()
    answers = {"way_to_school": WAY, "green_spaces": [{"geometry": PARK, "comment": "Bra för hundar"}], "safety_overall": 4}

    first = client.post(URL, json={"answers": answers})
    again = client.post(URL, json={"answers": {**answers, "way_to_school": [WAY, WAY]}})

    assert first.status_code == 201, first.get_json()
    assert first.get_json() == {"survey": SLUG, "updated": False, "shapes": 2, "repairs": []}
    assert again.status_code == 200 and again.get_json()["updated"] is True
    assert stored(survey_app) == (
        1,
        [("green_spaces", "polygon", None), ("way_to_school", "line", None), ("way_to_school", "line", None)],
    )


def test_a_self_crossing_area_is_repaired_and_the_repair_reported(survey_app):
    reply = survey_app.test_client().post(URL, json={"answers": {"green_spaces": BOWTIE, "safety_overall": 3}})
    assert reply.status_code == 201
    [repair] = reply.get_json()["repairs"]
    assert repair["question"] == "green_spaces" and repair["index"] == 0 and "Self-intersection" in repair["reason"]


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"unsafe_places": MALMO, "safety_overall": 3}, "unsafe_places", "A point lies wholly or partly outside"),
        ({"unsafe_places": WAY, "safety_overall": 3}, "unsafe_places", "The answer must be a point (GeoJSON Point)"),
        ({"way_to_school": {"type": "LineString", "coordinates": [[13.35, 55.665]] * 2}, "safety_overall": 3}, "way_to_school",
         "A line needs at least two different points"),
        ({"way_to_school": {"type": "LineString", "coordinates": [[13.35 + i * 1e-6, 55.665] for i in range(501)]},
          "safety_overall": 3}, "way_to_school", "At most 500 points in a drawn shape"),
        ({"green_spaces": {"type": "Polygon", "coordinates": [PARK["coordinates"][0][:-1]]}, "safety_overall": 3},
         "green_spaces", "must end where it starts"),
        ({"unsafe_places": {"type": "Point", "coordinates": [13.35, "55.66"]}, "safety_overall": 3}, "unsafe_places",
         "A position must be [lon, lat] in numbers"),
        ({"way_to_school": [WAY, WAY, WAY], "safety_overall": 3}, "way_to_school", "At most 2 drawn answers"),
        ({"way_to_school": {"geometry": WAY, "comment": "x"}, "safety_overall": 3}, "way_to_school", "takes no comments"),
        ({"green_spaces": PARK}, "safety_overall", "This question must be answered"),
        ({"safety_overall": 6}, "safety_overall", "a whole number 1–5"),
        ({"travel_mode": ["walk", "plane"], "safety_overall": 2}, "travel_mode", "Choose from: walk, bike, bus, car"),
        ({"favourite_colour": "red", "safety_overall": 2}, "favourite_colour", "Unknown question: favourite_colour"),
    ],
)  # fmt: skip
def test_answers_that_do_not_fit_are_refused_and_nothing_is_stored(survey_app, answers, field, message):
    reply = survey_app.test_client().post(URL, json={"answers": answers}, headers={"Accept-Language": "en"})

    assert reply.status_code == 422, reply.get_json()
    assert reply.get_json()["error"]["field"] == field
    assert message in reply.get_json()["error"]["message"]
    assert stored(survey_app) == (0, [])


def test_refusals_are_in_swedish_by_default(survey_app):
    reply = survey_app.test_client().post(URL, json={"answers": {"unsafe_places": MALMO, "safety_overall": 3}})
    assert "ligger helt eller delvis utanför" in reply.get_json()["error"]["message"]


def test_a_closed_survey_takes_no_answers(survey_app):
    reply = survey_app.test_client().post("/api/surveys/stangd/responses", json={"answers": {"safety_overall": 3}})
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "survey_closed"
    assert stored(survey_app) == (0, [])


def test_malformed_requests_get_the_api_error_shape(survey_app):
    client = survey_app.test_client()
    assert client.post(URL, data="answers=1", content_type="application/x-www-form-urlencoded").status_code == 415
    unknown = client.post(URL, json={"answers": {}, "name": "Anna"})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "name"
    assert client.post("/api/surveys/ingen-sadan/responses", json={"answers": {}}).status_code == 404
    assert stored(survey_app) == (0, [])


def answer_from_new_browsers(app, answers, count):
    for _ in range(count):
        assert app.test_client().post(URL, json={"answers": answers}).status_code == 201


def test_the_public_grid_shows_only_cells_that_at_least_k_respondents_touched(survey_app):
    crowded = {"unsafe_places": SPOT, "safety_overall": 3}
    lonely = {"unsafe_places": {"type": "Point", "coordinates": [13.36, 55.67]}, "safety_overall": 3}
    answer_from_new_browsers(survey_app, crowded, 5)
    answer_from_new_browsers(survey_app, lonely, 4)

    grid = survey_app.test_client().get(f"/api/surveys/{SLUG}/questions/unsafe_places/grid").get_json()

    assert grid["min_answers"] == 5 and grid["cell_m"] == 100
    assert [feature["properties"]["count"] for feature in grid["features"]] == [5]
    cell = shapely.geometry.shape(grid["features"][0]["geometry"])
    assert cell.covers(shapely.Point(SPOT["coordinates"]))


def test_the_grid_threshold_and_cell_size_are_configurable_and_bounded(survey_app):
    answer_from_new_browsers(survey_app, {"way_to_school": WAY, "safety_overall": 3}, 2)
    survey_app.config["SURVEY_MIN_ANSWERS"] = 2
    client = survey_app.test_client()

    grid = client.get(f"/api/surveys/{SLUG}/questions/way_to_school/grid?cell=50").get_json()
    assert grid["cell_m"] == 50 and {f["properties"]["count"] for f in grid["features"]} == {2}
    assert len(grid["features"]) > 3  # the line passes through several 50 m cells
    assert client.get(f"/api/surveys/{SLUG}/questions/way_to_school/grid?cell=5").status_code == 400
    assert client.get(f"/api/surveys/{SLUG}/questions/safety_overall/grid").status_code == 404  # not a map question
    assert client.get(f"/api/surveys/{SLUG}/questions/nothing/grid").status_code == 404


def test_a_survey_closes_at_midnight_on_the_localitys_calendar(app, monkeypatch):
    from dialogkarta.webmap import surveys as survey_views

    text = (files("dialogkarta.data") / "dalby" / "surveys" / f"{SLUG}.toml").read_text(encoding="utf-8")
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, surveys.parse_survey(text))  # open 2027-03-01 to 2027-04-30
    answer = {"answers": {"safety_overall": 3}}
    # 21:30 UTC on the closing day is 23:30 in Stockholm (CEST): still open.
    monkeypatch.setattr(survey_views, "utcnow", lambda: datetime(2027, 4, 30, 21, 30, tzinfo=UTC))
    assert app.test_client().post(URL, json=answer).status_code == 201
    # 22:30 UTC is 00:30 on 1 May in Stockholm, though still 30 April in UTC: closed.
    monkeypatch.setattr(survey_views, "utcnow", lambda: datetime(2027, 4, 30, 22, 30, tzinfo=UTC))
    assert app.test_client().post(URL, json=answer).status_code == 409


def test_a_background_answer_is_kept_only_with_consent(survey_app):
    client = survey_app.test_client()
    without = client.post(URL, json={"answers": {"safety_overall": 3, "age_group": "age_65_plus"}})
    assert without.status_code == 422 and without.get_json()["error"]["field"] == "age_group"
    assert stored(survey_app) == (0, [])

    with_consent = client.post(URL, json={"answers": {"safety_overall": 3, "age_group": "age_65_plus"}, "consent": True})
    assert with_consent.status_code == 201
    mine = client.get(f"/api/surveys/{SLUG}/responses/mine").get_json()["answers"]
    assert mine == {"safety_overall": 3, "age_group": "age_65_plus"}


@pytest.mark.parametrize("consent", ["yes", 1, None, {}])
def test_consent_must_be_true_or_false(survey_app, consent):
    reply = survey_app.test_client().post(URL, json={"answers": {"safety_overall": 3}, "consent": consent})
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "consent"
