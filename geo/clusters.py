"""Grid clusters for a map: points counted per square cell of a SWEREF 99 TM grid.

Points go in as easting/northing arrays in EPSG:3006 (or a GeoDataFrame, converted to it);
cells are ``cell_m`` squares anchored at easting/northing 0, so a cell's index does not depend
on which points are counted, and the same cell can be cached and looked up by index. Each cell
carries its count, the mean of its members (a representative position that lies where the points
are, not at the cell's centre) and, when asked, a count per group (status, category). Nothing here
knows about a store, a zoom setting or HTTP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from .crs import SWEREF99TM, WGS84, to_metric, transform_xy

# Web Mercator's ground resolution at zoom 0 on the equator (metres per 256 px tile pixel).
EQUATOR_M_PER_PX = 156_543.03392
CLUSTER_PX = 64  # a cluster stands for about this many screen pixels square
REFERENCE_LAT = 57.0
LIMIT_M = 1e9  # any SWEREF 99 TM coordinate of a real point lies well inside  # the middle of Sweden: Mercator's scale there sets one grid for every locality


def cell_size_m(zoom: int, pixels: float = CLUSTER_PX) -> float:
    """Return the cell edge in metres that spans about ``pixels`` screen pixels at ``zoom`` in Sweden."""
    return pixels * EQUATOR_M_PER_PX * math.cos(math.radians(REFERENCE_LAT)) / 2**zoom


@dataclass(frozen=True)
class GridCells:
    """Non-empty cells, sorted by (column, row); ``cell_of[i]`` is the cell position of input point i."""

    cell_m: float
    column: np.ndarray  # floor(easting / cell_m)
    row: np.ndarray  # floor(northing / cell_m)
    count: np.ndarray
    mean_x: np.ndarray
    mean_y: np.ndarray
    by_group: np.ndarray | None  # cells x groups counts, when groups were given
    cell_of: np.ndarray

    def __len__(self) -> int:
        return len(self.count)

    def within(self, min_x: float, min_y: float, max_x: float, max_y: float) -> np.ndarray:
        """Return the positions of the cells that overlap the SWEREF 99 TM box (edges included)."""
        columns = math.floor(min_x / self.cell_m), math.floor(max_x / self.cell_m)
        rows = math.floor(min_y / self.cell_m), math.floor(max_y / self.cell_m)
        inside = (self.column >= columns[0]) & (self.column <= columns[1]) & (self.row >= rows[0]) & (self.row <= rows[1])
        return np.flatnonzero(inside)


def grid_cells(x, y, cell_m: float, groups=None, group_count: int = 0) -> GridCells:
    """Count points per ``cell_m`` cell.

    Parameters
    ----------
    x, y : array-like
        SWEREF 99 TM easting and northing in metres.
    cell_m : float
        Cell edge in metres (> 0).
    groups : array-like of int, optional
        Each point's group number in ``0..group_count-1`` (a status or category code); adds
        ``by_group``, the count per cell and group.

    Returns
    -------
    GridCells
        One entry per non-empty cell; the counts add up to the number of points.
    """
    if not cell_m > 0:
        raise ValueError(f"cell size must be positive metres, got {cell_m!r}")
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    column = np.floor(x / cell_m).astype("int64")
    row = np.floor(y / cell_m).astype("int64")
    # One integer per cell, column-major, so that a 1-D unique (a plain sort) finds the cells.
    low_column, low_row = (int(column.min()), int(row.min())) if len(x) else (0, 0)
    height = int(row.max()) - low_row + 1 if len(x) else 1
    keys, cell_of = np.unique((column - low_column) * height + (row - low_row), return_inverse=True)
    cell_of = cell_of.reshape(-1)
    cells = np.stack([keys // height + low_column, keys % height + low_row], axis=1)
    count = np.bincount(cell_of, minlength=len(cells))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = np.bincount(cell_of, weights=x, minlength=len(cells)) / count
        mean_y = np.bincount(cell_of, weights=y, minlength=len(cells)) / count
    by_group = None
    if groups is not None:
        codes = np.asarray(groups, dtype="int64")
        if len(codes) and (codes.min() < 0 or codes.max() >= group_count):
            raise ValueError(f"group numbers must lie in 0..{group_count - 1}")
        flat = np.bincount(cell_of * group_count + codes, minlength=len(cells) * group_count)
        by_group = flat.reshape(len(cells), group_count)
    return GridCells(
        cell_m=float(cell_m),
        column=cells[:, 0].copy(),
        row=cells[:, 1].copy(),
        count=count,
        mean_x=mean_x,
        mean_y=mean_y,
        by_group=by_group,
        cell_of=cell_of,
    )


def frame_cells(frame: gpd.GeoDataFrame, cell_m: float, by: str | None = None) -> tuple[GridCells, list]:
    """Count a point frame's rows per cell (in SWEREF 99 TM); ``by`` names a column to break counts down by.

    Returns the cells and the group values in ``by_group``'s column order (empty without ``by``).
    """
    metric = to_metric(frame)
    x, y = metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()
    if by is None:
        return grid_cells(x, y, cell_m), []
    values, inverse = np.unique(frame[by].to_numpy(), return_inverse=True)
    return grid_cells(x, y, cell_m, inverse.reshape(-1), len(values)), list(values)


def box_to_metric(min_lon: float, min_lat: float, max_lon: float, max_lat: float, steps: int = 8) -> tuple:
    """Return the SWEREF 99 TM extent (min_x, min_y, max_x, max_y) of a WGS84 box, its edges densified.

    Meridians and parallels curve in the projection, so corners alone can miss part of an edge.
    """
    t = np.linspace(0.0, 1.0, steps + 1)
    lons = np.concatenate([min_lon + (max_lon - min_lon) * t, np.full_like(t, max_lon), max_lon - (max_lon - min_lon) * t])
    lats = np.concatenate([np.full_like(t, min_lat), min_lat + (max_lat - min_lat) * t, np.full_like(t, max_lat)])
    lons = np.concatenate([lons, np.full_like(t, min_lon)])
    lats = np.concatenate([lats, max_lat - (max_lat - min_lat) * t])
    x, y = transform_xy(lons, lats, WGS84, SWEREF99TM)
    # Far outside its zone the projection runs off to infinity: keep the extent finite (and the globe inside it).
    x, y = (np.clip(np.nan_to_num(v, nan=0.0, posinf=LIMIT_M, neginf=-LIMIT_M), -LIMIT_M, LIMIT_M) for v in (x, y))
    return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))


def cells_to_wgs84(cells: GridCells, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 lon, lat of the chosen cells' mean positions."""
    return transform_xy(cells.mean_x[positions], cells.mean_y[positions], SWEREF99TM, WGS84)
