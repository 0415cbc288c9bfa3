"""ETags and 304 Not Modified on layers, OGC collections and items, proposal lists and downloads."""

from __future__ import annotations

import pytest

from dialogkarta.webmap import api, download_cache, ogc
from tests.routes import PROPOSAL

LAYER_URLS = ["/api/layers", "/api/layers/development-areas", "/ogc/collections/development-areas/items?limit=2"]
PROPOSAL_URLS = [
    "/ogc/collections",
    "/ogc/collections/proposals",
    "/ogc/collections/proposals/items",
    "/ogc/collections/proposals/items/{id}",
    "/api/proposals",
    "/api/export/proposals.geojson",
    "/api/export/proposals.gpkg",
]


@pytest.fixture
def proposal_id(client):
    return client.post("/api/proposals", json=PROPOSAL).get_json()["id"]


def revalidate(client, url: str, etag: str, encoding: str = "identity"):
    return client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": encoding})


@pytest.mark.parametrize("url", LAYER_URLS + PROPOSAL_URLS)
@pytest.mark.parametrize("encoding", ["identity", "br", "gzip"])
def test_a_client_holding_the_current_version_gets_304(client, proposal_id, url, encoding):
    url = url.format(id=proposal_id)
    first = client.get(url, headers={"Accept-Encoding": encoding})
    assert first.status_code == 200 and first.headers["ETag"], url
    assert first.headers["Cache-Control"] == "no-cache"
    again = revalidate(client, url, first.headers["ETag"], encoding)
    assert again.status_code == 304 and again.get_data() == b"", url
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("url", PROPOSAL_URLS)
def test_a_new_proposal_gives_proposal_responses_a_new_etag(client, proposal_id, url):
    url = url.format(id=proposal_id)
    before = client.get(url).headers["ETag"]
    client.post("/api/proposals", json={**PROPOSAL, "title": "Ännu en bänk"})
    after = revalidate(client, url, before)
    assert after.status_code == 200 and after.headers["ETag"] != before


@pytest.mark.parametrize("url", LAYER_URLS[:2])
def test_layer_responses_stay_valid_when_only_proposals_change(client, url):
    before = client.get(url).headers["ETag"]
    client.post("/api/proposals", json=PROPOSAL)
    assert revalidate(client, url, before).status_code == 304


def test_the_etag_differs_per_query_and_language(client):
    url = "/ogc/collections/development-areas/items"
    tags = {client.get(url + query).headers["ETag"] for query in ("?limit=1", "?limit=2", "?limit=1&lang=en")}
    assert len(tags) == 3


def test_a_stale_etag_gets_the_full_body(client):
    response = revalidate(client, "/api/layers/development-areas", 'W/"not-the-current-one"')
    assert response.status_code == 200 and response.get_json()["type"] == "FeatureCollection"


def test_a_304_builds_no_body(client, proposal_id, monkeypatch):
    tags = {url: client.get(url).headers["ETag"] for url in ("/api/layers/development-areas", "/ogc/collections/proposals/items")}
    download_tag = client.get("/api/export/proposals.geojson", headers={"Accept-Encoding": "br"}).headers["ETag"]

    def refuse(*_args, **_kwargs):
        raise AssertionError("a body was built for a 304")

    monkeypatch.setattr(api, "frame_to_geojson", refuse)
    monkeypatch.setattr(ogc, "_proposal_items", refuse)
    monkeypatch.setattr(download_cache, "cached_export", refuse)
    for url, tag in tags.items():
        assert revalidate(client, url, tag).status_code == 304, url
    assert revalidate(client, "/api/export/proposals.geojson", download_tag, "br").status_code == 304


def test_errors_carry_no_etag(client):
    response = client.get("/ogc/collections/proposals/items?limit=x")
    assert response.status_code == 400 and "ETag" not in response.headers
