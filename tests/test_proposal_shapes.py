"""Proposals drawn as lines and areas: checked like drawn answers, joined in SWEREF 99 TM, stored beside the point.

The development areas are replaced by one hand-made plan, 500 m × 400 m in SWEREF 99 TM east of the
Dalby origin, so every figure below is known by hand.
"""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, box
from sqlalchemy import func, select, update

from dialogkarta.geo.crs import SWEREF99TM, WGS84
from dialogkarta.layers.schema import proposal_shapes, proposals
from dialogkarta.webmap import db
from tests.conftest import ORIGIN_E as E
from tests.conftest import ORIGIN_N as N

JSON = {"Accept": "application/json"}
TEXT = {"category": "traffic", "title": "Gångväg saknas", "description": "Här behövs en gångväg till skolan."}
PLAN = box(E, N - 200, E + 500, N + 200)  # 200 000 m²


def to_wgs84(geometry):
    return gpd.GeoSeries([geometry], crs=SWEREF99TM).to_crs(WGS84).iloc[0]


def geojson(geometry) -> dict:
    return shapely.geometry.mapping(to_wgs84(geometry))


def as_lists(value):
    return [as_lists(item) for item in value] if isinstance(value, (list, tuple)) else value


def drawn(geometry) -> dict:
    mapped = geojson(geometry)
    return {"type": mapped["type"], "coordinates": as_lists(mapped["coordinates"])}


def import_plan(runner, tmp_path) -> None:
    """Make PLAN the development areas: one area, "plan-a", around the origin."""
    frame = gpd.GeoDataFrame({"id": ["plan-a"], "name": ["Plan A"], "status": ["detailed_plan"]}, geometry=[PLAN], crs=SWEREF99TM)
    path = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(frame, path, layer="plan")
    result = runner.invoke(args=["import-layer", str(path), "--as", "development-areas"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def plan(app, runner, tmp_path):
    import_plan(runner, tmp_path)
    return app


def post(client, geometry, **fields):
    return client.post("/api/proposals", json={**TEXT, "geometry": geometry, **fields}, headers=JSON)


def stored(app) -> tuple[int, int]:
    with app.app_context(), db.reading() as conn:
        count = conn.execute(select(func.count()).select_from(proposals)).scalar_one()
        shapes = conn.execute(select(func.count()).select_from(proposal_shapes)).scalar_one()
    return count, shapes


def test_a_kilometre_footpath_reports_its_length_and_the_length_inside_the_plan(plan, client):
    line = LineString([(E - 500, N), (E + 500, N)])  # half of it inside the plan
    response = post(client, drawn(line))

    assert response.status_code == 201, response.get_json()
    feature = response.get_json()
    assert feature["geometry"]["type"] == "LineString"
    shape = feature["properties"]["shape"]
    assert shape["kind"] == "line"
    assert shape["length_m"] == pytest.approx(1000.00, abs=0.01)
    assert [area["id"] for area in shape["areas"]] == ["plan-a"]
    assert shape["areas"][0]["length_m"] == pytest.approx(500.00, abs=0.01)
    assert feature["properties"]["area_ids"] == ["plan-a"]  # the areas the line crosses, not only its point's
    item = client.get(f"/api/proposals/{feature['id']}").get_json()
    assert item["geometry"]["type"] == "LineString" and item["properties"]["shape"] == shape


def test_a_line_proposals_point_is_its_midpoint_so_the_map_and_bbox_queries_find_it(plan, client):
    feature = post(client, drawn(LineString([(E - 500, N), (E + 500, N)]))).get_json()
    with plan.app_context(), db.reading() as conn:
        lon, lat = conn.execute(select(proposals.c.lon, proposals.c.lat)).one()
    midpoint = to_wgs84(Point(E, N))
    assert (lon, lat) == pytest.approx((midpoint.x, midpoint.y), abs=1e-6)  # within 10 cm
    box_around = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    listed = client.get(f"/api/proposals?bbox={box_around}").get_json()
    assert [f["id"] for f in listed["features"]] == [feature["id"]]


def test_a_hundred_metre_square_park_reports_its_size_and_its_overlap_with_the_plan(plan, client):
    square = box(E + 450, N - 50, E + 550, N + 50)  # its western half lies in the plan
    response = post(client, drawn(square))

    assert response.status_code == 201, response.get_json()
    feature = response.get_json()
    shape = feature["properties"]["shape"]
    assert shape["kind"] == "area"
    assert shape["area_m2"] == pytest.approx(10_000.0, abs=0.1)
    (overlap,) = shape["areas"]
    assert overlap["id"] == "plan-a"
    assert overlap["overlap_m2"] == pytest.approx(5_000.0, abs=0.1)
    assert overlap["share_of_shape_pct"] == pytest.approx(50.0, abs=0.01)
    assert overlap["share_of_area_pct"] == pytest.approx(2.5, abs=0.01)  # 5 000 of the plan's 200 000 m²
    ring = feature["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw  # RFC 7946: exterior rings counter-clockwise


def test_a_park_drawn_clockwise_is_stored_and_shown_counter_clockwise(plan, client):
    square = shapely.geometry.polygon.orient(box(E + 100, N, E + 200, N + 100), sign=-1.0)
    feature = post(client, drawn(square)).get_json()
    assert shapely.LinearRing(feature["geometry"]["coordinates"][0]).is_ccw


def test_an_area_that_crosses_itself_is_repaired_and_the_repair_reported(plan, client):
    bow_tie = shapely.Polygon([(E + 100, N), (E + 200, N + 100), (E + 200, N), (E + 100, N + 100), (E + 100, N)])
    response = post(client, drawn(bow_tie))
    assert response.status_code == 201, response.get_json()
    shape = response.get_json()["properties"]["shape"]
    assert "Self-intersection" in shape["repair"]
    assert shape["area_m2"] == pytest.approx(5_000.0, abs=0.1)  # two triangles of 2 500 m²


def test_a_point_geometry_is_the_same_as_lon_and_lat(plan, client):
    point = to_wgs84(Point(E + 100, N))
    feature = post(client, {"type": "Point", "coordinates": [point.x, point.y]}).get_json()
    assert feature["geometry"]["coordinates"] == [round(point.x, 7), round(point.y, 7)]
    assert feature["properties"]["shape"] == {"kind": "point"}
    assert feature["properties"]["area_ids"] == ["plan-a"]
    assert stored(plan) == (1, 0)


WRONG = {
    "outside": drawn(LineString([(E, N), (E + 5000, N)])),  # runs out of the locality
    "one point": {"type": "LineString", "coordinates": [[13.36, 55.66], [13.36, 55.66]]},
    "too many points": {"type": "LineString", "coordinates": [[13.36 + i * 1e-6, 55.66] for i in range(501)]},
    "unclosed ring": {"type": "Polygon", "coordinates": [[[13.36, 55.66], [13.361, 55.66], [13.361, 55.661]]]},
    "another type": {"type": "MultiPoint", "coordinates": [[13.36, 55.66]]},
    "not a number": {"type": "LineString", "coordinates": [[13.36, 55.66], ["x", 55.661]]},
    "not json": "{LineString",
}


@pytest.mark.parametrize("name", list(WRONG))
def test_a_wrong_geometry_is_refused_with_a_clear_message_and_nothing_stored(plan, client, name):
    response = post(client, WRONG[name])
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] in ("invalid_geometry", "outside_locality") and error["field"] == "geometry"
    assert error["message"]
    assert stored(plan) == (0, 0)


def test_a_geometry_and_lon_lat_together_are_refused(plan, client):
    response = post(client, drawn(LineString([(E, N), (E + 10, N)])), lon=13.36, lat=55.66)
    assert response.status_code == 422 and "not both" in client.post(
        "/api/proposals", json={**TEXT, "geometry": drawn(LineString([(E, N), (E + 10, N)])), "lon": 13.36, "lat": 55.66},
        headers={**JSON, "Accept-Language": "en"},
    ).get_json()["error"]["message"]  # fmt: skip
    assert stored(plan) == (0, 0)


def test_a_refusal_is_worded_in_swedish_by_default(plan, client):
    message = post(client, WRONG["outside"]).get_json()["error"]["message"]
    assert "utanför" in message


def test_a_line_sent_as_a_multipart_form_with_a_photo_field_absent_is_stored(plan, client):
    import json

    line = LineString([(E - 500, N), (E + 500, N)])
    response = client.post(
        "/api/proposals",
        data={**TEXT, "geometry": json.dumps(drawn(line))},
        content_type="multipart/form-data",
        headers={**JSON, "Origin": "http://localhost"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["properties"]["shape"]["length_m"] == pytest.approx(1000.0, abs=0.01)


def test_a_repeated_idempotency_key_answers_with_the_same_line(plan, client):
    line = drawn(LineString([(E - 500, N), (E + 500, N)]))
    headers = {**JSON, "Idempotency-Key": "a" * 32}
    first = client.post("/api/proposals", json={**TEXT, "geometry": line}, headers=headers)
    again = client.post("/api/proposals", json={**TEXT, "geometry": line}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["properties"]["shape"] == first.get_json()["properties"]["shape"]
    assert stored(plan) == (1, 1)


def test_deleting_a_proposal_deletes_its_shape(plan, client):
    post(client, drawn(LineString([(E - 500, N), (E + 500, N)])))
    with plan.app_context(), db.transaction() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        conn.execute(proposals.delete())
    assert stored(plan) == (0, 0)


def test_a_hidden_line_proposal_is_not_shown(plan, client):
    public_id = post(client, drawn(LineString([(E - 500, N), (E + 500, N)]))).get_json()["id"]
    with plan.app_context(), db.transaction() as conn:
        conn.execute(update(proposals).values(hidden=True, hidden_reason="spam"))
    assert client.get(f"/api/proposals/{public_id}").status_code == 404


def test_the_shape_carries_exactly_its_pinned_fields(plan, client):
    from tests import contracts

    line = post(client, drawn(LineString([(E - 500, N), (E + 500, N)]))).get_json()["properties"]["shape"]
    area = post(client, drawn(box(E + 450, N - 50, E + 550, N + 50))).get_json()["properties"]["shape"]
    contracts.assert_exact(line, contracts.API_SHAPE_LINE, "shape of a line")
    contracts.assert_exact(line["areas"][0], contracts.API_SHAPE_LINE_AREA, "a line's area")
    contracts.assert_exact(area, contracts.API_SHAPE_AREA, "shape of an area")
    contracts.assert_exact(area["areas"][0], contracts.API_SHAPE_OVERLAP, "an area's overlap")
    assert line["services"], "Dalby's services lie within 200 m of a kilometre through the village"
    contracts.assert_exact(line["services"][0], contracts.API_SHAPE_SERVICE_NEAR, "a service near a line")


# ------------------------------------------------------------------------- exports
@pytest.fixture
def drawn_proposals(plan, client):
    """A point, a line, an area, and a hidden line: what the exports are read against."""
    point = to_wgs84(Point(E + 100, N))
    ids = {
        "point": client.post("/api/proposals", json={**TEXT, "lon": point.x, "lat": point.y}, headers=JSON).get_json()["id"],
        "line": post(client, drawn(LineString([(E - 500, N), (E + 500, N)]))).get_json()["id"],
        "area": post(client, drawn(box(E + 450, N - 50, E + 550, N + 50))).get_json()["id"],
        "hidden": post(client, drawn(LineString([(E, N + 100), (E + 300, N + 100)]))).get_json()["id"],
    }
    with plan.app_context(), db.transaction() as conn:
        conn.execute(update(proposals).where(proposals.c.public_id == ids["hidden"]).values(hidden=True, hidden_reason="spam"))
    return ids


def test_the_public_geopackage_has_a_layer_per_geometry_type_that_gdal_opens(drawn_proposals, client, tmp_path):
    path = tmp_path / "dalby.gpkg"
    path.write_bytes(client.get("/api/export/proposals.gpkg").data)
    layers = dict(pyogrio.list_layers(path))
    assert {"proposals": "Point", "proposals_lines": "LineString", "proposals_areas": "Polygon"}.items() <= layers.items()
    lines = pyogrio.read_dataframe(path, layer="proposals_lines")
    areas = pyogrio.read_dataframe(path, layer="proposals_areas")
    assert list(lines["id"]) == [drawn_proposals["line"]]  # the hidden line is left out
    assert list(areas["id"]) == [drawn_proposals["area"]]
    assert lines.crs.to_epsg() == 3006 and lines.geometry.length.iloc[0] == pytest.approx(1000.0, abs=0.01)
    assert areas.geometry.area.iloc[0] == pytest.approx(10_000.0, abs=0.1)
    assert lines["length_m"].iloc[0] == pytest.approx(1000.0, abs=0.01) and areas["area_m2"].iloc[0] == pytest.approx(
        10_000.0, abs=0.1
    )
    assert lines["shape_areas"].iloc[0] == "plan-a: 500.0 m" and areas["shape_areas"].iloc[0] == "plan-a: 5000 m² (50.0 %)"
    points = pyogrio.read_dataframe(path, layer="proposals")  # every public proposal at its point, as before
    assert sorted(points["geometry_kind"]) == ["area", "line", "point"]
    from tests import contracts

    contracts.assert_exact(set(lines.columns) - {"geometry"}, contracts.PUBLIC_PROPOSAL | contracts.nearest_columns(
        _kinds(points)), "GeoPackage proposals_lines")  # fmt: skip


def _kinds(frame) -> list[str]:
    return [
        column.removeprefix("nearest_") for column in frame.columns if column.startswith("nearest_") and not column.endswith("_m")
    ]


def test_every_layer_has_its_qgis_style(drawn_proposals, client, tmp_path):
    import sqlite3

    path = tmp_path / "dalby.gpkg"
    path.write_bytes(client.get("/api/export/proposals.gpkg").data)
    with sqlite3.connect(path) as conn:
        styled = dict(conn.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    assert {"proposals", "proposals_lines", "proposals_areas"} <= set(styled)
    assert 'type="line"' in styled["proposals_lines"] and 'type="fill"' in styled["proposals_areas"]


@pytest.mark.skipif(not __import__("shutil").which("ogrinfo"), reason="GDAL's ogrinfo is not installed")
def test_ogrinfo_lists_the_three_proposal_layers_with_their_geometry_types(drawn_proposals, client, tmp_path):
    import subprocess

    path = tmp_path / "dalby.gpkg"
    path.write_bytes(client.get("/api/export/proposals.gpkg").data)
    listing = subprocess.run(["ogrinfo", "-ro", "-q", str(path)], capture_output=True, text=True, check=True).stdout
    assert "proposals (Point)" in listing
    assert "proposals_lines (Line String)" in listing
    assert "proposals_areas (Polygon)" in listing


def test_the_geojson_export_carries_the_lines_and_areas_as_drawn(drawn_proposals, client):
    collection = client.get("/api/export/proposals.geojson").get_json()
    types = {feature["id"]: feature["geometry"]["type"] for feature in collection["features"]}
    assert types == {drawn_proposals["point"]: "Point", drawn_proposals["line"]: "LineString", drawn_proposals["area"]: "Polygon"}
    area = next(f for f in collection["features"] if f["id"] == drawn_proposals["area"])
    assert shapely.LinearRing(area["geometry"]["coordinates"][0]).is_ccw


@pytest.mark.parametrize(
    "name, geometry_type, kind", [("proposals-lines", "LineString", "line"), ("proposals-areas", "Polygon", "area")]
)
def test_flatgeobuf_has_one_file_per_geometry_type(drawn_proposals, client, tmp_path, name, geometry_type, kind):
    path = tmp_path / f"{name}.fgb"
    path.write_bytes(client.get(f"/api/export/{name}.fgb").data)
    info = pyogrio.read_info(path)
    assert info["geometry_type"] == geometry_type and info["features"] == 1
    assert list(pyogrio.read_dataframe(path)["id"]) == [drawn_proposals[kind]]


@pytest.mark.parametrize("page_size", [1, 2, 1000])
def test_the_line_and_area_layers_hold_their_shapes_however_the_store_is_paged(drawn_proposals, plan, page_size, tmp_path):
    import orjson

    from dialogkarta.layers import export

    with plan.app_context():  # a page may hold only points, which a line layer leaves out: the next page still comes
        engine, registry = db.engine(), db.registry()
        for name, kind, geometry_type in (("proposals-lines", "line", "LineString"), ("proposals-areas", "area", "Polygon")):
            collection = orjson.loads(b"".join(export.iter_geojson(engine, registry, name, page_size=page_size)))
            assert [(f["id"], f["geometry"]["type"]) for f in collection["features"]] == [(drawn_proposals[kind], geometry_type)]
            assert export.count_features(engine, registry, name) == 1
            rows = b"".join(export.iter_csv(engine, registry, name, page_size=page_size)).decode().splitlines()
            assert len(rows) == 2 and drawn_proposals[kind] in rows[1]  # the header and the one public shape of that kind
            fgb = tmp_path / f"{name}-{page_size}.fgb"
            export.write_fgb_export(engine, registry, name, fgb, page_size=page_size)
            gpkg = tmp_path / f"{name}-{page_size}.gpkg"
            export.write_gpkg_export(engine, registry, gpkg, names=[name], page_size=page_size)
            for path in (fgb, gpkg):
                frame = pyogrio.read_dataframe(path, layer=export.table_name(name))
                assert list(frame["id"]) == [drawn_proposals[kind]] and list(frame.geom_type) == [geometry_type]
            assert export.count_features(engine, registry, name, export.PLANNER) == (2 if kind == "line" else 1)


def test_the_csv_carries_each_proposals_representative_point_and_its_figures(drawn_proposals, client):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(client.get("/api/export/proposals.csv").data.decode())))
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {drawn_proposals["point"], drawn_proposals["line"], drawn_proposals["area"]}
    line = by_id[drawn_proposals["line"]]
    assert line["geometry_kind"] == "line" and float(line["length_m"]) == pytest.approx(1000.0, abs=0.05)
    assert float(line["easting"]) == pytest.approx(E, abs=0.1) and float(line["northing"]) == pytest.approx(N, abs=0.1)


# ------------------------------------------------------------------------- the map
def test_the_map_gets_the_public_lines_and_areas_with_only_what_a_shape_needs(drawn_proposals, client):
    from tests import contracts

    answer = client.get("/api/proposals/shapes").get_json()
    kinds = {feature["id"]: (feature["geometry"]["type"], feature["properties"]["kind"]) for feature in answer["features"]}
    assert kinds == {drawn_proposals["line"]: ("LineString", "line"), drawn_proposals["area"]: ("Polygon", "area")}
    for feature in answer["features"]:
        contracts.assert_exact(feature["properties"], contracts.API_MAP_SHAPE, "GET /api/proposals/shapes")


def test_the_map_asks_for_the_shapes_of_its_view(drawn_proposals, client):
    far_away = client.get("/api/proposals/shapes?bbox=14.0,56.0,14.1,56.1").get_json()
    assert far_away["features"] == []
    assert client.get("/api/proposals/shapes?bbox=13,55").status_code == 400


def test_a_resident_reading_arabic_is_told_in_arabic_when_a_drawing_is_wrong(plan, client):
    response = client.post(
        "/api/proposals", json={**TEXT, "geometry": WRONG["one point"]}, headers={**JSON, "Accept-Language": "ar"}
    )
    assert response.status_code == 422 and "الشكل المرسوم" in response.get_json()["error"]["message"]


def test_a_new_plan_joins_the_lines_and_areas_again(plan, client, runner, tmp_path):
    public_id = post(client, drawn(LineString([(E - 500, N), (E + 500, N)]))).get_json()["id"]
    wider = box(E - 250, N - 200, E + 500, N + 200)  # now three quarters of the line lie in the plan
    frame = gpd.GeoDataFrame(
        {"id": ["plan-b"], "name": ["Plan B"], "status": ["detailed_plan"]}, geometry=[wider], crs=SWEREF99TM
    )
    path = tmp_path / "plan-b.gpkg"
    pyogrio.write_dataframe(frame, path, layer="plan")
    assert runner.invoke(args=["import-layer", str(path), "--as", "development-areas"]).exit_code == 0
    properties = client.get(f"/api/proposals/{public_id}").get_json()["properties"]
    assert properties["area_ids"] == ["plan-b"]
    assert properties["shape"]["areas"][0]["length_m"] == pytest.approx(750.0, abs=0.01)
