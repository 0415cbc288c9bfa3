"""The summary report's map in Chromium: no two area labels overlap, each label's box checked against every other."""

from __future__ import annotations

from itertools import combinations

from tests.browser.conftest import screenshot
from tests.planner_helpers import PASSWORD, make_user

PLANNER = "planner-report"
# Each area label ends in its proposal count, "Namn (3)"; axis ticks and the legend do not.
LABEL_BOXES = """() => [...document.querySelectorAll('.map-figure svg text')]
  .filter((t) => /\\(\\d+\\)$/.test(t.textContent.trim()))
  .map((t) => { const r = t.getBoundingClientRect(); return [t.textContent.trim(), r.left, r.top, r.right, r.bottom]; })"""


def _overlap(a, b) -> bool:
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


def test_no_two_area_labels_on_the_report_map_overlap(live_server, live_app, page):
    make_user(live_app, PLANNER)
    page.goto(live_server.url + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.goto(live_server.url + "/planner/report")
    page.wait_for_selector(".map-figure svg")
    with live_app.app_context():
        from dialogkarta.webmap import db

        area_count = len(db.registry().areas())
    page.locator(".map-figure").scroll_into_view_if_needed()
    screenshot(page, "planner-report-map")
    boxes = page.evaluate(LABEL_BOXES)
    assert len(boxes) == area_count  # every area is labelled
    assert [(a[0], b[0]) for a, b in combinations(boxes, 2) if _overlap(a, b)] == []
