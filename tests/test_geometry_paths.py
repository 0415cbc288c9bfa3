"""Polygons that reveal bugs, imported in EPSG:3008 and read back through every output path.

A planner's file in the local zone EPSG:3008 holds a clockwise polygon with a counter-clockwise
hole (both the wrong way round for RFC 7946), a polygon sharing an edge with it, and a
multipolygon whose first part has a hole. It goes in through the public import command; then
each output (``/api/layers``, the exports as GeoJSON, CSV, GeoPackage and FlatGeobuf, OGC API
items in CRS84 and EPSG:3006, and the map page's embedded layer) must give every polygon back
with its parts and holes, every vertex within 2 cm of the original once transformed back to
EPSG:3008, and, where the output is GeoJSON, exterior rings counter-clockwise and holes
clockwise (RFC 7946 §3.1.6; for EPSG:3006 in its northing-first axis order, judged on the map,
that is after reading the axes the way the CRS declares them).
"""

from __future__ import annotations

import csv
import io
import json
import re

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from dialogkarta.geo.crs import SWEREF99TM, WGS84, transform_xy
from tests.conftest import ORIGIN_E, ORIGIN_N
from tests.live import LiveProcess

LOCAL = "EPSG:3008"
TOLERANCE_M = 0.02
LAYER = "development-areas"

# The conftest origin in EPSG:3008, to whole metres; the shapes are drawn in metres from it.
E0, N0 = (float(round(float(v))) for v in transform_xy(ORIGIN_E, ORIGIN_N, SWEREF99TM, LOCAL))


def _at(points):
    return [(E0 + x, N0 + y) for x, y in points]


# Clockwise exteriors, counter-clockwise holes: every ring the wrong way round for RFC 7946.
WITH_HOLE = Polygon(_at([(0, 0), (0, 120), (60, 150), (120, 120), (120, 0)]), [_at([(30, 30), (90, 30), (90, 90), (30, 90)])])
TOUCHING = Polygon(_at([(120, 0), (120, 120), (200, 120), (200, 0)]))  # shares the edge x = 120 with WITH_HOLE
MULTI = MultiPolygon(
    [
        Polygon(_at([(300, 0), (300, 80), (380, 80), (380, 0)]), [_at([(320, 20), (360, 20), (360, 60), (320, 60)])]),
        Polygon(_at([(400, 0), (440, 80), (480, 0)])),
    ]
)
SHAPES = {"hole": WITH_HOLE, "touching": TOUCHING, "multi": MULTI}


def _polygons(geometry) -> list[Polygon]:
    return list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]


def test_the_fixture_is_drawn_the_wrong_way_round():
    for geometry in SHAPES.values():
        for polygon in _polygons(geometry):
            assert not polygon.exterior.is_ccw and all(hole.is_ccw for hole in polygon.interiors)
    assert WITH_HOLE.touches(TOUCHING) and WITH_HOLE.intersection(TOUCHING).length == pytest.approx(120)


@pytest.fixture
def imported(app, runner, tmp_path):
    """The shapes imported as the development areas from a GeoPackage in EPSG:3008, via the CLI."""
    frame = gpd.GeoDataFrame(
        {
            "id": list(SHAPES),
            "name": ["Med hål", "Kant i kant", "Två delar"],
            "status": ["detailed_plan", "proposal", "comprehensive_plan"],
        },
        geometry=list(SHAPES.values()),
        crs=LOCAL,
    )
    path = tmp_path / "plan-3008.gpkg"
    pyogrio.write_dataframe(frame, path, layer="plan")
    written = pyogrio.read_dataframe(path)
    assert written.crs == LOCAL and not _polygons(written.geometry.iloc[0])[0].exterior.is_ccw  # as drawn
    result = runner.invoke(args=["import-layer", str(path), "--as", LAYER])
    assert result.exit_code == 0, result.output
    return app


# ------------------------------------------------------------------- readers
# Each returns {id: (geometry in EPSG:3008, GeoJSON coordinates to judge orientation by, or None)}.
def _from_geojson_features(features, crs=WGS84, northing_first=False) -> dict:
    out = {}
    for feature in features:
        geometry = feature["geometry"]
        coordinates = _swap(geometry["coordinates"]) if northing_first else geometry["coordinates"]
        local = _to_local(shape({"type": geometry["type"], "coordinates": coordinates}), crs)
        out[str(feature["id"] if "id" in feature else feature["properties"]["id"])] = (local, geometry["type"], coordinates)
    return out


def _swap(coordinates):
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates[1], coordinates[0], *coordinates[2:]]
    return [_swap(c) for c in coordinates]


def _to_local(geometry, crs: str):
    return gpd.GeoSeries([geometry], crs=crs).to_crs(LOCAL).iloc[0]


def _from_frame(frame) -> dict:
    return {str(i): (_to_local(g, frame.crs), None, None) for i, g in zip(frame["id"], frame.geometry)}


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    return response


def _api_layer(client, tmp_path):
    return _from_geojson_features(json.loads(_get(client, f"/api/layers/{LAYER}").data)["features"])


def _export_geojson(client, tmp_path):
    return _from_geojson_features(json.loads(_get(client, f"/api/export/{LAYER}.geojson").data)["features"])


def _export_csv(client, tmp_path):
    rows = csv.DictReader(io.StringIO(_get(client, f"/api/export/{LAYER}.csv").data.decode("utf-8")))
    return {row["id"]: (_to_local(shapely.from_wkt(row["wkt"]), WGS84), None, None) for row in rows}


def _export_file(fmt, query="", layer=None):
    def read(client, tmp_path):
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(_get(client, f"/api/export/{LAYER}.{fmt}{query}").data)
        return _from_frame(pyogrio.read_dataframe(path, layer=layer))

    return read


def _ogc(query="", crs=WGS84, northing_first=False):
    def read(client, tmp_path):
        body = json.loads(_get(client, f"/ogc/collections/{LAYER}/items?limit=100{query}").data)
        return _from_geojson_features(body["features"], crs, northing_first)

    return read


def _ogc_item(client, tmp_path):
    return _from_geojson_features([json.loads(_get(client, f"/ogc/collections/{LAYER}/items/{i}").data) for i in SHAPES])


def _map_page(client, tmp_path):
    """The layer data folium embeds in the resident map page: the collection holding our ids."""
    html = _get(client, "/").get_data(as_text=True)
    decoder = json.JSONDecoder()
    for match in re.finditer(r"geo_json_\w+_add\(", html):
        data, _end = decoder.raw_decode(html, match.end())
        ids = {str(f.get("id", f["properties"].get("id"))) for f in data["features"]}
        if ids == set(SHAPES):
            return _from_geojson_features(data["features"])
    raise AssertionError("the map page embeds no layer with the imported areas")


OUTPUTS = {
    "/api/layers/<name>": _api_layer,
    "export .geojson": _export_geojson,
    "export .csv (wkt)": _export_csv,
    "export .gpkg (EPSG:3006)": _export_file("gpkg", layer="development_areas"),
    "export .gpkg?crs=EPSG:3008": _export_file("gpkg", "?crs=EPSG:3008", layer="development_areas"),
    "export .fgb": _export_file("fgb"),
    "OGC items": _ogc(),
    "OGC items crs=EPSG:3006": _ogc("&crs=http://www.opengis.net/def/crs/EPSG/0/3006", SWEREF99TM, northing_first=True),
    "OGC item": _ogc_item,
    "map page layer": _map_page,
}


# -------------------------------------------------------------------- checks
def _ring_offsets(original, returned) -> float:
    """Return the largest distance from a vertex of either ring to the nearest vertex of the other (metres)."""
    a, b = np.asarray(original.coords)[:-1, :2], np.asarray(returned.coords)[:-1, :2]
    apart = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    assert len(a) == len(b), f"{len(a)} vertices became {len(b)}"
    return float(max(apart.min(axis=1).max(), apart.min(axis=0).max()))


def _assert_same_shape(original, returned, where: str) -> None:
    polygons, back = _polygons(original), _polygons(returned)
    assert len(back) == len(polygons), f"{where}: {len(polygons)} parts became {len(back)}"
    for i, (p, q) in enumerate(zip(polygons, back)):
        assert len(q.interiors) == len(p.interiors), f"{where} part {i}: {len(p.interiors)} holes became {len(q.interiors)}"
        for ring, (r, s) in enumerate(zip([p.exterior, *p.interiors], [q.exterior, *q.interiors])):
            offset = _ring_offsets(r, s)
            assert offset <= TOLERANCE_M, f"{where} part {i} ring {ring}: a vertex moved {offset * 100:.1f} cm"


def _assert_rfc7946_orientation(kind: str, coordinates, where: str) -> None:
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    for i, rings in enumerate(polygons):
        assert shapely.LinearRing(rings[0]).is_ccw, f"{where} part {i}: exterior ring is clockwise"
        for j, hole in enumerate(rings[1:], 1):
            assert not shapely.LinearRing(hole).is_ccw, f"{where} part {i}: hole {j} is counter-clockwise"


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_imported_polygons_come_back_whole_and_in_place(imported, client, tmp_path, output):
    found = OUTPUTS[output](client, tmp_path)
    assert set(found) == set(SHAPES), output
    for feature_id, original in SHAPES.items():
        returned, kind, coordinates = found[feature_id]
        _assert_same_shape(original, returned, f"{output} {feature_id}")
        if kind is not None:
            _assert_rfc7946_orientation(kind, coordinates, f"{output} {feature_id}")


def test_touching_areas_still_touch_and_do_not_overlap(imported, client, tmp_path):
    found = _ogc()(client, tmp_path)
    hole, touching = found["hole"][0], found["touching"][0]
    assert hole.intersection(touching).area < 0.01  # square metres: an edge shared, no area
    assert hole.distance(touching) < TOLERANCE_M


def test_gdal_reads_the_polygons_back_whole_through_ogc_api(imported):
    # GDAL's OAPIF driver, a real OGC client, against the same instance served over HTTP.
    config = {
        "TESTING": True,
        "INSTANCE_PATH": imported.instance_path,
        "DATABASE_URL": imported.config["DATABASE_URL"],
        "SECRET_KEY": "geometry-test",
        "RATELIMIT_ENABLED": False,
    }
    with LiveProcess(config) as server:
        frame = pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer=LAYER)
    found = _from_frame(frame)
    assert set(found) == set(SHAPES)
    for feature_id, original in SHAPES.items():
        _assert_same_shape(original, found[feature_id][0], f"GDAL OAPIF {feature_id}")


# ------------------------------------------------------- the boundary on every map
@pytest.fixture
def boundary_imported(app, runner, tmp_path):
    """The clockwise polygon with its hole imported as the locality's boundary, in EPSG:3008."""
    with app.app_context():
        from dialogkarta.webmap import db

        boundary_layer = db.registry().locality.boundary_layer
    path = tmp_path / "boundary-3008.gpkg"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame({"id": ["grans"], "name": ["Gräns"]}, geometry=[WITH_HOLE], crs=LOCAL), path, layer="boundary"
    )
    result = runner.invoke(args=["import-layer", str(path), "--as", boundary_layer])
    assert result.exit_code == 0, result.output
    return app


def _embedded_boundaries(html: str) -> list[tuple]:
    """Return (EPSG:3008 geometry, type, coordinates) of every embedded feature lying on the boundary."""
    found, decoder = [], json.JSONDecoder()
    for match in re.finditer(r"geo_json_\w+_add\(", html):
        data, _end = decoder.raw_decode(html, match.end())
        for feature in data["features"]:
            geometry = feature["geometry"]
            local = _to_local(shape(geometry), WGS84)
            if local.geom_type in ("Polygon", "MultiPolygon") and local.hausdorff_distance(WITH_HOLE) < 1:
                found.append((local, geometry["type"], geometry["coordinates"]))
    return found


@pytest.mark.parametrize("page", ["/", "/activity-plan", "/planner/"])
def test_every_map_embeds_the_boundary_oriented_with_its_hole(boundary_imported, client, page):
    from dialogkarta.testing import login, make_user

    if page.startswith("/planner"):
        make_user(boundary_imported, "karta-planner")
        login(client, "karta-planner")
    html = _get(client, page).get_data(as_text=True)
    embedded = _embedded_boundaries(html)
    assert embedded, f"{page} embeds no boundary"
    for local, kind, coordinates in embedded:
        _assert_same_shape(WITH_HOLE, local, f"{page} boundary")
        _assert_rfc7946_orientation(kind, coordinates, f"{page} boundary")
