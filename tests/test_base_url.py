"""Links come from DIALOGKARTA_BASE_URL, never from a forged Host or X-Forwarded-* header."""

from __future__ import annotations

import pytest

from dialogkarta.webmap.app import create_app
from dialogkarta.webmap.base_url import parse_base_url
from tests.conftest import fresh_database_url
from tests.live import bearer, seed

BASE = "https://dialog.example.se/dalby"
FORGED = "evil.example"
FORGED_HEADERS = {
    "X-Forwarded-Host": FORGED,
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Prefix": "/evil",
    "Forwarded": f"host={FORGED}",
}


def _app(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": fresh_database_url(tmp_path, "test.sqlite"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


def _paths(app, seeded) -> list[str]:
    """Every GET route of the app with its arguments filled in (vendor files aside)."""
    public_id = seeded["public"][0]["public_id"]
    layer = "development-areas"
    values = {
        "public_id": public_id,
        "feature_id": public_id,
        "name": layer,
        "activity_id": 1,
        "fmt": "geojson",
        "slug": "trygghet-och-vagar",
        "question_id": "way_to_school",
        "sha256": "0" * 64,
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "unfingerprinted_static", "resident.vendor"):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", str(values[argument])).replace(f"<int:{argument}>", str(values[argument]))
        path = path.replace("<any(geojson, csv, gpkg, fgb):fmt>", "geojson")
        paths.append(path)
    return sorted(set(paths)) + [
        "/ogc/collections/proposals/items?limit=2",  # next and prev links
        "/ogc/collections/proposals/items?limit=2&offset=2",
        "/ogc/collections/proposals",
        f"/ogc/collections/proposals/items/{public_id}",
        "/planner",  # strict-slash redirect
        "/planner/p/x",  # login redirect (no credentials below)
    ]


@pytest.mark.parametrize("proxy_count", [0, 1])
def test_a_forged_host_appears_in_no_response(tmp_path, proxy_count):
    app = _app(tmp_path, BASE_URL=BASE + "/", PROXY_COUNT=proxy_count)
    seeded = seed(app, count=3)
    client = app.test_client()
    checked = 0
    for path in _paths(app, seeded):
        for auth in ({}, bearer(seeded["tokens"]["admin"])):
            if path == "/planner/p/x" and auth:
                continue
            response = client.get(path, base_url=f"http://{FORGED}/", headers={**FORGED_HEADERS, **auth})
            text = response.get_data().decode("utf-8", "replace") + "\n".join(
                f"{k}: {v}" for k, v in response.headers.items()
            )  # the workbook PDF is binary
            assert FORGED not in text and "/evil" not in text, (path, response.status_code)
            assert response.status_code < 500, path
            checked += 1
    assert checked > 60

    landing = client.get("/ogc", base_url=f"http://{FORGED}/", headers=FORGED_HEADERS).get_json()
    assert {link["href"] for link in landing["links"]} >= {f"{BASE}/ogc/", f"{BASE}/ogc/collections"}
    page = client.get("/ogc/collections/proposals/items?limit=1", base_url=f"http://{FORGED}/").get_json()
    assert next(link for link in page["links"] if link["rel"] == "next")["href"].startswith(f"{BASE}/ogc/collections/")
    servers = client.get("/api/openapi.json", base_url=f"http://{FORGED}/").get_json()["servers"]
    assert servers == [{"url": f"{BASE}/api"}]
    redirect = client.get("/planner/p/x", base_url=f"http://{FORGED}/", headers={"Accept": "text/html"})
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith("/dalby/planner/login")


def test_a_posted_proposal_links_to_the_configured_address(tmp_path):
    app = _app(tmp_path, BASE_URL=BASE)
    response = app.test_client().post(
        "/api/proposals",
        base_url=f"http://{FORGED}/",
        headers=FORGED_HEADERS,
        json={
            "lon": 13.3625,
            "lat": 55.6596,
            "category": "traffic",
            "title": "Övergångsställe",
            "description": "Vid busshållplatsen.",
        },
    )
    assert response.status_code == 201
    public_id = response.get_json()["id"]
    assert response.get_json()["properties"]["url"] == f"{BASE}/p/{public_id}"
    assert response.headers["Location"] == f"/dalby/p/{public_id}"


def test_a_proxy_that_passes_the_prefix_on_is_served_too(tmp_path):
    client = _app(tmp_path, BASE_URL=BASE).test_client()
    assert client.get("/dalby/ogc/conformance").status_code == 200
    assert client.get("/ogc/conformance").status_code == 200


def test_a_host_outside_trusted_hosts_is_refused_with_a_reason(tmp_path):
    client = _app(tmp_path, BASE_URL=BASE, TRUSTED_HOSTS=["dialog.example.se", "127.0.0.1"]).test_client()
    refused = client.get("/api/layers", base_url=f"http://{FORGED}/", headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == {
        "code": "untrusted_host",
        "message": "Unknown host in the Host header: this server answers only on its own addresses.",
    }
    assert client.get("/api/layers", base_url="http://127.0.0.1:8000/").status_code == 200


@pytest.mark.parametrize(
    "text", ["dialog.example.se", "ftp://dialog.example.se", "https://", "https://x.se/?a=1", "https://user@x.se"]
)
def test_a_base_url_that_is_not_an_address_stops_the_start(tmp_path, text):
    with pytest.raises(ValueError, match="DIALOGKARTA_BASE_URL"):
        _app(tmp_path, BASE_URL=text)
    with pytest.raises(ValueError):
        parse_base_url(text)
