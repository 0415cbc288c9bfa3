"""The maps at 100 000 proposals in Chromium: the first view draws the server's grid clusters with
their counts, choosing one (by keyboard too) zooms in, and close in the single proposals appear."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dialogkarta.testing import PASSWORD, bulk_proposals, make_user, random_points_in
from dialogkarta.webmap import db

MAP = "window[document.querySelector('.dk-map').id]"


def seed(app, n: int) -> list[tuple[float, float]]:
    with app.app_context(), db.transaction() as conn:
        points = random_points_in(db.registry().boundary(), n, seed=11)
        bulk_proposals(conn, points, hidden_every=50)
    return points


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """A served app with 100 000 proposals seeded straight into the store (2 % hidden)."""
    from dialogkarta.webmap.app import create_app
    from tests.browser.conftest import OFFLINE_TILES, LiveServer

    folder = tmp_path_factory.mktemp("crowded")
    app = create_app(
        {
            "TESTING": False,
            "INSTANCE_PATH": str(folder / "instance"),
            "DATABASE_URL": f"sqlite:///{folder / 'crowded.sqlite'}",
            "SECRET_KEY": "browser-test-secret",
            "RATELIMIT_ENABLED": False,
            "TILE_URL": OFFLINE_TILES,
        }
    )
    points = seed(app, 100_000)
    make_user(app, "anna")
    with LiveServer(app) as server:
        yield {"url": server.url, "points": points}


def cluster_counts(page) -> list[int]:
    return [int(n) for n in page.locator(".dk-grid-cluster").evaluate_all("nodes => nodes.map(n => n.dataset.count)")]


def test_the_first_view_draws_counted_clusters_that_add_up(crowded, page):
    page.goto(crowded["url"] + "/")
    page.wait_for_selector("html[data-proposals=loaded]", timeout=20_000)
    assert page.locator("html").get_attribute("data-map-mode") == "clusters"
    counts = cluster_counts(page)
    assert 10 < len(counts) < 2000
    assert sum(counts) == 98_000  # the whole locality is in view; hidden proposals are never counted
    first = page.locator(".dk-grid-cluster").first
    assert re.fullmatch(r"[0-9]+ förslag", first.get_attribute("aria-label"))
    assert first.get_attribute("role") == "button"
    summary = page.locator("#map-summary").inner_text()
    assert summary.startswith("98000 förslag i kartvyn") and f"{len(counts)} grupper" in summary


def test_choosing_a_cluster_by_keyboard_zooms_in(crowded, page):
    page.goto(crowded["url"] + "/")
    page.wait_for_selector("html[data-proposals=loaded]", timeout=20_000)
    before = page.evaluate(f"{MAP}.getZoom()")
    page.locator(".dk-grid-cluster").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).not_to_have_attribute("data-proposal-count", "98000")
    assert page.evaluate(f"{MAP}.getZoom()") == before + 2


def test_close_in_the_single_proposals_appear(crowded, page):
    page.goto(crowded["url"] + "/")
    page.wait_for_selector("html[data-proposals=loaded]", timeout=20_000)
    lon, lat = crowded["points"][1]
    page.evaluate(f"([lat, lon]) => {MAP}.setView([lat, lon], 18, {{animate: false}})", [lat, lon])
    page.wait_for_selector("html[data-map-mode=points]")
    assert page.locator(".dk-grid-cluster").count() == 0
    shown = int(page.locator("html").get_attribute("data-proposal-count"))
    assert 0 < shown < 8000
    # Leaflet.markercluster groups them on the client, as on a small locality's map.
    assert page.locator(".leaflet-marker-icon[title^='Förslag '], .marker-cluster").count() > 0


def test_a_permalink_opens_its_proposal_among_100_000(crowded, page):
    page.goto(crowded["url"] + "/?p=bulk00000000002")
    popup = page.locator(".dk-proposal-popup")
    expect(popup.locator("h3")).to_have_text("Förslag 2", timeout=20_000)
    expect(popup.locator(".dk-description")).to_have_text("En beskrivning.")  # fetched when the popup opens


def test_the_planners_overlay_draws_clusters_then_points(crowded, page):
    page.goto(crowded["url"] + "/planner/login")
    page.fill("#username", "anna")
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-map-mode=clusters]", timeout=30_000)
    assert sum(cluster_counts(page)) == 100_000  # hidden ones too
    from dialogkarta.webmap.planner import TABLE_LIMIT_DEFAULT

    rows = page.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(TABLE_LIMIT_DEFAULT, timeout=30_000)  # the table comes a page at a time
    expect(page.locator("#table-shown")).to_contain_text("100000")
    page.click("#table-more")
    expect(rows).to_have_count(2 * TABLE_LIMIT_DEFAULT)
    lon, lat = crowded["points"][1]
    name = page.locator(".overlay-map .folium-map").get_attribute("id")
    page.evaluate(f"([lat, lon]) => window['{name}'].setView([lat, lon], 18, {{animate: false}})", [lat, lon])
    page.wait_for_selector("body[data-map-mode=points]")
    assert page.locator(".overlay-map path.leaflet-interactive").count() > 4


def test_the_clustered_map_has_no_accessibility_violations(crowded, browser):
    from tests.browser.test_resident_map import _axe_source

    axe = _axe_source()
    context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(crowded["url"] + "/")
    page.wait_for_selector("html[data-map-mode=clusters]", timeout=20_000)
    page.add_script_tag(content=axe)
    violations = page.evaluate("axe.run().then(r => r.violations.map(v => v.id + ' (' + v.impact + ')'))")
    context.close()
    assert violations == []
