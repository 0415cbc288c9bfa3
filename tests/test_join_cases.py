"""The same joins on every engine: a table of cases (inside an area, outside all, exactly on an edge, in
two overlapping areas, a tie in nearest distance) run through the store on the current engine, and on
PostGIS held against the same joins computed by PostGIS in EPSG:3006 over the layers' tables.

The plan, in SWEREF 99 TM metres from the Dalby origin (conftest's ``ORIGIN``)::

    A = box(0, 0, 100, 100)      B = box(50, 0, 150, 100) (overlaps A)
    E = box(200, 0, 300, 100) with a vertex at (200, 50) on its west edge
    school s-near (20, 20), school s-far (260, 80)
    libraries l-first and l-second both at (80, 60): every point is as far from one as from the other
"""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import select

from dialogkarta.geo.crs import SWEREF99TM, WGS84
from dialogkarta.layers import layer_store, postgis_joins, proposals, qgis_db
from dialogkarta.layers.schema import proposal_areas, proposal_services, proposals as proposal_rows
from dialogkarta.webmap import db
from tests.conftest import ORIGIN_E, ORIGIN_N

AREAS, SERVICES = "development-areas", "service-locations"
EDGE_VERTEX = (200.0, 50.0)


def _frame(rows, geometries):
    shifted = [shapely.affinity.translate(g, ORIGIN_E, ORIGIN_N) for g in geometries]
    return gpd.GeoDataFrame(rows, geometry=shifted, crs=SWEREF99TM).to_crs(WGS84)


def _plan():
    areas = _frame(
        {"id": ["A", "B", "E"], "name": ["Area A", "Area B", "Area E"], "status": ["detailed_plan"] * 3},
        [
            shapely.box(0, 0, 100, 100),
            shapely.box(50, 0, 150, 100),
            shapely.Polygon([(200, 0), (300, 0), (300, 100), (200, 100), EDGE_VERTEX]),
        ],
    )
    services = _frame(
        {
            "id": ["s-near", "s-far", "l-first", "l-second"],
            "name": ["Near school", "Far school", "First library", "Second library"],
            "kind": ["school", "school", "library", "library"],
        },
        [shapely.Point(20, 20), shapely.Point(260, 80), shapely.Point(80, 60), shapely.Point(80, 60)],
    )
    return areas, services


def _wgs84(easting, northing):
    point = _frame({"id": ["p"]}, [shapely.Point(easting, northing)]).geometry.iloc[0]
    return point.x, point.y


def _edge_point():
    """The WGS84 position of E's vertex on its west edge, exactly as the stored area holds it."""
    areas, _services = _plan()
    ring = areas.geometry.iloc[2].exterior.coords
    return ring[4]


# case -> (position as metres from the origin or "edge", areas covering it, nearest school, nearest library)
CASES = {
    "inside one area": ((25, 50), ["A"], "s-near", "l-first"),
    "in two overlapping areas": ((75, 50), ["A", "B"], "s-near", "l-first"),
    "outside all": ((175, 150), [], "s-far", "l-first"),
    "exactly on an edge": ("edge", ["E"], "s-far", "l-first"),
    "a tie in nearest distance": ((80, 90), ["A", "B"], "s-near", "l-first"),
}


def _position(where):
    return _edge_point() if where == "edge" else _wgs84(*where)


@pytest.fixture
def planned(app):
    """The app with the plan above imported as the current areas and services."""
    areas, services = _plan()
    with app.app_context(), db.transaction() as conn:
        for name, frame in ((AREAS, areas), (SERVICES, services)):
            layer_store.add_version(conn, name, layer_store.encode(frame, name), features=len(frame), frame=frame)
    return app


def _submit(app, lon, lat):
    with app.app_context(), db.transaction() as conn:
        record = proposals.submit(
            conn,
            db.registry(),
            {"lon": lon, "lat": lat, "category": "traffic", "title": "Fall", "description": "Ett fall i tabellen"},
        )
        return conn.execute(select(proposal_rows.c.id).where(proposal_rows.c.public_id == record["public_id"])).scalar_one()


def _stored(app, proposal_id):
    with app.app_context(), db.reading() as conn:
        areas = conn.execute(
            select(proposal_areas.c.area_id).where(proposal_areas.c.proposal_id == proposal_id).order_by(proposal_areas.c.area_id)
        ).scalars()
        nearest = conn.execute(
            select(proposal_services.c.kind, proposal_services.c.service_id, proposal_services.c.distance_m).where(
                proposal_services.c.proposal_id == proposal_id
            )
        )
        return list(areas), {kind: (service, metres) for kind, service, metres in nearest}


def _metres(where, service_xy):
    x, y = EDGE_VERTEX if where == "edge" else where
    return math.dist((x, y), service_xy)


SERVICE_XY = {"s-near": (20, 20), "s-far": (260, 80), "l-first": (80, 60), "l-second": (80, 60)}


@pytest.mark.parametrize("case", CASES)
def test_the_store_joins_each_case_as_the_table_says(planned, case):
    where, areas, school, library = CASES[case]
    stored_areas, nearest = _stored(planned, _submit(planned, *_position(where)))
    assert stored_areas == areas
    assert (nearest["school"][0], nearest["library"][0]) == (school, library)
    for _kind, (service, metres) in nearest.items():
        assert metres == pytest.approx(_metres(where, SERVICE_XY[service]), abs=0.06)  # stored to 0.1 m


@pytest.mark.parametrize("case", CASES)
def test_postgis_computes_the_same_joins_in_sweref_99_tm(planned, case):
    where, _areas, _school, _library = CASES[case]
    with planned.app_context(), db.reading() as conn:
        if not qgis_db.has_postgis(conn):
            pytest.skip("PostGIS only: needs DIALOGKARTA_TEST_DATABASE_URL pointing at PostgreSQL with the postgis extension")
    lon, lat = _position(where)
    stored_areas, stored_nearest = _stored(planned, _submit(planned, lon, lat))
    with planned.app_context():
        python = proposals.compute_joins(db.registry(), [(lon, lat)])[0]  # the same joins, unrounded
        with db.reading() as conn:
            sql_areas = postgis_joins.areas_covering(conn, AREAS, lon, lat)
            sql_nearest = postgis_joins.nearest_services(conn, SERVICES, lon, lat)
    assert sql_areas == stored_areas == sorted(python["area_ids"])
    assert {kind: service for kind, (service, _m) in sql_nearest.items()} == {
        kind: service for kind, (service, _m) in stored_nearest.items()
    }
    for join in python["nearest"]:
        assert sql_nearest[join["kind"]][0] == join["service_id"]
        assert sql_nearest[join["kind"]][1] == pytest.approx(join["distance_m"], abs=0.01)
