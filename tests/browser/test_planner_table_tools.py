"""A planner in Chromium filters the overlay, shares the address, saves the filter by name, forwards every proposal in
the filtered table at once, and downloads the same table as CSV."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.planner_helpers import PASSWORD, add_proposal, feature_point, make_user
from dialogkarta.webmap import db

PLANNER = "planner-tools"


def _seed(app) -> None:
    with app.app_context():
        lon, lat = feature_point(db.registry(), "areas", "kvarnskon-vattenrannan")
    for i in range(3):
        add_proposal(app, lon, lat, category="traffic", title=f"Trafik {i}")
    add_proposal(app, lon, lat, category="housing", title="Radhus")
    make_user(app, PLANNER)


def _log_in(page, base: str) -> None:
    page.goto(base + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-overlay-ready='1']")


def test_the_filter_lives_in_the_address_and_a_shared_address_opens_it(live_server, live_app, page, browser):
    _seed(live_app)
    _log_in(page, live_server.url)
    rows = page.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(4)
    page.select_option("select[name=category]", "traffic")
    expect(rows).to_have_count(3)
    assert page.url.endswith("/planner/?category=traffic")
    assert page.locator("#table-csv").get_attribute("href") == "/planner/table.csv?category=traffic"

    colleague = browser.new_context(locale="sv-SE").new_page()
    _log_in(colleague, live_server.url)
    colleague.goto(page.url)
    colleague.wait_for_selector("body[data-overlay-ready='1']")
    assert colleague.input_value("select[name=category]") == "traffic"
    expect(colleague.locator("#proposal-table tbody tr")).to_have_count(3)
    colleague.context.close()


def test_a_saved_filter_reopens_the_same_table(live_server, live_app, page):
    _seed(live_app)
    _log_in(page, live_server.url)
    page.select_option("select[name=category]", "housing")
    expect(page.locator("#proposal-table tbody tr")).to_have_count(1)
    page.fill("#filter-name", "Bostäder")
    page.click("#save-filter button[type=submit]")
    page.wait_for_selector("#saved-filters a:has-text('Bostäder')")
    page.goto(live_server.url + "/planner/")
    page.wait_for_selector("body[data-overlay-ready='1']")
    expect(page.locator("#proposal-table tbody tr")).to_have_count(4)
    page.click("#saved-filters a:has-text('Bostäder')")
    page.wait_for_selector("body[data-overlay-ready='1']")
    expect(page.locator("#proposal-table tbody tr")).to_have_count(1)
    assert page.input_value("select[name=category]") == "housing"


def test_bulk_forward_changes_every_proposal_in_the_filtered_table(live_server, live_app, page):
    _seed(live_app)
    _log_in(page, live_server.url)
    page.select_option("select[name=category]", "traffic")
    rows = page.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#bulk-submit")).to_be_enabled()
    page.select_option("#bulk-action", "forward")
    page.select_option("#bulk-department", "tekniska")
    page.fill("#bulk-note", "Samlat till Tekniska")
    page.click("#bulk-submit")
    page.wait_for_selector(".flash-info")
    assert "3 förslag är ändrade" in page.locator(".flash-info").inner_text()
    page.wait_for_selector("body[data-overlay-ready='1']")
    assert page.input_value("select[name=category]") == "traffic"  # back on the same filtered table
    expect(rows).to_have_count(3)
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"Skickat vidare"}
    page.select_option("select[name=category]", "housing")
    expect(rows).to_have_count(1)
    assert rows.locator("td:nth-child(3)").inner_text() == "Mottaget"
