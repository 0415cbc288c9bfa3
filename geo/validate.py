"""Checks on coordinates and geometries before they enter the store or a layer.

Coordinates must be finite, within WGS84 range and inside the locality's boundary; a pair
that would fall inside the locality with lon and lat exchanged is reported as swapped.
Polygons are repaired with ``make_valid`` and the repairs are reported, never hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
from dataclasses import dataclass


from .errors import InvalidCoordinates, InvalidGeometry, OutsideLocality, ProbablySwapped
from ..lazy import lazy_module

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
    import geopandas as gpd
    import shapely
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")


def _as_float(value, axis: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidCoordinates(f"{axis} måste vara ett tal.", f"{axis} must be a number.", axis=axis) from None
    value = float(value)
    if not math.isfinite(value):
        raise InvalidCoordinates(
            f"{axis} måste vara ett ändligt tal (inte NaN eller oändligt).",
            f"{axis} must be a finite number (not NaN or infinity).",
            axis=axis,
        )
    return value


def check_lonlat(lon, lat) -> tuple[float, float]:
    """Return ``(lon, lat)`` as floats, or raise ``InvalidCoordinates`` saying what is wrong."""
    lon, lat = _as_float(lon, "lon"), _as_float(lat, "lat")
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise InvalidCoordinates(
            f"Koordinaterna ({lon}, {lat}) ligger utanför jordklotet: lon ska vara -180..180 och lat -90..90.",
            f"The coordinates ({lon}, {lat}) are off the globe: lon must be -180..180 and lat -90..90.",
        )
    return lon, lat


def check_in_locality(lon, lat, boundary: BaseGeometry, locality_name: str = "orten") -> tuple[float, float]:
    """Return ``(lon, lat)`` if the point lies in ``boundary`` (WGS84, edge included).

    Raises ``ProbablySwapped`` when the exchanged pair would lie inside, and
    ``OutsideLocality`` otherwise.
    """
    lon, lat = check_lonlat(lon, lat)
    if boundary.covers(shapely.Point(lon, lat)):
        return lon, lat
    if -90.0 <= lon <= 90.0 and boundary.covers(shapely.Point(lat, lon)):
        raise ProbablySwapped(
            f"Longitud och latitud verkar ha bytt plats: ({lon}, {lat}) ligger inte i {locality_name}, "
            f"men ({lat}, {lon}) gör det. Skicka longitud först.",
            f"Longitude and latitude look swapped: ({lon}, {lat}) is not in {locality_name}, "
            f"but ({lat}, {lon}) is. Send longitude first.",
            suggestion=(lat, lon),
        )
    raise OutsideLocality(
        f"Platsen ({lon:.5f}, {lat:.5f}) ligger utanför {locality_name}. Välj en plats innanför den markerade gränsen.",
        f"The place ({lon:.5f}, {lat:.5f}) is outside {locality_name}. Choose a place inside the marked boundary.",
        bounds=tuple(boundary.bounds),
    )


@dataclass(frozen=True)
class Repair:
    """What ``repair_polygons`` changed in one feature."""

    index: object
    reason: str
    before_type: str
    after_type: str


def repair_polygons(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[Repair]]:
    """Return ``frame`` with invalid polygons made valid, and a report of each repair.

    Parts of other dimensions that ``make_valid`` produces (stray lines, points) are dropped
    so the result stays polygonal. Empty or missing geometries raise ``InvalidGeometry``.
    """
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        first = frame.index[missing.to_numpy()][0]
        raise InvalidGeometry(f"Objekt {first} saknar geometri.", f"Feature {first} has no geometry.", index=first)
    kinds = set(geoms.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InvalidGeometry(
            f"Lagret ska innehålla ytor, men innehåller {', '.join(sorted(kinds))}.",
            f"The layer must contain polygons, but contains {', '.join(sorted(kinds))}.",
        )
    invalid = ~geoms.is_valid
    if not invalid.any():
        return frame, []
    reasons = shapely.is_valid_reason(geoms[invalid].to_numpy())
    fixed = shapely.make_valid(geoms[invalid].to_numpy())
    fixed = [polygonal_part(g) for g in fixed]
    repairs = [
        Repair(index, reason, before.geom_type, after.geom_type)
        for index, reason, before, after in zip(frame.index[invalid.to_numpy()], reasons, geoms[invalid], fixed)
    ]
    repaired = frame.copy()
    repaired.loc[invalid, repaired.geometry.name] = gpd.GeoSeries(fixed, index=frame.index[invalid.to_numpy()], crs=frame.crs)
    return repaired, repairs


def polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    result = shapely.union_all(parts) if parts else shapely.Polygon()
    if result.is_empty:
        raise InvalidGeometry(
            "En yta kunde inte lagas: den har ingen area kvar.",
            "A polygon could not be repaired: no area is left.",
        )
    return result
