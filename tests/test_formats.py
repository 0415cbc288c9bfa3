"""geo.formats: files that are what their names say pass, in the shapes QGIS and GDAL write them; others are refused."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import orjson
import pyogrio
import pytest
import shapely

from dialogkarta.geo import formats
from dialogkarta.geo.errors import LayerTooComplex, UnsafeFile, WrongFormat
from dialogkarta.geo.io import read_source
from tests.conftest import metric_frame

MB = 1024 * 1024


@pytest.fixture
def squares():
    return metric_frame([shapely.box(0, 0, 100, 100), shapely.box(50, 0, 150, 100)], id=["A", "B"], name=["Åsen", "Bäcken"])


def _read(path, layer=None, folder=None):
    source = formats.inspect(path, 10 * MB)
    location, gdal_layer = formats.open_layer(source, layer or source.layers[0], folder or path.parent, 10 * MB)
    return source, read_source(location, source.driver, gdal_layer, 1000, 10_000)


@pytest.mark.parametrize(
    "suffix, driver",
    [(".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".json", "GeoJSON"), (".fgb", "FlatGeobuf"), (".shp", "ESRI Shapefile")],
)
def test_each_format_as_gdal_writes_it_is_read_by_its_own_driver(tmp_path, squares, suffix, driver):
    path = tmp_path / f"plan{suffix}"
    pyogrio.write_dataframe(squares, path, driver=driver)
    source, frame = _read(path)
    assert source.driver == driver and sorted(frame["id"]) == ["A", "B"] and frame.crs.to_epsg() == 3006


def test_a_zipped_shapefile_in_a_folder_with_macos_extras_is_unpacked_under_fixed_names(tmp_path, squares):
    parts = tmp_path / "parts"
    parts.mkdir()
    pyogrio.write_dataframe(squares, parts / "Detaljplan.shp", encoding="UTF-8")
    path = tmp_path / "plan.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in parts.iterdir():
            archive.write(part, f"Export/{part.name.replace('.shp', '.SHP')}")
            archive.writestr(f"__MACOSX/Export/._{part.name}", b"\x00\x05\x16\x07")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    source, frame = _read(path, folder=unpacked)
    assert source.layers == ("Detaljplan",) and list(frame["name"]) == ["Åsen", "Bäcken"]
    assert sorted(p.name for p in unpacked.iterdir()) == ["layer.cpg", "layer.dbf", "layer.prj", "layer.shp", "layer.shx"]


def test_a_geopackage_keeps_the_triggers_and_rtree_gdal_writes_and_lists_only_feature_layers(tmp_path, squares):
    path = tmp_path / "plans.gpkg"
    pyogrio.write_dataframe(squares, path, layer="plan_a")
    pyogrio.write_dataframe(squares.iloc[:1], path, layer="plan_b")
    pyogrio.write_dataframe(gpd.pd.DataFrame({"note": ["x"]}), path, layer="notes")  # an attribute table
    source = formats.inspect(path, 10 * MB)
    assert sorted(source.layers) == ["plan_a", "plan_b"]
    _, frame = _read(path, layer="plan_b")
    assert list(frame["id"]) == ["A"]


@pytest.mark.parametrize(
    "crs, accepted",
    [
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3008"}}, True),
        ({"type": "link", "properties": {"href": "http://127.0.0.1:9/crs", "type": "proj4"}}, False),
        ({"type": "name", "properties": {"name": "http://127.0.0.1:9/crs.wkt"}}, False),
        ({"type": "name", "properties": {"name": "/etc/crs.wkt"}}, False),
        ({"type": "name", "properties": {"name": "crs.wkt"}}, False),  # a file in GDAL's working folder
        ({"type": "name", "properties": {"name": "EPSG:3006"}}, True),
    ],
)
def test_a_geojson_crs_member_may_name_a_system_but_not_point_at_one(tmp_path, crs, accepted):
    path = tmp_path / "plan.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "crs": crs, "features": []}))
    if accepted:
        assert formats.inspect(path, MB).driver == "GeoJSON"
    else:
        with pytest.raises(UnsafeFile, match="crs"):
            formats.inspect(path, MB)


@pytest.mark.parametrize("content", [b"[1, 2]", b'{"type": "Point", "coordinates": [13, 55]}', b"<xml/>", b""])
def test_geojson_must_be_a_feature_or_collection(tmp_path, content):
    path = tmp_path / "plan.geojson"
    path.write_bytes(content)
    with pytest.raises(WrongFormat, match="GeoJSON"):
        formats.inspect(path, MB)


@pytest.mark.parametrize(
    "suffix, content, claimed",
    [
        (".fgb", b"PK\x03\x04 not flatgeobuf", "FlatGeobuf"),
        (".gpkg", b"fgb\x03fgb\x00", "GeoPackage"),
        (".zip", b"SQLite format 3\x00" + bytes(100), "Shapefile"),
        (".shp", b"<OGRVRTDataSource/>", "Shapefile"),
    ],
)
def test_content_of_another_format_is_refused_as_the_format_named(tmp_path, suffix, content, claimed):
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(content)
    for part in (".shx", ".dbf"):
        (tmp_path / f"plan{part}").write_bytes(content)
    with pytest.raises(WrongFormat, match=f"läsas som {claimed}"):
        formats.inspect(path, MB)


def test_unpacking_stops_at_the_limit_even_when_the_zip_understates_sizes(tmp_path, squares):
    parts = tmp_path / "parts"
    parts.mkdir()
    pyogrio.write_dataframe(squares, parts / "plan.shp")
    path = tmp_path / "plan.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in parts.iterdir():
            archive.write(part, part.name)
    source = formats.inspect(path, 10 * MB)
    with pytest.raises(LayerTooComplex, match="packas upp"):
        formats.open_layer(source, "plan", tmp_path, max_unpacked=100)  # fewer bytes than the parts hold


def test_a_shown_name_has_no_control_or_direction_characters_and_a_bounded_length():
    assert formats.shown("plan\u202e\x1b[31m") == "plan??[31m"
    assert len(formats.shown("x" * 1000)) == 60
