"""Answering a survey in Chromium: on a 360×640 phone with touch, drawing a line and an area; by keyboard, an area from
the place list; the answers stored, and shown again to edit."""

from __future__ import annotations

import pytest
import shapely
from playwright.sync_api import expect
from sqlalchemy import select

from dialogkarta.layers import surveys
from dialogkarta.layers.schema import survey_responses, survey_shapes
from dialogkarta.webmap import db
from tests.browser.conftest import screenshot
from tests.routes import open_example_survey

SLUG = "trygghet-och-vagar"


@pytest.fixture
def survey_server(live_server):
    with live_server.app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
    return live_server


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="sv-SE"
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


def stored_shapes(app) -> list[tuple[str, str, object]]:
    with app.app_context(), db.reading() as conn:
        rows = conn.execute(
            select(survey_shapes.c.question_id, survey_shapes.c.kind, survey_shapes.c.geometry).order_by(survey_shapes.c.id)
        ).all()
    return [(row.question_id, row.kind, shapely.from_geojson(row.geometry)) for row in rows]


def stored_answers(app) -> list[str]:
    with app.app_context(), db.reading() as conn:
        return list(conn.execute(select(survey_responses.c.answers)).scalars())


def tap_on_map(page, question: str, offsets: list[tuple[float, float]]) -> None:
    """Tap the map of ``question`` at fractions of its width and height (clear of the drawing toolbar, top left)."""
    page.locator(f"#map-{question}").evaluate("map => map.scrollIntoView({block: 'center'})")
    box = page.locator(f"#map-{question}").bounding_box()
    for fx, fy in offsets:
        page.touchscreen.tap(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(400)  # as a finger would: two taps within 250 ms are a double tap to Leaflet


def test_on_a_phone_a_line_and_an_area_are_drawn_by_touch_and_stored(survey_server, phone):
    page = phone
    page.goto(f"{survey_server.url}/s/{SLUG}")
    page.wait_for_selector("form[data-ready=true]")
    expect(page.locator("#survey-progress")).to_have_text("Fråga 1 av 8")  # six questions, the consent, one about the resident
    expect(page.locator("#q-way_to_school")).to_be_hidden()  # one question per screen

    page.locator("#q-unsafe_places .next").tap()
    expect(page.locator("#survey-progress")).to_have_text("Fråga 2 av 8")
    page.locator("#map-way_to_school .leaflet-pm-icon-polyline").tap()
    tap_on_map(page, "way_to_school", [(0.4, 0.8), (0.6, 0.65), (0.85, 0.55), (0.85, 0.55)])  # the last tap again finishes
    expect(page.locator("#drawn-way_to_school .drawn-label")).to_have_text([lambda_text("Linje 1: 3 punkter")])

    page.locator("#q-way_to_school .next").tap()
    page.locator("#map-green_spaces .leaflet-pm-icon-polygon").tap()
    tap_on_map(page, "green_spaces", [(0.5, 0.55), (0.85, 0.55), (0.85, 0.85), (0.5, 0.85), (0.5, 0.55)])  # closed on the first
    expect(page.locator("#drawn-green_spaces .drawn-label")).to_have_text([lambda_text("Område 1: 4 hörn")])
    page.locator("#drawn-green_spaces input").fill("Hundrastgården")
    screenshot(page, "survey-phone-area")

    page.locator("#q-green_spaces .next").tap()
    page.locator("#q-travel_mode .next").tap()
    page.locator("label[for=a-safety_overall-4]").tap()
    page.locator("#q-safety_overall .next").tap()
    page.locator("#q-anything_else .next").tap()
    expect(page.locator("#a-age_group-age_65_plus")).to_be_hidden()
    page.locator("label[for=consent]").tap()
    page.locator("#q-consent .next").tap()
    page.locator("label[for=a-age_group-age_65_plus]").tap()
    page.locator("#survey-submit").tap()
    expect(page.locator("#survey-status")).to_contain_text("Tack! Dina svar är sparade.")

    shapes = stored_shapes(survey_server.app)
    assert [(question, kind) for question, kind, _ in shapes] == [("way_to_school", "line"), ("green_spaces", "polygon")]
    line, area = shapes[0][2], shapes[1][2]
    assert len(line.coords) == 3 and len(area.exterior.coords) == 5 and area.is_valid
    assert '"safety_overall": 4' in stored_answers(survey_server.app)[0]
    assert '"age_group": "age_65_plus"' in stored_answers(survey_server.app)[0]  # answered after the consent
    assert page.errors == []


def lambda_text(start: str):
    import re

    return re.compile("^" + re.escape(start))


def test_by_keyboard_an_area_is_made_of_places_chosen_in_order_and_comes_back_to_edit(survey_server, page):
    page.goto(f"{survey_server.url}/s/{SLUG}")
    page.wait_for_selector("form[data-ready=true]")
    expect(page.locator("#q-way_to_school")).to_be_visible()  # a desktop shows every question

    picker = page.locator("#pick-green_spaces")
    options = picker.locator("option").all_inner_texts()
    for index in (0, len(options) // 3, 2 * len(options) // 3):
        picker.focus()
        picker.select_option(index=index)
        page.locator("#q-green_spaces .add-place").press("Enter")
    expect(page.locator("#pending-green_spaces")).to_have_text("3 platser valda. Välj fler, eller avsluta.")
    page.locator("#q-green_spaces .finish-shape").press("Enter")
    expect(page.locator("#drawn-green_spaces .drawn-label")).to_have_text([lambda_text("Område 1: 3 hörn")])
    page.locator("#a-safety_overall-2").check()
    page.locator("#survey-submit").press("Enter")
    expect(page.locator("#survey-status")).to_contain_text("Tack! Dina svar är sparade.")
    assert [(q, kind) for q, kind, _ in stored_shapes(survey_server.app)] == [("green_spaces", "polygon")]

    page.reload()
    page.wait_for_selector("form[data-ready=true]")
    expect(page.locator("#drawn-green_spaces .drawn-label")).to_have_count(1)
    expect(page.locator("#a-safety_overall-2")).to_be_checked()


def test_a_required_question_left_empty_is_shown_with_its_message(survey_server, page):
    page.goto(f"{survey_server.url}/s/{SLUG}?lang=en")
    page.wait_for_selector("form[data-ready=true]")
    page.locator("#survey-submit").click()
    expect(page.locator("#err-safety_overall")).to_have_text("This question must be answered.")
    assert stored_answers(survey_server.app) == []


def test_the_survey_page_has_no_accessibility_violations_on_a_phone_or_a_desktop(survey_server, browser):
    from tests.browser.test_resident_map import _axe_source

    axe = _axe_source()
    found = {}
    for width, height in ((1280, 800), (360, 640)):
        context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{survey_server.url}/s/{SLUG}")
        page.wait_for_selector("form[data-ready=true]")
        page.add_script_tag(content=axe)
        found[f"{width}x{height}"] = page.evaluate("axe.run().then(r => r.violations.map(v => v.id + ' (' + v.impact + ')'))")
        context.close()
    assert found == {key: [] for key in found}


def test_a_background_question_cannot_be_answered_until_the_consent_is_ticked(survey_server, page):
    page.goto(f"{survey_server.url}/s/{SLUG}")
    page.wait_for_selector("form[data-ready=true]")
    expect(page.locator("#a-age_group-under_18")).to_be_disabled()
    page.locator("#consent").check()
    page.locator("#a-age_group-under_18").check()
    page.locator("#a-safety_overall-3").check()
    page.locator("#consent").uncheck()  # changed their mind: the background answer is not sent
    page.locator("#survey-submit").click()
    expect(page.locator("#survey-status")).to_contain_text("Tack! Dina svar är sparade.")
    assert "age_group" not in stored_answers(survey_server.app)[0]
