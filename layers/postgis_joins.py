"""The joins of one point computed by PostGIS over ``layer_features``, to hold the Python joins to.

The app computes every join in Python (``geo.joins``): measured on the same data, the bulk refresh
at 1e6 proposals takes seconds there against minutes in PostGIS, and one new proposal costs about
the same (``bench/join_engines.py``). These statements ask PostGIS the same questions in
SWEREF 99 TM (EPSG:3006), with the same rules: an area covers a point on its edge
(``ST_Covers``), and of services of one kind at the same distance the one listed first in the layer
(lowest ``fid``) is nearest. The tests compare both; the benchmark times both. PostGIS only.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ..geo.crs import SWEREF99TM

_METRIC = int(SWEREF99TM.split(":")[1])
_POINT = f"ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), {_METRIC})"
_CURRENT = "f.layer = :layer AND f.version = (SELECT max(v.version) FROM layer_features v WHERE v.layer = :layer)"

AREAS = text(
    f"SELECT f.feature_id FROM layer_features f WHERE {_CURRENT} "
    f"AND ST_Covers(ST_Transform(f.geom, {_METRIC}), {_POINT}) ORDER BY f.feature_id"
)
NEAREST = text(
    f"SELECT DISTINCT ON (kind) f.properties::jsonb ->> 'kind' AS kind, f.feature_id, "
    f"ST_Distance(ST_Transform(f.geom, {_METRIC}), {_POINT}) AS metres "
    f"FROM layer_features f WHERE {_CURRENT} ORDER BY kind, metres, f.fid"
)


def areas_covering(conn: Connection, areas_layer: str, lon: float, lat: float) -> list[str]:
    """Return the ids of the current areas that cover the point, sorted."""
    return list(conn.execute(AREAS, {"layer": areas_layer, "lon": lon, "lat": lat}).scalars())


def nearest_services(conn: Connection, services_layer: str, lon: float, lat: float) -> dict[str, tuple[str, float]]:
    """Return ``{kind: (nearest service id, metres)}`` over the current services."""
    rows = conn.execute(NEAREST, {"layer": services_layer, "lon": lon, "lat": lat})
    return {row.kind: (row.feature_id, float(row.metres)) for row in rows}
