"""Keyboard and screen readers on the resident map: "choose from a list" is the first stop after the skip link,
every tab stop inside the map has a name (the development areas say which and their status), and a sentence
beside the map says what the view holds, as the store has it, renewed when the view changes, in sv and en."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_resident_map import MAP, open_map
from tests.test_view_summary import KVARNSKON, VILLAGE, _add, _from_the_store

ACCESSIBLE_NAME = """() => { const a = document.activeElement;
  return {inMap: Boolean(a.closest('.dk-map')), tag: a.tagName,
          name: (a.getAttribute('aria-label') || a.getAttribute('title') || a.getAttribute('alt') || a.textContent || '').trim()}; }"""


def test_choose_from_a_list_is_the_first_stop_after_the_skip_link(live_server, page):
    open_map(page, live_server)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Välj plats i en lista i stället för på kartan"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "place-filter"


def test_every_tab_stop_in_the_map_has_a_name_and_the_areas_say_which(live_server, page):
    _add(live_server.app, *VILLAGE)
    open_map(page, live_server)
    page.focus(".dk-map")
    stops = []
    for _ in range(40):
        stop = page.evaluate(ACCESSIBLE_NAME)
        if not stop["inMap"]:
            break
        stops.append(stop)
        page.keyboard.press("Tab")
    assert stops and all(stop["name"] for stop in stops), stops
    areas = [stop["name"] for stop in stops if stop["tag"] == "path"]
    assert len(areas) == 4  # the bundled development areas
    assert "Kvarnskon–Vattenrännan, utvecklingsområde: Under byggnation (Illustrativ skiss – ej kommunens plangräns)" in areas


def test_the_sentence_beside_the_map_is_the_stores_view_and_follows_the_map(live_server, page):
    for i in range(3):
        _add(live_server.app, KVARNSKON[0] + i * 0.0003, KVARNSKON[1], answered=i == 0)
    _add(live_server.app, *VILLAGE)
    open_map(page, live_server)
    summary = page.locator("#view-summary")
    expect(summary).to_have_attribute("data-count", "4")
    bounds = page.evaluate(
        f"(() => {{ const b = {MAP}.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }})()"
    )
    assert _from_the_store(live_server.app, bounds)["count"] == 4
    expect(summary).to_have_text(
        "I kartvyn 4 förslag, 1 besvarat: 3 förslag i Kvarnskon–Vattenrännan, 1 besvarat; "
        "1 förslag utanför utvecklingsområdena, 0 besvarade."
    )
    page.evaluate(f"([lat, lon]) => {MAP}.setView([lat, lon], 18, {{animate: false}})", [VILLAGE[1], VILLAGE[0]])
    expect(summary).to_have_text("I kartvyn: 1 förslag utanför utvecklingsområdena, 0 besvarade.")
    assert summary.get_attribute("aria-live") == "polite"
    page.goto(live_server.url + "/?lang=en")
    expect(page.locator("#view-summary")).to_have_text(
        "In the map view 4 proposals, 1 answered: 3 proposals in Kvarnskon–Vattenrännan, 1 answered; "
        "1 proposal outside the development areas, 0 answered."
    )
