"""The maps' view endpoints: grid clusters that add up to exactly the proposals they stand for, points
when the view (or the whole set) is small, hidden proposals never counted in public, bounded parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select

from dialogkarta.geo.crs import to_sweref
from dialogkarta.geo.generalise import snap_to_grid
from dialogkarta.layers import map_view, workflow
from dialogkarta.layers.schema import proposals
from dialogkarta.testing import bulk_proposals, login, make_user, random_points_in
from dialogkarta.webmap import db
from tests import contracts
from tests.contracts import assert_exact

DALBY_BOX = "13.30,55.63,13.42,55.70"  # the whole locality and its margin
EAST_HALF = (13.3550, 55.6400, 13.4200, 55.7000)


def seed(app, n: int, hidden_every: int = 0, points_max: int = 50) -> None:
    app.config["MAP_POINTS_MAX"] = points_max
    with app.app_context(), db.transaction() as conn:
        bulk_proposals(conn, random_points_in(db.registry().boundary(), n, seed=n), hidden_every=hidden_every)


def stored(app, include_hidden=False) -> dict:
    """Return {public_id: (lon, lat)} of the stored proposals, straight from the table."""
    query = select(proposals.c.public_id, proposals.c.lon, proposals.c.lat)
    if not include_hidden:
        query = query.where(proposals.c.hidden.is_(False))
    with app.app_context(), db.reading() as conn:
        return {pid: (lon, lat) for pid, lon, lat in conn.execute(query)}


def view(client, bbox, zoom, path="/api/proposals/map", **extra):
    box = bbox if isinstance(bbox, str) else ",".join(map(str, bbox))
    response = client.get(path, query_string={"bbox": box, "zoom": zoom, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cell_members(positions: dict, cell_m: float) -> dict:
    """Return {"column:row": [public ids]}, each proposal assigned to its cell on its own."""
    ids = list(positions)
    x, y = to_sweref(np.array([positions[i][0] for i in ids]), np.array([positions[i][1] for i in ids]))
    cells: dict = {}
    for pid, px, py in zip(ids, x, y):
        cells.setdefault(f"{math.floor(px / cell_m)}:{math.floor(py / cell_m)}", []).append(pid)
    return cells


def in_box(positions: dict, box) -> set:
    return {pid for pid, (lon, lat) in positions.items() if box[0] <= lon <= box[2] and box[1] <= lat <= box[3]}


# ------------------------------------------------------------------------ clusters
def test_each_cluster_counts_exactly_the_proposals_of_its_cell(app, client):
    seed(app, 600)
    answer = view(client, EAST_HALF, 15)
    assert answer["mode"] == "clusters"
    members = cell_members(stored(app), answer["cell_m"])
    for feature in answer["features"]:
        props = feature["properties"]
        assert props["count"] == len(members[props["cell"]])
        assert sum(props["statuses"].values()) == props["count"]


def test_the_clusters_cover_every_proposal_in_the_view_and_add_up(app, client):
    seed(app, 600)
    answer = view(client, EAST_HALF, 15)
    positions = stored(app)
    members = cell_members(positions, answer["cell_m"])
    returned = {f["properties"]["cell"] for f in answer["features"]}
    inside = in_box(positions, EAST_HALF)
    assert answer["numberMatched"] == len(inside)
    assert inside <= {pid for cell in returned for pid in members[cell]}  # no proposal in view left out
    assert sum(f["properties"]["count"] for f in answer["features"]) == sum(len(members[c]) for c in returned)


def test_over_the_whole_locality_the_clusters_add_up_to_every_public_proposal(app, client):
    seed(app, 500)
    answer = view(client, DALBY_BOX, 14)
    assert answer["mode"] == "clusters" and answer["total"] == 500
    assert sum(f["properties"]["count"] for f in answer["features"]) == 500


def test_a_cluster_sits_at_the_mean_of_its_members(app, client):
    seed(app, 300)
    answer = view(client, DALBY_BOX, 14)
    positions = stored(app)
    members = cell_members(positions, answer["cell_m"])
    feature = max(answer["features"], key=lambda f: f["properties"]["count"])
    ids = members[feature["properties"]["cell"]]
    x, y = to_sweref(np.array([positions[i][0] for i in ids]), np.array([positions[i][1] for i in ids]))
    mean_x, mean_y = to_sweref(*feature["geometry"]["coordinates"])
    assert (float(mean_x), float(mean_y)) == pytest.approx((x.mean(), y.mean()), abs=0.5)


def test_hidden_proposals_are_never_counted_in_the_public_clusters(app, client):
    seed(app, 400, hidden_every=4)
    answer = view(client, DALBY_BOX, 14)
    assert answer["total"] == 300
    assert sum(f["properties"]["count"] for f in answer["features"]) == 300
    members = cell_members(stored(app), answer["cell_m"])
    assert {f["properties"]["cell"]: f["properties"]["count"] for f in answer["features"]} == {
        cell: len(ids) for cell, ids in members.items()
    }


def test_a_view_wider_than_the_grid_allows_is_answered_at_a_coarser_zoom(app, client):
    seed(app, 100, points_max=10)
    answer = view(client, "-10,40,40,70", 22)
    assert answer["mode"] == "clusters" and answer["zoom"] < 22
    assert sum(f["properties"]["count"] for f in answer["features"]) == 100


# ------------------------------------------------------------------------ points
def test_a_small_locality_gets_every_proposal_at_once_whatever_the_view(app, client):
    seed(app, 30, hidden_every=10)
    answer = view(client, EAST_HALF, 16)
    assert answer["mode"] == "points" and answer["complete"] is True
    assert {f["id"] for f in answer["features"]} == set(stored(app))


def test_a_view_holding_few_proposals_gets_exactly_those_points(app, client):
    seed(app, 400, hidden_every=5)
    positions = stored(app)
    lon, lat = next(iter(positions.values()))
    box = (lon - 0.002, lat - 0.001, lon + 0.002, lat + 0.001)
    answer = view(client, box, 17)
    assert answer["mode"] == "points" and answer["complete"] is False
    assert {f["id"] for f in answer["features"]} == in_box(positions, box)
    assert answer["numberMatched"] == len(answer["features"])


def test_public_points_are_where_the_public_list_puts_them(app, client):
    app.config["PUBLIC_GRID_M"] = 50
    seed(app, 20)
    answer = view(client, DALBY_BOX, 14)
    positions = stored(app)
    for feature in answer["features"]:
        lon, lat = positions[feature["id"]]
        assert feature["geometry"]["coordinates"] == list(snap_to_grid(lon, lat, 50))


def test_a_new_proposal_is_on_the_map_at_the_next_request(app, client):
    seed(app, 200)
    before = view(client, DALBY_BOX, 14)
    response = client.post(
        "/api/proposals", json={"lon": 13.36, "lat": 55.66, "category": "traffic", "title": "Ny", "description": "Ny."}
    )
    assert response.status_code == 201
    after = view(client, DALBY_BOX, 14)
    assert after["total"] == before["total"] + 1
    assert sum(f["properties"]["count"] for f in after["features"]) == 201


def test_panning_reuses_the_cached_grid(app, client, monkeypatch):
    seed(app, 300)
    loads = []
    original = map_view.load_table
    monkeypatch.setattr(map_view, "load_table", lambda *a, **k: loads.append(1) or original(*a, **k))
    grids = []
    original_grid = map_view.grid_cells
    monkeypatch.setattr(map_view, "grid_cells", lambda *a, **k: grids.append(1) or original_grid(*a, **k))
    for west in (13.33, 13.34, 13.35):
        view(client, (west, 55.64, west + 0.05, 55.69), 15)
    assert (len(loads), len(grids)) == (1, 1)
    with app.app_context(), db.transaction() as conn:
        workflow.hide(conn, 1, "Test", role="moderator")  # a write through the store's own path bumps its version
    assert view(client, DALBY_BOX, 15)["total"] == 299
    assert (len(loads), len(grids)) == (2, 2)


def test_the_grid_cache_keeps_only_the_recently_used_zooms(app, client, monkeypatch):
    seed(app, 300, points_max=10)
    grids = []
    original_grid = map_view.grid_cells
    monkeypatch.setattr(map_view, "grid_cells", lambda *a, **k: grids.append(1) or original_grid(*a, **k))
    monkeypatch.setattr(map_view, "_CACHED_GRIDS", 3)
    for zoom in (10, 11, 12, 13, 10):
        view(client, DALBY_BOX, zoom)
    assert len(grids) == 5  # zoom 10 was forgotten after three others, and computed again


# ------------------------------------------------------------------------ fields
def test_the_map_carries_only_its_contracted_fields(app, client):
    seed(app, 300, points_max=20)
    clusters = view(client, DALBY_BOX, 14)
    assert_exact({k for f in clusters["features"] for k in f["properties"]}, contracts.API_MAP_CLUSTER, "map clusters")
    lon, lat = next(iter(stored(app).values()))
    points = view(client, (lon - 0.002, lat - 0.001, lon + 0.002, lat + 0.001), 17)
    assert points["mode"] == "points"
    assert_exact({k for f in points["features"] for k in f["properties"]}, contracts.API_MAP_POINT, "map points")


# ------------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"zoom": "14"}, "bbox", "bbox saknas"),
        ({"bbox": DALBY_BOX}, "zoom", "zoom saknas"),
        ({"bbox": DALBY_BOX, "zoom": "23"}, "zoom", "mellan 0 och 22"),
        ({"bbox": DALBY_BOX, "zoom": "-1"}, "zoom", "mellan 0 och 22"),
        ({"bbox": DALBY_BOX, "zoom": "1.5"}, "zoom", "heltal"),
        ({"bbox": "13.4,55.6,13.3,55.7", "zoom": "14"}, "bbox", "omvänd"),
        ({"bbox": "13.3,55.6,13.4", "zoom": "14"}, "bbox", "4 tal"),
        ({"bbox": "13.3,55.6,13.4,nan", "zoom": "14"}, "bbox", "ändliga"),
        ({"bbox": "-200,55.6,13.4,55.7", "zoom": "14"}, "bbox", "jordklotet"),
    ],
)
def test_bad_view_parameters_are_refused_with_a_sentence(client, query, field, words):
    response = client.get("/api/proposals/map", query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]


def test_the_refusal_speaks_english_when_asked(client):
    response = client.get("/api/proposals/map?zoom=3", headers={"Accept-Language": "en"})
    assert response.get_json()["error"]["message"].startswith("bbox is missing")


@pytest.mark.parametrize("bbox", ["-180,-90,180,90", "179.9,89.9,180,90", "13.36,55.66,13.36,55.66"])
@pytest.mark.parametrize("zoom", [0, 14, 22])
def test_any_valid_view_is_answered(app, client, bbox, zoom):
    seed(app, 120, points_max=10)
    answer = view(client, bbox, zoom)
    assert answer["mode"] in ("points", "clusters")


def test_the_openapi_document_describes_the_map_view(client):
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/proposals/map"]["get"]
    assert {p["name"] for p in operation["parameters"] if "name" in p} >= {"bbox", "zoom"}


# ------------------------------------------------------------------------ the planner's view
@pytest.fixture
def planner(app, client):
    make_user(app, "anna")
    login(client, "anna")
    return client


def test_the_planners_view_needs_a_login(client):
    response = client.get("/planner/api/proposals/map", query_string={"bbox": DALBY_BOX, "zoom": 14})
    assert response.status_code == 401


def test_the_planners_clusters_count_hidden_proposals_too(app, planner):
    seed(app, 400, hidden_every=4)
    answer = view(planner, DALBY_BOX, 14, path="/planner/api/proposals/map")
    assert answer["total"] == 400
    assert sum(f["properties"]["count"] for f in answer["features"]) == 400


def test_the_planners_view_honours_the_overlays_filters(app, planner):
    seed(app, 400, hidden_every=4)
    answer = view(planner, DALBY_BOX, 14, path="/planner/api/proposals/map", category="traffic", status="received")
    listed = planner.get("/planner/api/proposals?category=traffic&status=received").get_json()
    assert answer["total"] == listed["total"]
    assert sum(f["properties"]["count"] for f in answer["features"]) == listed["total"]


def test_the_planners_points_say_which_are_hidden(app, planner):
    seed(app, 30, hidden_every=3)
    answer = view(planner, DALBY_BOX, 14, path="/planner/api/proposals/map")
    assert answer["mode"] == "points" and len(answer["features"]) == 30
    assert sum(f["properties"]["hidden"] for f in answer["features"]) == 10
    assert_exact({k for f in answer["features"] for k in f["properties"]}, contracts.PLANNER_MAP_POINT, "planner map points")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"bbox": DALBY_BOX, "zoom": "99"}, "bad_request"),
        ({"bbox": DALBY_BOX, "zoom": "14", "date_from": "mars"}, "invalid_filter"),
    ],
)
def test_the_planners_view_refuses_bad_parameters(planner, query, code):
    response = planner.get("/planner/api/proposals/map", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code
