"""Joins for drawn lines and areas: lengths, sizes, overlaps and nearby services in SWEREF 99 TM."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

from dialogkarta.geo.shape_joins import (
    line_lengths,
    lines_in_areas,
    polygon_overlaps,
    polygon_sizes,
    services_inside,
    services_near_lines,
)

E, N = 395_000.0, 6_169_000.0  # inside Dalby, SWEREF 99 TM


def frame(geometries, crs="EPSG:3006", **columns):
    return gpd.GeoDataFrame(columns, geometry=list(geometries), crs=crs)


def development_areas(*boxes):
    return frame([box(*b) for b in boxes], id=[f"area-{i}" for i in range(len(boxes))])


def services(points, kinds):
    return frame([Point(p) for p in points], id=[f"svc-{i}" for i in range(len(points))], kind=kinds)


def test_a_kilometre_line_measures_a_kilometre_and_its_length_inside_an_area():
    line = frame([LineString([(E, N), (E + 600, N + 800)])])
    areas = development_areas((E - 10, N - 10, E + 300, N + 1000))  # the line leaves it at E + 300, halfway

    assert line_lengths(line).iloc[0] == pytest.approx(1000.0, abs=0.01)
    pairs = lines_in_areas(line, areas)
    assert pairs.to_dict("records") == [{"shape": 0, "area_id": "area-0", "length_m": pytest.approx(500.0, abs=0.01)}]


def test_lengths_hold_when_the_line_arrives_in_wgs84_or_sweref_1330():
    line = frame([LineString([(E, N), (E + 600, N + 800)])])
    for crs in ("EPSG:4326", "EPSG:3008"):
        assert line_lengths(line.to_crs(crs)).iloc[0] == pytest.approx(1000.0, abs=0.01)


def test_a_hundred_metre_square_reports_its_size_and_overlap_shares():
    square = frame([box(E, N, E + 100, N + 100)])
    areas = development_areas((E + 50, N - 50, E + 250, N + 150), (E + 500, N, E + 600, N + 100))

    assert polygon_sizes(square).iloc[0] == pytest.approx(10_000.0, abs=0.1)
    overlaps = polygon_overlaps(square, areas)
    assert overlaps.to_dict("records") == [
        {
            "shape": 0,
            "area_id": "area-0",
            "overlap_m2": pytest.approx(5_000.0, abs=0.1),
            "share_of_shape_pct": pytest.approx(50.0, abs=1e-6),
            "share_of_area_pct": pytest.approx(12.5, abs=1e-6),  # 5 000 of the area's 40 000 m²
        }
    ]


def test_a_line_in_two_overlapping_areas_gets_a_row_for_each():
    line = frame([LineString([(E, N), (E + 100, N)])])
    areas = development_areas((E - 10, N - 10, E + 60, N + 10), (E + 40, N - 10, E + 200, N + 10))

    pairs = lines_in_areas(line, areas)
    assert pairs["area_id"].tolist() == ["area-0", "area-1"]
    assert pairs["length_m"].tolist() == pytest.approx([60.0, 60.0], abs=1e-6)


def test_a_line_along_an_edge_is_inside_but_one_touching_a_corner_is_not():
    areas = development_areas((E, N, E + 100, N + 100))
    along_edge = LineString([(E, N), (E + 100, N)])
    touches_corner = LineString([(E + 100, N + 100), (E + 200, N + 200)])
    lines = frame([along_edge, touches_corner])

    pairs = lines_in_areas(lines, areas)
    assert pairs[["shape", "area_id"]].values.tolist() == [[0, "area-0"]]
    assert pairs["length_m"].iloc[0] == pytest.approx(100.0)


def test_areas_that_only_share_an_edge_do_not_overlap():
    square = frame([box(E, N, E + 100, N + 100)])
    neighbour = development_areas((E + 100, N, E + 200, N + 100))
    assert polygon_overlaps(square, neighbour).empty


def test_services_near_a_line_count_up_to_the_distance_inclusive():
    line = frame([LineString([(E, N), (E + 1000, N)])])
    near = services(
        [(E + 500, N + 399.99), (E + 500, N + 400.01), (E + 1000 + 300, N), (E - 400, N)],
        ["bus_stop", "bus_stop", "school", "school"],
    )

    pairs = services_near_lines(line, near, 400.0)
    assert pairs["service_id"].tolist() == ["svc-0", "svc-2", "svc-3"]
    assert pairs["kind"].tolist() == ["bus_stop", "school", "school"]
    assert pairs["distance_m"].tolist() == pytest.approx([399.99, 300.0, 400.0], abs=1e-6)


def test_services_inside_an_area_include_its_edge():
    square = frame([box(E, N, E + 100, N + 100)])
    points = services([(E + 50, N + 50), (E + 100, N + 20), (E + 100.01, N + 20)], ["library", "school", "school"])

    pairs = services_inside(square, points)
    assert pairs.to_dict("records") == [
        {"shape": 0, "service_id": "svc-0", "kind": "library"},
        {"shape": 0, "service_id": "svc-1", "kind": "school"},
    ]


def test_multi_part_shapes_are_measured_whole():
    two_squares = frame([MultiPolygon([box(E, N, E + 10, N + 10), box(E + 20, N, E + 30, N + 10)])])
    two_lines = frame([MultiLineString([[(E, N), (E + 30, N)], [(E, N + 50), (E, N + 90)]])])

    assert polygon_sizes(two_squares).iloc[0] == pytest.approx(200.0)
    assert line_lengths(two_lines).iloc[0] == pytest.approx(70.0)


def test_shapes_of_the_wrong_type_are_refused_with_the_types_named():
    points = frame([Point(E, N)])
    with pytest.raises(ValueError, match="expected a frame of lines, got geometry types \\['Point'\\]"):
        line_lengths(points)
    with pytest.raises(ValueError, match="expected a frame of polygons, got geometry types \\['Point'\\]"):
        polygon_sizes(points)
    with pytest.raises(ValueError, match="non-negative"):
        services_near_lines(frame([LineString([(E, N), (E + 1, N)])]), services([(E, N)], ["x"]), -1.0)


def test_the_rows_keep_the_callers_labels_and_ids():
    line = frame([LineString([(E, N), (E + 50, N)])], id=["answer-7"]).set_index("id")
    areas = frame([box(E - 1, N - 1, E + 100, N + 1)], code=["K3"])

    assert lines_in_areas(line, areas, id_column="code")[["shape", "area_id"]].values.tolist() == [["answer-7", "K3"]]


def test_empty_frames_give_empty_tables_with_the_columns():
    lines = frame([], crs="EPSG:3006")
    areas = development_areas((E, N, E + 1, N + 1))
    assert list(lines_in_areas(lines, areas).columns) == ["shape", "area_id", "length_m"]
    assert list(services_near_lines(lines, services([(E, N)], ["x"]), 10.0).columns) == [
        "shape",
        "service_id",
        "kind",
        "distance_m",
    ]


def test_random_lines_and_areas_agree_with_pair_by_pair_shapely():
    rng = np.random.default_rng(7)
    starts = rng.uniform(0, 2000, (300, 2)) + (E, N)
    ends = starts + rng.uniform(-400, 400, (300, 2))
    lines = frame([LineString([s, e]) for s, e in zip(starts, ends)])
    corners = rng.uniform(0, 2000, (40, 2)) + (E, N)
    areas = development_areas(*[(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, rng.uniform(20, 600, (40, 2)))])
    points = services([tuple(p) for p in rng.uniform(0, 2000, (200, 2)) + (E, N)], ["k"] * 200)

    expected_lengths = [
        (i, f"area-{j}", line.intersection(area).length)
        for i, line in enumerate(lines.geometry)
        for j, area in enumerate(areas.geometry)
        if line.intersection(area).length > 0
    ]
    pairs = lines_in_areas(lines, areas)
    assert [tuple(r) for r in pairs[["shape", "area_id"]].values] == [(i, a) for i, a, _ in expected_lengths]
    assert pairs["length_m"].tolist() == pytest.approx([m for _, _, m in expected_lengths])

    expected_near = [
        (i, f"svc-{j}")
        for i, line in enumerate(lines.geometry)
        for j, p in enumerate(points.geometry)
        if line.distance(p) <= 150.0
    ]
    assert [tuple(r) for r in services_near_lines(lines, points, 150.0)[["shape", "service_id"]].values] == expected_near

    squares = frame([shapely.buffer(Point(p), 80.0) for p in starts[:100]])
    expected_inside = [
        (i, f"svc-{j}") for i, s in enumerate(squares.geometry) for j, p in enumerate(points.geometry) if s.covers(p)
    ]
    assert [tuple(r) for r in services_inside(squares, points)[["shape", "service_id"]].values] == expected_inside


@pytest.mark.parametrize(
    "join, what",
    [
        (lambda shapes: lines_in_areas(shapes, development_areas((E, N, E + 10, N + 10))), "lines"),
        (lambda shapes: services_near_lines(shapes, services([(E, N)], ["skola"]), 10.0), "lines"),
        (lambda shapes: polygon_overlaps(shapes, development_areas((E, N, E + 10, N + 10))), "polygons"),
        (lambda shapes: services_inside(shapes, services([(E, N)], ["skola"])), "polygons"),
    ],
)
def test_a_frame_of_the_wrong_kind_is_a_programming_error_naming_what_it_holds(join, what):
    with pytest.raises(ValueError) as wrong:
        join(frame([Point(E, N), None]))
    assert str(wrong.value) == f"expected a frame of {what}, got geometry types ['Point', 'missing']"


def test_lengths_and_sizes_are_named_and_indexed_like_their_shapes():
    lines = gpd.GeoDataFrame(geometry=[LineString([(E, N), (E + 30, N + 40)])], index=["walk"], crs="EPSG:3006")
    areas = gpd.GeoDataFrame(geometry=[box(E, N, E + 10, N + 20)], index=["park"], crs="EPSG:3006")
    assert line_lengths(lines).to_dict() == {"walk": pytest.approx(50.0)} and line_lengths(lines).name == "length_m"
    assert polygon_sizes(areas).to_dict() == {"park": pytest.approx(200.0)} and polygon_sizes(areas).name == "area_m2"


def test_areas_without_an_id_column_are_named_by_their_index():
    areas = gpd.GeoDataFrame(geometry=[box(E - 10, N - 10, E + 10, N + 10)], index=["torget"], crs="EPSG:3006")
    line = frame([LineString([(E, N), (E + 5, N)])])
    assert lines_in_areas(line, areas)["area_id"].tolist() == ["torget"]


def test_an_overlap_under_a_square_metre_still_counts():
    drawn = frame([box(E, N, E + 10, N + 10)])
    sliver = development_areas((E + 9.5, N, E + 20, N + 1))  # 0.5 m² in common
    assert polygon_overlaps(drawn, sliver)["overlap_m2"].tolist() == [pytest.approx(0.5)]


@pytest.mark.parametrize("distance_m", [0.0, 0.5])
def test_services_on_the_line_are_near_at_any_non_negative_distance(distance_m):
    line = frame([LineString([(E, N), (E + 100, N)])])
    assert services_near_lines(line, services([(E + 50, N)], ["skola"]), distance_m)["service_id"].tolist() == ["svc-0"]


def test_a_negative_distance_is_a_programming_error():
    with pytest.raises(ValueError) as wrong:
        services_near_lines(frame([LineString([(E, N), (E + 1, N)])]), services([(E, N)], ["skola"]), -1.0)
    assert str(wrong.value) == "distance_m must be a non-negative number of metres, got -1.0"
