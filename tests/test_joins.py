"""Spatial joins, measured in SWEREF 99 TM against hand-made geometry around a Dalby origin."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99_1330, WGS84
from dialogkarta.geo.joins import areas_containing, nearest_services, services_within
from tests.conftest import metric_frame


@pytest.fixture
def services():
    """A school at the origin, a school 400 m east, a bus stop 250 m north (given in WGS84)."""
    return metric_frame(
        [shapely.Point(0, 0), shapely.Point(400, 0), shapely.Point(0, 250)],
        crs=WGS84,
        id=["school-a", "school-b", "bus-1"],
        kind=["school", "school", "bus_stop"],
    )


def points_at(*offsets, crs=WGS84):
    return metric_frame([shapely.Point(x, y) for x, y in offsets], crs=crs)


def test_a_point_250_m_from_a_service_reports_250_m(services):
    result = nearest_services(points_at((0, 0)), services, kinds=["bus_stop"])
    assert result.loc[0, "bus_stop_m"] == pytest.approx(250.0, abs=0.01)
    assert result.loc[0, "bus_stop_id"] == "bus-1"


def test_nearest_of_each_kind_is_reported_with_metres(services):
    result = nearest_services(points_at((300, 0)), services)
    assert result.loc[0, "school_id"] == "school-b"
    assert result.loc[0, "school_m"] == pytest.approx(100.0, abs=0.01)
    assert result.loc[0, "bus_stop_m"] == pytest.approx(np.hypot(300, 250), abs=0.01)


def test_services_beyond_max_distance_are_not_reported(services):
    result = nearest_services(points_at((0, 0)), services, max_distance_m=200)
    assert result.loc[0, "school_m"] == pytest.approx(0.0, abs=0.01)
    assert np.isnan(result.loc[0, "bus_stop_m"]) and result["bus_stop_id"].isna()[0]


def test_counts_within_radius_include_the_circle_edge(services):
    metric_services = services.to_crs("EPSG:3006").set_geometry(  # exact metres, so 250 m is on the edge
        [shapely.Point(396300, 6170000), shapely.Point(396700, 6170000), shapely.Point(396300, 6170250)]
    )
    counts = services_within(points_at((0, 0), (200, 0), crs="EPSG:3006"), metric_services, radius_m=250)
    assert counts.loc[0, "school"] == 1 and counts.loc[0, "bus_stop"] == 1
    assert counts.loc[1, "school"] == 2 and counts.loc[1, "bus_stop"] == 0


def test_a_point_in_two_overlapping_areas_joins_to_both(two_squares, three_points):
    pairs = areas_containing(three_points, two_squares)
    by_point = pairs.groupby("point")["area_id"].apply(list).to_dict()
    assert by_point == {0: ["A"], 1: ["A", "B"]}


def test_a_point_outside_all_areas_joins_to_none(two_squares, three_points):
    pairs = areas_containing(three_points, two_squares)
    assert 2 not in set(pairs["point"])


@pytest.mark.parametrize(
    "offset, expected",
    [
        ((100, 50), ["A", "B"]),  # on A's east edge, inside B
        ((0, 0), ["A"]),  # on A's corner
        ((150, 100), ["B"]),  # on B's corner
        ((150.001, 50), []),  # a millimetre outside B
    ],
)
def test_a_point_on_an_area_boundary_lies_in_that_area(two_squares, offset, expected):
    # Exact boundary positions only exist in the metric CRS, so the points stay in SWEREF 99 TM.
    pairs = areas_containing(points_at(offset, crs="EPSG:3006"), two_squares)
    assert list(pairs["area_id"]) == expected


def test_joins_give_the_same_answer_whatever_crs_the_inputs_declare(two_squares, three_points, services):
    local_points = three_points.to_crs(SWEREF99_1330)
    assert areas_containing(local_points, two_squares.to_crs(SWEREF99_1330)).equals(areas_containing(three_points, two_squares))
    np.testing.assert_allclose(
        nearest_services(local_points, services)["school_m"],
        nearest_services(three_points, services)["school_m"],
        atol=0.001,
    )


def test_result_rows_keep_the_points_index(services):
    points = points_at((0, 0), (400, 0))
    points.index = ["p1", "p2"]
    assert list(nearest_services(points, services).index) == ["p1", "p2"]
    assert list(services_within(points, services, 10).index) == ["p1", "p2"]


def test_non_point_input_is_a_programming_error(two_squares, services):
    with pytest.raises(ValueError, match="points"):
        nearest_services(two_squares, services)


def test_unknown_kind_is_a_programming_error(services):
    with pytest.raises(ValueError, match="library"):
        nearest_services(points_at((0, 0)), services, kinds=["library"])


def test_join_all_agrees_with_the_three_joins(two_squares, three_points, services):
    from dialogkarta.geo.joins import AreaIndex, ServiceIndex, join_all

    pairs, nearest, counts = join_all(three_points, AreaIndex(two_squares), ServiceIndex(services), radius_m=300)
    assert pairs.equals(areas_containing(three_points, two_squares))
    assert nearest.equals(nearest_services(three_points, services))
    assert counts.equals(services_within(three_points, services, 300))


def test_counts_equal_a_brute_force_count_on_random_points():
    rng = np.random.default_rng(7)
    points = metric_frame([shapely.Point(x, y) for x, y in rng.uniform(-2000, 2000, (500, 2))], crs="EPSG:3006")
    services = metric_frame(
        [shapely.Point(x, y) for x, y in rng.uniform(-2500, 2500, (300, 2))],
        crs="EPSG:3006",
        id=[f"s{i}" for i in range(300)],
        kind=["a", "b", "c"] * 100,
    )
    counts = services_within(points, services, radius_m=433.0)
    pxy = np.column_stack([points.geometry.x, points.geometry.y])
    sxy = np.column_stack([services.geometry.x, services.geometry.y])
    distances = np.hypot(*(pxy[:, None, :] - sxy[None, :, :]).transpose(2, 0, 1))
    for kind in "abc":
        expected = (distances[:, services["kind"].to_numpy() == kind] <= 433.0).sum(axis=1)
        np.testing.assert_array_equal(counts[kind].to_numpy(), expected)


def test_empty_inputs_give_empty_results(services, two_squares):
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84))
    assert len(areas_containing(empty, two_squares)) == 0
    assert len(nearest_services(empty, services)) == 0


def test_distances_are_metres_in_sweref():
    from dialogkarta.geo.crs import to_wgs84_xy
    from dialogkarta.geo.joins import distances_m

    lon, lat = to_wgs84_xy(396300.0, 6170000.0)
    lons, lats = to_wgs84_xy([396300.0, 396300.0], [6170250.0, 6170000.0])
    np.testing.assert_allclose(distances_m(float(lon), float(lat), lons, lats), [250.0, 0.0], atol=0.01)


def test_areas_containing_equals_a_point_by_point_test_on_random_points():
    rng = np.random.default_rng(11)
    centres = rng.uniform(-1500, 1500, (40, 2))
    areas = metric_frame(
        [shapely.Point(x, y).buffer(r) for (x, y), r in zip(centres, rng.uniform(20, 400, 40))],
        crs="EPSG:3006",
        id=[f"a{i}" for i in range(40)],
    )
    coords = rng.uniform(-2000, 2000, (3000, 2))
    points = metric_frame([shapely.Point(x, y) for x, y in coords], crs="EPSG:3006")
    pairs = areas_containing(points, areas)
    expected = {
        (p, a) for p, point in enumerate(points.geometry) for a, area in zip(areas["id"], areas.geometry) if area.covers(point)
    }
    assert set(zip(pairs["point"], pairs["area_id"])) == expected
    assert len(pairs) == len(expected) > 100
