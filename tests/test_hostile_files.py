"""Hostile files offered as plan layers: each is refused with a clear message and changes nothing.

Every case goes through the CLI (``dialogkarta import-layer``) and, where a browser could send
it, the admin upload page. After each: the store (every table) and every layer the registry
serves are as before, the refusal is worded in Swedish and English, it quotes neither the file's
name, its path nor anything inside it, no work folder is left behind, and the loopback listener
that one VRT points at has received no connection.

The cases: a GDAL VRT disguised under every accepted extension (reading a local file, reading
the live store's contact details, fetching a URL), zips with ``../`` entries, links, too many
entries and bombs (honest and lying sizes), a plain SQLite file named ``.gpkg`` with triggers,
GeoPackages with foreign triggers, views and virtual tables, a polygon with two million
vertices, too many features, non-UTF-8 attributes, and a multi-layer GeoPackage whose first
layer is the locality boundary.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import select

from dialogkarta.geo.crs import SWEREF99TM, WGS84, to_sweref
from dialogkarta.layers.schema import metadata
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.live import PLANTED_EMAIL, seed

SECRET = "TOPSECRET-7f3a"  # in the local file a VRT reads: must never reach a layer or a message
NAME = "innocent-plan-9c1e"  # the hostile file's name: never repeated in a message
LIMIT_MB = 64
MAX_FEATURES = 500
DALBY = (13.3450, 55.6640)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A seeded app (one store for the module), a loopback listener, a private temporary folder."""
    folder = tmp_path_factory.mktemp("hostile-files")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "hostile-files",
            "DATABASE_URL": f"sqlite:///{folder / 'instance' / 'store.sqlite'}",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
            "LAYER_UPLOAD_MAX_BYTES": LIMIT_MB * 1024 * 1024,
            "LAYER_MAX_FEATURES": MAX_FEATURES,
        }
    )
    seeded = seed(app, count=3)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    systemtmp = folder / "systemtmp"
    systemtmp.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(systemtmp))
        patch.setenv("GDAL_HTTP_TIMEOUT", "3")  # were anything to connect, fail the test rather than hang
        patch.delenv("NO_PROXY", raising=False)
        patch.delenv("no_proxy", raising=False)
        yield {
            "app": app,
            "seeded": seeded,
            "listener": listener,
            "port": listener.getsockname()[1],
            "systemtmp": systemtmp,
            "folder": folder,
        }
    listener.close()


def fingerprint(app) -> tuple:
    """Every row of every table (staff accounts aside: a login records its time), and the ids of every layer served."""
    with app.app_context():
        registry = db.registry()
        layers = {name: sorted(map(str, registry.frame(name)["id"])) for name in registry.names()}
        with db.reading() as conn:
            tables = {
                table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables
                if table.name not in ("users", "api_tokens")
            }
    return layers, tables


# ---------------------------------------------------------------------------- the hostile files
def _vrt(source: str, sql: str | None = None) -> str:
    query = f"<SrcSQL>{sql}</SrcSQL>" if sql else ""
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="plan"><SrcDataSource>{source}</SrcDataSource>{query}'
        "<GeometryType>wkbPoint</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
        '<GeometryField encoding="PointFromColumns" x="lon" y="lat"/></OGRVRTLayer></OGRVRTDataSource>'
    )


def vrt_reading_a_local_file(world, folder):
    secret = folder / "secret.csv"
    secret.write_text(f"id,name,kind,lon,lat\ns1,{SECRET},school,{DALBY[0]},{DALBY[1]}\n")
    return _vrt(str(secret))


def vrt_reading_the_live_store(world, folder):
    store = world["app"].config["DATABASE_URL"].removeprefix("sqlite:///")
    return _vrt(
        store,
        "SELECT 'c' || p.id AS id, c.email AS name, 'school' AS kind, p.lon, p.lat "
        "FROM proposals p JOIN contacts c ON c.proposal_id = p.id",
    )


def vrt_fetching_a_url(world, folder):
    return _vrt(f"/vsicurl/http://127.0.0.1:{world['port']}/plan.geojson")


VRTS = [vrt_reading_a_local_file, vrt_reading_the_live_store, vrt_fetching_a_url]


def _disguise(vrt: str, folder: Path, extension: str) -> Path:
    """The VRT under a name with ``extension`` (a zip holds it as a shapefile's three parts, or as a .vrt)."""
    if extension in (".gpkg", ".geojson", ".json", ".fgb"):
        path = folder / f"{NAME}{extension}"
        path.write_text(vrt)
    elif extension == ".shp":
        for part in (".shp", ".shx", ".dbf"):
            (folder / f"{NAME}{part}").write_text(vrt)
        path = folder / f"{NAME}.shp"
    elif extension == ".zip":
        path = folder / f"{NAME}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in (".shp", ".shx", ".dbf"):
                archive.writestr(f"plan{part}", vrt)
    else:  # a zip holding only the VRT, which GDAL's /vsizip/ would open as the archive's one file
        path = folder / f"{NAME}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("plan.vrt", vrt)
    return path


def _points(n: int, crs=WGS84) -> gpd.GeoDataFrame:
    lon = DALBY[0] + np.arange(n) * 1e-5
    return gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(n)], "name": ["Punkt"] * n, "kind": ["school"] * n},
        geometry=shapely.points(np.column_stack([lon, np.full(n, DALBY[1])])),
        crs=crs,
    )


def _square(half=150.0) -> gpd.GeoDataFrame:
    easting, northing = to_sweref(*DALBY)
    return gpd.GeoDataFrame(
        {"id": ["plan-ny"], "name": ["Nya planen"]},
        geometry=[shapely.box(easting - half, northing - half, easting + half, northing + half)],
        crs=SWEREF99TM,
    )


def _shapefile_parts(folder: Path, frame=None, encoding=None) -> dict[str, bytes]:
    parts = folder / "parts"
    parts.mkdir()
    pyogrio.write_dataframe(_square() if frame is None else frame, parts / "plan.shp", encoding=encoding)
    return {p.suffix: p.read_bytes() for p in parts.iterdir()}


def zip_with_parent_entries(world, folder):
    path = folder / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in _shapefile_parts(folder).items():
            archive.writestr(f"../../escaped/plan{suffix}", data)
    return path


def zip_with_a_link(world, folder):
    path = folder / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in _shapefile_parts(folder).items():
            archive.writestr(f"plan{suffix}", data)
        link = zipfile.ZipInfo("secret.prj")
        link.external_attr = 0o120777 << 16  # a symbolic link to a file outside
        archive.writestr(link, str(folder / "secret.csv"))
    return path


def zip_with_too_many_entries(world, folder):
    path = folder / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in _shapefile_parts(folder).items():
            archive.writestr(f"plan{suffix}", data)
        for i in range(5000):
            archive.writestr(f"notes/{i}.txt", "x")
    return path


def _bomb(path: Path, parts: dict[str, bytes], megabytes: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for suffix, data in parts.items():
            archive.writestr(f"plan{suffix}", data)
        with archive.open("plan.sbn", "w", force_zip64=True) as out:  # a shapefile part GDAL would read too
            block = bytes(1 << 20)
            for _ in range(megabytes):
                out.write(block)


def zip_bomb(world, folder):
    path = folder / f"{NAME}.zip"
    _bomb(path, _shapefile_parts(folder), 2 * LIMIT_MB)
    assert path.stat().st_size < 1024 * 1024
    return path


def zip_bomb_with_lying_sizes(world, folder):
    """The .dbf unpacks to 128 MB but the zip's headers claim 2 KB, so counting declared sizes is not enough."""
    path = folder / f"{NAME}.zip"
    parts = _shapefile_parts(folder)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plan.shp", parts[".shp"])
        archive.writestr("plan.shx", parts[".shx"])
        archive.writestr("plan.prj", parts[".prj"])
        archive.writestr("plan.dbf", parts[".dbf"] + bytes(2 * LIMIT_MB * 1024 * 1024))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central directory, local header
        for match in re.finditer(re.escape(signature), bytes(data)):
            name_at = match.start() + (46 if signature == b"PK\x01\x02" else 30)
            if bytes(data[name_at : name_at + 8]) == b"plan.dbf":
                data[match.start() + offset : match.start() + offset + 4] = (2048).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _geopackage(folder: Path, frame=None, layer="plan") -> Path:
    path = folder / f"{NAME}.gpkg"
    pyogrio.write_dataframe(_square() if frame is None else frame, path, layer=layer, driver="GPKG")
    return path


def _sql(path: Path, *statements: str) -> Path:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path


def plain_sqlite_named_gpkg_with_triggers(world, folder):
    path = _geopackage(folder)
    return _sql(
        path,
        "PRAGMA application_id = 0",  # now a plain SQLite database with GeoPackage-like tables
        "CREATE TABLE loot (what TEXT)",
        "CREATE TRIGGER steal AFTER INSERT ON plan BEGIN INSERT INTO loot VALUES (load_extension('evil')); END",
    )


def geopackage_with_a_foreign_trigger(world, folder):
    return _sql(
        _geopackage(folder),
        "CREATE TABLE loot (what TEXT)",
        "CREATE TRIGGER rtree_plan_geom_insert_more AFTER DELETE ON loot BEGIN DELETE FROM plan; END",
    )


def geopackage_with_a_view(world, folder):
    return _sql(_geopackage(folder), "CREATE VIEW plan_view AS SELECT * FROM plan, sqlite_master")


def geopackage_with_a_virtual_table(world, folder):
    return _sql(_geopackage(folder), "CREATE VIRTUAL TABLE search USING fts4(body)")


def polygon_with_millions_of_vertices(world, folder):
    easting, northing = to_sweref(*DALBY)
    angles = np.linspace(0, 2 * np.pi, 2_000_000, endpoint=False)
    ring = np.column_stack([easting + 150 * np.cos(angles), northing + 150 * np.sin(angles)])
    frame = gpd.GeoDataFrame({"id": ["huge"], "name": ["Många hörn"]}, geometry=[shapely.Polygon(ring)], crs=SWEREF99TM)
    return _geopackage(folder, frame)


def too_many_features(world, folder):
    return _geopackage(folder, _points(MAX_FEATURES + 1))


def non_utf8_geopackage(world, folder):
    path = _geopackage(folder)
    connection = sqlite3.connect(path)
    triggers = [
        row[0]
        for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_%update%'")
    ]
    connection.close()
    # GDAL's update triggers call its own SQL functions; the bytes are Latin-1 "Mälmö".
    return _sql(path, *[f'DROP TRIGGER "{name}"' for name in triggers], "UPDATE plan SET name = CAST(X'4DE46C6DF6' AS TEXT)")


def non_utf8_shapefile(world, folder):
    parts = _shapefile_parts(folder, _square().assign(name=["Mälmö åäö"]), encoding="latin1")
    parts[".cpg"] = b"UTF-8"  # declares UTF-8, holds Latin-1
    path = folder / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in parts.items():
            archive.writestr(f"plan{suffix}", data)
    return path


def non_utf8_geojson(world, folder):
    path = folder / f"{NAME}.geojson"
    frame = _square().to_crs(WGS84).assign(name=["Mälmö åäö"])
    path.write_bytes(frame.to_json().replace("\\u00e4", "ä").replace("\\u00f6", "ö").replace("\\u00e5", "å").encode("latin-1"))
    return path


def multi_layer_geopackage_led_by_the_locality(world, folder):
    with world["app"].app_context():
        registry = db.registry()
        locality, services = registry.frame("locality"), registry.services()
    path = folder / f"{NAME}.gpkg"
    pyogrio.write_dataframe(locality, path, layer="locality", driver="GPKG")
    pyogrio.write_dataframe(services, path, layer="service_locations", driver="GPKG")
    return path


# (make, what the message must say), or for the VRTs (make, the extension it hides under)
VRT_EXTENSIONS = [".gpkg", ".geojson", ".json", ".fgb", ".zip", ".zip-vrt", ".shp"]
CASES = [(vrt, ext) for vrt in VRTS for ext in VRT_EXTENSIONS] + [
    (zip_with_parent_entries, "utanför sin mapp"),
    (zip_with_a_link, "länkar"),
    (zip_with_too_many_entries, "högst 100"),
    (zip_bomb, "packas upp till mer än"),
    (zip_bomb_with_lying_sizes, "kunde inte läsas som Shapefile (zip)"),
    (plain_sqlite_named_gpkg_with_triggers, "ingen GeoPackage"),
    (geopackage_with_a_foreign_trigger, "triggers"),
    (geopackage_with_a_view, "vyer"),
    (geopackage_with_a_virtual_table, "virtuella tabeller"),
    (polygon_with_millions_of_vertices, "2 000 001 hörnpunkter"),
    (too_many_features, f"{MAX_FEATURES + 1} objekt"),
    (non_utf8_geopackage, "UTF-8"),
    (non_utf8_shapefile, "UTF-8"),
    (non_utf8_geojson, "UTF-8"),
    (multi_layer_geopackage_led_by_the_locality, "2 lager"),
]
POINT_CASES = (too_many_features,)  # the VRTs too: they make points, as the service layer holds


def _ids(case) -> str:
    make, detail = case
    return f"{make.__name__}{detail}" if make in VRTS else make.__name__


def _attempts():
    for case in CASES:
        for via in ("cli", "upload"):
            if via == "upload" and case[1] == ".shp":
                continue  # a browser uploads one file: the page takes no bare .shp
            yield pytest.param(*case, via, id=f"{_ids(case)}-{via}")


def _offer(world, path: Path, target: str, via: str) -> tuple[bool, str]:
    """Import ``path`` as ``target`` through the CLI or the upload page; return (refused, what the person sees)."""
    app = world["app"]
    if via == "cli":
        from tests.conftest import DialogkartaRunner

        result = DialogkartaRunner(app).invoke(args=["import-layer", str(path), "--as", target, "--max-mb", str(LIMIT_MB)])
        return result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.output
    client = app.test_client()
    admin = {"Authorization": f"Bearer {world['seeded']['tokens']['admin']}"}
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/planner/layers", headers=admin).get_data(as_text=True))[
        1
    ]
    with path.open("rb") as handle:
        response = client.post(
            "/planner/layers",
            headers=admin,
            content_type="multipart/form-data",
            data={"csrf_token": token, "layer": target, "file": (handle, path.name)},
        )
    page = response.get_data(as_text=True)
    flashed = [html.unescape(text) for text in re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>', page, re.DOTALL)]
    return response.status_code == 422 and len(flashed) == 1, " ".join(flashed) or page


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("make, detail, via", list(_attempts()))
def test_a_hostile_file_is_refused_clearly_and_changes_nothing(world, tmp_path, make, detail, via):
    app = world["app"]
    if make in VRTS:
        path = _disguise(make(world, tmp_path), tmp_path, detail)
        target, expected = "service-locations", None
    else:
        path = make(world, tmp_path)
        target, expected = "service-locations" if make in POINT_CASES else "development-areas", detail
    before = fingerprint(app)
    refused, message = _offer(world, path, target, via)
    assert refused, message
    assert " / " in message or via == "upload"
    if expected:
        assert expected in message.replace("\xa0", " "), message
    for leak in (
        str(tmp_path),
        NAME,
        SECRET,
        PLANTED_EMAIL,
        "127.0.0.1",
        str(world["port"]),
        "OGRVRT",
        "SrcDataSource",
        "sqlite",
        "Traceback",
    ):
        assert leak not in message, f"the message repeats {leak!r}: {message}"
    assert fingerprint(app) == before
    with pytest.raises(BlockingIOError):  # nothing connected to the loopback listener
        world["listener"].accept()
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path.parent.parent / "escaped").exists()
    assert list(world["systemtmp"].iterdir()) == []
    workdir = Path(app.config["LAYER_OVERRIDE_DIR"])
    assert not workdir.exists() or list(workdir.iterdir()) == []
    shutil.rmtree(tmp_path, ignore_errors=True)  # the bombs and the big polygon: do not keep them around
