"""geo.formats: files that are what their names say pass, in the shapes QGIS and GDAL write them; others are refused."""

from __future__ import annotations

import sqlite3
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


# ------------------------------------------------------------------ every refusal, word for word
def _refusal(path, max_unpacked=MB):
    with pytest.raises((WrongFormat, UnsafeFile, LayerTooComplex)) as caught:
        formats.inspect(path, max_unpacked)
    return type(caught.value).__name__, caught.value.messages["sv"], caught.value.messages["en"]


def _wrong(fmt, sv, en):
    return "WrongFormat", f"Filen kunde inte läsas som {fmt}: {sv}.", f"The file could not be read as {fmt}: {en}."


def _unsafe(fmt, sv, en):
    return "UnsafeFile", f"Filen tas inte emot som {fmt}: {sv}.", f"The file is not accepted as {fmt}: {en}."


def _geopackage_with(tmp_path, squares, *statements):
    path = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(squares, path, layer="plan")
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    return path


def test_a_name_without_a_known_suffix_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match=r"^no driver for the suffix '\.txt'; expected one of \['\.fgb', '\.geojson', "):
        formats.inspect(tmp_path / "plan.txt", MB)


def test_each_geopackage_refusal_says_what_is_wrong(tmp_path, squares):
    fmt = "GeoPackage"
    not_gpkg = tmp_path / "a.gpkg"
    not_gpkg.write_bytes(b"SQLite format 3\x00" + bytes(40))  # shorter than a header
    assert _refusal(not_gpkg) == _wrong(fmt, "innehållet är ingen GeoPackage", "its content is not a GeoPackage")
    plain = tmp_path / "b.gpkg"
    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert _refusal(plain) == _wrong(
        fmt, "det är en SQLite-databas men ingen GeoPackage", "it is an SQLite database but not a GeoPackage"
    )
    damaged = tmp_path / "c.gpkg"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(52) + b"GPKG" + bytes(28) + b"\xff" * 4000)
    assert _refusal(damaged) == _wrong(
        fmt, "filen är skadad eller saknar GeoPackage-tabellerna", "the file is damaged or lacks the GeoPackage tables"
    )
    (tmp_path / "d").mkdir()
    dangling = _geopackage_with(tmp_path / "d", squares, "DROP TABLE plan")
    assert _refusal(dangling) == _wrong(
        fmt, "innehållsförteckningen pekar på tabeller som inte finns", "its table of contents names tables that do not exist"
    )


@pytest.mark.parametrize(
    "statement, sv, en",
    [
        (
            "CREATE VIEW plan_view AS SELECT * FROM plan",
            "den innehåller vyer (SQL som körs när lagret läses)",
            "it contains views (SQL that runs when the layer is read)",
        ),
        (
            "CREATE VIRTUAL TABLE notes USING fts5(text)",
            "den innehåller virtuella tabeller som kan läsa andra källor",
            "it contains virtual tables that can read other sources",
        ),
        (
            "CREATE TRIGGER plan_spy AFTER INSERT ON plan BEGIN SELECT 1; END",
            "den innehåller triggers som inte hör till formatet",
            "it contains triggers that are not part of the format",
        ),
    ],
    ids=["view", "virtual table", "trigger"],
)
def test_a_geopackage_with_sql_of_its_own_is_refused_saying_which(tmp_path, squares, statement, sv, en):
    assert _refusal(_geopackage_with(tmp_path, squares, statement)) == _unsafe("GeoPackage", sv, en)


@pytest.mark.parametrize(
    "name, table",
    [
        ("rtree_plan_geom_insert", "plan"),
        ("rtree_plan_geom_update4", "plan"),
        ("rtree_plan_geom_delete", "plan"),
        ("trigger_insert_feature_count_plan", "plan"),
        ("trigger_delete_feature_count_plan", "plan"),
        ("gpkg_tile_matrix_zoom_level_insert", "gpkg_tile_matrix"),
        ("gpkg_metadata_md_scope_insert", "gpkg_metadata"),
        ("gpkg_metadata_reference_column_name_update", "gpkg_metadata_reference"),
    ],
)
def test_triggers_gdal_and_the_standard_write_are_recognised(name, table):
    assert formats._gdal_trigger(name, table)


@pytest.mark.parametrize(
    "name, table",
    [
        ("rtree_plan_geom_insert", "other"),
        ("rtree_plan_geom_spy", "plan"),
        ("xrtree_plan_geom_insert", "plan"),
        ("trigger_update_feature_count_plan", "plan"),
        ("trigger_insert_feature_count_plan", "other"),
        ("gpkg_tile_matrix_zoom_level_insert", "plan"),
        ("spy_gpkg_tile_matrix", "gpkg_tile_matrix"),
        ("gpkg_metadata_md_scope_insert", "plan"),
        ("spy", "gpkg_metadata"),
    ],
)
def test_other_triggers_are_not_taken_for_gdals(name, table):
    assert not formats._gdal_trigger(name, table)


@pytest.mark.parametrize(
    "content, sv, en",
    [
        (b"\xef\xbb\xbf{not json", "innehållet är inte JSON i UTF-8", "its content is not JSON in UTF-8"),
        (
            b'{"type": "Point"}',
            "överst ska en FeatureCollection eller Feature stå",
            "its top level must be a FeatureCollection or a Feature",
        ),
        (
            b'{"type": "FeatureCollection"}',
            "FeatureCollection saknar en lista features",
            "the FeatureCollection has no features list",
        ),
    ],
)
def test_each_geojson_refusal_says_what_is_wrong(tmp_path, content, sv, en):
    path = tmp_path / "plan.geojson"
    path.write_bytes(content)
    assert _refusal(path) == _wrong("GeoJSON", sv, en)


def test_geojson_with_a_byte_order_mark_or_a_single_feature_is_accepted(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps({"type": "Feature", "geometry": None, "properties": {}}))
    assert formats.inspect(path, MB) == formats.Source(path, "GeoJSON", ("plan",))


def test_a_geojson_crs_link_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "plan.geojson"
    path.write_bytes(orjson.dumps({"type": "Feature", "crs": {"type": "name", "properties": "EPSG:3006"}}))
    assert _refusal(path) == _unsafe(
        "GeoJSON",
        "medlemmen crs ska namnge ett koordinatsystem, inte länka till ett",
        "its crs member must name a coordinate reference system, not link to one",
    )


def _shapefile_parts(folder, squares, name="plan"):
    folder.mkdir(exist_ok=True)
    pyogrio.write_dataframe(squares, folder / f"{name}.shp")
    return {p.suffix: p for p in folder.iterdir()}


def test_each_shapefile_refusal_says_what_is_wrong(tmp_path, squares):
    parts = _shapefile_parts(tmp_path / "a", squares)
    parts[".dbf"].unlink()
    parts[".shx"].unlink()
    assert _refusal(parts[".shp"]) == _wrong(
        "Shapefile", ".shx, .dbf saknas bredvid .shp", ".shx, .dbf is missing beside the .shp"
    )
    parts = _shapefile_parts(tmp_path / "b", squares)
    parts[".shx"].write_bytes(b"\x00\x00\x27\x0b")
    assert _refusal(parts[".shp"]) == _wrong(
        "Shapefile", ".shp eller .shx är ingen shapefil", "the .shp or .shx is not a shapefile"
    )
    for head in (b"", b"\x01"):
        parts[".shx"].write_bytes(parts[".shp"].read_bytes()[:100])
        parts[".dbf"].write_bytes(head)
        assert _refusal(parts[".shp"]) == _wrong("Shapefile", ".dbf är ingen dBASE-tabell", "the .dbf is not a dBASE table")


def test_a_shapefile_beside_others_of_similar_names_is_read_with_its_own_parts(tmp_path, squares):
    parts = _shapefile_parts(tmp_path, squares, name="plan[1]")
    _shapefile_parts(tmp_path, squares.iloc[:1], name="plan[1].old")
    source = formats.inspect(parts[".shp"], MB)
    assert source == formats.Source(parts[".shp"], "ESRI Shapefile", ("plan[1]",))
    assert formats.open_layer(source, "plan[1]", tmp_path, MB) == (str(parts[".shp"].resolve()), None)


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in entries:
            archive.writestr(entry, data)
    return path


def _shapefile_entries(tmp_path, squares, prefix=""):
    parts = _shapefile_parts(tmp_path / "parts", squares)
    return [(f"{prefix}plan{suffix}", p.read_bytes()) for suffix, p in sorted(parts.items())]


def test_each_zip_refusal_says_what_is_wrong(tmp_path, squares):
    fmt = "Shapefile (zip)"
    entries = _shapefile_entries(tmp_path, squares)
    not_zip = tmp_path / "a.zip"
    not_zip.write_bytes(b"PK\x01\x02")
    assert _refusal(not_zip) == _wrong(fmt, "innehållet är ingen zip-fil", "its content is not a zip file")
    damaged = tmp_path / "b.zip"
    damaged.write_bytes(b"PK\x03\x04" + bytes(60))
    assert _refusal(damaged) == _wrong(fmt, "zip-filen är skadad", "the zip file is damaged")
    assert _refusal(_zip(tmp_path / "c.zip", [("readme.txt", b"x"), ("plan.dbf", b"x")])) == _wrong(
        fmt, "zip-filen innehåller ingen .shp", "the zip file holds no .shp"
    )
    assert _refusal(_zip(tmp_path / "d.zip", [e for e in entries if not e[0].endswith((".shx", ".dbf"))])) == _wrong(
        fmt,
        ".shx, .dbf saknas bredvid .shp i zip-filen",
        ".shx, .dbf is missing beside the .shp in the zip file",
    )
    assert _refusal(_zip(tmp_path / "e.zip", [*entries, ("other/PLAN.SHP", b"x"), ("plan.SHP", b"x")])) == _unsafe(
        fmt, "två filer i zip-filen har samma namn", "two entries in the zip file have the same name"
    )


def test_a_zip_with_more_entries_than_the_limit_is_refused_saying_how_many(tmp_path, squares):
    entries = _shapefile_entries(tmp_path, squares)
    entries += [(f"notes/{i}.txt", b"") for i in range(formats.MAX_ZIP_ENTRIES - len(entries))]
    assert len(entries) == formats.MAX_ZIP_ENTRIES  # exactly the limit is accepted
    assert formats.inspect(_zip(tmp_path / "a.zip", entries), 10 * MB).layers == ("plan",)
    assert _refusal(_zip(tmp_path / "b.zip", [*entries, ("one-more.txt", b"")]), 10 * MB) == (
        "LayerTooComplex",
        "Zip-filen har 101 filer; högst 100 tas emot. Zippa bara shapefilens delar.",
        "The zip file has 101 entries; at most 100 are accepted. Zip only the shapefile's parts.",
    )


def test_a_zip_unpacking_to_more_than_the_limit_is_refused_before_unpacking(tmp_path, squares):
    entries = _shapefile_entries(tmp_path, squares)
    size = sum(len(data) for _, data in entries)
    path = _zip(tmp_path / "plan.zip", entries)
    assert formats.inspect(path, size).layers == ("plan",)  # exactly the limit is accepted
    assert _refusal(path, size - 1)[0] == "LayerTooComplex"
    assert _refusal(_zip(tmp_path / "big.zip", [*entries, ("pad.bin", bytes(2_000_000))]), 1_500_000) == (
        "LayerTooComplex",
        "Zip-filen packas upp till mer än 2 MB, som är gränsen.",  # 1.5 MB, rounded to whole megabytes
        "The zip file unpacks to more than 2 MB, which is the limit.",
    )


@pytest.mark.parametrize(
    "name", ["../plan.shp", "a/../../plan.shp", "/plan.shp", "\\plan.shp", "C:plan.shp", "c:plan.shp", "a\\..\\plan.shp"]
)
def test_a_zip_entry_pointing_outside_its_folder_is_refused(tmp_path, name):
    info = zipfile.ZipInfo(name)
    assert pytest.raises(UnsafeFile, formats._check_entry, info).value.messages == {
        "sv": "Filen tas inte emot som Shapefile (zip): zip-filen har filer som pekar utanför sin mapp.",
        "en": "The file is not accepted as Shapefile (zip): the zip file has entries that point outside its folder.",
    }


def test_zip_entries_that_are_links_or_encrypted_are_refused(tmp_path):
    link = zipfile.ZipInfo("plan.shp")
    link.external_attr = 0o120777 << 16
    assert pytest.raises(UnsafeFile, formats._check_entry, link).value.messages == {
        "sv": "Filen tas inte emot som Shapefile (zip): zip-filen innehåller länkar.",
        "en": "The file is not accepted as Shapefile (zip): the zip file contains links.",
    }
    locked = zipfile.ZipInfo("plan.shp")
    locked.flag_bits |= 0x1
    assert pytest.raises(WrongFormat, formats._check_entry, locked).value.messages == {
        "sv": "Filen kunde inte läsas som Shapefile (zip): zip-filen är krypterad.",
        "en": "The file could not be read as Shapefile (zip): the zip file is encrypted.",
    }
    plain = zipfile.ZipInfo("folder..name/plan.shp")
    plain.external_attr = 0o100644 << 16
    formats._check_entry(plain)  # two dots inside a name are not a way out


def test_only_a_listed_layer_can_be_opened_and_a_prefixed_driver_names_its_path(tmp_path, squares):
    path = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(squares, path, layer="plan")
    source = formats.inspect(path, MB)
    assert formats.open_layer(source, "plan", tmp_path, MB) == (f"GPKG:{path.resolve()}", "plan")
    with pytest.raises(ValueError, match=r"^'other' is not a layer of this source$"):
        formats.open_layer(source, "other", tmp_path, MB)
    geojson = tmp_path / "plan.geojson"
    pyogrio.write_dataframe(squares, geojson, driver="GeoJSON")
    assert formats.open_layer(formats.inspect(geojson, MB), "plan", tmp_path, MB) == (f"GeoJSON:{geojson.resolve()}", None)


def test_a_zip_whose_parts_are_damaged_after_checking_is_refused_when_unpacked(tmp_path, squares):
    entries = _shapefile_entries(tmp_path, squares)
    path = _zip(tmp_path / "plan.zip", [(name, data if not name.endswith(".shx") else b"nope") for name, data in entries])
    source = formats.inspect(path, MB)
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with pytest.raises(WrongFormat) as caught:
        formats.open_layer(source, "plan", folder, MB)
    assert caught.value.messages["en"] == "The file could not be read as Shapefile: the .shp or .shx is not a shapefile."


def test_a_flatgeobuf_refusal_says_what_is_wrong(tmp_path):
    path = tmp_path / "plan.fgb"
    path.write_bytes(b"fgb\x02fgb\x00")
    assert _refusal(path) == _wrong("FlatGeobuf", "innehållet är ingen FlatGeobuf", "its content is not FlatGeobuf")


@pytest.mark.parametrize("crs", ["EPSG:3006", ["EPSG:3006"], 3006])
def test_a_geojson_crs_member_that_is_not_an_object_is_refused(tmp_path, crs):
    path = tmp_path / "plan.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "crs": crs, "features": []}))
    assert _refusal(path)[0] == "UnsafeFile"


def test_a_shown_name_of_exactly_the_limit_is_kept_whole():
    assert formats.shown("x" * 60) == "x" * 60 and formats.shown("x" * 61) == "x" * 59 + "…"


def test_an_empty_zip_is_a_zip_without_a_shapefile(tmp_path):
    assert _refusal(_zip(tmp_path / "empty.zip", [])) == _wrong(
        "Shapefile (zip)", "zip-filen innehåller ingen .shp", "the zip file holds no .shp"
    )


def test_a_zip_made_on_windows_names_its_layer_without_the_folder(tmp_path, squares):
    entries = [(name.replace("plan", "Export\\plan"), data) for name, data in _shapefile_entries(tmp_path, squares)]
    assert formats.inspect(_zip(tmp_path / "plan.zip", entries), MB).layers == ("plan",)


def test_unpacking_counts_every_byte_against_the_limit(tmp_path, squares):
    entries = _shapefile_entries(tmp_path, squares)
    total = sum(len(data) for _, data in entries)
    path = _zip(tmp_path / "plan.zip", entries)
    source = formats.inspect(path, total)
    for limit, fits in ((total, True), (total - 1, False)):
        folder = tmp_path / f"unpacked-{limit}"
        folder.mkdir()
        if fits:
            assert formats.open_layer(source, "plan", folder, limit) == (str(folder / "layer.shp"), None)
        else:
            with pytest.raises(LayerTooComplex):
                formats.open_layer(source, "plan", folder, limit)


def test_a_zip_whose_packed_data_is_damaged_is_refused_when_unpacked(tmp_path, squares):
    path = tmp_path / "plan.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in _shapefile_entries(tmp_path, squares):
            archive.writestr(name, data * 20)
    source = formats.inspect(path, 10 * MB)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"plan.dbf") + len("plan.dbf")
    raw[start + 20 : start + 60] = bytes(40)  # inside the .dbf's packed data
    path.write_bytes(bytes(raw))
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with pytest.raises(WrongFormat) as caught:
        formats.open_layer(source, "plan", folder, 10 * MB)
    assert caught.value.messages == {
        "sv": "Filen kunde inte läsas som Shapefile (zip): zip-filen är skadad.",
        "en": "The file could not be read as Shapefile (zip): the zip file is damaged.",
    }
