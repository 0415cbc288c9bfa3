"""The map installable and offline: the service worker's script and what it keeps, the manifest and its
icons, and the supports a browser remembers after a reload."""

from __future__ import annotations

import json
import re
import struct

import pytest

from dialogkarta.webmap import app_icons, assets, offline

PROPOSAL = {"lon": 13.3514, "lat": 55.6652, "category": "traffic", "title": "Bänk", "description": "Vid dammen."}


def worker_setup(client) -> dict:
    """The version and URLs the served /sw.js starts with."""
    first_line = client.get("/sw.js").get_data(as_text=True).split("\n", 1)[0]
    match = re.fullmatch(r"const OFFLINE = (\{.*\});", first_line)
    assert match, first_line
    return json.loads(match.group(1))


def test_the_worker_is_served_at_the_root_as_javascript_revalidated_every_visit(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_worker_keeps_the_map_page_its_assets_and_the_localitys_proposals(client):
    urls = worker_setup(client)["precache"]
    assert urls[:2] == ["/", "/manifest.webmanifest"]
    assert urls[2].startswith("/api/proposals/map?bbox=")
    assert client.get(urls[2]).status_code == 200
    prefix = assets.static_url_path()
    assert f"{prefix}/map.js" in urls and f"{prefix}/js/offline.js" in urls and f"{prefix}/icons/icon-512.png" in urls
    assert assets.vendor_path("leaflet", "leaflet.js") in urls
    assert assets.vendor_path("leaflet", "images/marker-icon.png") in urls
    assert assets.vendor_path("markercluster", "leaflet.markercluster.js") in urls
    page = client.get("/").get_data(as_text=True)
    for src in re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"', page):
        assert src in urls, f"the map page loads {src}, which the worker does not keep"


def test_every_url_the_worker_keeps_answers_200(client):
    for url in worker_setup(client)["precache"]:
        assert client.get(url).status_code == 200, url


def test_the_worker_keeps_no_staff_script_and_not_itself(client):
    urls = worker_setup(client)["precache"]
    assert not [url for url in urls if "/planner" in url or url.endswith("/sw.js")]


def test_the_cache_version_follows_the_asset_fingerprints(client, monkeypatch):
    setup = worker_setup(client)
    assert worker_setup(client) == setup  # the same release: the same script, so no reinstall
    changed = [re.sub(r"^/static/[0-9a-f]{16}/", "/static/0123456789abcdef/", url) for url in setup["precache"]]
    monkeypatch.setattr(offline, "precache_urls", lambda: changed)  # what a changed static file gives
    assert worker_setup(client)["version"] != setup["version"]


def test_the_worker_script_runs_under_the_csp(client):
    source = client.get("/sw.js").get_data(as_text=True)
    assert not re.search(r"\beval\(|new Function\(|importScripts\(", source)
    assert "respondWith" in source and 'request.method !== "GET"' in source  # never a POST


def test_the_placeholder_line_is_required(monkeypatch, tmp_path, app):
    (tmp_path / "sw.js").write_text("// no placeholder\n")
    monkeypatch.setattr(assets, "STATIC_DIR", tmp_path)
    with app.test_request_context(), pytest.raises(RuntimeError, match="must start with"):
        offline.service_worker_source()


def test_the_manifest_makes_the_map_installable(client):
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert manifest["name"] == "Dialogkarta – Dalby" and manifest["lang"] == "en"
    assert manifest["description"] == "Make proposals on the map of Dalby and follow what happens to them."
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert purposes == {("192x192", "any"), ("192x192", "maskable"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        width, height = struct.unpack(">II", image.data[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_the_committed_icons_are_what_the_generator_draws():
    for size in app_icons.SIZES:
        committed = (app_icons.ICON_DIR / app_icons.icon_name(size)).read_bytes()
        assert committed == app_icons.draw(size), f"run python -m dialogkarta.webmap.app_icons ({size})"


def test_the_map_page_links_the_manifest_and_adds_no_inline_script(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'id="offline-status"' in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("nonce=" in attributes or "src=" in attributes or "application/json" in attributes for attributes in scripts)
    setup = json.loads(re.search(r'<script type="application/json" id="dk-offline">(.*?)</script>', page, re.S).group(1))
    assert setup["urls"] == {"serviceWorker": "/sw.js", "supported": "/api/proposals/supported"}
    assert setup["texts"]["kept"] == "Sparat på telefonen – skickas när du är uppkopplad"


def test_english_pages_say_the_offline_texts_in_english(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    setup = json.loads(re.search(r'id="dk-offline">(.*?)</script>', page, re.S).group(1))
    assert setup["texts"]["kept"] == "Saved on your phone – it will be sent when you are online"


# ------------------------------------------------------------------ supports remembered
def test_a_browser_is_told_what_it_supported_and_nothing_else(client, app):
    mine = client.post("/api/proposals", json=PROPOSAL).get_json()["id"]
    other = client.post("/api/proposals", json={**PROPOSAL, "title": "Annan"}).get_json()["id"]
    assert client.get("/api/proposals/supported").get_json() == {"supported": []}  # no token yet
    assert client.post(f"/api/proposals/{mine}/support", json={}).status_code == 200
    answer = client.get("/api/proposals/supported")
    assert answer.get_json() == {"supported": [mine]}
    assert answer.headers["Cache-Control"] == "private, no-store"
    stranger = app.test_client()
    stranger.post(f"/api/proposals/{other}/support", json={})
    assert stranger.get("/api/proposals/supported").get_json() == {"supported": [other]}


def test_a_hidden_proposal_is_not_named_among_the_supported(client, app):
    from dialogkarta.layers.schema import proposals
    from dialogkarta.webmap import db

    public_id = client.post("/api/proposals", json=PROPOSAL).get_json()["id"]
    client.post(f"/api/proposals/{public_id}/support", json={})
    with app.app_context(), db.transaction() as conn:
        conn.execute(proposals.update().values(hidden=True))
    assert client.get("/api/proposals/supported").get_json() == {"supported": []}


def test_a_malformed_token_cookie_is_no_browser(client):
    client.set_cookie("dialogkarta_token", "short")
    assert client.get("/api/proposals/supported").get_json() == {"supported": []}
