"""Named places for the keyboard path (services, development areas, streets), shared by the map and survey pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _

from ..lazy import lazy_module
from .wording import kind_label

if TYPE_CHECKING:
    import shapely
else:
    shapely = lazy_module("shapely")


def place_list(registry, lang: str) -> list[dict]:
    """Named places for the keyboard path: services, development areas and streets, sorted by name."""
    places = []
    for _index, row in registry.services().iterrows():
        places.append(
            {
                "name": row["name"],
                "kind": kind_label(registry.locality, row["kind"], lang),
                "lon": row.geometry.x,
                "lat": row.geometry.y,
            }
        )
    for _index, row in registry.areas().iterrows():
        point = shapely.point_on_surface(row.geometry)
        places.append({"name": row["name"], "kind": _("Utvecklingsområde"), "lon": point.x, "lat": point.y})
    if any(layer.role == "places" for layer in registry):
        frame = registry.frame(registry.by_role("places").name)
        kinds = {"street": _("Gata")}
        for _index, row in frame.iterrows():
            point = row.geometry if row.geometry.geom_type == "Point" else shapely.point_on_surface(row.geometry)
            places.append({"name": row["name"], "kind": kinds.get(row.get("kind"), _("Plats")), "lon": point.x, "lat": point.y})
    boundary = registry.boundary()
    places = [p for p in places if boundary.covers(shapely.Point(p["lon"], p["lat"]))]
    return sorted(places, key=lambda p: p["name"].casefold())
