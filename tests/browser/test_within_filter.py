"""A planner in Chromium narrows the overlay to proposals with at least N services of a kind within
that kind's radius, and reads the counts on the proposal page."""

from __future__ import annotations

from playwright.sync_api import expect

from dialogkarta.layers import accounts, proposals
from dialogkarta.webmap import db
from tests.planner_helpers import PASSWORD, feature_point

PLANNER = "planner-radie"


def _seed(app):
    with app.app_context():
        registry = db.registry()
        with db.transaction() as conn:
            accounts.create_user(conn, PLANNER, PASSWORD, "planner")
            for where, title in (("busstation", "Vid stationen"), ("hpl-soderskog", "Vid Söderskog")):
                lon, lat = feature_point(registry, "services", where)
                proposals.submit(
                    conn, registry, {"lon": lon, "lat": lat, "category": "traffic", "title": title, "description": "."}
                )


def test_the_overlay_keeps_proposals_with_two_schools_within_800_m(live_server, live_app, page):
    _seed(live_app)
    page.goto(live_server.url + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-overlay-ready='1']")
    rows = page.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(2)

    page.select_option("select[name=near_kind]", "school")
    expect(rows).to_have_count(2)  # at least one school within 800 m: both
    page.fill("input[name=near_min]", "2")
    page.locator("input[name=near_min]").dispatch_event("change")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Vid stationen")

    rows.first.locator("a").click()
    expect(page.locator("#within li[data-kind=school]")).to_have_text("inom 800 m: 2 skolor")
    expect(page.locator("#within li[data-kind=bus_stop]")).to_have_text("inom 400 m: 1 busshållplats")
