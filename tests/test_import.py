"""Importing planners' layers: any declared CRS, repairs reported, joins recomputed, bad files change nothing,
a file with several layers never guessed."""

from __future__ import annotations

import tempfile
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, WGS84, to_sweref
from dialogkarta.layers import export, layer_import, layer_store, store
from tests.live import seed
from dialogkarta.webmap import db

CM = 0.01
PLAN_CRS = "EPSG:3008"


@pytest.fixture
def seeded(app):
    return seed(app, count=3)


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """The system's temporary folder, private to the test, so leftovers can be counted."""
    folder = tmp_path / "systemtmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _plan(around, crs=PLAN_CRS, half=150.0, **columns) -> gpd.GeoDataFrame:
    """A square plan area of ``2 * half`` metres centred on WGS84 ``around``, in ``crs``, shapefile-style columns."""
    easting, northing = to_sweref(*around)
    square = shapely.box(easting - half, northing - half, easting + half, northing + half)
    frame = gpd.GeoDataFrame(
        {"PLAN_ID": ["plan-ny"], "PLANNAMN": ["Nya planen åäö"], "status": ["detailed_plan"], **columns},
        geometry=[square],
        crs=SWEREF99TM,
    )
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
    """What a bad import must not change: the stored layer versions, the areas and a proposal's joins."""
    with app.app_context():
        registry = db.registry()
        with db.reading() as conn:
            joins = store.get_proposal(conn, proposal_id)["area_ids"]
            versions = [(v["layer"], v["version"]) for v in layer_store.history(conn)]
        return (versions, sorted(registry.areas()["id"]), joins)


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
    assert "-> version 1" in result.output and "previous version kept: medföljande / bundled" in result.output
    with app.app_context():
        registry = db.registry()
        assert registry.current_version("development-areas") == 1
        assert list(registry.areas()["id"]) == ["plan-ny"]
        with db.reading() as conn:
            assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]
            assert store.get_proposal(conn, seeded["public"][2]["public_id"])["area_ids"] == []
    second = runner.invoke(args=["import-layer", str(gpkg), "--as", "development-areas", *MAPPING])
    assert second.exit_code == 0, second.output
    assert "previous version kept: version 1" in second.output
    with app.app_context(), db.reading() as conn:
        history = layer_store.history(conn, "development-areas")
        assert [v["version"] for v in history] == [2, 1] and history[0]["source_name"] == "plan.gpkg"
        first = layer_store.decode(layer_store.payload(conn, "development-areas", 1))
    assert list(first["id"]) == ["plan-ny"] and first.crs == gpd.GeoSeries([], crs=WGS84).crs


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
    bowtie = shapely.Polygon(
        [(easting, northing), (easting + 100, northing + 100), (easting + 100, northing), (easting, northing + 100)]
    )
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
@pytest.mark.parametrize(
    "make, options, message",
    BAD_FILES,
    ids=["corrupt", "points", "empty", "wrong-crs", "metres-as-degrees", "no-name", "not-a-layer", "too-large"],
)
def test_bad_file_changes_nothing(app, runner, seeded, tmp_path, private_tmp, make, options, message):
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
    assert list(private_tmp.iterdir()) == []  # no unpacked or copied file left behind


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
    data = {
        "csrf_token": token,
        "layer": "development-areas",
        "mapping": "name=PLANNAMN\nid=PLAN_ID",
        "file": (zipped.open("rb"), "plan.zip"),
    }
    response = client.post("/planner/layers", headers=admin, data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "joins recomputed" in response.get_data(as_text=True)
    with app.app_context(), db.reading() as conn:
        assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]
    no_token = client.post(
        "/planner/layers", headers=admin, data={"layer": "development-areas"}, content_type="multipart/form-data"
    )
    assert no_token.status_code == 400


# ------------------------------------------------------------- a file with several layers (issue 9, item 2)
def test_our_export_all_file_imports_its_development_areas_not_the_first_layer(app, runner, seeded, tmp_path):
    with app.app_context():
        registry = db.registry()
        exported = tmp_path / "dalby-all.gpkg"
        export.write_gpkg_export(db.engine(), registry, exported, audience=export.PLANNER)
        bundled_areas = sorted(registry.areas()["id"])
    tables = [name for name, _kind in pyogrio.list_layers(exported)]
    assert tables.index("locality") < tables.index("development_areas")  # the first layer is not the one wanted
    result = runner.invoke(args=["import-layer", str(exported), "--as", "development-areas"])
    assert result.exit_code == 0, result.output
    assert "layer in the file: development_areas" in result.output
    with app.app_context():
        assert sorted(db.registry().areas()["id"]) == bundled_areas


def _two_plans(tmp_path, around):
    path = tmp_path / "plans.gpkg"
    _write(_plan(around), path, layer="plan_a")
    _write(_plan(around, half=60.0).assign(PLAN_ID="plan-b"), path, layer="plan_b")
    return path


def test_a_file_with_several_layers_and_none_named_like_the_target_is_refused_with_the_list(app, runner, seeded, tmp_path):
    target = seeded["public"][0]
    before = _state(app, target["public_id"])
    path = _two_plans(tmp_path, (target["lon"], target["lat"]))
    result = runner.invoke(args=["import-layer", str(path), "--as", "development-areas", *MAPPING])
    assert result.exit_code == 1, result.output
    assert "2 lager" in result.output and "plan_a, plan_b" in result.output and "--layer" in result.output
    assert _state(app, target["public_id"]) == before
    unknown = runner.invoke(args=["import-layer", str(path), "--as", "development-areas", "--layer", "plan_c", *MAPPING])
    assert unknown.exit_code == 1 and "plan_a, plan_b" in unknown.output
    chosen = runner.invoke(args=["import-layer", str(path), "--as", "development-areas", "--layer", "plan_b", *MAPPING])
    assert chosen.exit_code == 0, chosen.output
    with app.app_context():
        assert list(db.registry().areas()["id"]) == ["plan-b"]


def test_upload_page_offers_the_layers_of_a_file_with_several(app, client, seeded, tmp_path):
    target = seeded["public"][1]
    path = _two_plans(tmp_path, (target["lon"], target["lat"]))
    admin = {"Authorization": f"Bearer {seeded['tokens']['admin']}"}
    token = (
        client.get("/planner/layers", headers=admin).get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    )
    form = {"csrf_token": token, "layer": "development-areas", "mapping": "name=PLANNAMN\nid=PLAN_ID"}
    refused = client.post(
        "/planner/layers",
        headers=admin,
        content_type="multipart/form-data",
        data={**form, "file": (path.open("rb"), "plans.gpkg")},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<select id="source_layer" name="source_layer"' in page
    assert '<option value="plan_a">' in page and '<option value="plan_b">' in page
    chosen = client.post(
        "/planner/layers",
        headers=admin,
        content_type="multipart/form-data",
        data={**form, "source_layer": "plan_a", "file": (path.open("rb"), "plans.gpkg")},
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    with app.app_context(), db.reading() as conn:
        assert store.get_proposal(conn, target["public_id"])["area_ids"] == ["plan-ny"]


def test_work_folders_a_killed_upload_left_are_removed_at_start_but_not_a_running_one(tmp_path):
    import os
    import time

    workdir = tmp_path / "layers"
    stale, running, other = workdir / ".upload-stale", workdir / ".import-running", workdir / "keep"
    for folder in (stale, running, other):
        folder.mkdir(parents=True)
    hours_ago = time.time() - 7 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    assert layer_import.remove_stale_work(workdir) == 1
    assert sorted(p.name for p in workdir.iterdir()) == [".import-running", "keep"]


def test_a_layer_file_an_earlier_release_imported_is_served_from_the_store_after_the_upgrade(tmp_path):
    from dialogkarta.webmap.app import create_app

    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "upgrade",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'upgrade.sqlite'}",
    }
    legacy = tmp_path / "instance" / "layers" / "development-areas.gpkg"
    legacy.parent.mkdir(parents=True)
    _plan((13.35, 55.665)).rename(columns={"PLAN_ID": "id", "PLANNAMN": "name"}).to_crs(WGS84).to_file(legacy, driver="GPKG")
    app = create_app(config)
    with app.app_context():
        assert db.registry().current_version("development-areas") == 1
        assert list(db.registry().areas()["id"]) == ["plan-ny"]
    assert create_app(config) and legacy.exists()  # a second start adopts nothing more and deletes nothing
    with app.app_context(), db.reading() as conn:
        assert [v["version"] for v in layer_store.history(conn)] == [1]
