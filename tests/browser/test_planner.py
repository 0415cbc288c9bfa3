"""A planner in Chromium: log in, filter the overlay, open a proposal from an area, forward it, answer it,
and see the answer on the public permalink, with no request leaving the machine."""

from __future__ import annotations

import numpy as np
import shapely
from playwright.sync_api import expect

from dialogkarta.layers import accounts, proposals
from tests.browser.conftest import screenshot
from tests.planner_helpers import PASSWORD, feature_point
from dialogkarta.webmap import db

PLANNER = "planner-lindqvist"
ANSWER = "Tekniska förvaltningen bygger ett övergångsställe under 2027."


def _seed(app):
    with app.app_context():
        registry = db.registry()
        with db.transaction() as conn:
            accounts.create_user(conn, PLANNER, PASSWORD, "planner")
            for category, where, title in (
                ("traffic", ("areas", "kvarnskon-vattenrannan"), "Övergångsställe vid Kvarnskon"),
                ("housing", ("areas", "kvarnskon-vattenrannan"), "Fler radhus"),
                ("culture_leisure", ("services", "bibliotek"), "Längre öppettider"),
            ):
                lon, lat = feature_point(registry, *where)
                proposals.submit(
                    conn,
                    registry,
                    {
                        "lon": lon,
                        "lat": lat,
                        "category": category,
                        "title": title,
                        "description": "Från en invånare.",
                        "email": "boende@example.se",
                        "consent": True,
                    },
                )
        area = registry.areas().set_index("id").geometry["kvarnskon-vattenrannan"]
    return area


def _click_spot(area, avoid) -> tuple[float, float]:
    """A point well inside the area and away from the proposal markers (so the click hits the polygon)."""
    minx, miny, maxx, maxy = area.bounds
    best, best_score = None, -1.0
    for x in np.linspace(minx, maxx, 25):
        for y in np.linspace(miny, maxy, 25):
            point = shapely.Point(x, y)
            if not area.contains(point):
                continue
            score = min(area.exterior.distance(point), min(point.distance(shapely.Point(a)) for a in avoid))
            if score > best_score:
                best, best_score = (x, y), score
    return best


def test_planner_flow_from_overlay_to_public_answer(live_server, live_app, page, browser, external_requests):
    area = _seed(live_app)
    base = live_server.url
    errors = []  # CSP violations and script errors show up here
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/planner/")
    assert "/planner/login" in page.url
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-overlay-ready='1']")
    rows = page.locator("#proposal-table tbody tr")
    assert rows.count() == 3

    page.select_option("select[name=category]", "traffic")
    expect(rows).to_have_count(1)  # (wait_for_function would need 'unsafe-eval', which our CSP refuses)
    assert "Övergångsställe" in rows.first.inner_text()
    page.select_option("select[name=category]", "")
    expect(rows).to_have_count(3)
    page.check("#heat-toggle")
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    screenshot(page, "planner-overlay")

    # Click the development area on the map: its proposals are listed beside it.
    avoid = [
        (f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1])
        for f in page.evaluate("fetch('/planner/api/proposals').then(r => r.json())")["features"]
    ]
    with live_app.app_context():  # service markers are clickable too
        avoid += [(g.x, g.y) for g in db.registry().services().geometry]
    lon, lat = _click_spot(area, avoid)
    map_box = page.locator(".overlay-map .folium-map")
    map_box.scroll_into_view_if_needed()
    map_name = map_box.get_attribute("id")  # folium's variable for the map
    x, y = page.evaluate(
        f"(() => {{ const p = window['{map_name}'].latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box = map_box.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#area-proposals li")
    listed = page.locator("#area-proposals li").all_inner_texts()
    assert len(listed) == 2 and any("Övergångsställe" in t for t in listed)
    page.click("#area-proposals a:has-text('Övergångsställe')")
    page.wait_for_selector("#forward-form")
    # The joins, visible: the area, the point and a line to each kind's nearest service.
    assert page.locator("[data-proposal-map] path").count() >= 2 + 2 * len(page.locator("#nearest tbody tr").all())
    public_path = page.locator("a[href^='/p/']").first.get_attribute("href")

    page.select_option("#forward-department", "tekniska")
    page.fill("#forward-note", "Gäller korsningen")
    page.click("#forward-form button[type=submit]")
    page.wait_for_selector("#forwardings")
    assert page.locator("#current-status").get_attribute("data-status") == "forwarded"
    page.fill("#answer-body", ANSWER)
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector(f"#answers >> text={ANSWER}")
    screenshot(page, "planner-proposal")

    public = browser.new_context(locale="sv-SE").new_page()
    try:
        public.goto(base + public_path)
        assert ANSWER in public.content()
        assert PLANNER not in public.content() and "boende@example.se" not in public.content()
        screenshot(public, "planner-public-answer")
    finally:
        public.context.close()
    assert external_requests == []
    assert page.dialogs == []
    assert [e for e in errors if "favicon" not in e and "127.0.0.1:9" not in e and "Failed to load resource" not in e] == []


def test_staff_enter_a_meeting_proposal_by_clicking_the_map(live_server, live_app, page, external_requests):
    area = _seed(live_app)
    page.goto(live_server.url + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.goto(live_server.url + "/planner/new")
    page.select_option("#channel", "focus_group")
    page.fill("#meeting", "Fokusgrupp unga, 4 mars")
    page.select_option("#category", "culture_leisure")
    page.fill("#title", "Skatepark")
    page.fill("#description", "Önskas av fokusgruppen.")
    holder = page.locator("[data-pick-map]")
    holder.scroll_into_view_if_needed()
    map_name = holder.locator(".folium-map").get_attribute("id")  # folium's variable for the map
    point = area.representative_point()
    x, y = page.evaluate(
        f"(() => {{ const p = window['{map_name}'].latLngToContainerPoint([{point.y}, {point.x}]); return [p.x, p.y]; }})()"
    )
    box = page.locator("[data-pick-map] .folium-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    assert abs(float(page.input_value("#lat")) - point.y) < 0.001
    page.click("#new-form button[type=submit]")
    page.wait_for_selector("#forward-form")
    assert "kvarnskon-vattenrannan" in page.locator("#areas").inner_html()
    assert "Fokusgrupp unga, 4 mars" in page.content()
    assert external_requests == []
