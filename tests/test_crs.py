"""Coordinate systems: WGS84 for storage, SWEREF 99 TM for metres, EPSG:3008 accepted."""

import geopandas as gpd
import pytest
import shapely

from dialogkarta.geo.crs import (
    SWEREF99_1330,
    SWEREF99TM,
    WGS84,
    UnknownCRS,
    metric_xy,
    parse_crs,
    to_metric,
    to_sweref,
    to_wgs84,
    to_wgs84_xy,
    transform_xy,
    transformer,
    valid_bounds,
)

DALBY_KYRKA = (13.344167, 55.664444)


def test_dalby_kyrka_matches_the_sweref99tm_check_value():
    easting, northing = to_sweref(*DALBY_KYRKA)
    assert float(easting) == pytest.approx(395841.8, abs=0.5)
    assert float(northing) == pytest.approx(6169976.6, abs=0.5)


def test_dalby_kyrka_matches_the_local_zone_check_value():
    easting, northing = transformer(WGS84, SWEREF99_1330).transform(*DALBY_KYRKA)
    assert easting == pytest.approx(140193.3, abs=0.5)
    assert northing == pytest.approx(6171213.2, abs=0.5)


def test_round_trip_through_sweref_is_lossless_to_a_millimetre():
    lon, lat = to_wgs84_xy(*to_sweref(*DALBY_KYRKA))
    east_back, north_back = to_sweref(lon, lat)
    east, north = to_sweref(*DALBY_KYRKA)
    assert abs(east_back - east) < 0.001 and abs(north_back - north) < 0.001


def test_transformers_are_built_once_per_pair():
    assert transformer(WGS84, SWEREF99TM) is transformer(WGS84, SWEREF99TM)


def test_axis_order_is_lon_lat_even_though_sweref_is_northing_first():
    easting, northing = to_sweref(*DALBY_KYRKA)
    assert 200_000 < easting < 1_000_000 and 6_000_000 < northing < 7_700_000


def test_metric_xy_accepts_any_declared_crs():
    point = gpd.GeoDataFrame(geometry=[shapely.Point(*DALBY_KYRKA)], crs=WGS84)
    from_wgs = metric_xy(point)
    from_local_zone = metric_xy(point.to_crs(SWEREF99_1330))
    assert from_wgs == pytest.approx(from_local_zone, abs=0.001)


@pytest.mark.parametrize("name", ["EPSG:3006", "3008", "epsg:4326"])
def test_parse_crs_accepts_common_spellings(name):
    assert parse_crs(name).to_epsg() in (3006, 3008, 4326)


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(UnknownCRS, match="EPSG:3006"):
        parse_crs("EPSG:99999999")


def test_unknown_crs_says_so_in_swedish_and_english():
    with pytest.raises(UnknownCRS) as refused:
        parse_crs("EPSG:99999999")
    assert refused.value.code == "unknown_crs"
    assert refused.value.messages == {
        "sv": "Okänt koordinatsystem: EPSG:99999999. Ange t.ex. EPSG:3006 eller EPSG:3008.",
        "en": "Unknown coordinate reference system: EPSG:99999999. Use e.g. EPSG:3006 or EPSG:3008.",
    }


@pytest.mark.parametrize("name, epsg", [(" EPSG:3008 ", 3008), (3006, 3006), ("4326", 4326)])
def test_parse_crs_takes_bare_numbers_and_ignores_surrounding_spaces(name, epsg):
    assert parse_crs(name).to_epsg() == epsg


def test_to_wgs84_xy_reads_sweref99tm_unless_told_otherwise():
    from_tm = to_wgs84_xy(395841.8, 6169976.6)
    from_local_zone = to_wgs84_xy(140193.3, 6171213.2, SWEREF99_1330)
    for lon, lat in (from_tm, from_local_zone):
        assert (float(lon), float(lat)) == pytest.approx(DALBY_KYRKA, abs=1e-5)


def test_whole_number_coordinates_are_transformed_as_floats():
    easting, northing = transform_xy([395842], [6169977], SWEREF99TM, WGS84)
    assert easting.dtype == "float64" and float(easting[0]) == pytest.approx(DALBY_KYRKA[0], abs=1e-4)


def test_a_frame_already_in_the_wanted_system_is_returned_as_it_is_and_others_are_converted():
    in_wgs84 = gpd.GeoDataFrame(geometry=[shapely.Point(*DALBY_KYRKA)], crs=WGS84)
    in_tm = to_metric(in_wgs84)
    assert to_wgs84(in_wgs84) is in_wgs84 and to_metric(in_tm) is in_tm
    assert in_tm.crs == SWEREF99TM and (in_tm.geometry.x[0], in_tm.geometry.y[0]) == pytest.approx((395841.8, 6169976.6), abs=0.5)
    back = to_wgs84(in_tm)
    assert back.crs == WGS84 and (back.geometry.x[0], back.geometry.y[0]) == pytest.approx(DALBY_KYRKA, abs=1e-7)


@pytest.mark.parametrize(
    "convert, message",
    [
        (to_metric, "frame has no CRS; declare one before measuring"),
        (metric_xy, "frame has no CRS; declare one before measuring"),
        (to_wgs84, "frame has no CRS; declare one before converting"),
    ],
)
def test_a_frame_without_a_crs_is_a_programming_error(convert, message):
    with pytest.raises(ValueError) as wrong:
        convert(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    assert str(wrong.value) == message


def test_metric_xy_gives_nan_for_an_empty_point_and_leaves_metric_frames_alone():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(*DALBY_KYRKA), shapely.Point()], crs=WGS84)
    xy = metric_xy(frame)
    assert xy.shape == (2, 2) and xy[0] == pytest.approx((395841.8, 6169976.6), abs=0.5)
    assert all(value != value for value in xy[1])  # NaN
    metric = gpd.GeoDataFrame(geometry=[shapely.Point(395841.8, 6169976.6)], crs=SWEREF99TM)
    assert metric_xy(metric).tolist() == [[395841.8, 6169976.6]]


def test_valid_bounds_are_where_each_system_is_defined_in_its_own_units():
    assert valid_bounds(WGS84) == (-180.0, -90.0, 180.0, 90.0)
    assert valid_bounds(SWEREF99TM) == pytest.approx((181896.3, 6090353.8, 1086312.9, 7689478.3), abs=0.1)
    assert valid_bounds(SWEREF99_1330) == pytest.approx((62307.1, 6128402.5, 231974.1, 6908900.1), abs=0.1)


def test_a_crs_without_an_area_of_use_has_no_valid_bounds():
    custom = "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    with pytest.raises(ValueError) as wrong:
        valid_bounds(custom)
    assert str(wrong.value) == f"{custom} declares no area of use"
