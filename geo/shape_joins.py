"""Joins for drawn lines and areas (survey answers, line and area proposals), measured in SWEREF 99 TM.

The companions of ``joins.py`` for shapes that are not points: a line's length and the length of
it inside each development area, an area's size and its overlap with each development area, and
the services near a line or inside an area. Frames go in in any declared CRS; lengths are metres
and sizes square metres on the SWEREF 99 TM grid, like every distance in Dialogkarta (at Dalby the
grid is 0.027 % shorter than the ground: 0.27 m on a kilometre). Every function asks an STRtree
once for all shapes and measures the candidate pairs in one vectorised shapely call.

Edge rule, as for points: a service on an area's edge is inside it. A line that only touches an
area (a single point in common) has no length inside it and gets no row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .crs import to_metric
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

LINES = ("LINESTRING", "MULTILINESTRING")  # shapely.GeometryType names, looked up when used
POLYGONS = ("POLYGON", "MULTIPOLYGON")


def _metric_geometries(frame: gpd.GeoDataFrame, allowed: tuple, what: str) -> np.ndarray:
    geometries = to_metric(frame).geometry.to_numpy()
    type_ids = shapely.get_type_id(geometries)
    wrong = ~np.isin(type_ids, [shapely.GeometryType[name] for name in allowed])
    if wrong.any():
        kinds = sorted(set(frame.geom_type[wrong].fillna("missing")))
        raise ValueError(f"expected a frame of {what}, got geometry types {kinds}")
    return geometries


def _ids(frame: gpd.GeoDataFrame, id_column: str) -> np.ndarray:
    return frame[id_column].to_numpy() if id_column in frame else frame.index.to_numpy()


def line_lengths(lines: gpd.GeoDataFrame) -> pd.Series:
    """Return each line's length in metres, indexed like ``lines``."""
    return pd.Series(shapely.length(_metric_geometries(lines, LINES, "lines")), index=lines.index, name="length_m")


def polygon_sizes(polygons: gpd.GeoDataFrame) -> pd.Series:
    """Return each area's size in square metres, indexed like ``polygons``."""
    sizes = shapely.area(_metric_geometries(polygons, POLYGONS, "polygons"))
    return pd.Series(sizes, index=polygons.index, name="area_m2")


def lines_in_areas(lines: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, id_column: str = "id") -> pd.DataFrame:
    """Return one row per (line, area) pair where the line runs inside the area.

    Columns: ``shape`` (the line's index label), ``area_id`` and ``length_m`` (metres of the
    line inside the area, its edge included). Rows are ordered by line position, then area.
    """
    line_geometries = _metric_geometries(lines, LINES, "lines")
    area_geometries = to_metric(areas).geometry.to_numpy()
    line_pos, area_pos = shapely.STRtree(area_geometries).query(line_geometries, predicate="intersects")
    lengths = shapely.length(shapely.intersection(line_geometries[line_pos], area_geometries[area_pos]))
    return _pairs(lines.index.to_numpy(), line_pos, _ids(areas, id_column), area_pos, {"length_m": lengths}, keep=lengths > 0)


def polygon_overlaps(polygons: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, id_column: str = "id") -> pd.DataFrame:
    """Return one row per (drawn area, development area) pair that overlap with a positive size.

    Columns: ``shape``, ``area_id``, ``overlap_m2``, ``share_of_shape_pct`` (of the drawn area)
    and ``share_of_area_pct`` (of the development area).
    """
    shapes = _metric_geometries(polygons, POLYGONS, "polygons")
    area_geometries = to_metric(areas).geometry.to_numpy()
    shape_pos, area_pos = shapely.STRtree(area_geometries).query(shapes, predicate="intersects")
    overlap = shapely.area(shapely.intersection(shapes[shape_pos], area_geometries[area_pos]))
    with np.errstate(divide="ignore", invalid="ignore"):
        of_shape = 100.0 * overlap / shapely.area(shapes[shape_pos])
        of_area = 100.0 * overlap / shapely.area(area_geometries[area_pos])
    measures = {"overlap_m2": overlap, "share_of_shape_pct": of_shape, "share_of_area_pct": of_area}
    return _pairs(polygons.index.to_numpy(), shape_pos, _ids(areas, id_column), area_pos, measures, keep=overlap > 0)


def services_near_lines(
    lines: gpd.GeoDataFrame, services: gpd.GeoDataFrame, distance_m: float, kind_column: str = "kind", id_column: str = "id"
) -> pd.DataFrame:
    """Return one row per (line, service) pair no more than ``distance_m`` metres apart.

    Columns: ``shape``, ``service_id``, ``kind`` and ``distance_m`` (to the nearest point of the line).
    """
    if not distance_m >= 0:
        raise ValueError(f"distance_m must be a non-negative number of metres, got {distance_m!r}")
    line_geometries = _metric_geometries(lines, LINES, "lines")
    service_points = to_metric(services).geometry.to_numpy()
    line_pos, service_pos = shapely.STRtree(service_points).query(line_geometries, predicate="dwithin", distance=distance_m)
    distances = shapely.distance(line_geometries[line_pos], service_points[service_pos])
    return _service_pairs(lines, line_pos, services, service_pos, kind_column, id_column, {"distance_m": distances})


def services_inside(
    polygons: gpd.GeoDataFrame, services: gpd.GeoDataFrame, kind_column: str = "kind", id_column: str = "id"
) -> pd.DataFrame:
    """Return one row per (drawn area, service) pair where the area covers the service (edge included).

    Columns: ``shape``, ``service_id`` and ``kind``.
    """
    shapes = _metric_geometries(polygons, POLYGONS, "polygons")
    service_points = to_metric(services).geometry.to_numpy()
    shape_pos, service_pos = shapely.STRtree(service_points).query(shapes, predicate="covers")
    return _service_pairs(polygons, shape_pos, services, service_pos, kind_column, id_column, {})


def _service_pairs(shapes, shape_pos, services, service_pos, kind_column, id_column, measures) -> pd.DataFrame:
    kinds = services[kind_column].to_numpy()[service_pos]
    return _pairs(
        shapes.index.to_numpy(), shape_pos, _ids(services, id_column), service_pos, {"kind": kinds} | measures, "service_id"
    )


def _pairs(shape_labels, shape_pos, other_ids, other_pos, measures, other_name: str = "area_id", keep=None) -> pd.DataFrame:
    """Build the pair table from STRtree positions (only the ``keep`` pairs), ordered by shape, then partner."""
    order = np.lexsort((other_pos, shape_pos))
    if keep is not None:
        order = order[keep[order]]
    columns = {"shape": shape_labels[shape_pos[order]], other_name: other_ids[other_pos[order]]}
    return pd.DataFrame(columns | {name: values[order] for name, values in measures.items()})
