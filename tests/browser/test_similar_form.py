"""Duplicates by meaning in the form: a similar proposal 400 m away is offered while writing, and can be supported instead."""

from __future__ import annotations

from playwright.sync_api import expect

from dialogkarta.geo.crs import to_sweref, to_wgs84_xy
from tests.browser.test_resident_map import add_proposal, api_support_count, open_map


def metres_from(lon: float, lat: float, east: float) -> tuple[float, float]:
    easting, northing = to_sweref(lon, lat)
    lon2, lat2 = to_wgs84_xy(easting + east, northing)
    return round(float(lon2), 7), round(float(lat2), 7)


def test_a_similar_proposal_400_m_away_is_offered_in_the_form_and_supported_instead(live_server, page):
    open_map(page, live_server)
    page.locator("#place-list button[data-name='Allégatan']").click()
    lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    there = metres_from(lon, lat, 400)
    public_id = add_proposal(
        live_server,
        lon=there[0],
        lat=there[1],
        category="traffic",
        title="Övergångsställe vid skolan",
        description="Barnen springer över vägen. Bygg ett säkert övergångsställe.",
    )
    page.select_option("#category", "traffic")
    page.fill("#title", "Säkert övergångsställe till skolan")
    page.fill("#description", "Det är farligt att korsa vägen vid skolan.")

    item = page.locator("#similar .nearby-item").filter(has_text="Övergångsställe vid skolan")
    item.wait_for(state="visible")
    expect(page.locator("#similar-intro")).to_contain_text("inom 500 m")
    assert page.locator("#nearby .nearby-item").filter(has_text="Övergångsställe vid skolan").count() == 0  # beyond 150 m
    item.get_by_role("button", name="Stöd detta i stället").click()
    expect(item.get_by_role("button")).to_have_text("Du stöder detta")
    expect(item.locator(".nearby-meta")).to_contain_text("Stöd: 1")
    assert api_support_count(live_server, public_id) == 1


def test_other_words_are_offered_nothing(live_server, page):
    open_map(page, live_server)
    page.locator("#place-list button[data-name='Allégatan']").click()
    lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    add_proposal(live_server, lon=lon, lat=lat, title="Övergångsställe vid skolan", description="Farligt att korsa vägen.")
    page.select_option("#category", "traffic")
    page.fill("#title", "Fler parkbänkar")
    with page.expect_response(lambda response: "/api/proposals/similar" in response.url) as asked:
        page.fill("#description", "Bänkar att vila på längs promenaden.")
    assert asked.value.json()["features"] == []
    page.locator("#nearby .nearby-item").first.wait_for(state="visible")  # the 150 m list shows it, by distance
    expect(page.locator("#similar")).to_be_hidden()
