"""Layer I/O: any declared CRS in, WGS84 out; RFC 7946 GeoJSON written."""

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
