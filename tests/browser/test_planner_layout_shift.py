"""The overlay map on /planner stays put while the filter summary, legend and table fill in: cumulative layout
shift under 0.1, measured in Chromium from its 'layout-shift' entries (what Lighthouse sums) on a desktop and a
phone, and by Lighthouse itself when it is installed (required in CI)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from dialogkarta.testing import lighthouse_layout_shift
from tests.planner_helpers import PASSWORD, add_proposal, make_user

PLANNER = "planner-cls"
CLS_BUDGET = 0.1
# Sums the shifts not caused by the user's own input, from the first paint on (buffered), as Lighthouse does.
OBSERVE_SHIFTS = """
window.dkLayoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) { if (!entry.hadRecentInput) { window.dkLayoutShift += entry.value; } }
}).observe({type: "layout-shift", buffered: true});
"""


def _seed(app) -> None:
    make_user(app, PLANNER)
    for i in range(6):
        add_proposal(app, 13.345 + i * 0.002, 55.665, category="traffic", title=f"Förslag {i}")


def _log_in(context, base: str) -> None:
    page = context.new_page()
    page.goto(base + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("body[data-overlay-ready='1']")
    page.close()


@pytest.mark.parametrize("viewport", [(1280, 800), (412, 823), (360, 640)])
def test_overlay_does_not_jump_when_the_filter_summary_appears(live_server, live_app, browser, viewport):
    _seed(live_app)
    width, height = viewport
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": height})
    _log_in(context, live_server.url)
    page = context.new_page()
    page.add_init_script(OBSERVE_SHIFTS)
    # The proposals arrive well after the first paint, as on a slow network: the case where a page jumps.
    page.route("**/planner/api/proposals*", lambda route: (time.sleep(0.8), route.continue_()))
    page.goto(live_server.url + "/planner/")
    page.wait_for_selector("body[data-overlay-ready='1']")
    page.locator("#legend .swatch").first.wait_for()
    page.wait_for_timeout(500)  # let the last frame after the data lands be painted and reported
    shift = page.evaluate("window.dkLayoutShift")
    context.close()
    assert shift < CLS_BUDGET


def _lighthouse() -> str | None:
    candidates = [os.environ.get("DIALOGKARTA_LIGHTHOUSE", ""), shutil.which("lighthouse") or ""]
    found = next((c for c in candidates if c and Path(c).is_file()), None)
    if found is None:
        message = "Lighthouse not installed (npm install lighthouse@12, or set DIALOGKARTA_LIGHTHOUSE to its cli)"
        if os.environ.get("DIALOGKARTA_REQUIRE_LIGHTHOUSE") == "1":
            pytest.fail(f"{message}; DIALOGKARTA_REQUIRE_LIGHTHOUSE=1")
        pytest.skip(message)
    return found


@pytest.mark.parametrize("preset", ["desktop", "mobile"])
def test_lighthouse_finds_cumulative_layout_shift_under_a_tenth_on_the_planner_overlay(
    live_server, live_app, browser, tmp_path, preset
):
    lighthouse = _lighthouse()
    _seed(live_app)
    context = browser.new_context(locale="sv-SE")
    _log_in(context, live_server.url)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    context.close()
    headers = tmp_path / "headers.json"
    headers.write_text(json.dumps({"Cookie": cookie}))  # Lighthouse visits as the logged-in planner
    report = tmp_path / "lighthouse.json"
    result = lighthouse_layout_shift(lighthouse, live_server.url + "/planner/", headers, report, preset, timeout=240)
    assert result["finalDisplayedUrl"].endswith("/planner/")  # not the login page
    assert result["audits"]["cumulative-layout-shift"]["numericValue"] < CLS_BUDGET
