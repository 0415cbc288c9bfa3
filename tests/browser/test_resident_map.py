"""The resident map in Chromium: layers, placing and sending a proposal by mouse, by keyboard and on a phone,
supporting a nearby proposal, English, geolocation, and residents' text shown as text everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

KVARNSKON = (55.6596, 13.3625)  # lat, lon inside Kvarnskon–Vattenrännan, clear of service symbols
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_TEXT = "Läs <script>alert('x')</script> och <b>fet</b>"


def add_proposal(live_server, **fields) -> str:
    body = {
        "lon": 13.3466,
        "lat": 55.6657,
        "category": "traffic",
        "title": "Cykelställ",
        "description": "Fler cykelställ.",
        **fields,
    }
    response = live_server.app.test_client().post("/api/proposals", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


# The Leaflet map: folium's variable, named like the map element's id (our modules add no globals).
MAP = "window[document.querySelector('.dk-map').id]"


def open_map(page, live_server, path="/"):
    page.goto(live_server.url + path)
    page.wait_for_selector("html[data-proposals=loaded]", timeout=10_000)


def click_map_at(page, lat, lon, zoom=17, center=None):
    """Show ``center`` (default: the point itself) at ``zoom``, then click the map where (lat, lon) is."""
    page.evaluate(f"([lat, lon, zoom]) => {MAP}.setView([lat, lon], zoom, {{animate: false}})", [*(center or (lat, lon)), zoom])
    page.wait_for_timeout(150)  # let Leaflet settle (maxBounds may pan after a jump)
    x, y = page.evaluate(
        f"([lat, lon]) => {{ const p = {MAP}.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }}", [lat, lon]
    )
    page.locator(".dk-map").click(position={"x": x, "y": y})


def api_support_count(live_server, public_id) -> int:
    return live_server.app.test_client().get(f"/api/proposals/{public_id}").get_json()["properties"]["support_count"]


def test_map_shows_layers_controls_and_legend(live_server, page, external_requests):
    add_proposal(live_server)
    open_map(page, live_server)
    assert page.locator(".leaflet-overlay-pane path").count() >= 5  # boundary + 4 development areas
    assert page.locator(".dk-service").count() >= 20  # service symbols
    assert page.locator(".leaflet-marker-icon[title='Cykelställ']").count() + page.locator(".marker-cluster").count() >= 1
    page.locator(".leaflet-control-layers").hover()
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [o.strip() for o in overlays] == [
        "Dialogområde Dalby",
        "Utvecklingsområden",
        "Service och målpunkter",
        "Invånarnas förslag",
    ]
    assert page.locator(".leaflet-control-scale").is_visible()
    assert "SCB" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".legend").get_by_text("Under byggnation").is_visible()
    assert page.locator("#map-notice").inner_text().startswith("Bakgrundskartan kunde inte laddas")  # tiles all fail
    screenshot(page, "resident-map-1280x800")
    assert external_requests == []


def test_click_to_place_pin_fill_in_and_send(live_server, page, external_requests):
    open_map(page, live_server)
    click_map_at(page, *KVARNSKON)
    assert page.locator(".dk-pin").is_visible()
    assert "Nålen är placerad" in page.locator("#pin-status").inner_text()
    page.select_option("#category", "traffic")
    page.fill("#title", "Säker passage vid Veberödsvägen")
    page.fill("#description", "Ett övergångsställe med ljus.")
    page.click("#submit")
    confirmation = page.locator("#confirmation")
    confirmation.wait_for(state="visible")
    summary = page.locator("#confirmation-summary").inner_text()
    assert summary.startswith("Ditt förslag ligger i Kvarnskon–Vattenrännan (under byggnation). Närmaste busshållplats:")
    link = page.locator("#confirmation-link").get_attribute("href")
    assert "/p/" in link
    page.locator(".leaflet-marker-icon[title='Säker passage vid Veberödsvägen']").wait_for(state="visible")
    screenshot(page, "resident-confirmation-1280x800")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Säker passage vid Veberödsvägen"
    assert external_requests == []


def test_outside_dalby_is_refused_and_the_boundary_shown(live_server, page):
    open_map(page, live_server)
    click_map_at(page, 55.652, 13.39, zoom=14, center=(55.660, 13.370))  # south-east of the boundary, in the margin
    assert "utanför Dalby" in page.locator("#pin-status").inner_text()
    page.select_option("#category", "other")
    page.fill("#title", "Utanför")
    page.fill("#description", "Här")
    page.click("#submit")
    error = page.locator("#form-error")
    error.wait_for(state="visible")
    assert "ligger utanför Dalby" in error.inner_text()
    assert live_server.app.test_client().get("/api/proposals").get_json()["features"] == []


def test_keyboard_only_through_the_place_list(live_server, page):
    open_map(page, live_server)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#place-filter":
            break
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "place-filter"
    page.keyboard.type("allé")
    assert page.locator("#place-list li:visible").count() == 1
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.name") == "Allégatan"
    page.keyboard.press("Enter")
    assert "Allégatan" in page.locator("#pin-status").inner_text()
    assert page.evaluate("document.activeElement.id") == "step-describe-heading"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "category":
            break
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Fler bänkar")
    page.keyboard.press("Tab")
    page.keyboard.type("Vid biblioteket behövs bänkar.")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "submit":
            break
    page.keyboard.press("Enter")
    page.locator("#confirmation").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "confirmation"
    assert "Närmaste busshållplats" in page.locator("#confirmation-summary").inner_text()
    features = live_server.app.test_client().get("/api/proposals").get_json()["features"]
    assert [f["properties"]["title"] for f in features] == ["Fler bänkar"]
    assert features[0]["geometry"]["coordinates"] == [13.3466, 55.6656]


def test_support_a_nearby_proposal_instead(live_server, page):
    public_id = add_proposal(live_server, title="Cykelställ vid biblioteket")
    open_map(page, live_server)
    page.locator("#place-list button[data-name='Allégatan']").click()
    item = page.locator(".nearby-item").filter(has_text="Cykelställ vid biblioteket")
    item.wait_for(state="visible")
    item.get_by_role("button", name="Stöd detta i stället").click()
    expect(item.get_by_role("button")).to_have_text("Du stöder detta")
    expect(item.locator(".nearby-meta")).to_contain_text("Stöd: 1")
    assert api_support_count(live_server, public_id) == 1
    page.goto(f"{live_server.url}/p/{public_id}")  # the same browser cannot support twice
    page.click("#support")
    expect(page.locator("#support-message")).to_contain_text("redan")
    assert api_support_count(live_server, public_id) == 1


def test_switch_to_english(live_server, page):
    open_map(page, live_server)
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("html[data-proposals=loaded]")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "What would you change in Dalby?"
    assert "Development areas" in page.locator(".leaflet-control-layers-overlays").inner_text()
    page.reload()
    assert page.get_attribute("html", "lang") == "en"  # remembered
    screenshot(page, "resident-map-english-1280x800")


def test_residents_text_is_text_in_popup_list_and_permalink(live_server, page, external_requests):
    public_id = add_proposal(live_server, title=XSS_TITLE, description=XSS_TEXT)
    open_map(page, live_server, f"/?p={public_id}")
    popup = page.locator(".dk-proposal-popup")
    popup.wait_for(state="visible")
    assert popup.locator("h3").inner_text() == XSS_TITLE
    assert XSS_TEXT in popup.locator(".dk-description").inner_text()
    assert page.locator(".leaflet-popup img, .leaflet-popup script, .leaflet-popup b").count() == 0
    page.locator("#place-list button[data-name='Allégatan']").click()
    item = page.locator(".nearby-item").first
    item.wait_for(state="visible")
    assert item.locator(".nearby-title").inner_text() == XSS_TITLE
    assert item.locator("img, script, b").count() == 0
    page.goto(f"{live_server.url}/p/{public_id}")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.locator("#proposal-description").inner_text() == XSS_TEXT
    assert page.locator("article img, article b").count() == 0
    assert page.dialogs == []
    assert external_requests == []


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="sv-SE", has_touch=True, is_mobile=True, device_scale_factor=2
    )
    yield context.new_page()
    context.close()


def test_phone_360x640_tap_targets_and_pin_not_covered(live_server, phone):
    open_map(phone, live_server)
    screenshot(phone, "resident-map-360x640")
    phone.evaluate(f"([lat, lon]) => {MAP}.setView([lat, lon], 17, {{animate: false}})", [55.6650, 13.3500])
    phone.wait_for_timeout(100)  # let Leaflet settle after the jump before the tap
    box = phone.locator(".dk-map").bounding_box()
    phone.locator(".dk-map").tap(position={"x": box["width"] / 2, "y": box["height"] / 2})
    pin = phone.locator(".dk-pin")
    pin.wait_for(state="visible", timeout=5000)
    screenshot(phone, "resident-pin-360x640")
    small = []
    for selector in (
        "#locate",
        "#place-list button",
        "#category",
        "#title",
        "#description",
        "#submit",
        ".leaflet-control-zoom-in",
        ".leaflet-control-zoom-out",
        ".leaflet-control-layers-toggle",
        ".site-nav a",
        ".lang-switch a",
        ".dk-pin",
        "#to-form",
    ):
        for element in phone.locator(selector).all()[:3]:
            size = element.bounding_box()
            if size and (size["height"] < 44 or size["width"] < 44):
                small.append((selector, size["width"], size["height"]))
    assert small == []
    pin_box = pin.bounding_box()
    form_box = phone.locator("#proposal-form").bounding_box()
    assert form_box["y"] >= pin_box["y"] + pin_box["height"]  # the form starts below the pin, never over it
    phone.locator("#to-form").tap()  # one tap from the map to the form
    assert phone.evaluate("document.activeElement.id") == "step-describe-heading"
    phone.locator("#title").scroll_into_view_if_needed()
    assert phone.locator("#title").is_visible()
    screenshot(phone, "resident-form-360x640")


def test_use_my_location_inside_and_outside(live_server, browser):
    for (lat, lon), inside in (((55.6650, 13.3500), True), ((55.7053, 13.1872), False)):  # Dalby; Lund C
        context = browser.new_context(
            locale="sv-SE", geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"]
        )
        page = context.new_page()
        open_map(page, live_server)
        page.click("#locate")
        if inside:
            page.locator(".dk-pin").wait_for(state="visible")
            assert page.input_value("#lat") == "55.665"
        else:
            expect(page.locator("#locate-status")).to_contain_text("Din position ligger utanför Dalby")
            assert page.locator(".dk-pin").count() == 0
        context.close()


def _axe_source():
    import os
    from pathlib import Path

    candidates = [
        os.environ.get("DIALOGKARTA_AXE", ""),
        "node_modules/axe-core/axe.min.js",
        str(Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"),
    ]
    path = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    if path is None:
        message = "axe-core not installed (npm install axe-core, or set DIALOGKARTA_AXE to axe.min.js)"
        if os.environ.get("DIALOGKARTA_REQUIRE_AXE") == "1":
            pytest.fail(f"{message}; DIALOGKARTA_REQUIRE_AXE=1")
        pytest.skip(message)
    return path.read_text()


def test_no_accessibility_violations_on_resident_pages(live_server, browser):
    axe = _axe_source()
    public_id = add_proposal(live_server)
    found = {}
    for width, height in ((1280, 800), (360, 640)):
        # bypass_csp to inject axe; the app's CSP is tested elsewhere
        context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": width, "height": height})
        page = context.new_page()
        for path in ("/", f"/p/{public_id}", "/privacy"):
            page.goto(live_server.url + path)
            if path == "/":
                page.wait_for_selector("html[data-proposals=loaded]")
            page.add_script_tag(content=axe)
            found[f"{path} at {width}x{height}"] = page.evaluate(
                "axe.run().then(r => r.violations.map(v => v.id + ' (' + v.impact + ')'))"
            )
        context.close()
    assert found == {key: [] for key in found}


def test_arrow_keys_move_between_the_place_search_and_its_results(live_server, page):
    open_map(page, live_server)
    page.focus("#place-filter")
    page.keyboard.type("dalby")
    visible = page.locator("#place-list li:visible button")
    assert visible.count() >= 2
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.name") == visible.nth(0).get_attribute("data-name")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.name") == visible.nth(1).get_attribute("data-name")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "place-filter"
