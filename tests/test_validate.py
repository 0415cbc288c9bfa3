"""Coordinate and geometry validation: clear errors for residents, repairs reported for planners."""

import math

import geopandas as gpd
import pytest
import shapely

from dialogkarta.geo.errors import InvalidCoordinates, InvalidGeometry, OutsideLocality, ProbablySwapped
from dialogkarta.geo.validate import check_in_locality, check_lonlat, repair_polygons

SQUARE = shapely.box(13.33, 55.66, 13.36, 55.67)  # a locality-sized box around Dalby


@pytest.mark.parametrize(
    "lon, lat",
    [
        (math.nan, 55.66),
        (13.35, math.nan),
        (math.inf, 55.66),
        (13.35, -math.inf),
        ("13,35", 55.66),
        (None, 55.66),
    ],
)
def test_non_numbers_and_non_finite_values_are_refused(lon, lat):
    with pytest.raises(InvalidCoordinates):
        check_lonlat(lon, lat)


@pytest.mark.parametrize("lon, lat", [(181.0, 55.66), (-180.5, 0.0), (13.35, 90.01), (13.35, -91.0)])
def test_coordinates_off_the_globe_are_refused(lon, lat):
    with pytest.raises(InvalidCoordinates, match="-180..180"):
        check_lonlat(lon, lat)


def test_a_swapped_pair_is_reported_as_swapped_with_the_fix():
    with pytest.raises(ProbablySwapped, match="bytt plats") as raised:
        check_in_locality(55.665, 13.35, SQUARE, "Dalby")
    assert raised.value.details["suggestion"] == (13.35, 55.665)
    assert "swapped" in raised.value.message("en")


def test_a_point_outside_the_locality_is_refused_by_name():
    with pytest.raises(OutsideLocality, match="utanför Dalby") as raised:
        check_in_locality(13.19, 55.70, SQUARE, "Dalby")  # Lund C
    assert "outside Dalby" in raised.value.message("en")
    assert raised.value.details["bounds"] == pytest.approx(SQUARE.bounds)


@pytest.mark.parametrize("lon, lat", [(13.345, 55.665), (13.33, 55.665), (13.36, 55.67)])
def test_points_inside_or_on_the_boundary_are_accepted(lon, lat):
    assert check_in_locality(lon, lat, SQUARE) == (lon, lat)


def test_integers_are_accepted_as_coordinates():
    assert check_lonlat(13, 55) == (13.0, 55.0)


def test_a_self_intersecting_polygon_is_repaired_and_reported():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    frame = gpd.GeoDataFrame({"id": ["bow", "ok"]}, geometry=[bowtie, shapely.box(5, 5, 6, 6)], crs="EPSG:3006")
    repaired, report = repair_polygons(frame)
    assert repaired.is_valid.all()
    assert [r.index for r in report] == [0]
    assert "Self-intersection" in report[0].reason
    assert repaired.geometry[0].area == pytest.approx(2.0)
    assert repaired.geometry[1].equals(frame.geometry[1])


def test_valid_polygons_come_back_unchanged_with_an_empty_report():
    frame = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:3006")
    repaired, report = repair_polygons(frame)
    assert report == [] and repaired is frame


def test_points_in_a_polygon_layer_are_refused():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:3006")
    with pytest.raises(InvalidGeometry, match="Point"):
        repair_polygons(frame)


def test_missing_geometry_is_refused():
    frame = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), None], crs="EPSG:3006")
    with pytest.raises(InvalidGeometry, match="geometri"):
        repair_polygons(frame)
