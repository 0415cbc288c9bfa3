"""Drawn answers counted on a SWEREF 99 TM grid, with every cell of fewer than k respondents left out.

The public face of map questions: a cell reports how many respondents drew something that
touches it (a point in it, a line through it, an area over it), each respondent counted once per
cell however much they drew there. Cells are aligned to multiples of the cell size, so the same
cell is the same square in every output. A cell with fewer than ``k`` respondents is not in the
result at all: not zero, not "hidden", simply absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .crs import SWEREF99TM, to_metric
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    shapely = lazy_module("shapely")

MAX_CELLS = 1_000_000


def answer_grid(shapes: gpd.GeoDataFrame, cell_m: float, k: int, respondent_column: str = "respondent") -> gpd.GeoDataFrame:
    """Return the cells (EPSG:3006 squares) touched by at least ``k`` respondents, with ``count``, ``col`` and ``row``."""
    if not cell_m > 0:
        raise ValueError(f"cell_m must be a positive number of metres, got {cell_m!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    empty = gpd.GeoDataFrame({"col": [], "row": [], "count": []}, geometry=[], crs=SWEREF99TM)
    metric = to_metric(shapes)
    geometries = metric.geometry.to_numpy()
    if len(geometries) == 0:
        return empty
    min_x, min_y, max_x, max_y = shapely.total_bounds(geometries)
    first_col, first_row = int(np.floor(min_x / cell_m)), int(np.floor(min_y / cell_m))
    cols = np.arange(first_col, int(np.floor(max_x / cell_m)) + 1)
    rows = np.arange(first_row, int(np.floor(max_y / cell_m)) + 1)
    if len(cols) * len(rows) > MAX_CELLS:
        raise ValueError(f"{len(cols) * len(rows)} cells of {cell_m} m: choose larger cells (at most {MAX_CELLS})")
    col_grid, row_grid = (a.ravel() for a in np.meshgrid(cols, rows))
    cells = shapely.box(col_grid * cell_m, row_grid * cell_m, (col_grid + 1) * cell_m, (row_grid + 1) * cell_m)
    cell_pos, shape_pos = shapely.STRtree(geometries).query(cells, predicate="intersects")
    pairs = pd.DataFrame({"cell": cell_pos, "respondent": metric[respondent_column].to_numpy()[shape_pos]}).drop_duplicates()
    counts = pairs.groupby("cell").size()
    counts = counts[counts >= k]
    if counts.empty:
        return empty
    positions = counts.index.to_numpy()
    return gpd.GeoDataFrame(
        {"col": col_grid[positions], "row": row_grid[positions], "count": counts.to_numpy()},
        geometry=cells[positions],
        crs=SWEREF99TM,
    )
