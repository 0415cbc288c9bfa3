"""Reading and writing vector layers through GDAL (pyogrio).

``read_layer`` reads our own files (the bundled layers) in whatever CRS they declare and returns
WGS84. Files from outside go through ``read_source``: one layer of a file ``geo.formats`` has
checked, opened by the one driver its format names, with GDAL's network access switched off
(``gdal_offline``) and limits on features and vertices. Writing produces RFC 7946 GeoJSON (WGS84,
no ``crs`` member, counter-clockwise exterior rings, at most 7 decimals) and GeoPackage in a
metric CRS; ``gpkg_bytes``/``read_gpkg_bytes`` hold a layer as GeoPackage bytes (for the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import io
import logging
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import orjson

from .crs import WGS84, parse_crs, to_wgs84
from .errors import GeoError, LayerTooComplex, MissingCRS, UnreadableLayer, WrongFormat
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import pyogrio
    import shapely
else:
    gpd = lazy_module("geopandas")
    pyogrio = lazy_module("pyogrio")
    shapely = lazy_module("shapely")

GEOJSON_DECIMALS = 7
log = logging.getLogger(__name__)

# GDAL configuration for reading files from outside. No GDAL option turns networking off as such:
# every request GDAL makes (/vsicurl/, the HTTP-based drivers, CRS lookups) goes through libcurl
# with these options, and curl refuses a proxy of an unknown scheme before it opens a connection.
NETWORK_OFF = {
    "GDAL_HTTP_PROXY": "network-off://",
    "GDAL_HTTPS_PROXY": "network-off://",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".network-off",  # /vsicurl/ opens no file at all
    "PROJ_NETWORK": "OFF",
}
_offline = threading.Lock()


def read_layer(path, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read one of our own vector files (a bundled layer) and return it in WGS84.

    Files from outside go through ``geo.formats`` and ``read_source`` instead: GDAL picks the
    driver here by the file's content.

    Parameters
    ----------
    path : a GeoJSON, GeoPackage, Shapefile or FlatGeobuf file.
    layer : the layer to read from a multi-layer file; the first when None.
    crs : the CRS to assume when the file declares none. A file without a CRS and without
        this argument is refused rather than guessed.
    """
    path = Path(path)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # GDAL reports corrupt files as several unrelated classes
        log.info("GDAL could not read %s: %s", path, exc)
        raise UnreadableLayer(
            f"Filen {path.name} kunde inte läsas som ett geografiskt lager.",
            f"The file {path.name} could not be read as a geographic layer.",
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
    # pandas writes a frame without columns as "[]", whatever its length: one empty record per row instead.
    records = (
        orjson.loads(props.to_json(orient="records", date_format="iso", force_ascii=False))
        if len(props.columns)
        else [{} for _ in range(len(frame))]
    )
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
        frame.to_crs(parse_crs(crs)),
        path,
        layer=layer,
        driver="GPKG",
        append=False,
        layer_options=options or None,
    )
    return path


@contextmanager
def gdal_offline():
    """Run the block with GDAL's network access off (``NETWORK_OFF``), then restore the options.

    The options are process-wide in GDAL, so blocks run one at a time.
    """
    with _offline:
        previous = {name: pyogrio.get_gdal_config_option(name) for name in NETWORK_OFF}
        pyogrio.set_gdal_config_options(NETWORK_OFF)
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(previous)


def read_source(location: str, driver: str, layer: str | None, max_features: int, max_vertices: int) -> gpd.GeoDataFrame:
    """Read one layer of a file from outside as it is, in the CRS it declares (``crs`` None if none).

    Parameters
    ----------
    location, layer : what ``geo.formats.open_layer`` returned for the checked file.
    driver : the GDAL driver the file's format names; a file GDAL opens with any other is refused.
    max_features, max_vertices : limits, checked before the geometries are validated or repaired
        (the feature count before they are even read).

    Raises ``UnreadableLayer`` (never quoting GDAL, whose messages can repeat paths and content) or
    ``LayerTooComplex``.
    """
    try:
        with gdal_offline():
            info = pyogrio.read_info(location, layer=layer)
            if info["driver"] != driver:
                raise WrongFormat("Filen kunde inte läsas i sitt format.", "The file could not be read in its format.")
            _check_features(int(info["features"]), max_features)
            frame = pyogrio.read_dataframe(location, layer=layer)
    except GeoError:
        raise
    except UnicodeDecodeError:
        raise UnreadableLayer(
            "Texten i filens attribut är inte giltig UTF-8. Spara om lagret som UTF-8 (en Shapefile kan ange "
            "sin teckenkodning i en .cpg-fil).",
            "Text in the file's attributes is not valid UTF-8. Save the layer again as UTF-8 (a Shapefile can "
            "state its encoding in a .cpg file).",
        ) from None
    except Exception as exc:  # GDAL reports corrupt files as several unrelated classes
        log.info("GDAL could not read an imported file: %s", type(exc).__name__)
        raise UnreadableLayer(
            "Filen kunde inte läsas som ett geografiskt lager.", "The file could not be read as a geographic layer."
        ) from None
    _check_features(len(frame), max_features)
    vertices = int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())
    if vertices > max_vertices:
        raise LayerTooComplex(
            f"Lagret har {vertices:,} hörnpunkter; högst {max_vertices:,} tas emot. Förenkla geometrierna "
            "(t.ex. QGIS: Vektor > Geometriverktyg > Förenkla) eller dela upp lagret.".replace(",", " "),
            f"The layer has {vertices:,} vertices; at most {max_vertices:,} are accepted. Simplify the geometries "
            "(e.g. QGIS: Vector > Geometry Tools > Simplify) or split the layer.",
        )
    return frame


def _check_features(count: int, max_features: int) -> None:
    if count > max_features:
        raise LayerTooComplex(
            f"Lagret har {count:,} objekt; högst {max_features:,} tas emot.".replace(",", " "),
            f"The layer has {count:,} features; at most {max_features:,} are accepted.",
        )


def gpkg_bytes(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    """Return the frame as the bytes of a one-layer GeoPackage (in the frame's CRS)."""
    buffer = io.BytesIO()
    pyogrio.write_dataframe(frame, buffer, layer=layer, driver="GPKG")
    return buffer.getvalue()


def read_gpkg_bytes(data: bytes) -> gpd.GeoDataFrame:
    """Return the layer that ``gpkg_bytes`` wrote, in WGS84."""
    with warnings.catch_warnings():
        # GDAL notes that an in-memory file with GeoPackage content lacks the .gpkg extension.
        warnings.filterwarnings("ignore", message=".*non conformant file extension", category=RuntimeWarning)
        frame = pyogrio.read_dataframe(io.BytesIO(data))
    return to_wgs84(frame)
