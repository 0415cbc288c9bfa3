"""Arabic in Chromium: right-to-left pages with mirrored controls, the map left as it is, and no axe violation."""

from __future__ import annotations

import pytest

from tests.browser.test_resident_map import _axe_source, add_proposal

SIZES = ((1280, 800), (360, 640))


@pytest.mark.parametrize("width, height", SIZES)
def test_arabic_resident_pages_have_no_accessibility_violations(live_server, browser, width, height):
    axe = _axe_source()
    public_id = add_proposal(live_server)
    context = browser.new_context(locale="ar", bypass_csp=True, viewport={"width": width, "height": height})
    page = context.new_page()
    found = {}
    for path in ("/?lang=ar", f"/p/{public_id}?lang=ar", "/privacy?lang=ar", "/no-such-page?lang=ar"):
        page.goto(live_server.url + path)
        assert (page.get_attribute("html", "lang"), page.get_attribute("html", "dir")) == ("ar", "rtl")
        if path.startswith("/?"):
            page.wait_for_selector("html[data-proposals=loaded]")
        page.add_script_tag(content=axe)
        found[path] = page.evaluate("axe.run().then(r => r.violations.map(v => v.id + ' (' + v.impact + ')'))")
    context.close()
    assert found == {key: [] for key in found}


def test_the_controls_mirror_and_the_map_stays_left_to_right(live_server, browser):
    context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/?lang=ar")
    page.wait_for_selector("html[data-proposals=loaded]")
    panel, map_pane = page.locator(".panel").bounding_box(), page.locator(".map-pane").bounding_box()
    assert panel["x"] < map_pane["x"]  # the form panel on the left, the map on the right: the Swedish page mirrored
    assert page.locator(".leaflet-container").evaluate("e => getComputedStyle(e).direction") == "ltr"
    zoom, container = page.locator(".leaflet-control-zoom").bounding_box(), page.locator(".leaflet-container").bounding_box()
    assert zoom["x"] - container["x"] < 50  # Leaflet's zoom buttons stay top left, as on every map
    switcher = page.locator(".lang-switch a")
    assert switcher.all_inner_texts() == ["Svenska", "English"]
    context.close()
