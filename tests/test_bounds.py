"""Every public list request costs bounded work: hostile paging and filter parameters are a 400 or an empty page."""

from __future__ import annotations

import pytest

from dialogkarta.testing import Statements
from dialogkarta.webmap import api, db
from tests.live import bearer, seed

# Dalby's proposals lie near 13.35 E, 55.665 N; in EPSG:3006 (northing first) near 6170000 N, 396300 E.
SWEREF_BOX = "6160000,380000,6180000,410000"
LIST_ENDPOINTS = [
    "/api/proposals",
    "/ogc/collections/proposals/items",
    "/ogc/collections/proposals-planner/items",
    "/ogc/collections/development-areas/items",
    "/ogc/collections/service-locations/items",
]
HUGE = [str(2**64), str(10**30), str(2**63), "9" * 5000]
NOT_INTEGERS = ["abc", "1e5", "1.5", "１２", " 5", "0x10", "nan", "inf", "-"]
BAD_BOXES = [
    "nan,55.6,13.4,55.7",
    "13.3,55.6,inf,55.7",
    "1e999,55.6,13.4,55.7",
    "13.3,55.6,13.4",  # not four finite numbers
    "13.4,55.7,13.3,55.6",  # inverted
    "-1000,-1000,1000,1000",
    "0,0,1e308,1e308",  # beyond the globe
]
BAD_DATES = [
    "2026-13-01",
    "2026-03-02/2026-03-01",
    "9999-12-31T23:59:59-14:00",
    "x/y",
    "2026-03-01T10:00:00+25:00",
    "1/2/3",
    "2026-03-01T10:00",
    "20260301",
]


def _get(client, path, query, token):
    headers = {"Accept-Language": "en", **(bearer(token) if "planner" in path else {})}
    return client.get(path, query_string=query, headers=headers)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One seeded app for the module: these requests only read."""
    from dialogkarta.webmap.app import create_app
    from tests.conftest import fresh_database_url

    tmp_path = tmp_path_factory.mktemp("bounds")
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": fresh_database_url(tmp_path, "test.sqlite"),
            "RATELIMIT_ENABLED": False,
        }
    )


@pytest.fixture(scope="module")
def seeded(app):
    return seed(app, count=6)


def _assert_refused(response, field):
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert field in error["message"] and len(error["message"]) > 20


INTEGER_PARAMETERS = [(path, name) for path in LIST_ENDPOINTS for name in ("limit", "offset", "after")]


@pytest.mark.parametrize("path,name", INTEGER_PARAMETERS)
@pytest.mark.parametrize("value", [*HUGE, "-1", "-99999999999999999999", *NOT_INTEGERS])
def test_hostile_integers_are_400(client, seeded, path, name, value):
    _assert_refused(_get(client, path, {name: value}, seeded["tokens"]["planner"]), name)


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
@pytest.mark.parametrize("box", BAD_BOXES)
def test_hostile_boxes_are_400(client, seeded, path, box):
    _assert_refused(_get(client, path, {"bbox": box}, seeded["tokens"]["planner"]), "bbox")


@pytest.mark.parametrize("path", [p for p in LIST_ENDPOINTS if p.startswith("/ogc")])
@pytest.mark.parametrize("box", ["6160000,380000,6180000,1e308", "1,1,2,2", "6180000,410000,6160000,380000"])
def test_hostile_sweref_boxes_are_400(client, seeded, path, box):
    response = _get(client, path, {"bbox": box, "bbox-crs": "EPSG:3006"}, seeded["tokens"]["planner"])
    _assert_refused(response, "bbox")


@pytest.mark.parametrize("path", ["/ogc/collections/proposals/items", "/ogc/collections/proposals-planner/items"])
@pytest.mark.parametrize("value", BAD_DATES)
def test_hostile_dates_are_400(client, seeded, path, value):
    _assert_refused(_get(client, path, {"datetime": value}, seeded["tokens"]["planner"]), "datetime")


def test_nearby_refuses_hostile_numbers(client, seeded):
    for query in (
        {"lon": "nan", "lat": "55.66"},
        {"lon": "13.35", "lat": "1e999"},
        {"lon": "13.35", "lat": "55.66", "radius": str(2**64)},
        {"lon": "13.35", "lat": "55.66", "radius": "-1"},
    ):
        response = client.get("/api/proposals/nearby", query_string=query)
        assert response.status_code == 400, query


def test_a_limit_beyond_the_ogc_maximum_is_lowered_not_refused(client, seeded):
    body = client.get("/ogc/collections/proposals/items", query_string={"limit": str(2**63 - 1)}).get_json()
    assert body["numberReturned"] == 6 and body["links"][-1]["rel"] == "collection"


class _Statements(Statements):
    """Records the SQL the store runs while a request is answered."""

    def full_rows(self) -> list[str]:
        """Statements that read whole proposals (their text), i.e. scan rows rather than count them."""
        return [s for s in self.seen if "proposals.description" in s]


@pytest.mark.parametrize(
    "path,query",
    [
        ("/api/proposals", {"offset": "1000000000", "limit": "10"}),
        ("/api/proposals", {"offset": "1000000000", "category": "traffic"}),
        ("/ogc/collections/proposals/items", {"offset": "1000000000"}),
        ("/ogc/collections/proposals-planner/items", {"offset": "1000000000"}),
        ("/ogc/collections/proposals/items", {"offset": "1000000000", "bbox": SWEREF_BOX, "bbox-crs": "EPSG:3006"}),
        ("/ogc/collections/proposals/items", {"offset": "999999", "bbox": "13.3,55.6,13.4,55.7", "datetime": "2026-01-01/.."}),
    ],
)
def test_an_offset_past_the_matches_is_an_empty_page_without_reading_rows(app, client, seeded, path, query):
    with app.app_context():
        engine = db.engine()
    client.get("/api/proposals")  # the API pages through each process's list, read once at its first use
    with _Statements(engine) as sql:
        response = _get(client, path, query, seeded["tokens"]["planner"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["features"] == [] and body["numberReturned"] == 0 and body["numberMatched"] >= 6
    assert sql.full_rows() == [], sql.full_rows()


def test_a_sweref_box_pages_by_offset_and_counts_its_matches(client, seeded):
    query = {"bbox": SWEREF_BOX, "bbox-crs": "EPSG:3006", "limit": "2"}
    first = client.get("/ogc/collections/proposals/items", query_string=query).get_json()
    later = client.get("/ogc/collections/proposals/items", query_string={**query, "offset": "4"}).get_json()
    assert first["numberMatched"] == later["numberMatched"] == 6
    ids = [f["id"] for f in first["features"]] + [f["id"] for f in later["features"]]
    assert len(set(ids)) == 4 and ids == [r["public_id"] for r in seeded["public"][:2] + seeded["public"][4:]]
    assert [link["rel"] for link in later["links"]] == ["self", "prev", "collection"]


def test_a_filtered_api_list_is_one_bounded_page(client, seeded, monkeypatch):
    monkeypatch.setattr(api, "LIST_LIMIT_DEFAULT", 4)
    body = client.get("/api/proposals", query_string={"category": "traffic"}).get_json()
    assert body["numberMatched"] == 6 and body["numberReturned"] == 4
    assert [link["rel"] for link in body["links"]] == ["self", "next"]
