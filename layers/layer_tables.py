"""Every stored layer version as rows of ``layer_features``: what SQL, PostGIS and QGIS read.

A version's features are written in the transaction that stores it in ``layer_versions``
(``layer_store.add_version`` calls ``write_frame``), so rows and GeoPackage bytes never disagree.
Version 0, the bundled file in the locality folder, is seeded at start when missing
(``seed_bundled``; ``dialogkarta init-db`` rewrites it, for a release whose bundled files
changed). Geometry is WKB in WGS84 on every engine; properties are JSON text. The registry keeps
reading a version's GeoPackage bytes (``bench/layer_tables.py`` compares both). No Flask here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..geo.wkb import geojson_to_wkb
from ..lazy import lazy_module
from .locality import Layer, Locality
from .schema import layer_features

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    import shapely
else:
    gpd = lazy_module("geopandas")
    pd = lazy_module("pandas")
    shapely = lazy_module("shapely")

BUNDLED = 0  # the same number ``layer_store.BUNDLED`` gives the bundled file


def _json(properties: dict) -> str:
    return orjson.dumps(properties, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=_plain).decode()


def _plain(value):
    if pd.isna(value):  # pandas' missing values (NA, NaT)
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _row(layer: str, version: int, fid: int, properties: dict, wkb: bytes) -> dict:
    feature_id = properties.get("id")
    return {
        "layer": layer,
        "version": version,
        "fid": fid,
        "feature_id": None if feature_id is None else str(feature_id)[:100],
        "properties": _json(properties),
        "wkb": wkb,
    }


def frame_rows(layer: str, version: int, frame: gpd.GeoDataFrame) -> list[dict]:
    """Return a WGS84 frame's features as ``layer_features`` rows, in the frame's order."""
    properties = frame.drop(columns=frame.geometry.name).to_dict("records")
    wkbs = shapely.to_wkb(frame.geometry.to_numpy(), output_dimension=2)
    return [_row(layer, version, fid, props, bytes(wkb)) for fid, (props, wkb) in enumerate(zip(properties, wkbs), start=1)]


def geojson_rows(layer: str, version: int, path: Path) -> list[dict]:
    """Return a GeoJSON file's features as rows without the geometry libraries (a fast start)."""
    features = orjson.loads(Path(path).read_bytes())["features"]
    return [
        _row(layer, version, fid, _properties(feature), geojson_to_wkb(feature["geometry"]))
        for fid, feature in enumerate(features, start=1)
    ]


def _properties(feature: dict) -> dict:
    # GDAL reads a feature's own "id" member as the field "id" when the properties have none; so do we.
    properties = feature.get("properties") or {}
    if "id" in feature and "id" not in properties:
        return {"id": feature["id"], **properties}
    return properties


def write_frame(conn: Connection, layer: str, version: int, frame: gpd.GeoDataFrame) -> int:
    """Store a version's features in the caller's transaction; return how many."""
    rows = frame_rows(layer, version, frame)
    if rows:
        conn.execute(insert(layer_features), rows)
    return len(rows)


def _bundled_rows(locality: Locality, layer: Layer) -> list[dict]:
    path = locality.directory / layer.path
    if path.suffix.lower() in (".geojson", ".json"):
        return geojson_rows(layer.name, BUNDLED, path)
    from ..geo.io import read_layer

    return frame_rows(layer.name, BUNDLED, read_layer(path))


def seed_bundled(engine: Engine, locality: Locality, replace: bool = False) -> list[str]:
    """Store each declared layer's bundled file as version 0 where it is missing (all of them with ``replace``).

    Safe in several processes at once; returns the layers written.
    """
    with engine.connect() as conn:
        present = set(
            conn.execute(select(layer_features.c.layer).where(layer_features.c.version == BUNDLED).distinct()).scalars()
        )
    written = []
    for layer in locality.layers:
        if layer.name in present and not replace:
            continue
        rows = _bundled_rows(locality, layer)
        try:
            with engine.begin() as conn:
                conn.execute(
                    delete(layer_features).where(layer_features.c.layer == layer.name, layer_features.c.version == BUNDLED)
                )
                if rows:
                    conn.execute(insert(layer_features), rows)
        except IntegrityError:  # another process seeded it first
            continue
        written.append(layer.name)
    return written


def read_frame(conn: Connection, layer: str, version: int) -> gpd.GeoDataFrame:
    """Return one stored version as a WGS84 frame, read from its rows (properties as JSON holds them)."""
    rows = conn.execute(
        select(layer_features.c.properties, layer_features.c.wkb)
        .where(layer_features.c.layer == layer, layer_features.c.version == version)
        .order_by(layer_features.c.fid)
    ).all()
    properties = [orjson.loads(row.properties) for row in rows]
    geometry = shapely.from_wkb([bytes(row.wkb) for row in rows])
    return gpd.GeoDataFrame(properties, geometry=geometry, crs="EPSG:4326")


def version_counts(conn: Connection) -> dict[tuple[str, int], int]:
    """Return ``{(layer, version): feature rows}`` for every stored version."""
    query = select(layer_features.c.layer, layer_features.c.version, func.count()).group_by(
        layer_features.c.layer, layer_features.c.version
    )
    return {(layer, version): count for layer, version, count in conn.execute(query)}
