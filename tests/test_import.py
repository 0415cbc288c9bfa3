"""Importing planners' layers: any declared CRS, repairs reported, joins recomputed, bad files change nothing."""
from __future__ import annotations

import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, WGS84, to_sweref
from dialogkarta.layers import layer_import, store
from tests.live import seed
from dialogkarta.webmap import db

CM = 0.01
PLAN_CRS = "EPSG:3008"


@pytest.fixture
def seeded(app):
    return seed(app, count=3)


def _plan(around, crs=PLAN_CRS, half=150.0, **columns) -> gpd.GeoDataFrame:
    """A square plan area of ``2 * half`` metres centred on WGS84 ``around``, in ``crs``, shapefile-style columns."""
    easting, northing = to_sweref(*around)
    square = shapely.box(easting - half, northing - half, easting + half, northing + half)
    frame = gpd.GeoDataFrame({"PLAN_ID": ["plan-ny"], "PLANNAMN": ["Nya planen åäö"], "status": ["detailed_plan"], **columns},
                             geometry=[square], crs=SWEREF99TM)
    return frame.to_crs(crs)


def _write(frame, path, driver=None, **kwargs):
    pyogrio.write_dataframe(frame, path, driver=driver, **kwargs)
    return path


def _zip_shapefile(folder, zip_path):
    with zipfile.ZipFile(zip_path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return zip_path


def _state(app, proposal_id):
    """What a bad import must not change: the override file's bytes, the areas and a proposal's joins."""
    with app.app_context():
        registry = db.registry()
        override = registry.override_dir / "development-areas.gpkg"
        with db.reading() as conn:
            joins = store.get_proposal(conn, proposal_id)["area_ids"]
        return (override.read_bytes() if override.exists() else None, sorted(registry.areas()["id"]), joins)


MAPPING = ["--map", "name=PLANNAMN", "--map", "id=PLAN_ID"]


def test_plan_in_3008_as_shapefile_and_geopackage_gives_same_wgs84_geometry(app, tmp_path):
    around = (13.3450, 55.6640)
    plan = _plan(around)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    shp = _write(plan, shp_dir / "plan.shp", encoding="UTF-8")
    zipped = _zip_shapefile(shp_dir, tmp_path / "plan.zip")
    gpkg = _write(plan, tmp_path / "plan.gpkg", layer="plan")
    mapping = {"name": "PLANNAMN", "id": "PLAN_ID"}
    with app.app_context():
        registry = db.registry()
        frames = [layer_import.prepare_layer(p, registry, "development-areas", mapping=mapping)[0] for p in (shp, zipped, gpkg)]
    expected = plan.to_crs(SWEREF99TM).geometry.iloc[0]
    for frame in frames:
        assert frame.crs == gpd.GeoSeries([], crs=WGS84).crs
        assert frame["name"].iloc[0] == "Nya planen åäö" and frame["id"].iloc[0] == "plan-ny"
        assert frame.to_crs(SWEREF99TM).geometry.iloc[0].hausdorff_distance(expected) < CM
        assert frame.geometry.iloc[0].hausdorff_distance(frames[0].geometry.iloc[0]) < 1e-7  # degrees, about 1 cm


def test_import_recomputes_joins_and_keeps_the_previous_version(app, runner, seeded, tmp_path):
    target = seeded["public"][0]
    assert "plan-ny" not in target["area_ids"]
    gpkg = _write(_plan((target["lon"], target["lat"])), tmp_path / "plan.gpkg", layer="plan")
    result = runner.invoke(args=["import-layer", str(gpkg), "--as", "development-areas", *MAPPING])
    assert result.exit_code == 0, result.output
    assert "1 objekt/features from EPSG:3008" in result.output and "joins recomputed: 4" in result.output
    with app.app_context():
        registry = db.registry()
        assert registry.source_path("development-areas") == registry.override_dir / "development-areas.gpkg"
        assert list(registry.areas()["id"]) == ["plan-ny"]
        with db.reading() as conn:
            assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]
            assert store.get_proposal(conn, seeded["public"][2]["public_id"])["area_ids"] == []
        history = sorted((registry.override_dir / "history").glob("development-areas-*.gpkg"))
    assert len(history) == 1 and len(pyogrio.read_dataframe(history[0])) == 4  # the bundled areas, kept
    second = runner.invoke(args=["import-layer", str(gpkg), "--as", "development-areas", *MAPPING])
    assert second.exit_code == 0, second.output
    assert len(list(history[0].parent.glob("development-areas-*.gpkg"))) == 2


def test_zipped_shapefile_without_crs_needs_crs_option(app, runner, seeded, tmp_path):
    target = seeded["public"][1]
    folder = tmp_path / "noprj"
    folder.mkdir()
    _write(_plan((target["lon"], target["lat"])), folder / "plan.shp")
    (folder / "plan.prj").unlink()
    zipped = _zip_shapefile(folder, tmp_path / "plan.zip")
    refused = runner.invoke(args=["import-layer", str(zipped), "--as", "development-areas", *MAPPING])
    assert refused.exit_code != 0 and "anger inget koordinatsystem" in refused.output and "declares no" in refused.output
    result = runner.invoke(args=["import-layer", str(zipped), "--as", "development-areas", "--crs", "EPSG:3008", *MAPPING])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.reading() as conn:
        assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]


def test_invalid_polygon_is_repaired_and_reported(app, runner, seeded, tmp_path):
    easting, northing = to_sweref(13.3500, 55.6650)
    bowtie = shapely.Polygon([(easting, northing), (easting + 100, northing + 100),
                              (easting + 100, northing), (easting, northing + 100)])
    frame = gpd.GeoDataFrame({"id": ["bow"], "name": ["Fluga"]}, geometry=[bowtie], crs=SWEREF99TM)
    path = _write(frame, tmp_path / "bowtie.geojson", driver="GeoJSON")
    result = runner.invoke(args=["import-layer", str(path), "--as", "development-areas"])
    assert result.exit_code == 0, result.output
    assert "repaired: feature 0: Self-intersection" in result.output and "Polygon -> MultiPolygon" in result.output
    with app.app_context():
        assert db.registry().areas().geometry.iloc[0].is_valid


def _points(tmp_path):
    frame = gpd.GeoDataFrame({"id": ["p"], "name": ["Punkt"]}, geometry=[shapely.Point(13.35, 55.665)], crs=WGS84)
    return _write(frame, tmp_path / "points.gpkg")


def _empty(tmp_path):
    frame = gpd.GeoDataFrame({"id": [], "name": []}, geometry=gpd.GeoSeries([], crs=PLAN_CRS))
    return _write(frame, tmp_path / "empty.gpkg", geometry_type="Polygon")


def _corrupt(tmp_path):
    path = tmp_path / "corrupt.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    return path


def _wrong_crs(tmp_path):
    plan = _plan((13.35, 55.665), crs=SWEREF99TM)  # coordinates in 3006, labelled 3008: about 100 km off
    return _write(plan.set_crs(PLAN_CRS, allow_override=True), tmp_path / "wrongcrs.gpkg")


def _metres_as_degrees(tmp_path):
    plan = _plan((13.35, 55.665), crs=SWEREF99TM).set_crs(WGS84, allow_override=True)
    return _write(plan, tmp_path / "metres.geojson", driver="GeoJSON")


def _no_name(tmp_path):
    return _write(_plan((13.35, 55.665)).drop(columns=["PLANNAMN"]), tmp_path / "noname.gpkg")


def _text(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("inte en karta")
    return path


def _big(tmp_path):
    return _write(_plan((13.35, 55.665)), tmp_path / "big.gpkg")


BAD_FILES = [
    (_corrupt, [], "kunde inte läsas"),
    (_points, [], "ska innehålla ytor"),
    (_empty, [], "inga objekt"),
    (_wrong_crs, [], "km från Dalby"),
    (_metres_as_degrees, [], "går inte att tolka"),
    (_no_name, ["--map", "id=PLAN_ID"], "--map name=KOLUMN"),
    (_text, [], "Filtypen .txt stöds inte"),
    (_big, ["--max-mb", "0"], "för stor"),
]


@pytest.mark.filterwarnings("ignore:GPKG. bad application_id:RuntimeWarning")
@pytest.mark.parametrize("make, options, message", BAD_FILES, ids=[
    "corrupt", "points", "empty", "wrong-crs", "metres-as-degrees", "no-name", "not-a-layer", "too-large"])
def test_bad_file_changes_nothing(app, runner, seeded, tmp_path, make, options, message):
    # A first good import, so "nothing changes" covers an existing override file too.
    target = seeded["public"][0]
    good = _write(_plan((target["lon"], target["lat"])), tmp_path / "good.gpkg")
    assert runner.invoke(args=["import-layer", str(good), "--as", "development-areas", *MAPPING]).exit_code == 0
    before = _state(app, target["public_id"])
    path = make(tmp_path)
    result = runner.invoke(args=["import-layer", str(path), "--as", "development-areas", *options])
    assert result.exit_code == 1, result.output
    assert message in result.output and " / " in result.output  # Swedish / English
    assert _state(app, target["public_id"]) == before
    with app.app_context():
        leftovers = [p.name for p in db.registry().override_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_unknown_target_layer_is_refused(runner, tmp_path):
    path = _write(_plan((13.35, 55.665)), tmp_path / "plan.gpkg")
    result = runner.invoke(args=["import-layer", str(path), "--as", "cykelvägar"])
    assert result.exit_code == 1 and "development-areas" in result.output


def test_admin_upload_page_imports_a_zipped_shapefile(app, client, seeded, tmp_path):
    target = seeded["public"][2]
    folder = tmp_path / "up"
    folder.mkdir()
    _write(_plan((target["lon"], target["lat"])), folder / "plan.shp")
    zipped = _zip_shapefile(folder, tmp_path / "plan.zip")
    admin = {"Authorization": f"Bearer {seeded['tokens']['admin']}"}
    assert client.get("/planner/layers", headers={"Authorization": f"Bearer {seeded['tokens']['planner']}"}).status_code == 403
    page = client.get("/planner/layers", headers=admin)
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    data = {"csrf_token": token, "layer": "development-areas", "mapping": "name=PLANNAMN\nid=PLAN_ID",
            "file": (zipped.open("rb"), "plan.zip")}
    response = client.post("/planner/layers", headers=admin, data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "joins recomputed" in response.get_data(as_text=True)
    with app.app_context(), db.reading() as conn:
        assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]
    no_token = client.post("/planner/layers", headers=admin, data={"layer": "development-areas"},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400
