"""Proposals drawn as a line (a missing footpath) or an area (a park): checked, joined and kept beside the point.

A submission may send ``geometry`` (GeoJSON Point, LineString or Polygon, WGS84) instead of
``lon``/``lat``. It is checked by ``geo.drawn`` (inside the locality, vertex limits, a self-crossing
area repaired and the repair reported). A Point is the same as lon/lat. For a line or an area the
proposal's ``lon``/``lat`` becomes a representative point on the shape (a line's midpoint along
its length, an area's ``point_on_surface``), so the map, clusters, bbox queries and every
point-based join keep working; the shape and its own joins go into ``proposal_shapes``: a line's
length, the development areas it crosses with the length inside each and the services within
``NEAR_LINE_M``; an area's size, its overlap with each development area (m² and share of both) and
the services inside. The development areas a shape crosses or overlaps are the proposal's
``area_ids`` (routing and counts per area follow the shape, not its point). No Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from ..geo import shape_joins
from ..geo.crs import to_metric
from ..geo.drawn import check_drawn
from ..geo.errors import InvalidGeometry, UserError
from .schema import proposal_shapes
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
    from shapely.geometry.base import BaseGeometry

    from .registry import LayerRegistry
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")

NEAR_LINE_M = 200.0  # services this close to a line are listed with it (as for a survey's drawn lines)
DRAWN_KINDS = {"Point": "point", "LineString": "line", "Polygon": "polygon"}  # GeoJSON type -> geo.drawn's kind
SHAPE_KINDS = {"line": "line", "polygon": "area"}  # geo.drawn's kind -> the proposal's shape kind
GEOMETRY_FIELD = "geometry"
# Public columns of every proposal export row (tests/contracts.py): what was drawn and its joins in figures.
EXPORT_COLUMNS = [("geometry_kind", "str"), ("length_m", "float"), ("area_m2", "float"), ("shape_areas", "str")]


@dataclass(frozen=True)
class ProposalShape:
    """A checked line or area with its joins; ``figures`` is what the API and the table show."""

    kind: str  # line or area
    geometry: BaseGeometry  # WGS84
    figures: dict  # length_m or area_m2, areas, services (see ``shape_figures``)
    repair: str | None = None

    def representative(self) -> tuple[float, float]:
        """The point on the shape that stands for the proposal (lon, lat)."""
        if self.kind == "line":
            point = self.geometry.interpolate(0.5, normalized=True)
        else:
            point = self.geometry.point_on_surface()
        return float(point.x), float(point.y)

    def public(self) -> dict:
        """The shape as the API shows it: kind, GeoJSON geometry (RFC 7946 ring order), figures and any repair."""
        return {"kind": self.kind, "geometry": geojson(self.geometry), **self.figures, "repair": self.repair}


def geojson(geometry: BaseGeometry) -> dict:
    """A shape as RFC 7946 GeoJSON: counter-clockwise exterior rings (the right-hand rule), 7 decimals."""
    geometry = shapely.set_precision(geometry, 1e-7)  # GEOS may turn rings while snapping: orient after
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        geometry = shapely.orient_polygons(geometry)
    return json.loads(shapely.to_geojson(geometry))


def read_geometry(data: dict, registry: LayerRegistry) -> tuple[dict, ProposalShape | None]:
    """Return the submission with ``lon``/``lat`` taken from its ``geometry`` (if any), and the line or area.

    Raises ``InvalidGeometry``/``OutsideLocality`` (field ``geometry``) before anything is stored.
    """
    if GEOMETRY_FIELD not in data:
        return data, None
    value = data[GEOMETRY_FIELD]
    rest = {key: item for key, item in data.items() if key != GEOMETRY_FIELD}
    try:
        if "lon" in data or "lat" in data:
            raise InvalidGeometry(
                "Skicka antingen geometry eller lon och lat, inte båda.", "Send either geometry or lon and lat, not both."
            )
        if isinstance(value, str):  # a multipart form sends the GeoJSON as text
            try:
                value = json.loads(value)
            except ValueError:
                raise InvalidGeometry("geometry ska vara GeoJSON.", "geometry must be GeoJSON.") from None
        kind = DRAWN_KINDS.get(str(value.get("type"))) if isinstance(value, dict) else None
        if kind is None:
            raise InvalidGeometry(
                "geometry ska vara en GeoJSON Point, LineString eller Polygon.",
                "geometry must be a GeoJSON Point, LineString or Polygon.",
            )
        drawn = check_drawn(value, kind, registry.boundary(), registry.locality.name)
    except UserError as error:
        error.details["field"] = GEOMETRY_FIELD
        raise
    if kind == "point":
        return rest | {"lon": drawn.geometry.x, "lat": drawn.geometry.y}, None
    shape_kind = SHAPE_KINDS[kind]
    shape = ProposalShape(shape_kind, drawn.geometry, shape_figures(drawn.geometry, shape_kind, registry), drawn.repair)
    lon, lat = shape.representative()
    return rest | {"lon": lon, "lat": lat}, shape


def shape_figures(geometry: BaseGeometry, kind: str, registry: LayerRegistry) -> dict:
    """Join one line or area to the development areas and services (SWEREF 99 TM; metres, m², %)."""
    return figures_of([geometry], kind, registry)[0]


def figures_of(geometries: list, kind: str, registry: LayerRegistry) -> list[dict]:
    """Join lines (``kind`` line) or areas (``area``) to the development areas and services, all in one vectorised pass."""
    frame = to_metric(gpd.GeoDataFrame(geometry=list(geometries), crs="EPSG:4326"))
    areas, services = _metric(registry.areas()), _metric(registry.services())
    names = dict(zip(areas["id"], areas["name"])) if "name" in areas else {}
    service_names = dict(zip(services["id"], services["name"])) if "name" in services else {}
    figures: list[dict] = []
    if kind == "line":
        lengths = shape_joins.line_lengths(frame)
        for length in lengths:
            figures.append({"length_m": round(float(length), 2), "areas": [], "services_within_m": NEAR_LINE_M, "services": []})
        for row in shape_joins.lines_in_areas(frame, areas).itertuples():
            figures[row.shape]["areas"].append(
                {"id": str(row.area_id), "name": names.get(row.area_id), "length_m": round(float(row.length_m), 2)}
            )
        for row in shape_joins.services_near_lines(frame, services, NEAR_LINE_M).itertuples():
            figures[row.shape]["services"].append(
                {
                    "id": str(row.service_id),
                    "name": service_names.get(row.service_id),
                    "kind": row.kind,
                    "distance_m": round(float(row.distance_m), 1),
                }
            )
        for figure in figures:
            figure["services"].sort(key=lambda service: service["distance_m"])
        return figures
    for size in shape_joins.polygon_sizes(frame):
        figures.append({"area_m2": round(float(size), 1), "areas": [], "services": []})
    for row in shape_joins.polygon_overlaps(frame, areas).itertuples():
        figures[row.shape]["areas"].append(
            {
                "id": str(row.area_id),
                "name": names.get(row.area_id),
                "overlap_m2": round(float(row.overlap_m2), 1),
                "share_of_shape_pct": round(float(row.share_of_shape_pct), 2),
                "share_of_area_pct": round(float(row.share_of_area_pct), 2),
            }
        )
    for row in shape_joins.services_inside(frame, services).itertuples():
        figures[row.shape]["services"].append(
            {"id": str(row.service_id), "name": service_names.get(row.service_id), "kind": row.kind}
        )
    return figures


_METRIC: dict[int, tuple] = {}  # id(layer frame) -> (that frame, it in SWEREF 99 TM): the layers change rarely


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The registry's frame in SWEREF 99 TM, converted once per frame the registry hands out (not once per POST)."""
    kept = _METRIC.get(id(frame))
    if kept is None or kept[0] is not frame:
        if len(_METRIC) >= 8:
            _METRIC.clear()
        kept = _METRIC[id(frame)] = (frame, to_metric(frame))
    return kept[1]


def refresh(conn: Connection, registry: LayerRegistry) -> dict[int, list[str]]:
    """Join every stored line and area again (after a layer changed); return each one's development areas by proposal id."""
    rows = conn.execute(select(proposal_shapes.c.proposal_id, proposal_shapes.c.kind, proposal_shapes.c.geometry)).all()
    crossed: dict[int, list[str]] = {}
    for kind in ("line", "area"):
        chosen = [row for row in rows if row.kind == kind]
        if not chosen:
            continue
        figures = figures_of(shapely.from_geojson([row.geometry for row in chosen]), kind, registry)
        for row, figure in zip(chosen, figures):
            joins = {key: value for key, value in figure.items() if key not in ("length_m", "area_m2")}
            conn.execute(
                proposal_shapes.update()
                .where(proposal_shapes.c.proposal_id == row.proposal_id)
                .values(
                    length_m=figure.get("length_m"), area_m2=figure.get("area_m2"), joins=json.dumps(joins, ensure_ascii=False)
                )
            )
            crossed[row.proposal_id] = sorted(area["id"] for area in figure["areas"])
    return crossed


def area_ids(shape: ProposalShape) -> list[str]:
    """The development areas a line crosses or an area overlaps."""
    return sorted(area["id"] for area in shape.figures["areas"])


def save_shape(conn: Connection, proposal_id: int, shape: ProposalShape) -> None:
    """Keep a new proposal's line or area and its joins (in the proposal's transaction)."""
    joins = {key: value for key, value in shape.figures.items() if key not in ("length_m", "area_m2")}
    conn.execute(
        insert(proposal_shapes).values(
            proposal_id=proposal_id,
            kind=shape.kind,
            geometry=shapely.to_geojson(shape.geometry),
            length_m=shape.figures.get("length_m"),
            area_m2=shape.figures.get("area_m2"),
            joins=json.dumps(joins, ensure_ascii=False),
            repair=shape.repair,
        )
    )


def shapes_of(conn: Connection, ids: list[int]) -> dict[int, ProposalShape]:
    """Return the stored lines and areas of the proposals ``ids`` (points have none), by proposal id."""
    if not ids:
        return {}
    rows = conn.execute(select(proposal_shapes).where(proposal_shapes.c.proposal_id.in_(ids))).all()
    found = {}
    for row in rows:
        measure = {"length_m": row.length_m} if row.kind == "line" else {"area_m2": row.area_m2}
        figures = measure | json.loads(row.joins)
        found[row.proposal_id] = ProposalShape(row.kind, shapely.from_geojson(row.geometry), figures, row.repair)
    return found


def public_shape(shape: ProposalShape | None) -> dict:
    """The ``shape`` property of a proposal in the API: ``{"kind": "point"}`` for a point."""
    return shape.public() if shape is not None else {"kind": "point"}


def export_values(conn: Connection, ids: list[int]) -> dict[str, dict]:
    """The export columns of the shapes (``geometry_kind``, ``length_m``, ``area_m2``, ``shape_areas``), by name then id."""
    shapes = shapes_of(conn, ids)
    values: dict[str, dict] = {"geometry_kind": {}, "length_m": {}, "area_m2": {}, "shape_areas": {}}
    for proposal_id in ids:
        shape = shapes.get(proposal_id)
        values["geometry_kind"][proposal_id] = shape.kind if shape else "point"
        if shape is None:
            continue
        values["length_m"][proposal_id] = shape.figures.get("length_m")
        values["area_m2"][proposal_id] = shape.figures.get("area_m2")
        values["shape_areas"][proposal_id] = "; ".join(_area_text(shape.kind, area) for area in shape.figures["areas"])
    return values


def _area_text(kind: str, area: dict) -> str:
    if kind == "line":
        return f"{area['id']}: {area['length_m']:.1f} m"
    return f"{area['id']}: {area['overlap_m2']:.0f} m² ({area['share_of_shape_pct']:.1f} %)"


MAP_LIMIT = 5000  # line and area proposals the public map draws at once
BBOX_MARGIN_DEG = 0.02  # a shape's point may lie outside the view while the shape reaches into it (about 1-2 km)


def public_shapes(conn: Connection, bbox: tuple[float, float, float, float] | None = None, limit: int = MAP_LIMIT) -> list[dict]:
    """The public map's line and area proposals (never hidden ones) as light GeoJSON Features, by id.

    ``bbox`` (WGS84) picks those whose point lies in it widened by ``BBOX_MARGIN_DEG``.
    """
    from .schema import proposals

    query = (
        select(
            proposals.c.public_id,
            proposals.c.title,
            proposals.c.category,
            proposals.c.status,
            proposal_shapes.c.kind,
            proposal_shapes.c.geometry,
        )
        .join(proposal_shapes, proposal_shapes.c.proposal_id == proposals.c.id)
        .where(proposals.c.hidden.is_(False))
        .order_by(proposals.c.id)
        .limit(limit)
    )
    if bbox is not None:
        west, south, east, north = bbox
        margin = BBOX_MARGIN_DEG
        query = query.where(
            proposals.c.lon.between(west - margin, east + margin), proposals.c.lat.between(south - margin, north + margin)
        )
    return [
        {
            "type": "Feature",
            "id": row.public_id,
            "geometry": geojson(shapely.from_geojson(row.geometry)),
            "properties": {
                "public_id": row.public_id,
                "title": row.title,
                "category": row.category,
                "status": row.status,
                "kind": row.kind,
            },
        }
        for row in conn.execute(query)
    ]
