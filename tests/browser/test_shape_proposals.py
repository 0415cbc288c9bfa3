"""On a phone (touch, 360×640) a resident chooses Linje or Område, draws it on the resident map with the survey pages'
drawing tool, sends it, and the line and the area are stored and drawn on the public map as a line and an area."""

from __future__ import annotations

import pytest
import shapely
from playwright.sync_api import expect
from sqlalchemy import select

from dialogkarta.layers.schema import proposal_shapes
from dialogkarta.webmap import db
from tests.browser.conftest import screenshot
from tests.browser.test_resident_map import MAP, open_map


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="sv-SE", has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


def stored_shapes(app) -> list[tuple[str, object]]:
    with app.app_context(), db.reading() as conn:
        rows = conn.execute(select(proposal_shapes.c.kind, proposal_shapes.c.geometry).order_by(proposal_shapes.c.proposal_id))
        return [(row.kind, shapely.from_geojson(row.geometry)) for row in rows]


def tap_on_map(page, offsets: list[tuple[float, float]]) -> None:
    """Tap the map at fractions of its width and height, as a finger would (two taps within 250 ms are a double tap)."""
    box = page.locator(".dk-map").bounding_box()
    for fx, fy in offsets:
        page.touchscreen.tap(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(400)


def describe_and_send(page, title: str) -> None:
    page.locator("#category").select_option("traffic")
    page.locator("#title").fill(title)
    page.locator("#description").fill("Ritat på kartan i telefonen.")
    page.locator("#submit").tap()
    expect(page.locator("#confirmation")).to_be_visible(timeout=10_000)
    expect(page.locator("#confirmation-heading")).to_have_text("Tack! Ditt förslag är mottaget.")


def centre_the_village(page) -> None:
    page.evaluate(f"() => {MAP}.setView([55.6655, 13.3545], 16, {{animate: false}})")
    page.locator(".dk-map").scroll_into_view_if_needed()


def test_on_a_phone_a_line_and_an_area_proposal_are_drawn_by_touch_sent_and_shown(live_server, phone):
    page = phone
    open_map(page, live_server)
    centre_the_village(page)

    page.locator("label[for=shape-line]").tap()
    page.wait_for_selector("html[data-drawing=line]")
    expect(page.locator("#shape-status")).to_contain_text("Tryck på kartan för varje punkt på linjen")
    tap_on_map(page, [(0.3, 0.6), (0.5, 0.5), (0.7, 0.45), (0.7, 0.45)])  # the last tap again finishes
    expect(page.locator("#shape-status")).to_have_text("Linjen är ritad (3 punkter). Beskriv ditt förslag nedan.")
    assert page.locator(".dk-pin").count() == 0  # a line has no pin
    describe_and_send(page, "Gångväg saknas")

    page.locator("#another").tap()
    centre_the_village(page)
    page.locator("label[for=shape-area]").tap()
    page.wait_for_selector("html[data-drawing=area]")
    tap_on_map(page, [(0.3, 0.3), (0.6, 0.3), (0.6, 0.55), (0.3, 0.55), (0.3, 0.3)])  # closed on the first corner
    expect(page.locator("#shape-status")).to_have_text("Området är ritat (4 hörn). Beskriv ditt förslag nedan.")
    screenshot(page, "shape-proposal-area")
    describe_and_send(page, "Park här")

    shapes = stored_shapes(live_server.app)
    assert [kind for kind, _ in shapes] == ["line", "area"]
    line, area = shapes[0][1], shapes[1][1]
    assert line.geom_type == "LineString" and len(line.coords) == 3
    assert area.geom_type == "Polygon" and len(area.exterior.coords) == 5 and area.is_valid
    expect(page.locator("path.dk-shape-line")).to_have_count(1)  # the sent ones, among the public shapes
    expect(page.locator("path.dk-shape-area")).to_have_count(1)

    page.reload()
    page.wait_for_selector("html[data-shapes='2']")
    expect(page.locator("path.dk-shape")).to_have_count(2)
    assert page.errors == []


def test_a_point_is_still_placed_with_a_tap_and_from_the_place_list(live_server, phone):
    page = phone
    open_map(page, live_server)
    page.locator("label[for=shape-line]").tap()
    page.locator("label[for=shape-point]").tap()
    page.locator("#place-list button.place").first.tap()
    expect(page.locator(".dk-pin")).to_have_count(1)
    assert page.input_value("#lon") and page.errors == []


def test_a_line_proposals_popup_shows_what_the_resident_wrote_as_text(live_server, page):
    hostile = '<img src=x onerror="document.title=1">Gångväg'
    west, east = (13.350, 55.6652), (13.356, 55.6658)  # a straight line: its box's centre is on it
    body = {
        "category": "traffic",
        "title": hostile,
        "description": "<b>fet</b>",
        "geometry": {"type": "LineString", "coordinates": [west, east]},
    }
    assert live_server.app.test_client().post("/api/proposals", json=body).status_code == 201
    open_map(page, live_server)
    page.wait_for_selector("html[data-shapes='1']")
    page.evaluate(f"() => {MAP}.setView([55.6655, 13.353], 16, {{animate: false}})")
    box = page.locator("path.dk-shape-line").bounding_box()  # from bottom left to top right; its point's marker mid-way
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.8 * box["height"])
    expect(page.locator(".dk-proposal-popup h3")).to_have_text(hostile)
    expect(page.locator(".dk-proposal-popup .dk-description")).to_have_text("<b>fet</b>")
    assert page.locator(".leaflet-popup img").count() == 0 and page.title() != "1"
