"""Check a shape a resident drew on the map (a GeoJSON geometry in WGS84) before anything keeps it.

A drawn answer must be the kind the question asks for (point, line or polygon), have finite
lon/lat positions within a vertex limit, and lie inside the locality (edge included). A polygon
that crosses itself is repaired with ``make_valid`` and the repair reported; everything else that
is wrong is refused with a Swedish and English reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
from dataclasses import dataclass


from .errors import InvalidGeometry, OutsideLocality
from .validate import polygonal_part
from ..lazy import lazy_module

if TYPE_CHECKING:
    import shapely
    from shapely.geometry.base import BaseGeometry
else:
    shapely = lazy_module("shapely")

GEOJSON_TYPE = {"point": "Point", "line": "LineString", "polygon": "Polygon"}
KIND_WORDS = {"point": ("en punkt", "a point"), "line": ("en linje", "a line"), "polygon": ("en yta", "an area")}
MAX_VERTICES = {"point": 1, "line": 500, "polygon": 1000}
MAX_HOLES = 20


@dataclass(frozen=True)
class DrawnShape:
    geometry: BaseGeometry  # WGS84 lon/lat
    repair: str | None = None  # why it was repaired (GEOS's reason), None when it was valid as drawn


def check_drawn(value, kind: str, boundary: BaseGeometry, locality_name: str = "orten") -> DrawnShape:
    """Return the drawn ``value`` as a shapely geometry, or raise ``InvalidGeometry``/``OutsideLocality``."""
    word_sv, word_en = KIND_WORDS[kind]
    if not isinstance(value, dict) or value.get("type") != GEOJSON_TYPE[kind] or "coordinates" not in value:
        raise InvalidGeometry(
            f"Svaret ska vara {word_sv} (GeoJSON {GEOJSON_TYPE[kind]}).",
            f"The answer must be {word_en} (GeoJSON {GEOJSON_TYPE[kind]}).",
        )
    coordinates = value["coordinates"]
    if kind == "point":
        geometry: BaseGeometry = shapely.Point(_position(coordinates))
    elif kind == "line":
        positions = _positions(coordinates, MAX_VERTICES[kind])
        if len(set(positions)) < 2:
            raise InvalidGeometry("En linje behöver minst två olika punkter.", "A line needs at least two different points.")
        geometry = shapely.LineString(positions)
    else:
        geometry = _polygon(coordinates)
    repair = None
    if kind == "polygon" and not geometry.is_valid:
        repair = shapely.is_valid_reason(geometry)
        geometry = polygonal_part(shapely.make_valid(geometry))  # refuses what has no area left
    if not boundary.covers(geometry):
        raise OutsideLocality(
            f"{word_sv.capitalize()} ligger helt eller delvis utanför {locality_name}. Rita innanför den markerade gränsen.",
            f"{word_en.capitalize()} lies wholly or partly outside {locality_name}. Draw inside the marked boundary.",
        )
    return DrawnShape(geometry, repair)


def _position(value) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3) or not all(_number(v) for v in value):
        raise InvalidGeometry("En position ska vara [lon, lat] med tal.", "A position must be [lon, lat] in numbers.")
    lon, lat = float(value[0]), float(value[1])
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise InvalidGeometry("lon ska vara -180..180 och lat -90..90.", "lon must be -180..180 and lat -90..90.")
    return lon, lat


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positions(value, limit: int) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise InvalidGeometry("Koordinaterna ska vara en lista.", "The coordinates must be a list.")
    if len(value) > limit:
        raise InvalidGeometry(f"Högst {limit} punkter i en ritad form.", f"At most {limit} points in a drawn shape.")
    return [_position(position) for position in value]


def _polygon(value) -> BaseGeometry:
    if not isinstance(value, list) or not value:
        raise InvalidGeometry("En yta behöver minst en ring av punkter.", "An area needs at least one ring of points.")
    if len(value) > 1 + MAX_HOLES:
        raise InvalidGeometry(f"Högst {MAX_HOLES} hål i en yta.", f"At most {MAX_HOLES} holes in an area.")
    budget = MAX_VERTICES["polygon"] - sum(len(ring) if isinstance(ring, list) else 0 for ring in value)
    if budget < 0:
        limit = MAX_VERTICES["polygon"]
        raise InvalidGeometry(f"Högst {limit} punkter i en ritad form.", f"At most {limit} points in a drawn shape.")
    rings = [_positions(ring, MAX_VERTICES["polygon"]) for ring in value]
    for ring in rings:
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise InvalidGeometry(
                "Varje ring i en yta ska ha minst fyra punkter och sluta där den börjar.",
                "Each ring of an area needs at least four points and must end where it starts.",
            )
    return shapely.Polygon(rings[0], rings[1:])
