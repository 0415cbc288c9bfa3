"""The survey page /s/<slug>: its questions as a form in the resident's language, and this browser's answers to edit."""

import dataclasses
import re

import pytest

from dialogkarta.layers import surveys
from dialogkarta.webmap import db
from tests.routes import open_example_survey

SLUG = "trygghet-och-vagar"
WAY = {"type": "LineString", "coordinates": [[13.345, 55.664], [13.348, 55.665], [13.350, 55.666]]}
SPOT = {"type": "Point", "coordinates": [13.3514, 55.6652]}


def save(app, survey):
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, survey)


@pytest.fixture
def survey_app(app):
    save(app, open_example_survey())
    return app


def test_the_page_asks_every_question_in_order_with_a_map_and_a_place_list_for_map_questions(survey_app):
    page = survey_app.test_client().get(f"/s/{SLUG}?lang=sv").get_data(as_text=True)

    assert "<h1>Trygghet och vägar i Dalby</h1>" in page
    assert re.findall(r'<li class="question" id="q-([a-z_]+)"', page) == [
        "unsafe_places",
        "way_to_school",
        "green_spaces",
        "travel_mode",
        "safety_overall",
        "anything_else",
        "age_group",
    ]
    consent = page.index('id="consent"')
    assert (
        page.index('id="q-anything_else"') < consent < page.index('id="q-age_group"')
    )  # background questions come after the consent
    assert '<fieldset aria-describedby="err-age_group" class="background" disabled>' in page
    assert 'id="map-way_to_school" data-geometry="line"' in page
    assert '<option value="' in page.split('id="pick-green_spaces"')[1].split("</select>")[0]
    assert 'type="checkbox" id="a-travel_mode-bike"' in page and 'type="radio" id="a-safety_overall-5"' in page
    assert "Mycket trygg" in page


def test_the_page_speaks_english_when_asked(survey_app):
    page = survey_app.test_client().get(f"/s/{SLUG}?lang=en").get_data(as_text=True)
    assert "<h1>Safety and routes in Dalby</h1>" in page and "Draw the way you or your children walk" in page
    assert "Send your answers" in page


def test_the_page_loads_leaflet_geoman_from_our_own_server_with_its_licence(survey_app):
    client = survey_app.test_client()
    page = client.get(f"/s/{SLUG}").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    assert all(src.startswith("/") for src in scripts) and any("leaflet-geoman.min.js" in src for src in scripts)
    for src in scripts:
        assert client.get(src).status_code == 200
    licence = client.get(next(src for src in scripts if "geoman" in src).rsplit("/", 1)[0] + "/LICENSE").get_data(as_text=True)
    assert "MIT" in licence or "Permission is hereby granted" in licence


def test_a_survey_text_with_markup_is_shown_as_text(survey_app):
    example = open_example_survey()
    hostile = dataclasses.replace(example, slug="elak", title={"sv": "<script>alert(1)</script>", "en": "x"})
    save(survey_app, hostile)
    page = survey_app.test_client().get("/s/elak?lang=sv").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_survey_is_a_404_page(survey_app):
    assert survey_app.test_client().get("/s/finns-inte").status_code == 404


def test_a_closed_survey_says_so_and_offers_no_form(survey_app):
    example = open_example_survey()
    save(survey_app, dataclasses.replace(example, slug="stangd", opens=example.opens.replace(year=2020),
                                         closes=example.opens.replace(year=2020)))  # fmt: skip
    page = survey_app.test_client().get("/s/stangd?lang=sv").get_data(as_text=True)
    assert "Enkäten stängde" in page and 'id="survey-form"' not in page and "survey.js" not in page


def test_this_browser_gets_back_its_answers_to_edit_and_no_other_browser_does(survey_app):
    resident, neighbour = survey_app.test_client(), survey_app.test_client()
    mine = f"/api/surveys/{SLUG}/responses/mine"
    assert resident.get(mine).status_code == 404  # nothing answered yet

    sent = {"unsafe_places": [{"geometry": SPOT, "comment": "Mörkt"}], "way_to_school": [WAY], "safety_overall": 2}
    assert resident.post(f"/api/surveys/{SLUG}/responses", json={"answers": sent}).status_code == 201
    reply = resident.get(mine)

    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "private, no-store"
    answers = reply.get_json()["answers"]
    assert answers["safety_overall"] == 2
    assert answers["unsafe_places"] == [{"geometry": SPOT, "comment": "Mörkt"}]
    assert answers["way_to_school"] == [{"geometry": WAY}]
    assert neighbour.get(mine).status_code == 404
    assert resident.get("/api/surveys/finns-inte/responses/mine").status_code == 404
