"""The map page: folium components in our template, no external URLs, assets served, small HTML."""

from __future__ import annotations

import re

import pytest
import shapely
from sqlalchemy import insert

from dialogkarta.layers import store
from dialogkarta.layers.schema import proposals
from dialogkarta.webmap import db
from dialogkarta.webmap import map as webmap_map
from dialogkarta.webmap.assets import static_fingerprint

URL = re.compile(r"""(?:https?:)?//[^\s"'<>)\\]+""")
LOCAL_ASSET = re.compile(r"""(?:src|href)="(/(?:static|vendor)/[^"]+)\"""")


def page(client, path="/", **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_map_page_has_no_external_url_but_the_tile_template(app, client):
    html = page(client)
    tile_url = app.config["TILE_URL"]
    origin = "/".join(tile_url.split("/")[:3])
    preconnect = f'<link rel="preconnect" href="{origin}">'  # a connection opened early, no request
    assert preconnect in html
    found = set(URL.findall(html.replace(tile_url, "").replace(preconnect, "")))
    assert found == set(), found
    assert tile_url in html
    assert "cdn" not in html.lower() and "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_every_local_asset_is_served(client):
    html = page(client)
    assets = set(LOCAL_ASSET.findall(html))
    static = f"/static/{static_fingerprint()}"
    assert {f"{static}/map.js", f"{static}/dialogkarta.css"} <= assets
    assert any(a.endswith("leaflet.js") for a in assets) and any(a.endswith("leaflet.markercluster.js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    # images leaflet.css refers to
    css_path = next(a for a in assets if a.endswith("leaflet.css"))
    base = css_path.rsplit("/", 1)[0]
    for image in re.findall(r"url\((images/[^)]+)\)", client.get(css_path).get_data(as_text=True)):
        assert client.get(f"{base}/{image}").status_code == 200, image


def test_vendor_route_refuses_unknown_packages_versions_and_escapes(client):
    assert client.get("/vendor/jquery/3.7.1/jquery.js").status_code == 404
    assert client.get("/vendor/leaflet/0.7/leaflet.js").status_code == 404
    assert client.get("/vendor/leaflet/1.9.3/../__init__.py").status_code == 404
    assert "max-age=31536000" in client.get(webmap_map.vendor_path("leaflet", "leaflet.js")).headers["Cache-Control"]


def test_inline_scripts_carry_the_csp_nonce(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/' in tag or 'type="application/json"' in tag or f'nonce="{nonce}"' in tag, tag
    assert f'<script type="module" src="/static/{static_fingerprint()}/map.js"></script>' in html
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def test_map_page_does_not_disable_zoom_and_declares_language(client):
    html = page(client)
    assert "user-scalable=no" not in html and "maximum-scale" not in html
    assert '<html lang="sv">' in html
    assert '<html lang="en">' in page(client, "/?lang=en")
    assert '<html lang="en">' in page(client.application.test_client(), "/", **{"Accept-Language": "en"})


def test_language_switch_link_and_cookie(client):
    html = page(client)
    assert 'href="/?lang=en" lang="en" hreflang="en">English</a>' in html
    response = client.get("/?lang=en")
    assert "lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in page(client)  # the cookie remembers
    assert 'hreflang="sv">Svenska</a>' in page(client)


def test_map_shows_the_layers_legend_and_attribution(app, client):
    html = page(client)
    locality = db_locality(app)
    for line in locality.attribution_lines("sv"):
        assert line.replace("–", "\\u2013") in html or line in html
    assert "L.control.scale" in html and "L.control.layers" in html and "L.markerClusterGroup" in html
    assert "Under byggnation" in html and "illustrativ skiss" in html
    assert "maxBounds" in html


def db_locality(app):
    with app.app_context():
        return db.registry().locality


def test_proposals_are_not_embedded_and_html_stays_small(app, client):
    with app.app_context(), db.transaction() as conn:
        now = store.utcnow()
        conn.execute(
            insert(proposals),
            [
                {
                    "public_id": f"bulk{i:06d}",
                    "lon": 13.35 + i * 1e-6,
                    "lat": 55.665,
                    "category": "other",
                    "title": f"Bulkförslag {i}",
                    "description": "x" * 200,
                    "channel": "web",
                    "status": "received",
                    "also_departments": "",
                    "hidden": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(2000)
            ],
        )
    html = page(client)
    assert "Bulkförslag" not in html
    assert len(html.encode()) < 200 * 1024


def test_place_list_has_services_areas_and_streets(client):
    html = page(client)
    for name in ("Dalby busstation", "Kvarnskon–Vattenrännan", "Allégatan", "Veberödsvägen", "Östra Möllavägen"):
        assert f'data-name="{name}"' in html, name


def test_max_bounds_contain_the_boundary_with_margin(app):
    with app.app_context():
        registry = db.registry()
        min_lon, min_lat, max_lon, max_lat = webmap_map.max_bounds(registry)
        b_min_lon, b_min_lat, b_max_lon, b_max_lat = registry.boundary().bounds
    assert min_lon < b_min_lon and min_lat < b_min_lat and max_lon > b_max_lon and max_lat > b_max_lat
    assert (b_min_lat - min_lat) * 111_000 == pytest.approx(1500, rel=0.05)  # margin_m in locality.toml


def test_rendered_components_are_separate_and_local(app):
    with app.test_request_context():
        registry = db.registry()
        parts = webmap_map.render_parts(webmap_map.build_map(registry, "sv", "https://tiles.example/{z}/{x}/{y}.png", "© X"))
    assert '<script defer src="/vendor/leaflet/' in parts.header and "http" not in parts.header  # never render-blocking
    assert parts.html.strip().startswith('<div class="folium-map dk-map"')
    assert "<script" not in parts.script and "https://tiles.example/{z}/{x}/{y}.png" in parts.script
    assert "$(" not in parts.script  # no jQuery


def test_layer_names_and_attribution_are_escaped_for_leaflet(app, tmp_path):
    # Leaflet's layer control and attribution insert strings as HTML; ours are escaped before.
    with app.test_request_context():
        registry = db.registry()
        parts = webmap_map.render_parts(webmap_map.build_map(registry, "sv", "https://t/{z}/{x}/{y}.png", "<b>x</b>"))
    assert "<b>x</b>" not in parts.script and "\\u0026lt;b\\u0026gt;x" in parts.script


def test_tiles_come_from_config(tmp_path):
    from dialogkarta.webmap.app import create_app

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "TILE_URL": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
            "TILE_ATTRIBUTION": "© Example tiles",
        }
    )
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert "https://{s}.tiles.example.org/{z}/{x}/{y}.png" in html and "© Example tiles" in html
    assert "https://*.tiles.example.org" in response.headers["Content-Security-Policy"]


def test_boundary_in_client_config_is_the_registry_boundary(app, client):
    import json

    html = page(client)
    config = json.loads(re.search(r'<script type="application/json" id="dk-config">(.*?)</script>', html, re.S).group(1))
    with app.app_context():
        assert shapely.geometry.shape(config["boundary"]).equals(db.registry().boundary())
    assert set(config["categories"]) == {c.id for c in db_locality(app).categories}
