"""Security headers: the exact Content-Security-Policy, a fresh script nonce per page, no framing or sniffing."""

from __future__ import annotations

import re

import pytest

from dialogkarta.settings import SettingsError
from dialogkarta.webmap.app import create_app


def make_app(tmp_path, tile_url):
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "TILE_URL": tile_url,
        }
    )


def policy(response) -> dict[str, str]:
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in directives}


@pytest.mark.parametrize(
    "tile_url, img_src",
    [
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "'self' data: blob: https://*.tile.example.org"),
        ("https://tiles.example.se/{z}/{x}/{y}.png", "'self' data: blob: https://tiles.example.se"),
        ("/tiles/{z}/{x}/{y}.png", "'self' data: blob: "),  # tiles from this server: nothing to add
        ("https://data.example.se/{z}/{x}/{y}.png", "'self' data: blob: https://data.example.se"),  # no {s}: host as it is
        ("https://{s}.data.example.se/{z}/{x}/{y}.png", "'self' data: blob: https://*.data.example.se"),  # only {s} becomes *
    ],
)
def test_the_map_page_policy_allows_only_this_site_its_nonced_scripts_and_the_tile_server(tmp_path, tile_url, img_src):
    response = make_app(tmp_path, tile_url).test_client().get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert policy(response) == {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": img_src.rstrip(),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "tile_url",
    [
        "//tiles.example.org/{z}/{x}/{y}.png",  # no scheme: the policy would need one
        "tiles.example.org/{z}/{x}/{y}.png",  # no scheme, so no host either: a path relative to each page
        "https:///{z}/{x}/{y}.png",  # a scheme but no host
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_address_the_policy_could_not_allow_stops_the_app_at_start(tmp_path, tile_url):
    with pytest.raises(SettingsError) as refused:
        make_app(tmp_path, tile_url)
    assert str(refused.value) == (
        "Invalid settings:\n  DIALOGKARTA_TILE_URL: expected an http(s) address with a host, "
        "e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png, or a path on this site, e.g. /tiles/{z}/{x}/{y}.png; "
        f"got {tile_url!r}"
    )


def test_every_page_gets_its_own_nonce_and_responses_without_scripts_get_none(tmp_path):
    client = make_app(tmp_path, "https://tiles.example.se/{z}/{x}/{y}.png").test_client()
    first, second = (policy(client.get("/"))["script-src"] for _ in range(2))
    assert first != second and len(first) > len("'self' 'nonce-'") + 16
    assert policy(client.get("/api/proposals"))["script-src"] == "'self'"


def test_responses_cannot_be_framed_sniffed_or_leak_the_referrer_elsewhere(tmp_path):
    headers = make_app(tmp_path, "https://tiles.example.se/{z}/{x}/{y}.png").test_client().get("/api/proposals").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_every_script_tag_of_one_response_gets_the_same_nonce_as_the_header(tmp_path):
    from dialogkarta.webmap.security import csp_nonce

    with make_app(tmp_path, "https://tiles.example.se/{z}/{x}/{y}.png").test_request_context("/"):
        assert csp_nonce() == csp_nonce()
