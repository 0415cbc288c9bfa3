"""Every planner page on a desktop and on a phone: axe-core finds nothing, nothing scrolls sideways at 360 px,
and the scrolling tables can be reached with the keyboard. The pages come from the app's URL map."""

from __future__ import annotations

import pytest

import io

from PIL import Image

from dialogkarta.layers import activities, accounts, photo_image, photos, surveys, workflow
from tests.browser.test_resident_map import _axe_source
from tests.planner_helpers import PASSWORD, add_proposal, feature_point
from tests.routes import MEETING, open_example_survey, route_url
from dialogkarta.webmap import db

ROLES = ("planner", "moderator", "admin")
SIZES = ((1280, 800), (360, 640))
SCROLLING_REGIONS = {"planner.proposal": ("#nearest", "#forwardings"), "planner.moderation": ("#moderation-queue",)}


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 60)).save(out, "PNG")
    return out.getvalue()


def _seed(app) -> dict:
    """One account per staff role, a forwarded proposal with joins and a photo to review, a hidden one, and an activity."""
    with app.app_context():
        registry = db.registry()
        lon, lat = feature_point(registry, "areas", "kvarnskon-vattenrannan")
    record = add_proposal(app, lon, lat, category="traffic", title="Övergångsställe vid Kvarnskon med en lång rubrik")
    hidden = add_proposal(app, lon + 0.001, lat, title="Dolt förslag")
    with app.app_context(), db.transaction() as conn:
        for role in ROLES:
            accounts.create_user(conn, f"staff-{role}", PASSWORD, role)
        departments = db.registry().locality.departments
        workflow.forward(conn, record["id"], "tekniska", departments=departments, role="planner", note="Gäller korsningen")
        workflow.hide(conn, hidden["id"], "Personuppgifter", role="moderator")
        activity_id = activities.create(conn, MEETING, role="planner")
        photo = photo_image.prepare(_picture(), max_pixels=app.config["PHOTO_MAX_PIXELS"])  # pending: moderation buttons
        photos.write_file(app.config["PHOTO_DIR"], photo)
        photos.add(conn, record["id"], photo)
        survey = open_example_survey()
        surveys.save_survey(conn, survey)
    slug = survey.slug
    answers = {"travel_mode": ["walk"], "safety_overall": 3, "unsafe_places": {"type": "Point", "coordinates": [lon, lat]}}
    assert app.test_client().post(f"/api/surveys/{slug}/responses", json={"answers": answers}).status_code == 201
    return {"public_id": record["public_id"], "activity_id": activity_id, "slug": slug}


def planner_pages(app, values: dict) -> dict[str, str]:
    """Endpoint -> URL of every HTML page staff use: GET routes under /planner and the activity plan, no data."""
    pages = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith(("/planner", "/activity-plan")):
            continue
        if rule.endpoint in (
            "planner.api_areas",
            "planner.api_proposals",
            "planner.api_proposal_map",
            "downloads.planner_export",
            "activity.index_json",
            "planner.table_csv",
            "workbook.pdf",
            "survey_results.export_gpkg",
        ):
            continue
        if rule.endpoint == "auth.login":
            continue  # seen anonymously, not by staff
        pages[rule.endpoint] = route_url(app, rule, values)
    return pages


def _log_in(page, base: str, role: str) -> None:
    page.goto(base + "/planner/login")
    page.fill("#username", f"staff-{role}")
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")


def _open(page, url: str) -> bool:
    """Open a page; False when this role may not see it."""
    response = page.goto(url)
    if response is None or response.status in (401, 403) or "/planner/login" in page.url:
        return False
    assert response.status == 200, (url, response.status)
    if url.rstrip("/").endswith("/planner"):
        page.wait_for_selector("body[data-overlay-ready='1']")
    return True


@pytest.fixture
def seeded(live_app, live_server):
    return live_server, planner_pages(live_app, _seed(live_app))


def test_planner_pages_are_enumerated_from_the_url_map(seeded):
    _, pages = seeded
    expected = {"planner.index", "planner.proposal", "planner.new", "planner.moderation", "planner.report", "planner.users"}
    assert expected | {"downloads.upload", "activity.new", "activity.edit"} <= set(pages)


def test_no_accessibility_violations_on_any_planner_page_for_any_role(seeded, browser):
    axe = _axe_source()
    server, pages = seeded
    found, seen = {}, set()
    for role in ROLES:
        for width, height in SIZES:
            # bypass_csp to inject axe; the app's CSP is tested elsewhere
            context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport={"width": width, "height": height})
            page = context.new_page()
            _log_in(page, server.url, role)
            for endpoint, path in pages.items():
                if not _open(page, server.url + path):
                    continue
                seen.add(endpoint)
                page.add_script_tag(content=axe)
                found[f"{path} as {role} at {width}x{height}"] = page.evaluate(
                    "axe.run().then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
                )
            context.close()
    assert seen == set(pages)  # every page was checked by at least one role
    assert found == {key: [] for key in found}


def test_no_planner_page_scrolls_sideways_at_360_px(seeded, browser):
    server, pages = seeded
    context = browser.new_context(locale="sv-SE", viewport={"width": 360, "height": 640})
    page = context.new_page()
    _log_in(page, server.url, "admin")
    widths = {}
    for path in pages.values():
        assert _open(page, server.url + path)
        widths[path] = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    context.close()
    assert {path: w for path, w in widths.items() if w[0] > w[1]} == {}


def test_scrolling_tables_are_reached_by_tab_and_named(seeded, browser):
    server, pages = seeded
    context = browser.new_context(locale="sv-SE", viewport={"width": 360, "height": 640})
    page = context.new_page()
    _log_in(page, server.url, "moderator")
    for endpoint, selectors in SCROLLING_REGIONS.items():
        assert _open(page, server.url + pages[endpoint])
        for selector in selectors:
            region = page.locator(selector)
            assert region.get_attribute("tabindex") == "0"
            assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
            page.focus("body")
            reached = False
            for _ in range(80):  # Tab through the page until the region has focus
                page.keyboard.press("Tab")
                if page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
                    reached = True
                    break
            assert reached, selector
    context.close()
