"""The resident map offline in Chromium: a proposal written without a connection is kept and sent once,
the map opens again with the server gone, and the service worker keeps nothing it must not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from dialogkarta.layers.schema import proposals
from dialogkarta.testing import make_user
from dialogkarta.webmap import db, offline

from tests.browser.conftest import screenshot

KEPT = "Sparat på telefonen – skickas när du är uppkopplad"
SENT = "Ditt sparade förslag är nu skickat och mottaget."


def add_proposal(live_server, title="Cykelställ") -> str:
    body = {"lon": 13.3466, "lat": 55.6657, "category": "traffic", "title": title, "description": "Fler cykelställ."}
    response = live_server.app.test_client().post("/api/proposals", json=body)
    assert response.status_code == 201
    return response.get_json()["id"]


def stored(live_server) -> int:
    with live_server.app.app_context(), db.reading() as conn:
        return conn.execute(select(func.count()).select_from(proposals)).scalar_one()


def open_map(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_selector("html[data-proposals=loaded]", timeout=10_000)


def worker_ready(page) -> None:
    """Wait until the service worker is installed (everything it keeps is kept) and active."""
    active = page.evaluate(
        """() => Promise.race([
            navigator.serviceWorker.ready.then((registration) => Boolean(registration.active)),
            new Promise((resolve) => setTimeout(() => resolve(false), 10000)),
        ])"""
    )
    assert active, "no service worker became active within 10 s"


def cached_urls(page) -> dict:
    return page.evaluate(
        """async () => {
            const out = {};
            for (const name of await caches.keys()) {
                out[name] = (await (await caches.open(name)).keys()).map((request) => request.url);
            }
            return out;
        }"""
    )


def write_proposal(page, title="Farthinder vid skolan"):
    page.locator("#place-list button.place").first.click()
    page.select_option("#category", "traffic")
    page.fill("#title", title)
    page.fill("#description", "Bilarna kör för fort här på morgonen.")
    page.click("#submit")


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="sv-SE", has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def test_written_offline_the_proposal_is_kept_then_sent_once_back_online(live_server, phone):
    open_map(phone, live_server)
    phone.context.set_offline(True)
    write_proposal(phone)
    expect(phone.locator("#confirmation-heading")).to_have_text(KEPT)
    assert stored(live_server) == 0
    screenshot(phone, "offline-kept-360x640")
    phone.context.set_offline(False)
    expect(phone.locator("#offline-status")).to_contain_text(SENT)
    assert stored(live_server) == 1
    link = phone.locator("#offline-status a")
    expect(link).to_have_text("Öppna förslaget")
    phone.reload()  # nothing is left to send: nothing is sent again
    phone.wait_for_selector("html[data-proposals=loaded]")
    expect(phone.locator("#offline-status")).to_have_text("")
    assert stored(live_server) == 1


def test_a_kept_proposal_waits_across_a_reload_and_says_so(live_server, phone):
    open_map(phone, live_server)
    worker_ready(phone)
    phone.context.set_offline(True)
    write_proposal(phone)
    expect(phone.locator("#confirmation-heading")).to_have_text(KEPT)
    phone.reload()  # offline: the service worker opens the map, and the outbox is still there
    expect(phone.locator("#offline-status")).to_have_text(KEPT)
    phone.context.set_offline(False)
    expect(phone.locator("#offline-status")).to_contain_text(SENT)
    assert stored(live_server) == 1


def test_an_answer_lost_on_the_way_is_retried_with_the_same_key_and_stored_once(live_server, browser):
    # Service workers blocked here so that page.route sees the page's own requests.
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="sv-SE", service_workers="block")
    page = context.new_page()
    sent = []

    def lose_the_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()  # the server stores the proposal ...
        sent.append((route.request.headers.get("idempotency-key"), response.status))
        if len(sent) == 1:
            route.abort("internetdisconnected")  # ... but its answer never reaches the phone
        else:
            route.fulfill(response=response)

    page.route("**/api/proposals", lose_the_first_answer)
    open_map(page, live_server)
    write_proposal(page)
    expect(page.locator("#confirmation-heading")).to_have_text(KEPT)
    assert stored(live_server) == 1
    context.set_offline(True)
    context.set_offline(False)  # back online: the kept proposal is sent again
    expect(page.locator("#offline-status")).to_contain_text(SENT)
    (first_key, first_status), (second_key, second_status) = sent
    assert first_key and first_key == second_key
    assert (first_status, second_status) == (201, 200)
    assert stored(live_server) == 1
    context.close()


def test_reloaded_without_a_connection_the_map_shows_its_layers_and_proposals(live_server, phone):
    public_id = add_proposal(live_server)
    open_map(phone, live_server)
    worker_ready(phone)
    live_server.server.shutdown()
    live_server.server.server_close()  # nothing answers on the port any more
    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector("html[data-proposals=loaded]", timeout=10_000)
    assert phone.locator(".leaflet-overlay-pane path").count() >= 5  # boundary + 4 development areas
    assert phone.locator(".dk-service").count() >= 20
    expect(phone.locator(".leaflet-marker-icon[title='Cykelställ']")).to_have_count(1)
    expect(phone.locator("#place-list button.place").first).to_be_visible()
    screenshot(phone, "offline-reloaded-360x640")
    phone.goto(f"{live_server.url}/?p={public_id}")  # a link to a proposal on the map opens the kept map
    phone.wait_for_selector("html[data-proposals=loaded]", timeout=10_000)
    assert phone.locator(".leaflet-overlay-pane path").count() >= 5


def test_the_worker_keeps_no_planner_page_post_answer_or_own_answer(live_server, page):
    make_user(live_server.app, "anna", "planner")
    open_map(page, live_server)
    worker_ready(page)
    page.reload()  # now controlled by the worker
    page.wait_for_selector("html[data-proposals=loaded]")
    write_proposal(page, "Bänk vid dammen")
    expect(page.locator("#confirmation-heading")).to_have_text("Tack! Ditt förslag är mottaget.")
    page.goto(live_server.url + "/planner/login")
    page.fill("#username", "anna")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/planner/**")
    page.goto(live_server.url + "/planner/")
    page.goto(live_server.url + "/")
    page.wait_for_selector("html[data-proposals=loaded]")
    caches = cached_urls(page)
    assert list(caches) == [f"dialogkarta-{offline_version(live_server)}"]
    urls = [url.removeprefix(live_server.url) for kept in caches.values() for url in kept]
    assert "/" in urls and "/api/proposals/map" in urls
    assert not [url for url in urls if "/planner" in url or url.startswith(("/api/proposals/supported", "/p/"))]
    assert "/api/proposals" not in urls


def test_a_new_release_replaces_the_old_cache(live_server, page, monkeypatch):
    open_map(page, live_server)
    worker_ready(page)
    old = f"dialogkarta-{offline_version(live_server)}"
    assert list(cached_urls(page)) == [old]
    real = offline.precache_urls
    monkeypatch.setattr(offline, "precache_urls", lambda: [*real(), "/static/icons/icon-192.png"])  # a changed asset
    new = f"dialogkarta-{offline_version(live_server)}"
    assert new != old
    caches = page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.getRegistration();
            await registration.update();
            const worker = registration.installing || registration.waiting || registration.active;
            if (worker.state !== "activated") {
                await new Promise((resolve) => worker.addEventListener("statechange", () => {
                    if (worker.state === "activated") { resolve(); }
                }));
            }
            return caches.keys();
        }"""
    )
    assert caches == [new]


def offline_version(live_server) -> str:
    with live_server.app.test_request_context():
        source = offline.service_worker_source()
    return source.split('"version": "', 1)[1].split('"', 1)[0]


def test_a_support_is_remembered_after_a_reload_in_the_list_the_popup_and_the_permalink(live_server, page):
    public_id = add_proposal(live_server)
    open_map(page, live_server)
    page.locator("#place-list button[data-name='Allégatan']").click()
    item = page.locator(".nearby-item").filter(has_text="Cykelställ")
    item.get_by_role("button", name="Stöd detta i stället").click()
    expect(item.get_by_role("button")).to_have_text("Du stöder detta")
    page.reload()
    page.wait_for_selector("html[data-proposals=loaded]")
    page.locator(".leaflet-marker-icon[title='Cykelställ']").click()
    expect(page.locator(".dk-proposal-popup button")).to_have_text("Du stöder detta")
    page.keyboard.press("Escape")
    page.locator("#place-list button[data-name='Allégatan']").click()
    button = page.locator(".nearby-item").filter(has_text="Cykelställ").get_by_role("button")
    expect(button).to_have_text("Du stöder detta")
    expect(button).to_have_attribute("aria-pressed", "true")
    page.goto(f"{live_server.url}/p/{public_id}")
    expect(page.locator("#support")).to_have_text("Du stöder detta")


def test_another_browser_is_not_shown_as_supporting(live_server, page, browser):
    public_id = add_proposal(live_server)
    page.goto(f"{live_server.url}/p/{public_id}")
    page.click("#support")
    expect(page.locator("#support")).to_have_text("Du stöder detta")
    other = browser.new_context(locale="sv-SE").new_page()
    other.goto(f"{live_server.url}/p/{public_id}")
    other.wait_for_load_state("networkidle")
    expect(other.locator("#support")).to_have_text("Stöd förslaget")
    other.context.close()


def test_a_kept_proposal_the_server_refuses_is_named_and_not_sent_again(live_server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="sv-SE", service_workers="block")
    page = context.new_page()
    posts = []
    refusal = '{"error": {"code": "outside_locality", "message": "Platsen ligger utanför Dalby."}}'

    def refuse(route):
        if route.request.method == "POST":
            posts.append(route.request.url)
            route.fulfill(status=422, content_type="application/json", body=refusal)
        else:
            route.continue_()

    open_map(page, live_server)
    context.set_offline(True)
    write_proposal(page, "Gatlampor")
    expect(page.locator("#confirmation-heading")).to_have_text(KEPT)
    page.route("**/api/proposals", refuse)
    context.set_offline(False)
    expect(page.locator("#offline-status")).to_have_text(
        "Ditt sparade förslag ”Gatlampor” kunde inte tas emot: Platsen ligger utanför Dalby."
    )
    page.reload()
    page.wait_for_load_state("networkidle")  # a proposal still kept would be sent by now
    expect(page.locator("#offline-status")).to_have_text("")
    assert len(posts) == 1 and stored(live_server) == 0
    context.close()


def test_chromium_finds_the_map_installable_within_the_csp(live_server, phone):
    console = []
    phone.on("console", lambda message: console.append(message.text))
    open_map(phone, live_server)
    worker_ready(phone)
    assert not [text for text in console if "Content Security Policy" in text]
    session = phone.context.new_cdp_session(phone)
    manifest = session.send("Page.getAppManifest")
    assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
    errors = {error["errorId"] for error in session.send("Page.getInstallabilityErrors")["installabilityErrors"]}
    assert errors <= {"in-incognito"}  # Playwright's contexts are incognito; nothing else stands in the way
