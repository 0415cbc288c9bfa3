"""Text responses are sent with Brotli or gzip when the client takes them, and as they are otherwise."""

from __future__ import annotations

import gzip

import brotli
import pytest

from dialogkarta.webmap.assets import static_fingerprint, vendor_path

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def static(filename: str) -> str:
    return f"/static/{static_fingerprint()}/{filename}"


def text_urls() -> list[str]:
    """An HTML page, our JS and CSS, a vendored script, JSON, GeoJSON (a layer) and a streamed download."""
    return [
        "/",
        static("map.js"),
        static("dialogkarta.css"),
        vendor_path("leaflet", "leaflet.js"),
        "/ogc/collections",
        "/api/layers/development-areas",
        "/api/export/development-areas.geojson",
    ]


@pytest.mark.parametrize("url", text_urls())
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_text_responses_are_compressed_when_accepted_and_decompress_to_the_same_bytes(client, url, encoding):
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    body = DECODE[encoding](packed.get_data())
    if url != "/":  # the page carries a fresh CSP nonce and CSRF token each time
        assert body == plain.get_data()
    assert len(packed.get_data()) < len(body)


def test_brotli_is_preferred_when_a_browser_offers_both(client):
    response = client.get(static("map.js"), headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.headers["Content-Encoding"] == "br"


def test_no_accept_encoding_gets_the_body_as_it_is(client):
    response = client.get(static("map.js"), headers={"Accept-Encoding": ""})
    assert "Content-Encoding" not in response.headers
    assert response.get_data().startswith(b"/") or b"import" in response.get_data()


def test_binary_downloads_are_never_compressed(client):
    for url in ("/api/export/development-areas.gpkg", "/api/export/development-areas.fgb"):
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, url


def test_a_range_request_gets_uncompressed_partial_content(client):
    url = vendor_path("leaflet", "leaflet.js")  # files served from disk answer Range requests
    whole = client.get(url, headers={"Accept-Encoding": "identity"}).get_data()
    part = client.get(url, headers={"Accept-Encoding": "br, gzip", "Range": "bytes=0-9999"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.get_data() == whole[:10000]


def test_a_compressed_strong_etag_names_its_encoding(client):
    url = "/api/export/development-areas.geojson"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": "br"})
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + ':br"'
