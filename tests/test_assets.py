"""Static files and vendored packages under fingerprinted URLs, cached for a year; the rest revalidated."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from dialogkarta.webmap.assets import IMMUTABLE, folder_fingerprint, looks_like_fingerprint, static_fingerprint

LOCAL_ASSET = re.compile(r"""(?:src|href)="(/(?:static|vendor)/[^"?#]+)\"""")
IMPORT = re.compile(r"""^import\s.*?from\s+"([^"]+)";""", re.MULTILINE)


def assets_on(client, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return set(LOCAL_ASSET.findall(response.get_data(as_text=True)))


def is_fingerprinted(url: str) -> bool:
    parts = url.split("/")  # "", "static", <hash>, ... or "", "vendor", <name>, <hash>, ...
    return looks_like_fingerprint(parts[2] if parts[1] == "static" else parts[3])


def test_every_asset_the_map_page_loads_is_fingerprinted_and_cached_for_a_year(client):
    assets = assets_on(client, "/")
    assert any(a.endswith("/map.js") for a in assets) and any(a.endswith("/leaflet.js") for a in assets)
    for url in assets:
        assert is_fingerprinted(url), url
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE, url


def test_module_imports_resolve_to_fingerprinted_urls(client):
    """``import ... from "./js/http.js"`` inside /static/<hash>/map.js stays under the hash."""
    pending = [a for a in assets_on(client, "/") if a.endswith(".js") and a.startswith("/static/")]
    seen = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE, url
        pending += [urljoin(url, spec) for spec in IMPORT.findall(response.get_data(as_text=True))]
    assert {u.split("/", 3)[3] for u in seen} >= {"map.js", "js/http.js", "js/i18n.js", "js/config.js", "js/leaflet.js"}
    assert all(is_fingerprinted(u) for u in seen)


def test_stylesheet_images_resolve_under_the_vendor_fingerprint(client):
    css = next(a for a in assets_on(client, "/") if a.endswith("/leaflet.css"))
    images = re.findall(r"url\((images/[^)]+)\)", client.get(css).get_data(as_text=True))
    assert images
    for image in images:
        response = client.get(urljoin(css, image))
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE, image


def test_images_our_stylesheets_name_are_served(client):
    for css in (a for a in assets_on(client, "/") | assets_on(client, "/planner/login") if a.endswith(".css")):
        for image in re.findall(r"url\(([^)]+)\)", client.get(css).get_data(as_text=True)):
            if not image.startswith("data:"):
                assert client.get(urljoin(css, image)).status_code == 200, (css, image)


def test_unfingerprinted_and_outdated_static_urls_answer_with_no_cache(client):
    current = client.get(f"/static/{static_fingerprint()}/map.js").get_data()
    for url in ("/static/map.js", "/static/0123456789abcdef/map.js"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache", url
        assert response.get_data() == current


def test_an_unknown_vendor_fingerprint_is_not_found(client):
    assert client.get("/vendor/leaflet/0123456789abcdef/leaflet.js").status_code == 404


def test_the_fingerprint_follows_the_content(tmp_path):
    def fingerprint(folder_name: str, text: str) -> str:
        folder = tmp_path / folder_name
        (folder / "js").mkdir(parents=True)
        (folder / "js" / "a.js").write_text(text)
        return folder_fingerprint(folder)

    assert fingerprint("one", "export const a = 1;") == fingerprint("two", "export const a = 1;")
    assert fingerprint("three", "export const a = 2;") != fingerprint("five", "export const a = 1;")
    assert looks_like_fingerprint(fingerprint("four", ""))


def test_the_page_csp_stays_strict(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+);", policy).group(1).split()
    assert script_src[0] == "'self'" and all(s.startswith("'nonce-") for s in script_src[1:])
    assert "unsafe-inline" not in " ".join(script_src) and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
