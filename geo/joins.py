"""Spatial joins between residents' proposals and the planning layers.

Frames go in and come out in WGS84 (any declared CRS is accepted); distances are computed in
SWEREF 99 TM and reported in metres. Everything is vectorised: polygons through a shapely
STRtree, service points through one scipy cKDTree per kind, so nearest-of-kind and
count-within-radius never materialise point/service pairs. Nothing here reads files or
knows about Flask.

Boundary rule: a point on an area's edge lies in that area (``covers``, not ``contains``).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.crs import metric_xy, to_metric

WORKERS = -1  # scipy: use every core


def _check_points(points: gpd.GeoDataFrame) -> None:
    kinds = set(points.geom_type.dropna())
    if kinds - {"Point"}:
        raise ValueError(f"expected a frame of points, got geometry types {sorted(kinds)}")


class AreaIndex:
    """Polygons (e.g. development areas) in SWEREF 99 TM behind an STRtree."""

    def __init__(self, areas: gpd.GeoDataFrame, id_column: str = "id"):
        metric = to_metric(areas)
        self.ids = metric[id_column].to_numpy() if id_column in metric else metric.index.to_numpy()
        self.tree = shapely.STRtree(metric.geometry.to_numpy())

    def containing(self, points: gpd.GeoDataFrame) -> pd.DataFrame:
        """Return one row per (point, area) pair where the area covers the point.

        Columns: ``point`` (the point's index label) and ``area_id``; a point in no area has
        no row, a point in two overlapping areas has two. Rows are ordered by point position.
        """
        _check_points(points)
        xy = metric_xy(points)
        point_pos, area_pos = self.tree.query(shapely.points(xy), predicate="covered_by")
        order = np.lexsort((area_pos, point_pos))
        point_pos, area_pos = point_pos[order], area_pos[order]
        return pd.DataFrame({"point": points.index.to_numpy()[point_pos], "area_id": self.ids[area_pos]})


class ServiceIndex:
    """Service points in SWEREF 99 TM, one KD-tree per kind."""

    def __init__(self, services: gpd.GeoDataFrame, kind_column: str = "kind", id_column: str = "id"):
        _check_points(services)
        xy = metric_xy(services)
        kinds = services[kind_column].to_numpy()
        ids = services[id_column].to_numpy() if id_column in services else services.index.to_numpy()
        self.kinds = sorted(set(kinds))
        self._trees, self._ids = {}, {}
        for kind in self.kinds:
            mask = kinds == kind
            self._trees[kind] = cKDTree(xy[mask])
            self._ids[kind] = ids[mask]

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
        xy = metric_xy(points)
        bound = np.inf if max_distance_m is None else float(max_distance_m)
        columns = {}
        for kind in self._select(kinds):
            distance, position = self._trees[kind].query(xy, k=1, distance_upper_bound=bound, workers=WORKERS)
            found = np.isfinite(distance)
            # Categorical codes: no per-point Python object; -1 (missing) where none is in reach.
            columns[f"{kind}_id"] = pd.Categorical.from_codes(
                np.where(found, position, -1), categories=pd.Index(self._ids[kind])
            )
            columns[f"{kind}_m"] = np.where(found, distance, np.nan)
        return pd.DataFrame(columns, index=points.index)

    def count_within(self, points: gpd.GeoDataFrame, radius_m: float, kinds=None) -> pd.DataFrame:
        """Return, per point, how many services of each kind lie within ``radius_m`` metres.

        The circle includes its edge. Columns are the kinds; values are integers.
        """
        _check_points(points)
        if not radius_m >= 0:
            raise ValueError(f"radius_m must be a non-negative number of metres, got {radius_m!r}")
        xy = metric_xy(points)
        columns = {
            kind: self._trees[kind].query_ball_point(xy, r=float(radius_m), return_length=True, workers=WORKERS)
            for kind in self._select(kinds)
        }
        return pd.DataFrame(columns, index=points.index, dtype="int64")


def areas_containing(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, id_column: str = "id") -> pd.DataFrame:
    """Return (point, area_id) pairs for every area that covers a point; see ``AreaIndex.containing``."""
    return AreaIndex(areas, id_column).containing(points)


def nearest_services(points, services, max_distance_m=None, kinds=None, kind_column="kind", id_column="id") -> pd.DataFrame:
    """Return the nearest service of each kind, in metres; see ``ServiceIndex.nearest``."""
    return ServiceIndex(services, kind_column, id_column).nearest(points, max_distance_m, kinds)


def services_within(points, services, radius_m, kinds=None, kind_column="kind", id_column="id") -> pd.DataFrame:
    """Return per-kind counts of services within ``radius_m``; see ``ServiceIndex.count_within``."""
    return ServiceIndex(services, kind_column, id_column).count_within(points, radius_m, kinds)
