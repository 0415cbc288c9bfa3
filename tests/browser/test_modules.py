"""Our front-end scripts are native ES modules: every page loads them as modules, they run without an
error, and they add no global variable to the page (folium's own map variables and Leaflet's ``L``
are there before they run). Two controls show the checks would notice a module that throws or a
global put back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dialogkarta.layers import proposals
from dialogkarta.webmap import db
from dialogkarta.webmap.assets import static_fingerprint
from tests.planner_helpers import PASSWORD, make_user

STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"
TEMPLATES = STATIC.parent / "templates"
PLANNER = "planner-modul"

# Before the page's deferred and module scripts run, the document turns "interactive": keep the names
# of the globals then (in a property Object.keys does not list), to compare once the page is ready.
BEFORE_MODULES = """
document.addEventListener("readystatechange", () => {
  if (document.readyState === "interactive") {
    Object.defineProperty(window, "__dkGlobalsBefore", {value: Object.keys(window), enumerable: false});
  }
});
"""
# On the resident map Leaflet is deferred and folium's script is a module too (issue #14), so they run after
# that moment: their names (Leaflet's, and the map and layers folium's script shares by name) are not ours.
NEW_GLOBALS = """(() => {
  const libraries = ["L", "leaflet", "Leaflet", "_leaflet_events"].concat(...Array.from(document.querySelectorAll(".folium-map"),
    (map) => [map.id, ...Object.values(JSON.parse(map.dataset.layers || "{}"))]));
  return Object.keys(window).filter(name => !window.__dkGlobalsBefore.includes(name) && !libraries.includes(name));
})()"""


class Watched:
    """Script errors and failed loads of a page: uncaught exceptions and rejections, console errors."""

    def __init__(self, page):
        self.errors = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)

    def _console(self, message):
        # The tiles point at an address that answers nothing (conftest.OFFLINE_TILES): expected failures.
        if message.type == "error" and "127.0.0.1:9/" not in (message.location or {}).get("url", ""):
            self.errors.append(f"console: {message.text} {message.location}")


@pytest.fixture
def site(live_app, live_server):
    """One proposal, one planner account and one placed activity, on the live server."""
    make_user(live_app, PLANNER)
    with live_app.app_context(), db.transaction() as conn:
        record = proposals.submit(
            conn,
            db.registry(),
            {"lon": 13.3466, "lat": 55.6657, "category": "traffic", "title": "Cykelställ", "description": "Fler cykelställ."},
        )
    return {"url": live_server.url, "public_id": record["public_id"]}


@pytest.fixture
def watched(page):
    page.context.add_init_script(BEFORE_MODULES)
    return page, Watched(page)


def log_in(page, base):
    page.goto(base + "/planner/login")
    page.fill("#username", PLANNER)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("load")


def our_scripts(page) -> list[dict]:
    return page.evaluate("""Array.from(document.querySelectorAll("script[src^='/static/']"),
                                       s => ({src: s.getAttribute("src"), type: s.type}))""")


# Each page, what shows that its modules ran (None: the page has no module of ours), and its module
# (under the fingerprinted static folder).
PAGES = [
    ("/", "html[data-proposals=loaded]", "map.js"),
    ("/p/{public_id}", None, "proposal.js"),
    ("/planner/", "body[data-overlay-ready='1']", "planner/overlay.js"),
    ("/planner/p/{public_id}", "[data-proposal-map] path.leaflet-interactive", "planner/proposal.js"),
    ("/planner/new", None, "planner/pick.js"),
    ("/planner/report", None, "planner/report.js"),
    ("/activity-plan", None, None),
]


def visit(page, watch, base, path, ready, public_id):
    page.goto(base + path.format(public_id=public_id), wait_until="load")
    if ready:
        try:
            page.wait_for_selector(ready, state="attached", timeout=15_000)
        except PlaywrightTimeout:
            pytest.fail(f"{path}: no {ready}; script errors: {watch.errors}")
    page.wait_for_timeout(100)  # a rejection from a late request still gets reported


def test_pages_load_our_scripts_as_modules_without_errors_or_globals(site, watched):
    page, watch = watched
    log_in(page, site["url"])
    seen = {}
    for path, ready, module in PAGES:
        visit(page, watch, site["url"], path, ready, site["public_id"])
        scripts = our_scripts(page)
        seen[path] = {
            "scripts": sorted({s["src"] for s in scripts}),
            "classic": [s["src"] for s in scripts if s["type"] != "module"],
            "new globals": page.evaluate(NEW_GLOBALS),
        }
        assert seen[path]["scripts"] == ([f"/static/{static_fingerprint()}/{module}"] if module else []), path
        if path == "/":  # what bench/map_page.py times
            assert page.evaluate("performance.getEntriesByName('dialogkarta:proposals-loaded').length") == 1
    assert {path: (s["classic"], s["new globals"]) for path, s in seen.items()} == {
        path: ([], []) for path, _ready, _module in PAGES
    }
    assert watch.errors == []


def test_modules_work_on_the_permalink_and_the_pick_map(site, watched):
    page, watch = watched
    visit(page, watch, site["url"], "/p/{public_id}", None, site["public_id"])
    page.click("#support")
    page.wait_for_selector("#support[aria-pressed=true]")
    assert page.inner_text("#support-count") == "1" and page.inner_text("#support") == "Du stöder detta"
    log_in(page, site["url"])
    visit(page, watch, site["url"], "/planner/new", None, site["public_id"])
    page.fill("#lat", "55,6657")
    page.fill("#lon", "13.3466")
    page.dispatch_event("#lon", "change")
    page.wait_for_selector("[data-pick-map] path.leaflet-interactive")  # the marker pick.js draws
    assert watch.errors == []


def test_a_module_that_throws_is_noticed(site, watched):
    """Control: the same checks, with map.js made to throw at its end (after it has done its work)."""
    page, watch = watched
    original = (STATIC / "map.js").read_text()
    page.route(
        "**/static/*/map.js",
        lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=original + "\nthrow new Error('control: thrown');\n"
        ),
    )
    visit(page, watch, site["url"], "/", "html[data-proposals=loaded]", site["public_id"])
    assert any("control: thrown" in error for error in watch.errors), watch.errors


def test_a_global_put_back_is_noticed(site, watched):
    """Control: map.js with the global it used to have."""
    page, watch = watched
    original = (STATIC / "map.js").read_text()
    page.route(
        "**/static/*/map.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=original + "\nwindow.Dialogkarta = {};\n"),
    )
    visit(page, watch, site["url"], "/", "html[data-proposals=loaded]", site["public_id"])
    assert page.evaluate(NEW_GLOBALS) == ["Dialogkarta"]


# ------------------------------------------------------------------ the sources themselves (no browser)
def test_every_script_of_ours_is_a_module_with_no_window_assignment():
    tags = [
        tag
        for template in TEMPLATES.rglob("*.html")
        for tag in re.findall(r"<script\b[^>]*>", template.read_text())
        if "url_for('static'" in tag
    ]
    assert tags and all('type="module"' in tag for tag in tags), tags
    sources = {path.relative_to(STATIC).as_posix(): path.read_text() for path in STATIC.rglob("*.js")}
    assert {"js/http.js", "js/i18n.js", "map.js", "planner/overlay.js"} <= set(sources)
    assigned = {
        name: re.findall(r"\bwindow\.[\w$]+\s*=(?!=)|\bwindow\[[^\]]+\]\s*=(?!=)|\bglobalThis\b", text)
        for name, text in sources.items()
    }
    assert {name: found for name, found in assigned.items() if found} == {}
    # Page modules import the shared helpers instead of calling fetch or reading page data themselves
    # (the service worker is no page module: it answers the page's fetches).
    for name, text in sources.items():
        if not name.startswith("js/") and name != "sw.js":
            assert "fetch(" not in text and '"dk-config"' not in text, name
