"""The layers live in the database: every version as rows of ``layer_features``, the bundled files
seeded as version 0, an import's rows written with its joins, and a second server serving it at once."""

from __future__ import annotations

import orjson
import pytest
import shapely
from sqlalchemy import delete

from dialogkarta.geo.wkb import geojson_to_wkb
from dialogkarta.layers import layer_import, layer_store, layer_tables
from dialogkarta.layers.schema import layer_features
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.conftest import DialogkartaRunner, fresh_database_url
from tests.live import seed
from tests.test_import import MAPPING, _plan, _write

AREAS = "development-areas"


def _rows(app, layer, version):
    with app.app_context(), db.reading() as conn:
        return layer_tables.read_frame(conn, layer, version)


def _counts(app):
    with app.app_context(), db.reading() as conn:
        return layer_tables.version_counts(conn)


def test_the_app_stores_every_bundled_layer_as_version_0(app):
    with app.app_context():
        registry = db.registry()
        for layer in registry:
            bundled, stored = registry.frame(layer.name), _rows(app, layer.name, layer_tables.BUNDLED)
            assert list(stored["id"].astype(str)) == list(bundled["id"].astype(str)), layer.name
            assert stored.geometry.geom_equals_exact(bundled.geometry.reset_index(drop=True), tolerance=0).all(), layer.name
            for field in layer.fields:
                assert list(stored[field].astype(str)) == list(bundled[field].astype(str)), (layer.name, field)


def test_starting_again_and_init_db_keep_one_copy_of_the_bundled_rows(app, runner, tmp_path):
    before = _counts(app)
    _server(tmp_path, "again", app.config["DATABASE_URL"])  # another start on the same store
    assert runner.invoke(args=["init-db"]).exit_code == 0  # rewrites version 0
    assert _counts(app) == before
    assert {layer for layer, _version in before} == set(db_registry(app).names())


def db_registry(app):
    with app.app_context():
        return db.registry()


def test_an_import_stores_its_features_as_rows_beside_its_bytes(app, runner, tmp_path):
    seed(app, count=2)
    path = _write(_plan((13.3520, 55.6660)), tmp_path / "plan.gpkg")
    assert runner.invoke(args=["import-layer", str(path), "--as", AREAS, *MAPPING]).exit_code == 0
    stored = _rows(app, AREAS, 1)
    with app.app_context(), db.reading() as conn:
        from_bytes = layer_store.decode(layer_store.payload(conn, AREAS, 1))
    assert list(stored["id"]) == ["plan-ny"] and list(stored["name"]) == ["Nya planen åäö"]
    assert stored.geometry.geom_equals_exact(from_bytes.geometry, tolerance=0).all()


def test_an_import_that_fails_before_its_commit_leaves_no_rows(app, tmp_path):
    path = _write(_plan((13.3520, 55.6660)), tmp_path / "plan.gpkg")

    def stop(stage):
        if stage == "before-commit":
            raise RuntimeError("killed")

    with app.app_context(), pytest.raises(RuntimeError, match="killed"):
        layer_import.import_layer(
            path, db.registry(), AREAS, db.engine(), mapping={"id": "PLAN_ID", "name": "PLANNAMN"}, on_stage=stop
        )
    assert (AREAS, 1) not in _counts(app)
    with app.app_context(), db.reading() as conn:
        assert layer_store.current_version(conn, AREAS) == layer_store.BUNDLED


def _server(tmp_path, name, url):
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / name),
            "DATABASE_URL": url,
            "SECRET_KEY": "t",
            "RATELIMIT_ENABLED": False,
        }
    )


def test_a_layer_imported_through_one_server_is_served_by_another_at_once(tmp_path):
    url = fresh_database_url(tmp_path, "shared.sqlite")  # one store for both: an SQLite file, or the PostgreSQL test database
    first, second = _server(tmp_path, "a", url), _server(tmp_path, "b", url)
    served = second.test_client().get(f"/api/layers/{AREAS}").get_json()  # the second server has the bundled layer cached
    assert "plan-ny" not in {f["properties"]["id"] for f in served["features"]}
    path = _write(_plan((13.3520, 55.6660)), tmp_path / "plan.gpkg")
    result = DialogkartaRunner(first).invoke(args=["import-layer", str(path), "--as", AREAS, *MAPPING])
    assert result.exit_code == 0, result.output
    served = second.test_client().get(f"/api/layers/{AREAS}").get_json()
    assert [f["properties"]["id"] for f in served["features"]] == ["plan-ny"]
    assert list(_rows(second, AREAS, 1)["id"]) == ["plan-ny"]  # and its rows, for SQL and QGIS


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [13.35, 55.66]},
        {"type": "LineString", "coordinates": [[13.35, 55.66, 3.0], [13.36, 55.67, 12.0]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], [[0.2, 0.1], [0.5, 0.1], [0.5, 0.4], [0.2, 0.1]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 2], [3, 2], [3, 3], [2, 2]]]]},
        {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
    ],
    ids=lambda g: g["type"],
)
def test_geojson_becomes_the_wkb_shapely_reads_back(geometry):
    expected = shapely.force_2d(shapely.geometry.shape(geometry))
    assert shapely.from_wkb(geojson_to_wkb(geometry)).equals_exact(expected, tolerance=0)


def test_an_unknown_geometry_type_is_refused():
    with pytest.raises(ValueError, match="GeoJSON geometry type"):
        geojson_to_wkb({"type": "Circle", "coordinates": [0, 0]})


def test_properties_are_json_text_with_missing_values_as_null_and_times_as_iso():
    import geopandas as gpd
    import pandas as pd

    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "area_ha": [1.5, float("nan")], "decided": [pd.Timestamp("2026-03-01T12:00Z"), pd.NaT]},
        geometry=[shapely.Point(13.35, 55.66), shapely.Point(13.36, 55.67)],
        crs="EPSG:4326",
    )
    rows = layer_tables.frame_rows(AREAS, 3, frame)
    assert [orjson.loads(row["properties"]) for row in rows] == [
        {"id": "a", "area_ha": 1.5, "decided": "2026-03-01T12:00:00+00:00"},
        {"id": "b", "area_ha": None, "decided": None},
    ]
    assert [(row["fid"], row["feature_id"], row["version"]) for row in rows] == [(1, "a", 3), (2, "b", 3)]


def test_versions_stored_before_the_rows_existed_get_their_rows_at_the_next_start(app, tmp_path):
    with app.app_context(), db.transaction() as conn:
        areas = db.registry().areas().iloc[:2]
        layer_store.add_version(conn, AREAS, layer_store.encode(areas, AREAS), features=2)
        conn.execute(delete(layer_features).where(layer_features.c.layer == AREAS, layer_features.c.version == 1))
    assert (AREAS, 1) not in _counts(app)  # as a store from an earlier release holds it
    _server(tmp_path, "upgraded", app.config["DATABASE_URL"])
    assert _counts(app)[(AREAS, 1)] == 2
    assert list(_rows(app, AREAS, 1)["id"]) == list(areas["id"])
