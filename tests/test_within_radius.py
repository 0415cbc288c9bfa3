"""Counts of services within each kind's radius: declared in locality.toml, computed in SWEREF 99 TM,
stored with the joins, shown and filtered in the planner workspace and exported for planners only."""

from __future__ import annotations

import dataclasses

import pytest
import shapely

from dialogkarta.geo.crs import WGS84
from dialogkarta.layers import proposals, store
from dialogkarta.layers.locality import LocalityConfigError, load_locality
from dialogkarta.layers.registry import LayerRegistry
from dialogkarta.webmap import db
from tests.conftest import metric_frame
from tests.planner_helpers import add_proposal, feature_point, login, make_user


def hand_made_services(*placed):
    """Services at SWEREF 99 TM offsets from the origin: ``(kind, east, north)`` each."""
    return metric_frame(
        [shapely.Point(east, north) for _kind, east, north in placed],
        crs=WGS84,
        id=[f"s{i}" for i in range(len(placed))],
        name=[f"Service {i}" for i in range(len(placed))],
        kind=[kind for kind, _e, _n in placed],
    )


def origin_lonlat():
    point = metric_frame([shapely.Point(0, 0)], crs=WGS84).geometry.iloc[0]
    return point.x, point.y


def within(result) -> dict:
    return {n["kind"]: (n["within_count"], n["radius_m"]) for n in result["nearest"]}


def test_the_locality_declares_a_radius_for_every_bundled_service_kind_and_a_default(locality, registry):
    assert set(registry.services()["kind"]) <= set(locality.service_radius_m) - {"default"}
    assert locality.radius_m("bus_stop") == 400 and locality.radius_m("school") == 800
    assert locality.radius_m("bastu") == locality.service_radius_m["default"]


@pytest.mark.parametrize("points", [1, proposals.FEW_POINTS + 1], ids=["one proposal", "a rejoin of many"])
def test_a_bus_stop_at_399_99_m_counts_and_one_at_400_01_m_does_not(registry, points):
    services = hand_made_services(("bus_stop", 399.99, 0), ("bus_stop", 0, -400.01), ("school", 0, 799.99), ("school", 800.01, 0))
    results = proposals.compute_joins(registry.with_frame("service-locations", services), [origin_lonlat()] * points)
    assert all(within(result) == {"bus_stop": (1, 400.0), "school": (1, 800.0)} for result in results)


def test_a_kind_without_a_declared_radius_is_counted_within_the_default(registry):
    services = hand_made_services(("bastu", 499.99, 0), ("bastu", 500.01, 0), ("bastu", 0, 10))
    (result,) = proposals.compute_joins(registry.with_frame("service-locations", services), [origin_lonlat()])
    assert within(result) == {"bastu": (2, 500.0)}


@pytest.mark.parametrize("radius", ["0", "-5", "nan", "inf", '"400"', "true"])
def test_a_radius_that_is_not_a_positive_number_of_metres_is_refused(tmp_path, locality, radius):
    for path in locality.directory.iterdir():
        if path.is_file():
            (tmp_path / path.name).write_bytes(path.read_bytes())
    config = tmp_path / "locality.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("bus_stop = 400", f"bus_stop = {radius}"), encoding="utf-8")
    with pytest.raises(LocalityConfigError, match="service_radius_m.bus_stop"):
        load_locality(tmp_path)


def test_counts_are_stored_with_the_joins_and_follow_a_changed_radius_on_refresh(app, runner):
    with app.app_context():
        lon, lat = feature_point(db.registry(), "services", "busstation")
    record = add_proposal(app, lon, lat)
    with app.app_context(), db.reading() as conn:
        stored = store.get_proposal(conn, record["public_id"])
    assert stored is not None and stored["within"]["bus_stop"] == {"radius_m": 400.0, "count": 1}
    with app.app_context():
        registry = db.registry()
        locality = registry.locality
        wider = dataclasses.replace(locality, service_radius_m={**locality.service_radius_m, "bus_stop": 5000})
        with db.transaction() as conn:
            proposals.refresh_joins(conn, LayerRegistry(wider, registry.engine))
        with db.reading() as conn:
            stored = store.get_proposal(conn, record["public_id"])
    assert stored is not None and stored["within"]["bus_stop"] == {"radius_m": 5000.0, "count": 3}


def test_the_public_view_and_api_item_carry_no_counts(app, client):
    with app.app_context():
        lon, lat = feature_point(db.registry(), "services", "busstation")
    record = add_proposal(app, lon, lat)
    item = client.get(f"/api/proposals/{record['public_id']}").get_json()["properties"]
    assert not [key for key in item if "within" in key] and all("within" not in str(near) for near in item["nearest"].values())
    assert "within_count" not in client.get(f"/p/{record['public_id']}").get_data(as_text=True)


@pytest.fixture
def planner(app, client):
    make_user(app, "anna", "planner")
    login(client, "anna")
    return client


def test_the_planner_page_says_how_many_of_each_kind_lie_within_its_radius(app, planner):
    with app.app_context():
        lon, lat = feature_point(db.registry(), "services", "busstation")
    record = add_proposal(app, lon, lat)
    swedish = planner.get(f"/planner/p/{record['public_id']}?lang=sv").get_data(as_text=True)
    assert "inom 400 m: 1 busshållplats<" in swedish and "inom 800 m: 2 skolor<" in swedish
    english = planner.get(f"/planner/p/{record['public_id']}?lang=en").get_data(as_text=True)
    assert "within 400 m: 1 bus stop<" in english and "within 800 m: 2 schools<" in english


def test_the_overlay_keeps_proposals_with_at_least_n_of_a_kind_within_its_radius(app, planner):
    with app.app_context():
        registry = db.registry()
        near_schools = add_proposal(app, *feature_point(registry, "services", "busstation"))  # 2 schools within 800 m
        near_one = add_proposal(app, *feature_point(registry, "services", "hpl-soderskog"))  # 1 school

    def matching(query: str) -> set:
        body = planner.get(f"/planner/api/proposals?{query}").get_json()
        return {f["properties"]["public_id"] for f in body["features"]}

    assert matching("near_kind=school&near_min=2") == {near_schools["public_id"]}
    assert matching("near_kind=school") == {near_schools["public_id"], near_one["public_id"]}
    assert matching("near_kind=school&near_min=3") == set()
    assert matching("near_min=3") == {near_schools["public_id"], near_one["public_id"]}  # no kind: no filter


@pytest.mark.parametrize("near_min", ["-1", "x", "1.5", "100001", "١"])
def test_an_overlay_count_that_is_not_a_whole_number_is_a_400_that_says_so(app, planner, near_min):
    response = planner.get(f"/planner/api/proposals?near_kind=school&near_min={near_min}&lang=en")
    assert response.status_code == 400
    assert "whole number" in response.get_json()["error"]["message"]


def test_the_overlay_form_offers_each_kind_with_its_radius(planner):
    html = planner.get("/planner/?lang=sv").get_data(as_text=True)
    assert 'name="near_min"' in html and '<option value="bus_stop">Busshållplats (400 m)</option>' in html


def test_planner_exports_carry_the_counts_and_their_radius(app, planner, client):
    with app.app_context():
        lon, lat = feature_point(db.registry(), "services", "busstation")
    record = add_proposal(app, lon, lat)
    rows = planner.get("/planner/export/proposals.geojson").get_json()["features"]
    (row,) = [f["properties"] for f in rows if f["properties"]["id"] == record["public_id"]]
    assert (row["within_bus_stop"], row["within_bus_stop_radius_m"]) == (1, 400.0)
    assert (row["within_school"], row["within_school_radius_m"]) == (2, 800.0)
    public = client.get("/api/export/proposals.geojson").get_json()["features"]
    assert not [key for f in public for key in f["properties"] if key.startswith("within_")]


def test_importing_a_service_layer_recounts_every_proposal(app, runner, tmp_path):
    record = add_proposal(app, *origin_lonlat())
    services = hand_made_services(("bus_stop", 399.99, 0), ("bus_stop", 0, 100), ("bus_stop", -400.01, 0))
    path = tmp_path / "hallplatser.gpkg"
    services.to_file(path, layer="hallplatser", driver="GPKG")
    result = runner.invoke(args=["import-layer", str(path), "--as", "service-locations"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.reading() as conn:
        stored = store.get_proposal(conn, record["public_id"])
    assert stored is not None and stored["within"] == {"bus_stop": {"radius_m": 400.0, "count": 2}}
