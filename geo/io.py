"""Reading and writing vector layers through GDAL (pyogrio).

Reading accepts GeoJSON, GeoPackage, Shapefile (plain or zipped) and FlatGeobuf in whatever CRS
the file declares and returns WGS84. Writing produces RFC 7946 GeoJSON (WGS84, no ``crs``
member, counter-clockwise exterior rings, at most 7 decimals) and GeoPackage in a metric CRS.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import orjson
import pyogrio
import shapely

from .crs import WGS84, parse_crs, to_wgs84
from .errors import MissingCRS, UnreadableLayer

GEOJSON_DECIMALS = 7


def read_layer(path, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file and return it in WGS84.

    Parameters
    ----------
    path : a GeoJSON, GeoPackage, Shapefile (or .zip holding one) or FlatGeobuf file.
    layer : the layer to read from a multi-layer file; the first when None.
    crs : the CRS to assume when the file declares none. A file without a CRS and without
        this argument is refused rather than guessed.
    """
    path = Path(path)
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = pyogrio.read_dataframe(source, layer=layer)
    except Exception as exc:  # GDAL reports corrupt files as several unrelated classes
        raise UnreadableLayer(
            f"Filen {path.name} kunde inte läsas som ett geografiskt lager: {exc}",
            f"The file {path.name} could not be read as a geographic layer: {exc}",
        ) from None
    if frame.crs is None:
        if crs is None:
            raise MissingCRS(
                f"Filen {path.name} anger inget koordinatsystem. Ange det (t.ex. EPSG:3008).",
                f"The file {path.name} declares no coordinate reference system. State it (e.g. EPSG:3008).",
            )
        frame = frame.set_crs(parse_crs(crs))
    return to_wgs84(frame)


def rfc7946_geometry(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Return geometries in WGS84 with counter-clockwise exterior rings (RFC 7946 §3.1.6)."""
    wgs = geometry.to_crs(WGS84) if geometry.crs is not None and geometry.crs != WGS84 else geometry
    oriented = shapely.orient_polygons(wgs.to_numpy(), exterior_cw=False)
    return gpd.GeoSeries(oriented, index=wgs.index, crs=WGS84)


def _round_coords(coords, decimals: int):
    if coords and isinstance(coords[0], (int, float)):
        return [round(c, decimals) for c in coords]
    return [_round_coords(c, decimals) for c in coords]


def feature_dict(geometry, properties: dict, feature_id=None, decimals: int = GEOJSON_DECIMALS) -> dict:
    """Return one RFC 7946 Feature as a dict (geometry assumed WGS84 and oriented)."""
    geo = None
    if geometry is not None and not geometry.is_empty:
        geo = shapely.geometry.mapping(geometry)
        geo = {"type": geo["type"], "coordinates": _round_coords(_listify(geo["coordinates"]), decimals)}
    feature = {"type": "Feature", "geometry": geo, "properties": properties}
    if feature_id is not None:
        feature["id"] = feature_id
    return feature


def _listify(coords):
    if isinstance(coords, (tuple, list)):
        return [_listify(c) for c in coords]
    return coords


def frame_to_features(frame: gpd.GeoDataFrame, id_column: str | None = "id") -> list[dict]:
    """Return the frame's rows as RFC 7946 Feature dicts (WGS84, oriented, 7 decimals)."""
    geometry = rfc7946_geometry(frame.geometry)
    props = frame.drop(columns=frame.geometry.name)
    records = orjson.loads(props.to_json(orient="records", date_format="iso", force_ascii=False))
    ids = props[id_column].tolist() if id_column and id_column in props else [None] * len(frame)
    return [feature_dict(g, p, i) for g, p, i in zip(geometry, records, ids)]


def frame_to_geojson(frame: gpd.GeoDataFrame, id_column: str | None = "id") -> bytes:
    """Return the frame as RFC 7946 GeoJSON FeatureCollection bytes."""
    return orjson.dumps({"type": "FeatureCollection", "features": frame_to_features(frame, id_column)})


def write_geojson(frame: gpd.GeoDataFrame, path) -> Path:
    """Write the frame as an RFC 7946 GeoJSON file and return its path."""
    path = Path(path)
    path.write_bytes(frame_to_geojson(frame))
    return path


def write_gpkg(frame: gpd.GeoDataFrame, path, layer: str, crs: str = "EPSG:3006", description: str | None = None) -> Path:
    """Write (or add) ``layer`` to a GeoPackage in ``crs`` and return the file's path."""
    path = Path(path)
    options = {"DESCRIPTION": description} if description else {}
    pyogrio.write_dataframe(
        frame.to_crs(parse_crs(crs)), path, layer=layer, driver="GPKG",
        append=False, layer_options=options or None,
    )
    return path


def read_layer_native(path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file as it is, in the CRS it declares (``crs`` None when it declares none).

    For imports that must see the declared CRS before deciding (``read_layer`` converts to WGS84).
    Unreadable files raise ``UnreadableLayer`` as in ``read_layer``.
    """
    path = Path(path)
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        return pyogrio.read_dataframe(source, layer=layer)
    except Exception as exc:  # GDAL reports corrupt files as several unrelated classes
        raise UnreadableLayer(
            f"Filen {path.name} kunde inte läsas som ett geografiskt lager: {exc}",
            f"The file {path.name} could not be read as a geographic layer: {exc}",
        ) from None
