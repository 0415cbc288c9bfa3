"""Grid clusters: points counted per SWEREF 99 TM cell, each count and mean against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from dialogkarta.geo.clusters import LIMIT_M, box_to_metric, cell_size_m, cells_to_wgs84, frame_cells, grid_cells
from dialogkarta.geo.crs import to_sweref, to_wgs84_xy
from tests.conftest import ORIGIN_E, ORIGIN_N, metric_frame


def brute_force(x, y, cell_m) -> dict:
    """Return {(column, row): [point indices]} by assigning each point on its own."""
    cells: dict = {}
    for i, (px, py) in enumerate(zip(x, y)):
        cells.setdefault((math.floor(px / cell_m), math.floor(py / cell_m)), []).append(i)
    return cells


@pytest.fixture
def scattered():
    rng = np.random.default_rng(7)
    return ORIGIN_E + rng.uniform(-900, 900, 400), ORIGIN_N + rng.uniform(-900, 900, 400)


def test_each_cell_holds_exactly_the_points_that_lie_in_it(scattered):
    x, y = scattered
    cells = grid_cells(x, y, 250.0)
    expected = brute_force(x, y, 250.0)
    found = {(int(c), int(r)): int(n) for c, r, n in zip(cells.column, cells.row, cells.count)}
    assert found == {key: len(members) for key, members in expected.items()}
    assert cells.count.sum() == len(x)


def test_a_cells_position_is_the_mean_of_its_members(scattered):
    x, y = scattered
    cells = grid_cells(x, y, 250.0)
    for position, (column, row) in enumerate(zip(cells.column, cells.row)):
        members = brute_force(x, y, 250.0)[(int(column), int(row))]
        assert cells.mean_x[position] == pytest.approx(np.mean(x[members]))
        assert cells.mean_y[position] == pytest.approx(np.mean(y[members]))


def test_each_point_knows_its_cell(scattered):
    x, y = scattered
    cells = grid_cells(x, y, 100.0)
    assert np.array_equal(cells.column[cells.cell_of], np.floor(x / 100.0).astype(int))
    assert np.array_equal(cells.row[cells.cell_of], np.floor(y / 100.0).astype(int))


def test_counts_per_group_add_up_to_the_cell_count(scattered):
    x, y = scattered
    groups = np.arange(len(x)) % 3
    cells = grid_cells(x, y, 300.0, groups, 3)
    assert np.array_equal(cells.by_group.sum(axis=1), cells.count)
    first = 0
    members = brute_force(x, y, 300.0)[(int(cells.column[first]), int(cells.row[first]))]
    assert cells.by_group[first].tolist() == [int(np.sum(groups[members] == g)) for g in range(3)]


def test_the_grid_is_anchored_at_zero_so_a_subset_keeps_its_cells(scattered):
    x, y = scattered
    whole, half = grid_cells(x, y, 200.0), grid_cells(x[::2], y[::2], 200.0)
    assert set(zip(half.column.tolist(), half.row.tolist())) <= set(zip(whole.column.tolist(), whole.row.tolist()))


def test_points_on_a_cell_edge_go_to_the_cell_above_and_right():
    cells = grid_cells([0.0, 100.0, -0.5], [0.0, 100.0, -0.5], 100.0)
    assert sorted(zip(cells.column.tolist(), cells.row.tolist())) == [(-1, -1), (0, 0), (1, 1)]


def test_no_points_no_cells():
    cells = grid_cells([], [], 50.0, [], 6)
    assert len(cells) == 0 and cells.by_group.shape == (0, 6)


@pytest.mark.parametrize("size", [0, -10, float("nan")])
def test_a_cell_size_must_be_positive(size):
    with pytest.raises(ValueError, match="positive"):
        grid_cells([1.0], [1.0], size)


def test_group_numbers_outside_their_range_are_refused():
    with pytest.raises(ValueError, match=r"group numbers must lie in 0\.\.2$"):
        grid_cells([1.0, 2.0], [1.0, 2.0], 10.0, [0, 3], 3)
    with pytest.raises(ValueError, match="group numbers"):  # groups without saying how many there are
        grid_cells([1.0, 2.0], [1.0, 2.0], 10.0, [0, 0])


def test_without_groups_there_is_no_breakdown_and_cells_are_integer_indexes():
    cells = grid_cells([0.2, 0.7, 0.7], [0.2, 0.2, 1.9], 0.5)  # cells smaller than a metre are fine
    assert cells.by_group is None
    assert cells.column.dtype.kind == cells.row.dtype.kind == "i"
    assert sorted(zip(cells.column.tolist(), cells.row.tolist(), cells.count.tolist())) == [(0, 0, 1), (1, 0, 1), (1, 3, 1)]


def test_cells_halve_with_each_zoom_level():
    assert cell_size_m(15) == pytest.approx(cell_size_m(14) / 2)
    assert 100 < cell_size_m(15) < 200  # 64 px at zoom 15 in southern Sweden: a block, not a town


def test_a_wgs84_frame_is_counted_in_sweref_metres_by_a_column():
    frame = metric_frame(
        [shapely.Point(10, 10), shapely.Point(20, 30), shapely.Point(160, 10)], crs="EPSG:4326", status=["a", "b", "a"]
    )
    cells, values = frame_cells(frame, 100.0, by="status")
    assert values == ["a", "b"]
    x, y = to_sweref(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    assert cells.count.tolist() == [len(m) for _key, m in sorted(brute_force(x, y, 100.0).items())]
    assert cells.by_group.tolist() == [[1, 1], [1, 0]]


def test_a_frame_is_counted_without_a_breakdown_when_no_column_is_named():
    frame = metric_frame([shapely.Point(10, 10), shapely.Point(20, 30), shapely.Point(160, 10)], crs="EPSG:4326")
    cells, values = frame_cells(frame, 100.0)
    x, y = to_sweref(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    assert values == [] and cells.by_group is None
    assert sorted(zip(cells.column.tolist(), cells.row.tolist(), cells.count.tolist())) == [
        (column, row, len(members)) for (column, row), members in sorted(brute_force(x, y, 100.0).items())
    ]


def _edges_extent(box, steps: int = 20_000) -> tuple:
    """The SWEREF 99 TM extent of a box's four edges, each sampled at ``steps`` points."""
    t = np.linspace(0.0, 1.0, steps)
    min_lon, min_lat, max_lon, max_lat = box
    lons = np.concatenate(
        [min_lon + (max_lon - min_lon) * t, np.full_like(t, max_lon), max_lon - (max_lon - min_lon) * t, np.full_like(t, min_lon)]
    )
    lats = np.concatenate(
        [np.full_like(t, min_lat), min_lat + (max_lat - min_lat) * t, np.full_like(t, max_lat), max_lat - (max_lat - min_lat) * t]
    )
    x, y = to_sweref(lons, lats)
    return x.min(), y.min(), x.max(), y.max()


def test_a_wgs84_box_becomes_the_sweref_extent_of_its_edges_no_larger():
    near_dalby = (13.30, 55.64, 13.40, 55.69)
    np.testing.assert_allclose(box_to_metric(*near_dalby), _edges_extent(near_dalby), rtol=0, atol=1e-6)
    # Astride 15°E, the projection's central meridian, the southern edge bows south between its corners.
    astride = (14.0, 55.5, 16.5, 56.0)
    exact = _edges_extent(astride)
    np.testing.assert_allclose(box_to_metric(*astride), exact, rtol=0, atol=2.0)
    assert box_to_metric(*astride)[1] < min(to_sweref([14.0, 16.5], [55.5, 55.5])[1]) - 400


def test_a_wgs84_box_becomes_a_sweref_extent_holding_all_of_it():
    box = (13.30, 55.64, 13.40, 55.69)
    min_x, min_y, max_x, max_y = box_to_metric(*box)
    lon, lat = np.meshgrid(np.linspace(box[0], box[2], 21), np.linspace(box[1], box[3], 21))
    x, y = to_sweref(lon.ravel(), lat.ravel())
    assert (x >= min_x - 1e-6).all() and (x <= max_x + 1e-6).all() and (y >= min_y - 1e-6).all() and (y <= max_y + 1e-6).all()


def test_a_box_the_projection_cannot_hold_still_gives_a_finite_extent():
    assert all(math.isfinite(v) for v in box_to_metric(-180, -90, 180, 90))
    # 90° from the central meridian the projection runs off to infinity, and just before it to northings
    # beyond a billion metres: the extent stays within the limit either way.
    assert box_to_metric(104.0, -1.0, 106.0, 1.0) == (LIMIT_M,) * 4
    assert box_to_metric(102.2, 0.4, 102.2, 0.4)[1] == LIMIT_M
    assert box_to_metric(102.2, -0.4, 102.2, -0.4)[1] == -LIMIT_M


def test_a_box_picks_the_cells_it_overlaps_its_edges_included():
    # Cells of 100 m at columns -1..3 along one row, and one cell a row above.
    cells = grid_cells([-50.0, 50.0, 150.0, 250.0, 350.0, 150.0], [50.0, 50.0, 50.0, 50.0, 50.0, 150.0], 100.0)

    def picked(*box):
        chosen = cells.within(*box)
        return sorted(zip(cells.column[chosen].tolist(), cells.row[chosen].tolist()))

    assert picked(100.0, 0.0, 200.0, 99.0) == [(1, 0), (2, 0)]  # x = 200 is the west edge of column 2
    assert picked(100.5, 10.0, 199.5, 99.5) == [(1, 0)]
    assert picked(-0.5, 0.0, 0.0, 0.0) == [(-1, 0), (0, 0)]
    assert picked(150.0, 100.0, 150.0, 100.0) == [(1, 1)]  # y = 100 is the south edge of row 1 only
    assert picked(0.0, 0.0, 399.0, 199.0) == [(0, 0), (1, 0), (1, 1), (2, 0), (3, 0)]
    assert picked(500.0, 0.0, 600.0, 99.0) == []


def test_clusters_are_placed_at_their_members_mean_in_wgs84():
    x, y = np.array([ORIGIN_E, ORIGIN_E + 40, ORIGIN_E + 900]), np.array([ORIGIN_N, ORIGIN_N + 20, ORIGIN_N])
    cells = grid_cells(x, y, 250.0)
    lon, lat = cells_to_wgs84(cells, np.array([1, 0]))
    expected_lon, expected_lat = to_wgs84_xy([ORIGIN_E + 900, ORIGIN_E + 20], [ORIGIN_N, ORIGIN_N + 10])
    np.testing.assert_allclose(lon, expected_lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(lat, expected_lat, rtol=0, atol=1e-9)
