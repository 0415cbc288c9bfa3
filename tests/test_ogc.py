"""OGC API – Features: GDAL's OAPIF driver as an independent client, and the API's own contract."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import numpy as np
import pyogrio
import pytest

from dialogkarta.geo.crs import SWEREF99TM, parse_crs, to_sweref, transform_xy
from tests.live import HIDDEN_TITLE, PLANTED_EMAIL, LiveProcess, bearer, seed
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

CM = 0.01
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A seeded store served by a child process: (base url, seed info, registry of the seeding app)."""
    folder = tmp_path_factory.mktemp("ogc")
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'ogc.sqlite'}",
        "SECRET_KEY": "ogc-test",
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    seeded = seed(app, count=7)
    with app.app_context():
        registry = db.registry()
    with LiveProcess(config) as server:
        yield server.url, seeded, registry


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.headers, json.loads(response.read())


def _public_collections(registry):
    return [layer.name for layer in registry if layer.public] + ["proposals"]


def test_gdal_lists_our_public_collections(live):
    url, _seeded, registry = live
    names = {str(n) for n in pyogrio.list_layers(f"OAPIF:{url}/ogc")[:, 0]}
    assert names == set(_public_collections(registry))


def _expected(registry, seeded, name):
    if name == "proposals":
        return {r["public_id"]: (r["lon"], r["lat"]) for r in seeded["public"]}
    frame = registry.frame(name)
    return {str(i): g for i, g in zip(frame["id"], frame.geometry)}


@pytest.mark.parametrize("name", ["locality", "development-areas", "service-locations", "proposals"])
def test_gdal_reads_a_public_collection_with_right_count_and_coordinates(live, name):
    url, seeded, registry = live
    frame = pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer=name)
    expected = _expected(registry, seeded, name)
    assert len(frame) == len(expected)
    assert sorted(frame["id"]) == sorted(expected)
    metric = frame.to_crs(SWEREF99TM)
    for feature_id, geometry in zip(frame["id"], metric.geometry):
        source = expected[feature_id]
        if name == "proposals":
            easting, northing = to_sweref(*source)
            assert np.hypot(geometry.x - easting, geometry.y - northing) < CM
        else:
            assert geometry.hausdorff_distance(registry.frame(name).set_index("id").to_crs(SWEREF99TM).geometry[feature_id]) < CM


def test_gdal_reads_every_public_collection(live):
    url, seeded, registry = live
    for name in _public_collections(registry):
        frame = pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer=name)
        assert len(frame) == len(_expected(registry, seeded, name)), name


def test_gdal_paging_returns_every_feature_once(live):
    url, seeded, _registry = live
    frame = pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer="proposals", PAGE_SIZE=3)
    assert sorted(frame["id"]) == sorted(r["public_id"] for r in seeded["public"])


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_next_links_visit_every_feature_once(live, limit):
    url, seeded, _registry = live
    seen, next_url, pages = [], f"{url}/ogc/collections/proposals/items?limit={limit}", 0
    while next_url:
        _headers, body = _get(next_url)
        assert body["numberReturned"] == len(body["features"]) <= limit
        assert body["numberMatched"] == len(seeded["public"])
        seen += [f["id"] for f in body["features"]]
        next_url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    assert sorted(seen) == sorted(r["public_id"] for r in seeded["public"]) and len(seen) == len(set(seen))
    assert pages == -(-len(seeded["public"]) // limit)  # no trailing empty page


def test_offset_pages_agree_with_next_links(client, app):
    seeded = seed(app, count=5)
    ids = []
    for offset in range(0, 5, 2):
        body = client.get(f"/ogc/collections/proposals/items?limit=2&offset={offset}").get_json()
        ids += [f["id"] for f in body["features"]]
    assert ids == [r["public_id"] for r in seeded["public"]]


@pytest.mark.parametrize("epsg", [3006, 3008])
def test_crs_by_reference_gives_authority_axis_order(live, epsg):
    url, seeded, _registry = live
    headers, body = _get(f"{url}/ogc/collections/proposals/items?limit=50&crs={quote(EPSG.format(epsg))}")
    assert headers["Content-Crs"] == f"<{EPSG.format(epsg)}>"
    source = {r["public_id"]: (r["lon"], r["lat"]) for r in seeded["public"]}
    for feature in body["features"]:
        northing, easting = feature["geometry"]["coordinates"]
        want_e, want_n = transform_xy(*source[feature["id"]], "EPSG:4326", f"EPSG:{epsg}")
        assert abs(easting - want_e) < CM and abs(northing - want_n) < CM
    frame = pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer="development-areas", CRS=f"EPSG:{epsg}")
    assert frame.crs == parse_crs(f"EPSG:{epsg}")
    source_areas = live[2].frame("development-areas").set_index("id").to_crs(f"EPSG:{epsg}")
    for feature_id, geometry in zip(frame["id"], frame.geometry):
        assert geometry.hausdorff_distance(source_areas.geometry[feature_id]) < CM


def test_landing_conformance_and_openapi(client):
    landing = client.get("/ogc/").get_json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    api = client.get("/ogc/api")
    assert api.mimetype == "application/vnd.oai.openapi+json" and api.get_json()["openapi"].startswith("3.0")
    assert "/collections/proposals/items" in api.get_json()["paths"]
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/ogc/collections/proposals-planner/items").headers
    collection = client.get("/ogc/collections/development-areas").get_json()
    assert EPSG.format(3006) in collection["crs"] and EPSG.format(3008) in collection["crs"]
    assert any(link["rel"] == "items" for link in collection["links"])


def test_bbox_in_crs84_and_in_sweref(client, app):
    seeded = seed(app, count=5)
    first, last = seeded["public"][0], seeded["public"][-1]
    box = f"{first['lon'] - 0.0001},{first['lat'] - 0.0001},{first['lon'] + 0.0001},{first['lat'] + 0.0001}"
    body = client.get(f"/ogc/collections/proposals/items?bbox={box}").get_json()
    assert [f["id"] for f in body["features"]] == [first["public_id"]]
    easting, northing = to_sweref(last["lon"], last["lat"])
    box = f"{northing - 5},{easting - 5},{northing + 5},{easting + 5}"  # EPSG:3006 axis order
    body = client.get(f"/ogc/collections/proposals/items?bbox={box}&bbox-crs={quote(EPSG.format(3006))}").get_json()
    assert [f["id"] for f in body["features"]] == [last["public_id"]]
    areas = client.get(f"/ogc/collections/service-locations/items?bbox={box}&bbox-crs={quote(EPSG.format(3006))}").get_json()
    assert areas["numberMatched"] == len(areas["features"])


def test_datetime_filters_proposals(client, app):
    seeded = seed(app, count=5)  # created on 1, 2, 3, 4 and 5 March 2026

    def ids(q):
        return [f["id"] for f in client.get(f"/ogc/collections/proposals/items?datetime={q}").get_json()["features"]]

    publics = [r["public_id"] for r in seeded["public"]]
    assert ids("2026-03-02") == publics[1:2]
    assert ids("2026-03-02T00:00:00Z/2026-03-03T23:59:59Z") == publics[1:3]
    assert ids("../2026-03-01T12:00:00Z") == publics[:1]
    assert ids("2026-03-04T00:00:00Z/..") == publics[3:]
    assert client.get("/ogc/collections/proposals/items?datetime=yesterday").status_code == 400


def test_single_items_and_hidden_proposals(client, app):
    seeded = seed(app, count=2)
    first = seeded["public"][0]
    feature = client.get(f"/ogc/collections/proposals/items/{first['public_id']}")
    assert feature.status_code == 200 and feature.mimetype == "application/geo+json"
    assert feature.get_json()["properties"]["title"] == first["title"]
    area = client.get("/ogc/collections/development-areas/items/paskaganget-sodra").get_json()
    assert area["properties"]["name"].startswith("Påskagänget")
    hidden = seeded["hidden"]["public_id"]
    assert client.get(f"/ogc/collections/proposals/items/{hidden}").status_code == 404
    everything = client.get("/ogc/collections/proposals/items?limit=100").data
    assert HIDDEN_TITLE.encode() not in everything and PLANTED_EMAIL.encode() not in everything
    assert client.get("/ogc/collections/nope/items").status_code == 404
    assert client.get("/ogc/collections/proposals/items/nope").status_code == 404


def test_planner_collection_needs_authentication(client, app):
    seeded = seed(app, count=2)
    hidden = seeded["hidden"]["public_id"]
    assert client.get("/ogc/collections/proposals-planner/items").status_code == 401
    names = [c["id"] for c in client.get("/ogc/collections").get_json()["collections"]]
    assert "proposals-planner" not in names
    token = bearer(seeded["tokens"]["planner"])
    names = [c["id"] for c in client.get("/ogc/collections", headers=token).get_json()["collections"]]
    assert "proposals-planner" in names
    body = client.get("/ogc/collections/proposals-planner/items?limit=100", headers=token).get_json()
    assert hidden in [f["id"] for f in body["features"]]
    assert all("department" in f["properties"] for f in body["features"])
    assert PLANTED_EMAIL.encode() not in client.get("/ogc/collections/proposals-planner/items", headers=token).data
    assert client.get(f"/ogc/collections/proposals-planner/items/{hidden}", headers=token).status_code == 200


def test_gdal_reads_the_planner_collection_with_a_token_as_the_basic_password(live):
    """QGIS 3.22 sends HTTP Basic, never a Bearer header: GDAL's curl sends the same credentials."""
    url, seeded, _registry = live
    options = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"test-planner-token:{seeded['tokens']['planner']}"}
    pyogrio.set_gdal_config_options(options)
    try:
        frame = pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer="proposals-planner")
        assert seeded["hidden"]["public_id"] in set(frame["id"])
        pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": f"test-planner:{seeded['tokens']['planner']}"})
        with pytest.raises(
            (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
        ):  # the account's name is not the token's
            pyogrio.read_dataframe(f"OAPIF:{url}/ogc", layer="proposals-planner")
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(options))


@pytest.mark.parametrize(
    "query", ["limit=abc", "limit=0", "crs=EPSG:4258", "bbox=1,2,3", "bbox=3,3,1,1", "colour=red", "bbox-crs=EPSG:3006", "f=html"]
)
def test_bad_parameters_are_400(client, query):
    response = client.get(f"/ogc/collections/proposals/items?{query}")
    assert response.status_code == 400 and response.get_json()["code"] == "InvalidParameterValue"


def test_an_unknown_collection_is_an_ogc_not_found(client):
    response = client.get("/ogc/collections/no-such-layer")
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "NotFound" and "does not exist" in body["description"]
    assert body["error"]["code"] == "not_found"
