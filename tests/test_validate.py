"""Coordinate and geometry validation: clear errors for residents, repairs reported for planners."""

import math

import geopandas as gpd
import pytest
import shapely

from dialogkarta.geo.errors import InvalidCoordinates, InvalidGeometry, OutsideLocality, ProbablySwapped
from dialogkarta.geo.validate import Repair, check_in_locality, check_lonlat, polygonal_part, repair_polygons

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


def messages(error) -> dict:
    return {"code": error.code, **error.messages, **error.details}


@pytest.mark.parametrize(
    "lon, lat, expected",
    [
        (
            "tretton",
            55.66,
            {"code": "invalid_coordinates", "sv": "lon måste vara ett tal.", "en": "lon must be a number.", "axis": "lon"},
        ),
        (
            13.35,
            math.nan,
            {
                "code": "invalid_coordinates",
                "sv": "lat måste vara ett ändligt tal (inte NaN eller oändligt).",
                "en": "lat must be a finite number (not NaN or infinity).",
                "axis": "lat",
            },
        ),
        (
            13.35,
            91,
            {
                "code": "invalid_coordinates",
                "sv": "Koordinaterna (13.35, 91.0) ligger utanför jordklotet: lon ska vara -180..180 och lat -90..90.",
                "en": "The coordinates (13.35, 91.0) are off the globe: lon must be -180..180 and lat -90..90.",
            },
        ),
    ],
)
def test_bad_coordinates_say_what_is_wrong_in_swedish_and_english(lon, lat, expected):
    with pytest.raises(InvalidCoordinates) as refused:
        check_lonlat(lon, lat)
    assert messages(refused.value) == expected


@pytest.mark.parametrize("lon, lat", [(-180, -90), (180, 90), ("13.35", "55.66")])
def test_the_whole_globe_edge_included_and_numbers_in_text_are_coordinates(lon, lat):
    assert check_lonlat(lon, lat) == (float(lon), float(lat))


def test_a_swapped_pair_is_explained_in_both_languages():
    with pytest.raises(ProbablySwapped) as raised:
        check_in_locality(55.665, 13.35, SQUARE, "Dalby")
    assert messages(raised.value) == {
        "code": "coordinates_swapped",
        "sv": "Longitud och latitud verkar ha bytt plats: (55.665, 13.35) ligger inte i Dalby, men (13.35, 55.665) gör det. "
        "Skicka longitud först.",
        "en": "Longitude and latitude look swapped: (55.665, 13.35) is not in Dalby, but (13.35, 55.665) is. Send longitude first.",
        "suggestion": (13.35, 55.665),
    }


def test_a_place_outside_is_named_to_five_decimals_with_the_boundary_it_missed():
    with pytest.raises(OutsideLocality) as raised:
        check_in_locality(13.191234567, 55.70, SQUARE)
    assert messages(raised.value) == {
        "code": "outside_locality",
        "sv": "Platsen (13.19123, 55.70000) ligger utanför orten. Välj en plats innanför den markerade gränsen.",
        "en": "The place (13.19123, 55.70000) is outside orten. Choose a place inside the marked boundary.",
        "bounds": SQUARE.bounds,
    }


def test_a_layer_of_other_kinds_is_refused_naming_them_all():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1)])
    with pytest.raises(InvalidGeometry) as refused:
        repair_polygons(frame)
    assert messages(refused.value) == {
        "code": "invalid_geometry",
        "sv": "Lagret ska innehålla ytor, men innehåller LineString, Point, Polygon.",
        "en": "The layer must contain polygons, but contains LineString, Point, Polygon.",
    }


@pytest.mark.parametrize("empty", [None, shapely.Polygon()])
def test_a_feature_without_geometry_is_named_by_its_index(empty):
    frame = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), empty], index=["a", "b"], crs="EPSG:3006")
    with pytest.raises(InvalidGeometry) as refused:
        repair_polygons(frame)
    assert messages(refused.value) == {
        "code": "invalid_geometry",
        "sv": "Objekt b saknar geometri.",
        "en": "Feature b has no geometry.",
        "index": "b",
    }


def test_a_repair_reports_each_features_index_reason_and_kinds_and_keeps_the_crs():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    frame = gpd.GeoDataFrame(geometry=[shapely.box(5, 5, 6, 6), bowtie], index=[10, 11], crs="EPSG:3006")
    repaired, report = repair_polygons(frame)
    assert report == [Repair(11, "Self-intersection[1 1]", "Polygon", "MultiPolygon")]
    assert repaired.crs == frame.crs and list(repaired.index) == [10, 11]
    assert repaired.geometry[11].is_valid and repaired.geometry[11].area == pytest.approx(2.0)
    assert frame.geometry[11].equals(bowtie)  # the input frame is left as it was


def test_only_the_polygonal_parts_of_a_repair_are_kept():
    with_a_tail = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(1, 1), (3, 3)])])
    assert polygonal_part(with_a_tail).equals(shapely.box(0, 0, 1, 1))
    two = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), shapely.Point(5, 5)])
    assert polygonal_part(two).equals(shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]))
    square = shapely.box(0, 0, 1, 1)
    assert polygonal_part(square) is square
    multi = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    assert polygonal_part(multi) is multi
    assert polygonal_part(shapely.GeometryCollection([multi, shapely.Point(9, 9)])).equals(multi)


def test_a_line_left_from_a_repair_is_no_polygon():
    with pytest.raises(InvalidGeometry, match="ingen area kvar"):
        polygonal_part(shapely.LineString([(0, 0), (2, 2)]))


def test_a_layer_may_mix_polygons_and_multipolygons():
    multi = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    for geometries in ([multi], [multi, shapely.box(5, 5, 6, 6)]):
        frame = gpd.GeoDataFrame(geometry=geometries, crs="EPSG:3006")
        assert repair_polygons(frame) == (frame, [])


@pytest.mark.parametrize("lon, lat", [(90.0, 5.0), (-90.0, 5.0)])
def test_a_swapped_pair_is_recognised_up_to_the_poles(lon, lat):
    polar = shapely.box(0, 85, 10, 90) if lon > 0 else shapely.box(0, -90, 10, -85)
    with pytest.raises(ProbablySwapped) as raised:
        check_in_locality(lon, lat, polar, "polen")
    assert raised.value.details["suggestion"] == (lat, lon)


def test_a_polygon_with_no_area_cannot_be_repaired():
    flat = gpd.GeoDataFrame(geometry=[shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])], crs="EPSG:3006")
    with pytest.raises(InvalidGeometry) as refused:
        repair_polygons(flat)
    assert messages(refused.value) == {
        "code": "invalid_geometry",
        "sv": "En yta kunde inte lagas: den har ingen area kvar.",
        "en": "A polygon could not be repaired: no area is left.",
    }
