"""The coordinate systems Dialogkarta speaks, and the only place that converts between them.

WGS84 lon/lat is for storage, GeoJSON and Leaflet; SWEREF 99 TM is for anything in metres.
Transformers are built once per CRS pair with ``always_xy=True``: both SWEREF systems are
defined northing-first, and GeoJSON is lon, lat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functools import lru_cache


from .errors import GeoError
from ..lazy import lazy_module

if TYPE_CHECKING:
    import pyproj
    from pyproj import CRS, Transformer
    import geopandas as gpd
    import numpy as np
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    pyproj = lazy_module("pyproj")
    shapely = lazy_module("shapely")

WGS84 = "EPSG:4326"
SWEREF99TM = "EPSG:3006"
SWEREF99_1330 = "EPSG:3008"  # the local zone Skåne municipalities often deliver plan data in


class UnknownCRS(GeoError):
    code = "unknown_crs"


def parse_crs(value) -> CRS:
    """Return a pyproj CRS for a user-supplied name such as ``EPSG:3008`` or ``3006``."""
    try:
        return _parse_crs_cached(str(value).strip())
    except pyproj.exceptions.CRSError:
        raise UnknownCRS(
            f"Okänt koordinatsystem: {value!s}. Ange t.ex. EPSG:3006 eller EPSG:3008.",
            f"Unknown coordinate reference system: {value!s}. Use e.g. EPSG:3006 or EPSG:3008.",
        ) from None


@lru_cache(maxsize=64)
def _parse_crs_cached(value: str) -> CRS:
    return pyproj.CRS.from_user_input(int(value) if value.isdigit() else value)


@lru_cache(maxsize=64)
def transformer(source: str, target: str) -> Transformer:
    """Return a cached, lon/lat-ordered transformer from ``source`` to ``target``."""
    return pyproj.Transformer.from_crs(parse_crs(source), parse_crs(target), always_xy=True)


def transform_xy(x, y, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays (or scalars) from one CRS to another, x first."""
    return transformer(source, target).transform(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))


def to_sweref(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return SWEREF 99 TM easting, northing (metres) for WGS84 lon, lat."""
    return transform_xy(lon, lat, WGS84, SWEREF99TM)


def to_wgs84_xy(easting, northing, source: str = SWEREF99TM) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 lon, lat for coordinates in ``source`` (SWEREF 99 TM by default)."""
    return transform_xy(easting, northing, source, WGS84)


def _same_crs(frame_crs, target: str) -> bool:
    return frame_crs is not None and frame_crs == parse_crs(target)


def to_metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in SWEREF 99 TM; a frame already there is returned as it is."""
    if frame.crs is None:
        raise ValueError("frame has no CRS; declare one before measuring")
    return frame if _same_crs(frame.crs, SWEREF99TM) else frame.to_crs(SWEREF99TM)


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in WGS84 lon/lat; a frame already there is returned as it is."""
    if frame.crs is None:
        raise ValueError("frame has no CRS; declare one before converting")
    return frame if _same_crs(frame.crs, WGS84) else frame.to_crs(WGS84)


def metric_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Return an (n, 2) array of SWEREF 99 TM coordinates of a point frame."""
    if frame.crs is None:
        raise ValueError("frame has no CRS; declare one before measuring")
    geometries = frame.geometry.to_numpy()
    xy = shapely.get_coordinates(geometries)
    if len(xy) != len(geometries):  # an empty point has no coordinates: NaN, as .x and .y give
        xy = np.column_stack([frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()])
    if not _same_crs(frame.crs, SWEREF99TM):
        x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
        transformer(frame.crs.to_string(), SWEREF99TM).transform(x, y, inplace=True)
        xy = np.column_stack([x, y])
    return xy


@lru_cache(maxsize=16)
def valid_bounds(crs: str) -> tuple[float, float, float, float]:
    """Return the (minx, miny, maxx, maxy) where ``crs`` is defined, in its own units, x (easting, lon) first."""
    if parse_crs(crs) == parse_crs(WGS84):
        return (-180.0, -90.0, 180.0, 90.0)
    area = parse_crs(crs).area_of_use
    if area is None:
        raise ValueError(f"{crs} declares no area of use")
    minx, miny, maxx, maxy = transformer(WGS84, crs).transform_bounds(*area.bounds)
    return (float(minx), float(miny), float(maxx), float(maxy))
