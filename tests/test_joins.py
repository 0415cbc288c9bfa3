"""Spatial joins, measured in SWEREF 99 TM against hand-made geometry around a Dalby origin."""

import geopandas as gpd
import numpy as np
import pandas as pd
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


def brute_force_nearest(points, services, max_distance_m=np.inf):
    """Per kind, the service at the least squared distance (the first listed on a tie), by measuring every pair."""
    from dialogkarta.geo.crs import metric_xy

    pxy, sxy = metric_xy(points), metric_xy(services)
    expected = {}
    for kind in sorted(set(services["kind"])):
        mine = np.flatnonzero(services["kind"].to_numpy() == kind)
        squared = np.square(pxy[:, None, 0] - sxy[None, mine, 0]) + np.square(pxy[:, None, 1] - sxy[None, mine, 1])
        first = squared.argmin(axis=1)
        metres = np.sqrt(squared[np.arange(len(pxy)), first])
        reported = metres <= max_distance_m
        expected[f"{kind}_id"] = [services["id"].iloc[mine[f]] if ok else None for f, ok in zip(first, reported)]
        expected[f"{kind}_m"] = np.where(reported, metres, np.nan)
    return expected


def assert_nearest_equals(result, expected):
    for column, values in expected.items():
        if column.endswith("_id"):
            assert [None if pd.isna(v) else v for v in result[column]] == values, column
        else:
            np.testing.assert_array_equal(result[column].to_numpy(), values, err_msg=column)


def random_services(rng, sizes: dict, spread: float):
    kinds = [kind for kind, size in sizes.items() for _ in range(size)]
    return metric_frame(
        [shapely.Point(x, y) for x, y in rng.uniform(-spread, spread, (len(kinds), 2))],
        id=[f"s{i}" for i in range(len(kinds))],
        kind=kinds,
    )


@pytest.mark.parametrize("max_distance_m", [None, 300.0])
def test_nearest_of_each_kind_equals_a_brute_force_search_on_random_points(max_distance_m):
    rng = np.random.default_rng(5)
    services = random_services(rng, {"one": 1, "few": 3, "many": 400}, spread=3000)
    inside = rng.uniform(-2000, 2000, (4000, 2))
    far_outside = rng.uniform(-80_000, 80_000, (200, 2))  # kilometres beyond every service
    points = metric_frame([shapely.Point(x, y) for x, y in np.vstack([inside, far_outside])], crs=WGS84)
    result = nearest_services(points, services, max_distance_m=max_distance_m)
    assert_nearest_equals(result, brute_force_nearest(points, services, max_distance_m or np.inf))
    assert result["many_id"].notna().sum() > 1000


def test_of_services_at_the_same_distance_the_first_listed_is_nearest():
    # 40 bus stops on a 1 km circle (integer metres, so some are exactly as far as others), two of them
    # twice at one spot, and a school exactly 100 m east and west of the centre.
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = [shapely.Point(x, y) for x, y in np.round(1000 * np.column_stack([np.cos(angles), np.sin(angles)]))]
    services = metric_frame(
        ring + [ring[7], ring[3], shapely.Point(100, 0), shapely.Point(-100, 0)],
        id=[f"stop-{i}" for i in range(42)] + ["school-east", "school-west"],
        kind=["bus_stop"] * 42 + ["school", "school"],
    )
    offsets = [(0, 0), (0, 300), (0, -999), (5, 5)] + [
        (x, y) for x, y in np.round(np.random.default_rng(3).uniform(-1200, 1200, (300, 2)))
    ]
    points = points_at(*offsets, crs="EPSG:3006")
    result = nearest_services(points, services)
    assert result.loc[0, "school_id"] == "school-east" and result.loc[1, "school_id"] == "school-east"
    assert_nearest_equals(result, brute_force_nearest(points, services))


def test_a_new_proposal_breaks_ties_as_the_batch_does():
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    services = metric_frame(
        [shapely.Point(100, 0), shapely.Point(-100, 0), shapely.Point(0, 100), shapely.Point(50, 50), shapely.Point(50, 50)],
        id=["east", "west", "north", "corner", "corner-again"],
        kind=["school", "school", "school", "shop", "shop"],
    )
    points = points_at((0, 0), (50, 0), (-50, 50), crs="EPSG:3006")
    index = ServiceIndex(services)
    batch = index.nearest(points)
    one_by_one = [{kind: service for kind, service, _ in found} for found in index.nearest_each_xy(metric_xy(points))]
    assert [row["school"] for row in one_by_one] == list(batch["school_id"]) == ["east", "east", "west"]
    assert [row["shop"] for row in one_by_one] == list(batch["shop_id"]) == ["corner"] * 3


def test_a_service_exactly_at_the_maximum_distance_is_reported(services):
    metric_services = services.to_crs("EPSG:3006").set_geometry(
        [shapely.Point(396300, 6170000), shapely.Point(396700, 6170000), shapely.Point(396300, 6170250)]
    )
    result = nearest_services(points_at((0, 0), crs="EPSG:3006"), metric_services, max_distance_m=250)
    assert result.loc[0, "bus_stop_id"] == "bus-1" and result.loc[0, "bus_stop_m"] == 250.0


def test_a_kind_with_one_service_is_nearest_to_every_point(services):
    result = nearest_services(points_at((0, 0), (5000, -3000), (-90_000, 0)), services, kinds=["bus_stop"])
    assert list(result["bus_stop_id"]) == ["bus-1"] * 3
    np.testing.assert_allclose(result["bus_stop_m"], [250, np.hypot(5000, 3250), np.hypot(90_000, 250)], atol=0.01)


def test_no_services_or_no_kinds_give_no_columns(services):
    points = points_at((0, 0), (10, 10))
    assert nearest_services(points, services.iloc[:0]).shape == (2, 0)
    assert nearest_services(points, services, kinds=[]).shape == (2, 0)


@pytest.mark.parametrize("measure_all", [True, False], ids=["measured against every service", "asked of each kind's tree"])
def test_a_few_points_get_the_batch_answer_whichever_way_they_are_measured(monkeypatch, measure_all):
    from dialogkarta.geo import joins
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    monkeypatch.setattr(joins, "MEASURE_ALL_MAX", 20_000 if measure_all else 0)
    rng = np.random.default_rng(11)
    spots = [shapely.Point(x, y) for x, y in np.round(rng.uniform(-500, 500, (40, 2)))] + [shapely.Point(50, 50)] * 2
    kinds = ["school", "shop", "bus_stop"] * 14
    services = metric_frame(spots, id=[f"s{i}" for i in range(len(spots))], kind=kinds)
    points = points_at((0, 0), (50, 0), (100, 100), *np.round(rng.uniform(-600, 600, (20, 2))), crs="EPSG:3006")
    index, xy = ServiceIndex(services), metric_xy(points)
    batch = index.nearest(points)
    one_by_one = index.nearest_each_xy(xy)
    for kind in index.kinds:
        assert [{k: s for k, s, _ in found}[kind] for found in one_by_one] == list(batch[f"{kind}_id"])
        assert [{k: m for k, _, m in found}[kind] for found in one_by_one] == pytest.approx(list(batch[f"{kind}_m"]))
    radius = {"school": 250.0, "shop": 141.4213562373095, "bus_stop": 400.0}.__getitem__
    few = index.count_within_radii_xy(xy, radius)
    for kind in index.kinds:
        assert list(few[kind]) == list(index.count_within_xy(xy, radius(kind), kinds=[kind])[kind])


# ------------------------------------------------------------ exact edges, crowds and the paths a few points take
def brute_force_counts(points, services, radius_of) -> dict:
    """Per kind, how many services lie within the kind's radius of each point, by measuring every pair."""
    from dialogkarta.geo.crs import metric_xy

    pxy, sxy = metric_xy(points), metric_xy(services)
    distances = np.hypot(pxy[:, None, 0] - sxy[None, :, 0], pxy[:, None, 1] - sxy[None, :, 1])
    kinds = services["kind"].to_numpy()
    return {kind: (distances[:, kinds == kind] <= radius_of(kind)).sum(axis=1) for kind in sorted(set(kinds))}


def lattice_services():
    """A crowd: 441 bus stops on a 5 m lattice 100 m across, and 30 schools on whole metres around it (in SWEREF 99 TM)."""
    stops = [shapely.Point(x, y) for x in range(-50, 51, 5) for y in range(-50, 51, 5)]
    schools = [shapely.Point(x, y) for x, y in np.random.default_rng(17).integers(-120, 120, (30, 2))]
    return metric_frame(
        stops + schools, id=[f"s{i}" for i in range(len(stops) + len(schools))], kind=["bus_stop"] * len(stops) + ["school"] * 30
    )


def integer_points(count, seed, spread=80):
    """Points on whole metres, so that many lie exactly 25 m or 13 m (5-12-13) from a service."""
    return points_at(*np.random.default_rng(seed).integers(-spread, spread, (count, 2)).tolist(), crs="EPSG:3006")


def test_counts_in_a_crowd_of_services_equal_a_brute_force_count_edges_included():
    services, points = lattice_services(), integer_points(300, 23)
    counts = services_within(points, services, radius_m=25)
    expected = brute_force_counts(points, services, lambda kind: 25)
    for kind, values in expected.items():
        np.testing.assert_array_equal(counts[kind].to_numpy(), values, err_msg=kind)
    assert counts["bus_stop"].max() > 60  # far more than the few asked for per cell


@pytest.mark.parametrize("how", ["many points", "a few, against every service", "a few, asked of each tree"])
def test_counts_within_each_kinds_radius_equal_a_brute_force_count_however_they_are_counted(monkeypatch, how):
    from dialogkarta.geo import joins
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    monkeypatch.setattr(joins, "MEASURE_ALL_MAX", 0 if how.endswith("tree") else 20_000)
    services = lattice_services()
    services = pd.concat([services, services.iloc[::7].assign(kind="shop", id=lambda f: f["id"] + "-shop")], ignore_index=True)
    points = integer_points(200 if how == "many points" else joins.FEW_POINTS, 29)
    radius = {"bus_stop": 25.0, "school": 13.0, "shop": 25.0}.__getitem__  # two kinds share a radius
    counts = ServiceIndex(services).count_within_radii_xy(metric_xy(points), radius)
    for kind, values in brute_force_counts(points, services, radius).items():
        assert counts[kind].dtype == np.int64
        np.testing.assert_array_equal(counts[kind], values, err_msg=kind)


def test_a_few_points_asked_of_the_trees_take_the_first_listed_of_services_at_the_same_distance(monkeypatch):
    from dialogkarta.geo import joins
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    monkeypatch.setattr(joins, "MEASURE_ALL_MAX", 0)
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = [shapely.Point(x, y) for x, y in np.round(1000 * np.column_stack([np.cos(angles), np.sin(angles)]))]
    services = metric_frame(
        ring[::-1] + [ring[7], ring[3], ring[10]], id=[f"stop-{i}" for i in range(43)], kind=["bus_stop"] * 43
    )  # stops 0 and 40, 36 and 41, 29 and 42 share a spot
    offsets = [(0, 0), (0, 1000), (1000, 0), *[(p.x, p.y) for p in (ring[7], ring[3], ring[10])], (0, -1000), (500, 500)]
    points = points_at(*offsets, crs="EPSG:3006")
    found = ServiceIndex(services).nearest_each_xy(metric_xy(points))
    expected = brute_force_nearest(points, services)
    assert [row[0][1] for row in found] == expected["bus_stop_id"]
    np.testing.assert_allclose([row[0][2] for row in found], expected["bus_stop_m"], rtol=0, atol=1e-9)


def test_points_along_a_long_straight_road_are_joined_as_point_by_point():
    # Thousands of 25 m cells in one or two rows: each cell must keep its own points.
    from dialogkarta.geo.joins import AreaIndex, ServiceIndex, join_all

    rng = np.random.default_rng(31)
    xs = rng.uniform(-40_000, 40_000, 3000)
    points = points_at(*zip(xs, rng.uniform(-20, 20, 3000)), crs="EPSG:3006")
    points.index = [f"p{i}" for i in range(len(points))]
    services = random_services(rng, {"school": 60, "bus_stop": 300}, spread=40_000)
    areas = metric_frame(
        [shapely.Point(x, 0).buffer(r) for x, r in zip(rng.uniform(-40_000, 40_000, 30), rng.uniform(10, 300, 30))],
        crs="EPSG:3006",
        id=[f"a{i}" for i in range(30)],
    )
    pairs, nearest, counts = join_all(points, AreaIndex(areas), ServiceIndex(services), radius_m=700)
    expected_pairs = {
        (label, a)
        for label, point in zip(points.index, points.geometry)
        for a, area in zip(areas["id"], areas.geometry)
        if area.covers(point)
    }
    assert set(zip(pairs["point"], pairs["area_id"])) == expected_pairs and len(pairs) == len(expected_pairs) > 20
    assert list(nearest.index) == list(counts.index) == list(points.index)
    assert_nearest_equals(nearest, brute_force_nearest(points, services))
    for kind, values in brute_force_counts(points, services, lambda kind: 700).items():
        np.testing.assert_array_equal(counts[kind].to_numpy(), values, err_msg=kind)
    assert counts.dtypes.tolist() == [np.dtype("int64")] * 2


def test_a_few_points_inside_an_areas_bounding_box_but_outside_the_area_join_to_none():
    circle = metric_frame([shapely.Point(0, 0).buffer(100)], crs="EPSG:3006", id=["round"])
    pairs = areas_containing(points_at((90, 90), (0, 99), (-95, -95), crs="EPSG:3006"), circle)
    assert list(pairs["point"]) == [1] and list(pairs["area_id"]) == ["round"]


def test_without_an_id_column_areas_and_services_are_named_by_their_index(two_squares, services):
    areas = two_squares.drop(columns="id").set_axis(["north", "south"])
    assert list(areas_containing(points_at((25, 50), crs="EPSG:3006"), areas)["area_id"]) == ["north"]
    unnamed = services.drop(columns="id").set_axis(["s1", "s2", "s3"])
    assert nearest_services(points_at((0, 0)), unnamed).loc[0, "school_id"] == "s1"
    assert list(services_within(points_at((0, 0)), services, 10, id_column="name").columns) == ["bus_stop", "school"]


def test_service_names_come_from_the_name_column_or_default_to_the_ids(services):
    from dialogkarta.geo.joins import ServiceIndex

    named = services.assign(name=["Skolan A", "Skolan B", "Hållplatsen"])
    assert ServiceIndex(named).names == {"school-a": "Skolan A", "school-b": "Skolan B", "bus-1": "Hållplatsen"}
    assert ServiceIndex(services).names == {"school-a": "school-a", "school-b": "school-b", "bus-1": "bus-1"}


def test_distances_of_zero_are_allowed_and_negative_ones_refused(services):
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    metric_services = services.to_crs("EPSG:3006").set_geometry(
        [shapely.Point(396300, 6170000), shapely.Point(396700, 6170000), shapely.Point(396300, 6170250)]
    )
    here = points_at((0, 0), crs="EPSG:3006")
    for bound in (0, 0.5):
        result = nearest_services(here, metric_services, max_distance_m=bound)
        assert result.loc[0, "school_id"] == "school-a" and pd.isna(result.loc[0, "bus_stop_id"])
        assert services_within(here, metric_services, bound).loc[0].to_dict() == {"bus_stop": 0, "school": 1}
    index = ServiceIndex(metric_services)
    assert index.count_within_radii_xy(metric_xy(here), lambda kind: 0.5)["school"].tolist() == [1]
    with pytest.raises(ValueError, match=r"^max_distance_m must be a non-negative number of metres, got -1$"):
        nearest_services(here, metric_services, max_distance_m=-1)
    with pytest.raises(ValueError, match=r"^radius_m must be a non-negative number of metres, got -0.5$"):
        services_within(here, metric_services, -0.5)
    with pytest.raises(ValueError, match=r"^radii must be non-negative numbers of metres, got \{'school': -2.0\}$"):
        index.count_within_radii_xy(metric_xy(here), {"school": -2.0, "bus_stop": 100.0}.__getitem__)


def test_a_frame_that_is_not_all_points_is_refused_naming_what_it_holds(services):
    mixed = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1), None], crs="EPSG:3006")
    with pytest.raises(ValueError, match=r"^expected a frame of points, got geometry types \['Polygon', 'missing'\]$"):
        nearest_services(mixed, services)


def test_only_the_kinds_asked_for_are_counted_and_areas_can_be_named_by_another_column(services, two_squares, three_points):
    counts = services_within(points_at((0, 0)), services, 300, kinds=["school"])
    assert counts.columns.tolist() == ["school"] and counts.loc[0, "school"] == 1
    assert list(areas_containing(three_points, two_squares, id_column="name")["area_id"]) == ["Area A", "Area A", "Area B"]


def test_join_all_keeps_the_points_index_and_its_maximum_distance(two_squares, three_points, services):
    from dialogkarta.geo.joins import AreaIndex, ServiceIndex, join_all

    points = three_points.set_axis(["a", "b", "c"])
    pairs, nearest, counts = join_all(points, AreaIndex(two_squares), ServiceIndex(services), radius_m=300, max_distance_m=100)
    assert list(pairs["point"]) == ["a", "b", "b"] and list(nearest.index) == list(counts.index) == ["a", "b", "c"]
    assert nearest.equals(nearest_services(points, services, max_distance_m=100))
    assert nearest["bus_stop_id"].isna().all() and counts.equals(services_within(points, services, 300))


def test_no_points_get_no_counts_and_no_services_give_no_answers(services):
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84))
    assert services_within(empty, services, 100).shape == (0, 2)
    none = ServiceIndex(services.iloc[:0])
    xy = metric_xy(points_at((0, 0), (10, 10)))
    assert none.nearest_each_xy(xy) == [[], []] and none.count_within_radii_xy(xy, lambda kind: 100) == {}


def test_a_radius_of_zero_counts_only_services_on_the_spot(services):
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    index = ServiceIndex(
        services.to_crs("EPSG:3006").set_geometry([shapely.Point(396300, 6170000)] * 2 + [shapely.Point(396300, 6170250)])
    )
    counts = index.count_within_radii_xy(metric_xy(points_at((0, 0), crs="EPSG:3006")), lambda kind: 0)
    assert counts["school"].tolist() == [2] and counts["bus_stop"].tolist() == [0]


def test_a_point_amid_a_crowd_just_beyond_its_radius_counts_none_of_it():
    # 36 services 1.2 m around a point: more than are asked for per cell, and none certainly inside a 1 m circle.
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    crowd = metric_frame(
        [shapely.Point(10.5 + 1.2 * np.cos(a), 10.5 + 1.2 * np.sin(a)) for a in angles],
        id=[f"s{i}" for i in range(36)],
        kind=["bench"] * 36,
    )
    points = points_at((10.5, 10.5), (10.5, 10.5), crs="EPSG:3006")
    assert services_within(points, crowd, radius_m=1.0)["bench"].tolist() == [0, 0]
    assert services_within(points, crowd, radius_m=1.3)["bench"].tolist() == [36, 36]


def test_points_in_a_cell_ringed_by_many_services_each_find_their_own_nearest():
    # 40 services 100 m around a cell: all within reach of its centre, more than the 8 asked for first.
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = metric_frame(
        [shapely.Point(12.5 + 100 * np.cos(a), 12.5 + 100 * np.sin(a)) for a in angles],
        id=[f"s{i}" for i in range(40)],
        kind=["stop"] * 40,
    )
    points = points_at(*np.random.default_rng(37).uniform(0, 25, (200, 2)).tolist(), crs="EPSG:3006")
    assert_nearest_equals(nearest_services(points, ring), brute_force_nearest(points, ring))


def test_asked_of_the_tree_a_point_half_a_metre_from_three_services_takes_the_first_listed(monkeypatch):
    from dialogkarta.geo import joins
    from dialogkarta.geo.crs import metric_xy
    from dialogkarta.geo.joins import ServiceIndex

    monkeypatch.setattr(joins, "MEASURE_ALL_MAX", 0)
    services = metric_frame(
        [shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(0.5, 0.5), shapely.Point(0.5, 5)],
        id=["west", "east", "north", "far"],
        kind=["bin"] * 4,
    )
    index = ServiceIndex(services)
    assert index.nearest_each_xy(metric_xy(points_at((0.5, 0), crs="EPSG:3006"))) == [[("bin", "west", 0.5)]]
    assert index.nearest_each_xy(metric_xy(points_at((0.5, 0.25), crs="EPSG:3006")))[0][0][1] == "north"
    north_first = ServiceIndex(services.iloc[[2, 0, 1, 3]])
    assert north_first.nearest_each_xy(metric_xy(points_at((0.5, 0), crs="EPSG:3006"))) == [[("bin", "north", 0.5)]]
