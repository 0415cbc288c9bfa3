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
    to_sweref,
    to_wgs84_xy,
    transformer,
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
