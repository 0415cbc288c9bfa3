"""GeoJSON geometries as well-known binary (WKB), without shapely: for work done at an app's start.

Little-endian ISO WKB, two dimensions (a third coordinate is dropped), exactly the coordinates the
GeoJSON holds. Points, lines, polygons, their multi forms and collections; nothing else.
"""

from __future__ import annotations

import struct

_CODES = {
    "Point": 1,
    "LineString": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


def geojson_to_wkb(geometry: dict) -> bytes:
    """Return the WKB of one GeoJSON geometry object."""
    kind = geometry.get("type")
    if kind not in _CODES:
        raise ValueError(f"expected a GeoJSON geometry type, got {kind!r}")
    head = struct.pack("<BI", 1, _CODES[kind])
    if kind == "GeometryCollection":
        parts = geometry["geometries"]
        return head + struct.pack("<I", len(parts)) + b"".join(geojson_to_wkb(part) for part in parts)
    coordinates = geometry["coordinates"]
    if kind == "Point":
        return head + _xy(coordinates)
    if kind == "LineString":
        return head + _points(coordinates)
    if kind == "Polygon":
        return head + _rings(coordinates)
    part_kind = kind.removeprefix("Multi")
    parts = [geojson_to_wkb({"type": part_kind, "coordinates": part}) for part in coordinates]
    return head + struct.pack("<I", len(parts)) + b"".join(parts)


def _xy(position) -> bytes:
    return struct.pack("<2d", float(position[0]), float(position[1]))


def _points(positions) -> bytes:
    return struct.pack("<I", len(positions)) + b"".join(_xy(p) for p in positions)


def _rings(rings) -> bytes:
    return struct.pack("<I", len(rings)) + b"".join(_points(ring) for ring in rings)
