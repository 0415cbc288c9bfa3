"""Spatial joins between residents' proposals and the planning layers.

Frames go in and come out in WGS84 (any declared CRS is accepted); distances are computed in
SWEREF 99 TM and reported in metres. Everything is vectorised and exact: points are binned
into 25 m grid cells, and polygons (a shapely STRtree) and the service points of each kind (a
scipy cKDTree per kind) are asked once per cell; only the points of cells at an edge (of an
area, of a radius, between two services) are measured one by one, so no join materialises all
point/service pairs. Nothing here reads files or knows about Flask.

Boundary rules: a point on an area's edge lies in that area (``covers``, not ``contains``); a
service exactly ``radius_m`` or ``max_distance_m`` away counts; of services of one kind at the
same distance, the nearest is the one listed first in the layer.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .crs import metric_xy, to_metric, to_sweref
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    from scipy import spatial
    import numpy as np
    import pandas as pd
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    shapely = lazy_module("shapely")
    spatial = lazy_module("scipy.spatial")

WORKERS = -1  # scipy: use every core
FEW_POINTS = 64  # up to this many points are counted point by point, without a cell grid or worker threads
MEASURE_ALL_MAX = 20_000  # with at most this many services, a few points are measured against every one (no tree)
CELL_M = 25.0  # cell size of the area and nearest-of-kind searches; join_all's one grid for all three joins
NEAREST_CANDIDATES = 8  # services asked per cell centre; a cell with more within reach asks for all
COUNT_CANDIDATES = 32  # the same for counts within a radius


def _check_points(points: gpd.GeoDataFrame) -> None:
    type_ids = shapely.get_type_id(points.geometry.to_numpy())
    if (type_ids != shapely.GeometryType.POINT).any():
        kinds = sorted(set(points.geom_type[type_ids != shapely.GeometryType.POINT].fillna("missing")))
        raise ValueError(f"expected a frame of points, got geometry types {kinds}")


class AreaIndex:
    """Polygons (e.g. development areas) in SWEREF 99 TM behind an STRtree."""

    cell_m = CELL_M

    def __init__(self, areas: gpd.GeoDataFrame, id_column: str = "id"):
        metric = to_metric(areas)
        self.ids = metric[id_column].to_numpy() if id_column in metric else metric.index.to_numpy()
        self.geometries = metric.geometry.to_numpy()
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)

    def containing(self, points: gpd.GeoDataFrame) -> pd.DataFrame:
        """Return one row per (point, area) pair where the area covers the point.

        Columns: ``point`` (the point's index label) and ``area_id``; a point in no area has
        no row, a point in two overlapping areas has two. Rows are ordered by point position.
        """
        _check_points(points)
        point_pos, area_pos = self.containing_xy(metric_xy(points))
        return pd.DataFrame({"point": points.index.to_numpy()[point_pos], "area_id": self.ids[area_pos]})

    def containing_xy(self, xy: np.ndarray, grid: _Grid | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (point position, area position) pairs for SWEREF 99 TM coordinates, sorted.

        Points are binned into 25 m cells (or ``grid``'s); the STRtree is asked once per cell. A cell an area
        covers whole puts all its points in that area; only cells on an area's edge test their
        points one by one (``intersects`` of a point is ``covers``: the edge counts as inside).
        """
        if len(xy) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if grid is None and len(xy) <= FEW_POINTS:  # a new proposal: ask the tree for the points themselves
            point_pos, area_pos = self.tree.query(shapely.points(xy), predicate="intersects")
            order = np.lexsort((area_pos, point_pos))
            return point_pos[order], area_pos[order]
        grid = grid if grid is not None else _Grid(xy, self.cell_m)
        boxes = shapely.box(*grid.corners.T, *(grid.corners + grid.size).T)
        cell_pos, area_pos = self.tree.query(boxes)
        whole = shapely.covers(self.geometries[area_pos], boxes[cell_pos])
        pair, point_whole = grid.expand(cell_pos[whole])
        area_whole = area_pos[whole][pair]
        pair, point_edge = grid.expand(cell_pos[~whole])
        area_edge = area_pos[~whole][pair]
        inside = shapely.intersects_xy(self.geometries[area_edge], xy[point_edge, 0], xy[point_edge, 1])
        point_pos = np.concatenate([point_whole, point_edge[inside]])
        area_pos = np.concatenate([area_whole, area_edge[inside]])
        order = np.lexsort((area_pos, point_pos))
        return point_pos[order], area_pos[order]


class ServiceIndex:
    """Service points in SWEREF 99 TM, one KD-tree per kind."""

    def __init__(self, services: gpd.GeoDataFrame, kind_column: str = "kind", id_column: str = "id", name_column: str = "name"):
        _check_points(services)
        xy = metric_xy(services)
        kinds = services[kind_column].to_numpy()
        ids = services[id_column].to_numpy() if id_column in services else services.index.to_numpy()
        self.names = dict(zip(ids, services.get(name_column, ids)))
        self.kinds = sorted(set(kinds))
        self._trees, self._ids = {}, {}
        for kind in self.kinds:
            mask = kinds == kind
            self._trees[kind] = spatial.cKDTree(xy[mask])
            self._ids[kind] = ids[mask]
        # Every service, grouped by kind in layer order, for measuring a few points against all at once.
        self._all_x = np.concatenate([self._trees[kind].data[:, 0] for kind in self.kinds]) if self.kinds else np.zeros(0)
        self._all_y = np.concatenate([self._trees[kind].data[:, 1] for kind in self.kinds]) if self.kinds else np.zeros(0)
        self._starts = np.cumsum([0] + [self._trees[kind].n for kind in self.kinds])[:-1]

    def _select(self, kinds) -> list:
        if kinds is None:
            return self.kinds
        unknown = set(kinds) - set(self.kinds)
        if unknown:
            raise ValueError(f"no services of kind {sorted(unknown)}; known kinds are {self.kinds}")
        return list(kinds)

    def nearest(self, points: gpd.GeoDataFrame, max_distance_m: float | None = None, kinds=None) -> pd.DataFrame:
        """Return the nearest service of each kind for every point.

        Parameters
        ----------
        points : GeoDataFrame of points in any declared CRS.
        max_distance_m : services farther than this (metres) are not reported.
        kinds : the service kinds to answer for; all kinds when None.

        Returns
        -------
        DataFrame indexed like ``points`` with, per kind, ``<kind>_id`` (the service id, or
        None when none lies within ``max_distance_m``) and ``<kind>_m`` (metres, NaN then).
        """
        _check_points(points)
        return pd.DataFrame(self.nearest_xy(metric_xy(points), max_distance_m, kinds), index=points.index, copy=False)

    def nearest_xy(self, xy: np.ndarray, max_distance_m: float | None = None, kinds=None, grid: _Grid | None = None) -> dict:
        """Return ``{<kind>_id: Categorical, <kind>_m: metres}`` columns for SWEREF 99 TM coordinates.

        ``grid`` is the points binned into cells (``join_all`` shares one between the joins).
        """
        bound = np.inf if max_distance_m is None else float(max_distance_m)
        if not bound >= 0:
            raise ValueError(f"max_distance_m must be a non-negative number of metres, got {max_distance_m!r}")
        grid = grid if grid is not None else _Grid(xy, CELL_M)
        columns = {}
        kinds = self._select(kinds)
        answers = _each_in_parallel(lambda kind: _nearest_by_cells(grid, self._trees[kind], bound), kinds)
        for kind, (position, distance) in zip(kinds, answers):
            # Categorical codes: no per-point Python object.
            columns[f"{kind}_id"] = pd.Categorical.from_codes(position, categories=pd.Index(self._ids[kind]))
            columns[f"{kind}_m"] = distance
        return columns

    def nearest_each_xy(self, xy: np.ndarray) -> list[list[tuple[str, object, float]]]:
        """Return, per SWEREF 99 TM point, ``(kind, service id, metres)`` for the nearest service of each kind.

        The plain-Python answer for a few points at a time (one new proposal): no frames built.
        Services at the same distance resolve as in ``nearest``: the one listed first.
        """
        found: list[list[tuple[str, object, float]]] = [[] for _ in range(len(xy))]
        if 0 < len(self._all_x) <= MEASURE_ALL_MAX:
            for point, (x, y) in enumerate(xy.tolist()):
                squared = np.square(x - self._all_x) + np.square(y - self._all_y)
                nearest = np.minimum.reduceat(squared, self._starts)
                # Of services at the same distance the one listed first: the first position holding its kind's minimum.
                hits = np.flatnonzero(squared == np.repeat(nearest, np.diff(np.r_[self._starts, len(squared)])))
                first = hits[np.searchsorted(hits, self._starts)] - self._starts
                for kind, position, metres in zip(self.kinds, first.tolist(), np.sqrt(nearest).tolist()):
                    found[point].append((kind, self._ids[kind][position], metres))
            return found
        for kind in self.kinds:
            distances, positions = self._trees[kind].query(xy, k=[1, 2])
            for point, ((metres, runner_up), (position, _)) in enumerate(zip(distances.tolist(), positions.tolist())):
                if metres == runner_up:
                    position = _first_of_the_nearest(self._trees[kind], xy[point], metres)
                found[point].append((kind, self._ids[kind][position], metres))
        return found

    def count_within(self, points: gpd.GeoDataFrame, radius_m: float, kinds=None) -> pd.DataFrame:
        """Return, per point, how many services of each kind lie within ``radius_m`` metres.

        The circle includes its edge. Columns are the kinds; values are integers.
        """
        _check_points(points)
        return pd.DataFrame(
            self.count_within_xy(metric_xy(points), radius_m, kinds), index=points.index, dtype="int64", copy=False
        )

    def count_within_xy(self, xy: np.ndarray, radius_m: float, kinds=None, grid: _Grid | None = None) -> dict:
        """Return ``{kind: counts}`` for SWEREF 99 TM coordinates; ``grid`` as in ``nearest_xy``."""
        if not radius_m >= 0:
            raise ValueError(f"radius_m must be a non-negative number of metres, got {radius_m!r}")
        grid = grid if grid is not None else _radius_grid(xy, float(radius_m))
        kinds = self._select(kinds)
        return dict(zip(kinds, _each_in_parallel(lambda kind: _count_within(grid, self._trees[kind], float(radius_m)), kinds)))

    def count_within_radii_xy(self, xy: np.ndarray, radius_of) -> dict:
        """Return ``{kind: counts}`` for SWEREF 99 TM coordinates, each kind within its own radius.

        ``radius_of(kind)`` gives the metres for a kind (a locality declares one per kind). A few
        points (one new proposal) ask each tree directly: the cell grid pays off only for many,
        and kinds that share a radius share its grid.
        """
        radii = {kind: float(radius_of(kind)) for kind in self.kinds}
        bad = {kind: radius for kind, radius in radii.items() if not radius >= 0}
        if bad:
            raise ValueError(f"radii must be non-negative numbers of metres, got {bad!r}")
        if len(xy) <= FEW_POINTS and 0 < len(self._all_x) <= MEASURE_ALL_MAX:
            radius_each = np.repeat([radii[kind] for kind in self.kinds], np.diff(np.r_[self._starts, len(self._all_x)]))
            counts = np.array(
                [
                    np.add.reduceat(np.hypot(x - self._all_x, y - self._all_y) <= radius_each, self._starts)
                    for x, y in xy.tolist()
                ],
                dtype=np.int64,
            ).reshape(len(xy), len(self.kinds))
            return {kind: counts[:, column] for column, kind in enumerate(self.kinds)}
        if len(xy) <= FEW_POINTS:
            return {kind: _count_within_few(self._trees[kind], xy, radius) for kind, radius in radii.items()}
        grids = {radius: _radius_grid(xy, radius) for radius in set(radii.values())}
        return {kind: _count_within(grids[radius], self._trees[kind], radius) for kind, radius in radii.items()}


def _each_in_parallel(function, items: list) -> list:
    """Return ``[function(item) for item in items]``, computed on every core (numpy and scipy release the GIL)."""
    if len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(function, items))


class _Grid:
    """Points binned into square cells, so that a question can be asked once per occupied cell.

    ``expand(cells)`` turns per-cell candidates into per-point rows, for the exact tests that
    only the cells at an edge need.
    """

    def __init__(self, xy: np.ndarray, size: float):
        self.xy, self.size = xy, size
        self.columns = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])  # x and y, each contiguous
        if len(xy) == 0:
            xy = np.zeros((1, 2))  # one dummy cell keeps the arrays well-formed; callers return early
        origin = np.floor(xy / size).min(axis=0)
        column, row = (np.floor(xy / size) - origin).astype(np.int64).T
        key = column * (row.max() + 1) + row
        self.points_by_cell = np.argsort(key)
        sorted_key = key[self.points_by_cell]
        self.first_point = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        self.points_in_cell = np.diff(np.r_[self.first_point, len(xy)])
        self.cell_of_point = np.empty(len(xy), dtype=np.int64)
        self.cell_of_point[self.points_by_cell] = np.repeat(np.arange(len(self.first_point)), self.points_in_cell)
        first = self.points_by_cell[self.first_point]
        self.corners = (np.column_stack([column[first], row[first]]) + origin) * size  # south-west corners
        self.centres = self.corners + 0.5 * size

    def expand(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (row of ``cells``, point position) for every point of every listed cell."""
        repeats = self.points_in_cell[cells]
        return np.repeat(np.arange(len(cells)), repeats), self.points_by_cell[_ranges(self.first_point[cells], repeats)]


def _count_within(grid: _Grid, tree: spatial.cKDTree, radius: float) -> np.ndarray:
    """Return, per point of ``grid``, how many of ``tree``'s points lie within ``radius`` (edge included).

    Asking the KD-tree once per point costs time proportional to the neighbours counted (68
    million at 1e6 points in the benchmark). Instead each occupied cell asks twice, from its
    centre: services within ``radius - h`` (``h`` = half the cell's diagonal) are within
    ``radius`` of every point in the cell; services beyond ``radius + h`` of none. Only the thin
    ring in between is measured point by point. The result is exact.
    """
    n = len(grid.xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    half_diagonal = grid.size * np.sqrt(0.5)
    # A hair smaller and larger: a service on either circle is measured point by point.
    inner_radius, outer_radius = radius - half_diagonal - 1e-6, radius + half_diagonal + 1e-6
    # The nearest few within the outer circle come back as arrays, sorted by distance; a cell whose
    # few are all inside it may have more, and lists them all.
    k = min(tree.n, COUNT_CANDIDATES)
    metres, found = tree.query(grid.centres, k=list(range(1, k + 1)), distance_upper_bound=outer_radius, workers=WORKERS)
    whole = metres <= inner_radius
    ring = np.isfinite(metres) & ~whole
    crowded = np.flatnonzero(np.isfinite(metres[:, -1])) if k < tree.n else np.zeros(0, dtype=np.int64)
    whole[crowded], ring[crowded] = False, False
    per_cell = whole.sum(axis=1)
    cells, columns = np.nonzero(ring)
    services = found[cells, columns]
    if len(crowded):
        listed = tree.query_ball_point(grid.centres[crowded], outer_radius, workers=WORKERS)
        lengths = np.fromiter((len(members) for members in listed), dtype=np.int64, count=len(listed))
        more = np.fromiter((s for members in listed for s in members), dtype=np.int64, count=int(lengths.sum()))
        row = np.repeat(np.arange(len(crowded)), lengths)
        inside = np.hypot(*(tree.data[more] - grid.centres[crowded[row]]).T) <= inner_radius
        per_cell[crowded] = np.bincount(row[inside], minlength=len(crowded))
        cells, services = np.concatenate([cells, crowded[row[~inside]]]), np.concatenate([services, more[~inside]])
    pair, point = grid.expand(cells)
    x, y = grid.columns
    service = services[pair]
    within = np.hypot(x[point] - tree.data[service, 0], y[point] - tree.data[service, 1]) <= radius
    return per_cell[grid.cell_of_point] + np.bincount(point[within], minlength=n)


def _first_of_the_nearest(tree: spatial.cKDTree, point: np.ndarray, metres: float) -> int:
    """Return the lowest position among ``tree``'s points nearest to ``point``, which lie ``metres`` away."""
    around = np.asarray(tree.query_ball_point(point, metres * (1 + 1e-9) + 1e-9), dtype=np.int64)
    squared = np.square(point[0] - tree.data[around, 0]) + np.square(point[1] - tree.data[around, 1])
    return int(around[squared == squared.min()].min())


def _nearest_by_cells(grid: _Grid, tree: spatial.cKDTree, bound: float) -> tuple[np.ndarray, np.ndarray]:
    """Return, per point of ``grid``, the position in ``tree`` of its nearest point and the metres to it.

    Each occupied cell asks the KD-tree once, from its centre, for its nearest services: the
    nearest at ``d`` and the others within ``d + 2h`` (``h`` = half the cell's diagonal). A point
    of the cell is at most ``d + h`` from the first, so its own nearest lies within ``d + 2h`` of
    the centre: each point measures only these candidates, usually one. Of services at the same
    distance the one listed first wins. Beyond ``bound`` metres none is reported (position -1,
    metres NaN). Metres are ``sqrt(dx² + dy²)``, computed as the KD-tree computes them.
    """
    n = len(grid.xy)
    if n == 0 or tree.n == 0:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    x, y = grid.columns
    services_x, services_y = tree.data[:, 0], tree.data[:, 1]
    if tree.n == 1:
        squared = np.square(x - services_x[0])
        squared += np.square(y - services_y[0])
        return _within(np.zeros(n, dtype=np.int64), squared, bound)
    half_diagonal = grid.size * np.sqrt(0.5)
    metres, found = tree.query(grid.centres, k=list(range(1, min(tree.n, NEAREST_CANDIDATES) + 1)), workers=WORKERS)
    # A hair wider than the bound needs: a service on it is a candidate despite rounding.
    reach = np.minimum(metres[:, 0] + 2 * half_diagonal, bound + half_diagonal) * (1 + 1e-9) + 1e-6
    # Every point measures the service nearest its cell's centre (a candidate, or beyond the bound anyway) ...
    cell = grid.cell_of_point
    nearest = found[:, 0][cell]
    squared = np.square(x - services_x[found[:, 0]][cell])
    squared += np.square(y - services_y[found[:, 0]][cell])
    # ... then, only in cells that have more, the other candidates, one slot at a time.
    first, count, others = _other_candidates(tree, grid.centres, reach, metres, found)
    cells = np.flatnonzero(count)
    pair, points = grid.expand(cells)
    cells = cells[pair]
    for slot in range(int(count.max(initial=0))):
        service = others[first[cells] + slot]
        candidate = np.square(x[points] - services_x[service]) + np.square(y[points] - services_y[service])
        best, current = squared[points], nearest[points]
        closer = (candidate < best) | ((candidate == best) & (service < current))
        squared[points[closer]], nearest[points[closer]] = candidate[closer], service[closer]
        more = count[cells] > slot + 1
        cells, points = cells[more], points[more]
    return _within(nearest, squared, bound)


def _other_candidates(tree: spatial.cKDTree, centres: np.ndarray, reach: np.ndarray, metres: np.ndarray, found: np.ndarray):
    """Return, per cell, the services other than the first within ``reach`` of its centre, as (first, count, flat list).

    ``metres`` and ``found`` are the KD-tree's nearest few per centre; a cell whose few all lie
    within reach may have more, and asks the tree for all of them.
    """
    within = metres[:, 1:] <= reach[:, None]
    count = within.sum(axis=1)
    crowded = np.flatnonzero(within[:, -1]) if found.shape[1] < tree.n else np.zeros(0, dtype=np.int64)
    within[crowded] = False
    rows, columns = np.nonzero(within)
    crowd = tree.query_ball_point(centres[crowded], reach[crowded], workers=WORKERS)
    count[crowded] = [len(members) for members in crowd]
    first = np.cumsum(count) - count
    others = np.empty(int(count.sum()), dtype=np.int64)
    others[first[rows] + columns] = found[rows, columns + 1]
    if len(crowded):  # the nearest is listed again among them: measured twice, harmless
        others[_ranges(first[crowded], count[crowded])] = [s for members in crowd for s in members]
    return first, count, others


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return ``starts[i], starts[i] + 1, ..., starts[i] + lengths[i] - 1`` for every i, concatenated."""
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offset


def _within(nearest: np.ndarray, squared: np.ndarray, bound: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (positions, metres) from squared metres, with none (-1, NaN) beyond ``bound``."""
    metres = np.sqrt(squared, out=squared)
    if np.isfinite(bound):
        beyond = ~(metres <= bound)
        nearest[beyond], metres[beyond] = -1, np.nan
    return nearest, metres


def _count_within_few(tree: spatial.cKDTree, xy: np.ndarray, radius: float) -> np.ndarray:
    """Return, per point, how many of ``tree``'s points lie within ``radius`` (edge included), one query per point."""
    counts = np.zeros(len(xy), dtype=np.int64)
    for point, candidates in enumerate(tree.query_ball_point(xy, radius + 1e-6)):  # a hair wider: the edge is measured below
        if candidates:
            counts[point] = int((np.hypot(*(tree.data[candidates] - xy[point]).T) <= radius).sum())
    return counts


def _radius_grid(xy: np.ndarray, radius: float) -> _Grid:
    return _Grid(xy, max(radius / 16.0, 1.0))  # measured best at 1e6 points: smaller cells cost more tree queries


def distances_m(lon: float, lat: float, lons, lats) -> np.ndarray:
    """Return the metres (SWEREF 99 TM) from one WGS84 point to each of many."""
    x, y = to_sweref(np.asarray(lons, dtype="float64"), np.asarray(lats, dtype="float64"))
    x0, y0 = to_sweref(lon, lat)
    return np.hypot(x - x0, y - y0)


def join_all(
    points: gpd.GeoDataFrame, areas: AreaIndex, services: ServiceIndex, radius_m: float, max_distance_m: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run all three joins with one coordinate transformation and one grid of 25 m cells.

    Returns ``(area pairs, nearest of each kind, counts within radius_m)`` as the three
    functions below do; the indexes are built once by the caller and reused.
    """
    _check_points(points)
    xy = metric_xy(points)
    grid = _Grid(xy, CELL_M)
    point_pos, area_pos = areas.containing_xy(xy, grid)
    pairs = pd.DataFrame({"point": points.index.to_numpy()[point_pos], "area_id": areas.ids[area_pos]})
    nearest = pd.DataFrame(services.nearest_xy(xy, max_distance_m, grid=grid), index=points.index, copy=False)
    counts = pd.DataFrame(services.count_within_xy(xy, radius_m, grid=grid), index=points.index, dtype="int64", copy=False)
    return pairs, nearest, counts


def areas_containing(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, id_column: str = "id") -> pd.DataFrame:
    """Return (point, area_id) pairs for every area that covers a point; see ``AreaIndex.containing``."""
    return AreaIndex(areas, id_column).containing(points)


def nearest_services(points, services, max_distance_m=None, kinds=None, kind_column="kind", id_column="id") -> pd.DataFrame:
    """Return the nearest service of each kind, in metres; see ``ServiceIndex.nearest``."""
    return ServiceIndex(services, kind_column, id_column).nearest(points, max_distance_m, kinds)


def services_within(points, services, radius_m, kinds=None, kind_column="kind", id_column="id") -> pd.DataFrame:
    """Return per-kind counts of services within ``radius_m``; see ``ServiceIndex.count_within``."""
    return ServiceIndex(services, kind_column, id_column).count_within(points, radius_m, kinds)
