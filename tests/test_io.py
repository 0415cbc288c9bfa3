"""Layer I/O: any declared CRS in, WGS84 out; RFC 7946 GeoJSON written."""

import io
import re

import geopandas as gpd
import orjson
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99_1330, WGS84
from dialogkarta.geo.errors import MissingCRS, UnreadableLayer
from dialogkarta.geo.io import read_layer, write_geojson
from tests.conftest import metric_frame


def test_a_layer_in_the_local_zone_is_read_as_wgs84_within_a_centimetre(tmp_path, two_squares):
    path = tmp_path / "plan.gpkg"
    two_squares.to_crs(SWEREF99_1330).to_file(path, driver="GPKG")
    frame = read_layer(path)
    assert frame.crs.to_epsg() == 4326
    back = frame.to_crs("EPSG:3006").geometry
    assert back.geom_equals_exact(two_squares.geometry, tolerance=0.01).all()


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_file_without_a_crs_is_refused_unless_one_is_given(tmp_path, two_squares):
    # A Shapefile without its .prj: GeoJSON cannot lack a CRS (RFC 7946 says WGS84).
    path = tmp_path / "nocrs.shp"
    pyogrio.write_dataframe(two_squares.to_crs(SWEREF99_1330).set_crs(None, allow_override=True), path)
    with pytest.raises(MissingCRS, match="EPSG:3008"):
        read_layer(path)
    assert read_layer(path, crs="EPSG:3008").crs.to_epsg() == 4326


def test_a_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage at all")
    with pytest.raises(UnreadableLayer, match="broken.gpkg"):
        read_layer(path)


def test_geojson_is_written_per_rfc_7946(tmp_path, two_squares):
    clockwise = two_squares.copy()
    clockwise.geometry = shapely.orient_polygons(clockwise.geometry.to_numpy(), exterior_cw=True)
    path = write_geojson(clockwise.to_crs(SWEREF99_1330), tmp_path / "areas.geojson")
    data = orjson.loads(path.read_bytes())
    assert "crs" not in data
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw  # exterior counter-clockwise
    assert all(len(repr(c).split(".")[1]) <= 7 for point in ring for c in point)  # at most 7 decimals
    assert data["features"][0]["id"] == "A"
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert back.to_crs("EPSG:3006").geometry.geom_equals_exact(two_squares.geometry, tolerance=0.02).all()


def test_points_round_trip_in_wgs84(tmp_path):
    points = metric_frame([shapely.Point(10, 20)], crs=WGS84, id=["p"])
    back = read_layer(write_geojson(points, tmp_path / "p.geojson"))
    assert back.geometry[0].equals_exact(points.geometry[0], tolerance=1e-7)


# --------------------------------------------------------------- reading files from outside (issue 9)
def _nothing_connected(listener) -> bool:
    try:
        connection, _address = listener.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gdal_offline_keeps_gdal_from_connecting_anywhere(monkeypatch):
    import socket

    from dialogkarta.geo.io import gdal_offline

    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "1")  # the control below waits for no answer
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        sources = [f"/vsicurl/http://127.0.0.1:{port}/a.geojson", f"OAPIF:http://127.0.0.1:{port}/ogc"]
        for source in sources:
            with gdal_offline(), pytest.raises(Exception):  # noqa: B017 - GDAL raises several kinds; none may connect
                pyogrio.read_dataframe(source)
        assert _nothing_connected(listener)
        with pytest.raises(Exception):  # noqa: B017 - the control: outside the block GDAL does connect
            pyogrio.read_dataframe(f"/vsicurl/http://127.0.0.1:{port}/b.geojson")
        assert not _nothing_connected(listener)


def test_drivers_that_follow_other_sources_are_not_registered(tmp_path):
    import dialogkarta

    assert set(dialogkarta.GDAL_SKIP) & set(pyogrio.list_drivers()) == set()
    vrt = tmp_path / "x.vrt"
    vrt.write_text(
        f"<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>{tmp_path}</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
    )
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(vrt)


def test_read_source_refuses_a_file_gdal_opens_with_another_driver(tmp_path, two_squares):
    from dialogkarta.geo.errors import WrongFormat
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plan.geojson"
    two_squares.to_file(path, driver="GeoJSON")
    with pytest.raises(WrongFormat):
        read_source(str(path), "FlatGeobuf", None, 100, 100)
    assert len(read_source(str(path), "GeoJSON", None, 100, 100)) == 2


def test_read_source_refuses_more_vertices_than_the_limit_before_any_repair(tmp_path, two_squares):
    from dialogkarta.geo.errors import LayerTooComplex
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plan.gpkg"
    two_squares.to_file(path, driver="GPKG")
    with pytest.raises(LayerTooComplex, match="10 hörnpunkter; högst 9"):
        read_source(f"GPKG:{path}", "GPKG", None, 100, 9)
    with pytest.raises(LayerTooComplex, match="2 objekt; högst 1"):
        read_source(f"GPKG:{path}", "GPKG", None, 1, 100)


def test_a_frame_with_only_geometry_still_gives_every_feature(two_squares):
    from dialogkarta.geo.io import frame_to_features

    features = frame_to_features(two_squares[[two_squares.geometry.name]], id_column=None)
    assert len(features) == len(two_squares)
    assert all(f["properties"] == {} and f["geometry"]["type"] == "Polygon" for f in features)


# ------------------------------------------------------------------ exact texts, limits and the writers' details
def test_read_source_accepts_exactly_the_limits_and_words_each_refusal(tmp_path, two_squares):
    from dialogkarta.geo.errors import LayerTooComplex
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plan.gpkg"
    two_squares.to_file(path, driver="GPKG")
    assert len(read_source(f"GPKG:{path}", "GPKG", None, 2, 10)) == 2
    with pytest.raises(LayerTooComplex) as caught:
        read_source(f"GPKG:{path}", "GPKG", None, 100, 9)
    assert caught.value.messages == {
        "sv": "Lagret har 10 hörnpunkter; högst 9 tas emot. Förenkla geometrierna "
        "(t.ex. QGIS: Vektor > Geometriverktyg > Förenkla) eller dela upp lagret.",
        "en": "The layer has 10 vertices; at most 9 are accepted. Simplify the geometries "
        "(e.g. QGIS: Vector > Geometry Tools > Simplify) or split the layer.",
    }
    with pytest.raises(LayerTooComplex) as caught:
        read_source(f"GPKG:{path}", "GPKG", None, 1, 100)
    assert caught.value.messages == {
        "sv": "Lagret har 2 objekt; högst 1 tas emot.",
        "en": "The layer has 2 features; at most 1 are accepted.",
    }


def test_large_numbers_in_a_limit_message_are_grouped_by_thousands(monkeypatch):
    from dialogkarta.geo import io
    from dialogkarta.geo.errors import LayerTooComplex

    with pytest.raises(LayerTooComplex) as caught:
        io._check_features(1_234_567, 100_000)
    assert caught.value.messages["sv"] == "Lagret har 1 234 567 objekt; högst 100 000 tas emot."
    assert caught.value.messages["en"] == "The layer has 1,234,567 features; at most 100,000 are accepted."


def test_a_file_gdal_reads_in_another_format_or_not_at_all_is_refused_without_quoting_gdal(tmp_path, two_squares):
    from dialogkarta.geo.errors import WrongFormat
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plan.geojson"
    two_squares.to_file(path, driver="GeoJSON")
    with pytest.raises(WrongFormat) as caught:
        read_source(str(path), "GPKG", None, 100, 100)
    assert caught.value.messages == {
        "sv": "Filen kunde inte läsas i sitt format.",
        "en": "The file could not be read in its format.",
    }
    broken = tmp_path / "broken.fgb"
    broken.write_bytes(b"fgb\x03fgb\x00" + bytes(100))
    with pytest.raises(UnreadableLayer) as caught:
        read_source(str(broken), "FlatGeobuf", None, 100, 100)
    assert type(caught.value) is UnreadableLayer
    assert caught.value.messages == {
        "sv": "Filen kunde inte läsas som ett geografiskt lager.",
        "en": "The file could not be read as a geographic layer.",
    }


def test_attributes_that_are_not_utf8_are_refused_with_advice(tmp_path, two_squares):
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plan.shp"
    pyogrio.write_dataframe(two_squares.assign(name=["Åsen", "Bäcken"]), path, encoding="latin1")
    path.with_suffix(".cpg").write_text("UTF-8")  # a .cpg that claims UTF-8 for Latin-1 text
    with pytest.raises(UnreadableLayer) as caught:
        read_source(str(path), "ESRI Shapefile", None, 100, 100)
    assert caught.value.messages == {
        "sv": "Texten i filens attribut är inte giltig UTF-8. Spara om lagret som UTF-8 (en Shapefile kan ange "
        "sin teckenkodning i en .cpg-fil).",
        "en": "Text in the file's attributes is not valid UTF-8. Save the layer again as UTF-8 (a Shapefile can "
        "state its encoding in a .cpg file).",
    }


def test_gdal_offline_restores_the_options_it_changed():
    from dialogkarta.geo.io import NETWORK_OFF, gdal_offline

    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "7"})
    try:
        with gdal_offline():
            inside = {name: pyogrio.get_gdal_config_option(name) for name in NETWORK_OFF}
        assert inside == {
            "GDAL_HTTP_PROXY": "network-off://",
            "GDAL_HTTPS_PROXY": "network-off://",
            "GDAL_HTTP_CONNECTTIMEOUT": 1,
            "GDAL_HTTP_TIMEOUT": 1,
            "GDAL_HTTP_MAX_RETRY": 0,
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".network-off",
            "PROJ_NETWORK": False,  # pyogrio reads OFF as a boolean
        }
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_TIMEOUT") == 7
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") is None
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": None})


def test_read_layer_names_the_file_it_could_not_read(tmp_path, two_squares):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage at all")
    with pytest.raises(UnreadableLayer) as caught:
        read_layer(path)
    assert caught.value.messages == {
        "sv": "Filen broken.gpkg kunde inte läsas som ett geografiskt lager.",
        "en": "The file broken.gpkg could not be read as a geographic layer.",
    }


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_file_without_a_crs_is_refused_in_both_languages(tmp_path, two_squares):
    path = tmp_path / "nocrs.shp"
    pyogrio.write_dataframe(two_squares.set_crs(None, allow_override=True), path)
    with pytest.raises(MissingCRS) as caught:
        read_layer(path)
    assert caught.value.messages == {
        "sv": "Filen nocrs.shp anger inget koordinatsystem. Ange det (t.ex. EPSG:3008).",
        "en": "The file nocrs.shp declares no coordinate reference system. State it (e.g. EPSG:3008).",
    }


def test_read_layer_reads_the_named_layer_of_a_geopackage(tmp_path, two_squares):
    path = tmp_path / "plans.gpkg"
    two_squares.to_file(path, layer="first", driver="GPKG")
    two_squares.iloc[1:].to_file(path, layer="second", driver="GPKG")
    assert list(read_layer(path, layer="second")["id"]) == ["B"]


def test_a_feature_has_its_id_only_when_given_and_rounds_to_the_decimals_asked():
    from dialogkarta.geo.io import feature_dict

    point = shapely.Point(13.123456789, 55.987654321)
    assert feature_dict(point, {"a": 1}) == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [13.1234568, 55.9876543]},
        "properties": {"a": 1},
    }
    assert feature_dict(point, {}, feature_id=0, decimals=2)["id"] == 0
    assert feature_dict(point, {}, decimals=2)["geometry"]["coordinates"] == [13.12, 55.99]
    assert feature_dict(shapely.Point(), {})["geometry"] is None and feature_dict(None, {})["geometry"] is None
    line = feature_dict(shapely.LineString([(1, 2), (3.123456789, 4)]), {})["geometry"]
    assert line == {"type": "LineString", "coordinates": [[1.0, 2.0], [3.1234568, 4.0]]}


def test_features_take_their_id_from_the_named_column_and_keep_properties_as_json(two_squares):
    from dialogkarta.geo.io import frame_to_features

    frame = two_squares.assign(when=gpd.pd.to_datetime(["2026-01-02", "2026-03-04"]), label=["Å", "B"])
    features = frame_to_features(frame, id_column="label")
    assert [f["id"] for f in features] == ["Å", "B"]
    assert features[0]["properties"] == {"id": "A", "name": "Area A", "when": "2026-01-02T00:00:00.000", "label": "Å"}
    assert "id" not in frame_to_features(frame, id_column=None)[0]
    assert "id" not in frame_to_features(frame, id_column="missing")[0]


def test_a_geometry_without_a_crs_is_taken_as_wgs84_and_oriented():
    from dialogkarta.geo.io import rfc7946_geometry

    clockwise = gpd.GeoSeries([shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])])
    oriented = rfc7946_geometry(clockwise)
    assert oriented.crs == WGS84 and oriented[0].exterior.is_ccw and oriented[0].equals(clockwise[0])


def test_a_geopackage_is_written_in_the_crs_asked_with_its_description(tmp_path, two_squares):
    from dialogkarta.geo.io import write_gpkg

    path = write_gpkg(two_squares, tmp_path / "out.gpkg", "areas", crs="EPSG:3008", description="Områden")
    assert path == tmp_path / "out.gpkg"
    assert pyogrio.read_info(path, layer="areas")["crs"] == "EPSG:3008"
    assert pyogrio.read_info(path, layer="areas")["layer_metadata"]["DESCRIPTION"] == "Områden"
    write_gpkg(two_squares.iloc[:1], path, "areas")  # written again, in the default SWEREF 99 TM, without a description
    info = pyogrio.read_info(path, layer="areas")
    assert info["crs"] == "EPSG:3006" and info["features"] == 1 and not (info["layer_metadata"] or {}).get("DESCRIPTION")


def test_a_layer_held_as_geopackage_bytes_reads_back_in_wgs84(two_squares):
    from dialogkarta.geo.io import gpkg_bytes, read_gpkg_bytes

    data = gpkg_bytes(two_squares, "areas")
    assert data.startswith(b"SQLite format 3\x00")
    back = read_gpkg_bytes(data)
    assert back.crs.to_epsg() == 4326 and list(back["id"]) == ["A", "B"]
    assert back.to_crs("EPSG:3006").geometry.geom_equals_exact(two_squares.geometry, tolerance=0.01).all()


def test_what_gdal_could_not_read_is_logged_for_the_operator_without_content(tmp_path, caplog):
    from dialogkarta.geo.io import read_source

    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage at all")
    with caplog.at_level("INFO", logger="dialogkarta.geo.io"), pytest.raises(UnreadableLayer):
        read_layer(path)
    assert caplog.records[-1].getMessage().startswith(f"GDAL could not read {path}: ")
    assert isinstance(caplog.records[-1].args[-1], Exception)  # GDAL's own words, for the operator only
    broken = tmp_path / "broken.fgb"
    broken.write_bytes(b"fgb\x03fgb\x00" + bytes(100))
    with caplog.at_level("INFO", logger="dialogkarta.geo.io"), pytest.raises(UnreadableLayer):
        read_source(str(broken), "FlatGeobuf", None, 100, 100)
    assert re.fullmatch(r"GDAL could not read an imported file: \w+Error", caplog.records[-1].getMessage())  # its kind only


def test_the_limits_apply_to_the_layer_asked_for(tmp_path, two_squares):
    from dialogkarta.geo.errors import LayerTooComplex
    from dialogkarta.geo.io import read_source

    path = tmp_path / "plans.gpkg"
    two_squares.iloc[:1].to_file(path, layer="small", driver="GPKG")
    two_squares.to_file(path, layer="large", driver="GPKG")
    assert len(read_source(f"GPKG:{path}", "GPKG", "small", 1, 100)) == 1
    with pytest.raises(LayerTooComplex, match="2 objekt; högst 1"):
        read_source(f"GPKG:{path}", "GPKG", "large", 1, 100)


def test_a_vertex_count_in_the_thousands_is_grouped_in_both_languages(tmp_path):
    from dialogkarta.geo.errors import LayerTooComplex
    from dialogkarta.geo.io import read_source

    round_area = metric_frame([shapely.Point(0, 0).buffer(100, quad_segs=400)], id=["round"])
    vertices = int(shapely.get_num_coordinates(round_area.geometry.to_numpy()).sum())
    path = tmp_path / "round.gpkg"
    round_area.to_file(path, driver="GPKG")
    with pytest.raises(LayerTooComplex) as caught:
        read_source(f"GPKG:{path}", "GPKG", None, 10, 1000)
    assert caught.value.messages["sv"].startswith(
        f"Lagret har {vertices // 1000} {vertices % 1000:03d} hörnpunkter; högst 1 000 tas emot."
    )
    assert caught.value.messages["en"].startswith(f"The layer has {vertices:,} vertices; at most 1,000 are accepted.")


def test_geojson_output_is_a_feature_collection_keeping_ids_unless_told_not_to(two_squares):
    from dialogkarta.geo.io import frame_to_features, frame_to_geojson, rfc7946_geometry

    data = orjson.loads(frame_to_geojson(two_squares))
    assert data["type"] == "FeatureCollection" and [f["id"] for f in data["features"]] == ["A", "B"]
    assert all("id" not in f for f in orjson.loads(frame_to_geojson(two_squares, id_column=None))["features"])
    assert [f["id"] for f in frame_to_features(two_squares)] == ["A", "B"]
    assert list(rfc7946_geometry(two_squares.set_axis(["a", "b"]).geometry).index) == ["a", "b"]


@pytest.mark.filterwarnings("ignore:The filename extension should be 'gpkg'", "ignore:.*non conformant file extension")
def test_a_geopackage_is_written_whatever_the_files_name(tmp_path, two_squares):
    from dialogkarta.geo.io import gpkg_bytes, write_gpkg

    path = write_gpkg(two_squares, tmp_path / "areas.bin", "areas")
    assert pyogrio.read_info(path, layer="areas")["driver"] == "GPKG"
    assert pyogrio.list_layers(io.BytesIO(gpkg_bytes(two_squares, "areas")))[0][0] == "areas"


def test_geopackage_bytes_read_back_without_a_warning(two_squares):
    import warnings

    from dialogkarta.geo.io import gpkg_bytes, read_gpkg_bytes

    data = gpkg_bytes(two_squares, "areas")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_gpkg_bytes(data)) == 2
