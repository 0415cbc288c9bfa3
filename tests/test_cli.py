"""The dialogkarta command line: layers, init-db and join."""

import orjson

from dialogkarta.layers.proposals import submit
from dialogkarta.webmap import db


def test_layers_lists_every_layer_with_count_geometry_crs_and_status(runner, app):
    result = runner.invoke(args=["layers"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert lines["development-areas"][1:] == ["4", "Polygon", "EPSG:4326", "illustrative"]
    assert lines["service-locations"][-1] == "mixed"
    assert lines["scb-tatort-point"][-1] == "verified"


def test_init_db_is_safe_to_run_twice(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "Database ready" in result.output


def add_proposal(app, **fields):
    data = {"lon": 13.3635, "lat": 55.6605, "category": "housing", "title": "Fler bänkar", "description": "Vid torget."}
    data.update(fields)
    with app.app_context(), db.transaction() as conn:
        return submit(conn, db.registry(), data)


def test_join_prints_areas_and_nearest_services_in_metres(runner, app):
    record = add_proposal(app)
    result = runner.invoke(args=["join"])
    assert result.exit_code == 0
    assert record["public_id"] in result.output and "kvarnskon-vattenrannan" in result.output
    assert "bus_stop: Veberödsvägen (ny hållplats)" in result.output and " m" in result.output


def test_join_as_geojson_is_a_feature_collection(runner, app):
    add_proposal(app)
    result = runner.invoke(args=["join", "--format", "geojson", "--refresh"])
    assert result.exit_code == 0
    collection = orjson.loads(result.stdout)
    feature = collection["features"][0]
    assert feature["geometry"]["coordinates"] == [13.3635, 55.6605]
    assert feature["properties"]["area_ids"] == ["kvarnskon-vattenrannan"]
    assert feature["properties"]["nearest_bus_stop_m"] > 0
