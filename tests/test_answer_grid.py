"""Drawn answers on a grid: respondents counted once per cell, and no cell with fewer than k of them."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from dialogkarta.geo.answer_grid import answer_grid

E, N = 395_000.0, 6_169_000.0  # a corner of 100 m cells (both are multiples of 100)


def answers(*drawn):
    """(respondent, geometry) pairs in SWEREF 99 TM."""
    return gpd.GeoDataFrame({"respondent": [r for r, _ in drawn]}, geometry=[g for _, g in drawn], crs="EPSG:3006")


def cells(grid):
    return {(int(c - E // 100), int(r - N // 100)): int(n) for c, r, n in zip(grid["col"], grid["row"], grid["count"])}


def test_a_cell_with_fewer_than_k_respondents_is_left_out():
    five_here = [(i, Point(E + 10 + i, N + 10)) for i in range(5)]
    four_there = [(i, Point(E + 150, N + 10 + i)) for i in range(4)]
    assert cells(answer_grid(answers(*five_here, *four_there), 100.0, k=5)) == {(0, 0): 5}


def test_a_respondent_counts_once_per_cell_however_much_they_drew():
    drawn = [(1, Point(E + 10, N + 10)), (1, Point(E + 20, N + 20)), (1, Point(E + 30, N + 30)), (2, Point(E + 40, N + 40))]
    assert cells(answer_grid(answers(*drawn), 100.0, k=1)) == {(0, 0): 2}


def test_a_line_counts_in_every_cell_it_passes_and_an_area_in_every_cell_it_covers():
    line = LineString([(E + 50, N + 50), (E + 250, N + 50)])
    area = box(E + 50, N + 150, E + 150, N + 250)
    assert cells(answer_grid(answers((1, line), (2, area)), 100.0, k=1)) == {
        (0, 0): 1, (1, 0): 1, (2, 0): 1,
        (0, 1): 1, (1, 1): 1, (0, 2): 1, (1, 2): 1,
    }  # fmt: skip


def test_cells_are_squares_aligned_to_the_cell_size():
    grid = answer_grid(answers((1, Point(E + 123, N + 456))), 100.0, k=1)
    assert grid.crs == "EPSG:3006"
    assert grid.geometry.iloc[0].equals(box(E + 100, N + 400, E + 200, N + 500))


def test_random_answers_never_show_a_cell_under_k_and_match_a_count_by_hand():
    rng = np.random.default_rng(11)
    drawn = []
    for respondent in range(60):
        x, y = rng.uniform(0, 1000, 2) + (E, N)
        drawn.append((respondent, Point(x, y)))
        drawn.append((respondent, LineString([(x, y), (x + rng.uniform(-300, 300), y + rng.uniform(-300, 300))])))
    frame = answers(*drawn)
    grid = answer_grid(frame, 100.0, k=5)

    assert len(grid) > 0 and grid["count"].min() >= 5
    for cell, count in zip(grid.geometry, grid["count"]):
        assert count == len({r for r, g in drawn if g.intersects(cell)})
    everything = answer_grid(frame, 100.0, k=1)
    hidden = everything[everything["count"] < 5]
    assert len(hidden) > 0 and not set(zip(hidden["col"], hidden["row"])) & set(zip(grid["col"], grid["row"]))


def test_nonsense_sizes_are_refused():
    frame = answers((1, Point(E, N)))
    with pytest.raises(ValueError, match="cell_m"):
        answer_grid(frame, 0.0, k=5)
    with pytest.raises(ValueError, match="k must be"):
        answer_grid(frame, 100.0, k=0)
    with pytest.raises(ValueError, match="choose larger cells"):
        answer_grid(answers((1, Point(E, N)), (2, Point(E + 200_000, N + 200_000))), 1.0, k=1)


def test_no_answers_give_an_empty_grid():
    assert answer_grid(answers(), 100.0, k=5).empty


def test_nonsense_sizes_are_refused_saying_what_was_given():
    frame = answers((1, Point(E, N)))
    for cell_m, k, message in (
        (-1.0, 5, "cell_m must be a positive number of metres, got -1.0"),
        (100.0, 0, "k must be at least 1, got 0"),
    ):
        with pytest.raises(ValueError) as wrong:
            answer_grid(frame, cell_m, k=k)
        assert str(wrong.value) == message


def test_a_grid_of_at_most_max_cells_is_laid_and_a_larger_one_refused(monkeypatch):
    from dialogkarta.geo import answer_grid as module

    monkeypatch.setattr(module, "MAX_CELLS", 4)
    two_by_two = answers((1, Point(E + 10, N + 10)), (2, Point(E + 110, N + 110)))
    assert cells(answer_grid(two_by_two, 100.0, k=1)) == {(0, 0): 1, (1, 1): 1}
    with pytest.raises(ValueError) as wrong:
        answer_grid(answers((1, Point(E + 10, N + 10)), (2, Point(E + 110, N + 210))), 100.0, k=1)
    assert str(wrong.value) == "6 cells of 100.0 m: choose larger cells (at most 4)"


def test_an_empty_grid_still_has_its_columns_and_crs():
    for grid in (answer_grid(answers(), 100.0, k=5), answer_grid(answers((1, Point(E, N))), 100.0, k=2)):
        assert grid.empty and list(grid.columns) == ["col", "row", "count", "geometry"] and grid.crs == "EPSG:3006"


def test_respondents_may_be_named_by_another_column():
    frame = answers((1, Point(E + 10, N + 10)), (2, Point(E + 20, N + 20))).rename(columns={"respondent": "who"})
    assert cells(answer_grid(frame, 100.0, k=2, respondent_column="who")) == {(0, 0): 2}


def test_the_cell_limit_counts_the_answers_extent_not_the_distance_from_the_origin():
    """Metre cells in Dalby: 100 cells over the answers, though the grid's origin is 395 km and 6 169 km away."""
    grid = answer_grid(answers((1, Point(E + 0.5, N + 0.5)), (2, Point(E + 9.5, N + 9.5))), 1.0, k=1)
    assert cells_of_one_metre(grid) == {(0, 0): 1, (9, 9): 1}


def cells_of_one_metre(grid):
    return {(int(c - E), int(r - N)): int(n) for c, r, n in zip(grid["col"], grid["row"], grid["count"])}
