"""QGIS itself against our output: PyQGIS (Debian's QGIS 3.22, headless) opens, draws, reads and edits.

Every test runs ``probe.py`` under the system Python (see ``pyqgis.py``) against a GeoPackage that
``dialogkarta export all`` wrote or against our OGC API served over real HTTP, and decides from
what QGIS reports. Without PyQGIS these tests skip; with ``DIALOGKARTA_REQUIRE_QGIS=1`` (CI) they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import geopandas as gpd
import pyogrio
import pytest
import shapely
from sqlalchemy import update

from dialogkarta.geo.crs import WGS84, parse_crs, transform_xy
from dialogkarta.layers import export, schema
from dialogkarta.layers.styles import PROPOSAL_STATUS_COLORS, SERVICE_SVG
from dialogkarta.layers.vocabulary import PROPOSAL_STATUSES, translate
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.conftest import DialogkartaRunner
from tests.live import PASSWORD, seed
from tests.qgis.pyqgis import gdal_warnings, require_qgis, run_qgis
from tests.qgis.server import LoggedLiveProcess

pytestmark = pytest.mark.qgis

STATUSES = list(PROPOSAL_STATUSES)
RENDER_DIR = os.environ.get("DIALOGKARTA_QGIS_RENDER_DIR")  # keep the PNGs to look at (they are in tmp_path anyway)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A seeded store (one public proposal per workflow status, one hidden) and its app, CLI runner and config."""
    require_qgis()
    folder = tmp_path_factory.mktemp("qgis")
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'qgis.sqlite'}",
        "SECRET_KEY": "qgis-test",
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    seeded = seed(app, count=len(STATUSES))
    with app.app_context(), db.transaction() as conn:
        for record, status in zip(seeded["public"], STATUSES, strict=True):
            conn.execute(
                update(schema.proposals).where(schema.proposals.c.public_id == record["public_id"]).values(status=status)
            )
    return {"folder": folder, "config": config, "app": app, "runner": DialogkartaRunner(app), "seeded": seeded}


def _export_all(site, path: Path, crs: str, planner: bool = False) -> None:
    extra = ["--planner"] if planner else []
    result = site["runner"].invoke(args=["export", "all", "--format", "gpkg", "--crs", crs, "-o", str(path), *extra])
    assert result.exit_code == 0, result.output


def _rgb(hex_color: str) -> list[int]:
    value = hex_color.lstrip("#")
    return [int(value[i : i + 2], 16) for i in (0, 2, 4)]


def _keep(path: Path) -> None:
    if RENDER_DIR:
        Path(RENDER_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(RENDER_DIR) / path.name)


# ------------------------------------------------------------------ the GeoPackage
@pytest.mark.parametrize(
    ("crs", "planner"),
    [("EPSG:3006", False), ("EPSG:3008", False), ("EPSG:3006", True)],
    ids=["EPSG:3006", "EPSG:3008", "planner"],
)
def test_qgis_opens_every_exported_layer_with_its_style(site, tmp_path, crs, planner):
    path = tmp_path / "dalby.gpkg"
    _export_all(site, path, crs, planner)
    tables = [t for t, _g in pyogrio.list_layers(path) if t != "layer_styles"]
    audience = export.PLANNER if planner else export.PUBLIC
    with site["app"].app_context():
        registry = db.registry()
        expected = {export.table_name(n): n for n in export.exportable_layers(registry, audience)}
        want_counts = {
            export.table_name(n): 0 if n in export.SHAPE_LAYERS else len(registry.frame(n))  # the seeded proposals are points
            for n in expected.values()
            if n != export.PROPOSALS
        }
        locality = registry.locality
    want_counts["proposals"] = len(site["seeded"]["public"]) + (1 if planner else 0)  # the planner's has the hidden one
    assert sorted(tables) == sorted(expected)

    answer = run_qgis([{"do": "layers", "path": str(path), "tables": tables}], tmp_path)
    assert answer["qgis"].startswith("3.")
    layers = answer["steps"][0]
    assert not gdal_warnings(answer), gdal_warnings(answer)
    for table, info in layers.items():
        assert info["valid"], (table, info.get("error"))
        assert info["crs"] == crs, table
        assert info["count"] == want_counts[table] == pyogrio.read_info(path, layer=table)["features"], table
        assert info["title"] and info["abstract"], table  # Layer Properties > Metadata
        assert info["styles_in_database"]["count"] == 1, table  # QGIS found our one style for it
        assert info["styles_in_database"]["names"][0] == f"{expected[table]} ({locality.name})"

    assert layers["proposals"]["title"].endswith("(handläggare)") == planner
    proposals = layers["proposals"]["renderer"]
    assert (proposals["type"], proposals["attribute"]) == ("categorizedSymbol", "status")
    assert proposals["legend"] == [translate(PROPOSAL_STATUSES[s], "sv") for s in STATUSES] + ["Annan status"]
    drawn = {(sl["class"], sl["shape"], sl["size"]) for c in proposals["categories"] for sl in c["layers"]}
    assert drawn == {("SimpleMarker", "diamond", "6")}
    assert [c["layers"][0]["color"] for c in proposals["categories"][:-1]] == [PROPOSAL_STATUS_COLORS[s] for s in STATUSES]

    services = layers["service_locations"]["renderer"]
    assert (services["type"], services["attribute"]) == ("categorizedSymbol", "kind")
    assert services["legend"][:-1] == [translate(v, "sv") for v in locality.service_kinds.values()]
    icons = [sl for c in services["categories"] for sl in c["layers"] if sl["class"] == "SvgMarker"]
    assert len(icons) == len(services["categories"]) and all(i["svg_exists"] for i in icons), icons  # found in QGIS's library
    found = {Path(i["svg_file"]).relative_to(Path(i["svg_file"]).parents[1]).as_posix() for i in icons}
    assert found >= set(SERVICE_SVG.values())
    # Nothing else looks like a proposal: no diamond, no marker of that size.
    for table, info in layers.items():
        if table != "proposals" and info["geometry"] == 0:  # points
            shapes = {(sl["shape"], sl["size"]) for c in info["renderer"]["categories"] for sl in c["layers"]} | {
                (sl["shape"], sl["size"]) for symbol in info["renderer"]["symbols"] for sl in symbol
            }
            assert not [s for s in shapes if s[0] == "diamond" or s[1] == "6"], (table, shapes)

    areas = layers["development_areas"]["renderer"]
    assert (areas["type"], areas["attribute"]) == ("categorizedSymbol", "status")
    assert areas["legend"][:-1] == [translate(v, "sv") for v in locality.area_status.values()]
    assert layers["locality"]["renderer"]["symbols"][0][0]["class"] == "SimpleLine"  # the dashed boundary


def test_qgis_renders_the_export_legibly(site, tmp_path):
    path = tmp_path / "dalby.gpkg"
    _export_all(site, path, "EPSG:3006")
    with site["app"].app_context():
        registry = db.registry()
        box = registry.boundary().bounds
        locality = registry.locality
    x, y = transform_xy([box[0], box[2]], [box[1], box[3]], WGS84, "EPSG:3006")
    pad = 150
    extent = [float(x[0]) - pad, float(y[0]) - pad, float(x[1]) + pad, float(y[1]) + pad]
    colours = {f"status:{s}": _rgb(c) for s, c in PROPOSAL_STATUS_COLORS.items()}
    colours.update({f"area:{k}": _rgb(v["color"]) for k, v in locality.area_status.items()})
    out = tmp_path / "qgis-dalby-3006.png"
    step = {
        "do": "render",
        "path": str(path),
        "out": str(out),
        "size": [1000, 800],
        "extent": extent,
        "colours": colours,
        "tables": [
            "proposals",
            "service_locations",
            "places",
            "reference_points",
            "scb_tatort_point",
            "locality",
            "development_areas",
            "soderskog_bbox",
        ],
    }
    render = run_qgis([step], tmp_path)["steps"][0]
    _keep(out)
    assert render["errors"] == []
    assert render["painted"] > 0.03 and render["colours"] > 50, render  # not blank, not one flat colour
    seen = render["colour_pixels"]
    for status in STATUSES:  # every status's diamond is drawn
        assert seen[f"status:{status}"] >= 30, (status, seen)
    for key in locality.area_status:  # every area's outline is drawn
        assert seen[f"area:{key}"] >= 100, (key, seen)


def test_gdal_3_6_opens_the_export_without_warnings(site, tmp_path):
    require_qgis()
    ogrinfo = shutil.which("ogrinfo", path="/usr/bin")
    if ogrinfo is None:
        pytest.fail("gdal-bin (Debian's GDAL, the one QGIS uses) is installed with QGIS: apt-get install gdal-bin")
    path = tmp_path / "dalby.gpkg"
    _export_all(site, path, "EPSG:3006")
    done = subprocess.run(
        [ogrinfo, "-ro", "-so", "-al", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Warning" not in done.stdout, done.stderr
    assert "using driver `GPKG' successful" in done.stdout


def test_a_geopackage_1_4_would_warn_in_qgis_3_22(tmp_path):
    """Why the export is 1.2: the same check on a file in GDAL 3.12's default version does see the warning."""
    require_qgis()
    path = tmp_path / "default.gpkg"
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(396300, 6170000)], crs="EPSG:3006")
    pyogrio.write_dataframe(frame, path, layer="t")  # no VERSION: GDAL 3.12 writes GeoPackage 1.4
    answer = run_qgis([{"do": "layers", "path": str(path), "tables": ["t"]}], tmp_path)
    assert any("partially supported" in w for w in gdal_warnings(answer)), answer["stderr"]


# ------------------------------------------------------------------ OGC API – Features
@pytest.fixture(scope="module")
def served(site):
    """The seeded store over HTTP, logging every request QGIS makes."""
    log = site["folder"] / "requests.jsonl"
    with LoggedLiveProcess(site["config"], log) as server:
        yield server


def _public_collections(site) -> dict:
    with site["app"].app_context():
        registry = db.registry()
        counts = {layer.name: len(registry.frame(layer.name)) for layer in registry if layer.public}
    counts["proposals"] = len(site["seeded"]["public"])
    return counts


def test_qgis_loads_every_public_collection_and_the_planner_one_with_basic_auth(site, served, tmp_path):
    public = _public_collections(site)
    start = len(served.requests())
    answer = run_qgis(
        [
            {"do": "oapif", "url": f"{served.url}/ogc", "typenames": list(public)},
            {
                "do": "oapif",
                "url": f"{served.url}/ogc",
                "typenames": ["proposals-planner"],
                "username": "test-planner",
                "password": PASSWORD,
                "page_size": 2,
            },  # pages of 2: QGIS follows our next links
        ],
        tmp_path,
    )
    anonymous, planner = answer["steps"]
    for name, count in public.items():
        info = anonymous[name]
        assert info["valid"], (name, info.get("error"))
        assert info["crs"] == "EPSG:4326", name  # what QGIS 3.22 asks for: nothing, so CRS84
        assert info["count_read"] == count, (name, info["count_read"], count)
    hidden = site["seeded"]["hidden"]["public_id"]
    assert hidden not in anonymous["proposals"]["ids"]
    info = planner["proposals-planner"]
    assert info["valid"], info.get("error")
    assert info["count_read"] == len(site["seeded"]["public"]) + 1 and hidden in info["ids"]
    assert "department" in info["fields"]

    # What QGIS 3.22 sent: no crs= (no CRS negotiation), no Bearer header; Basic only for the planner collection.
    requests = served.requests()[start:]
    assert requests
    for request in requests:
        params = parse_qs(request["query"])
        assert "crs" not in params and "bbox-crs" not in params, request
        assert request["auth"] in (None, "Basic"), request
    planner_items = [r for r in requests if r["path"].startswith("/ogc/collections/proposals-planner/items")]
    assert planner_items and all(r["auth"] == "Basic" for r in planner_items)
    assert any("after=" in r["query"] for r in planner_items)  # a next link was followed
    public_items = [r for r in requests if r["path"].startswith("/ogc/collections/proposals/items")]
    assert public_items and all(r["auth"] is None for r in public_items)
    (tmp_path / "qgis-requests.json").write_text(json.dumps(requests, indent=1))


def test_qgis_reads_the_planner_collection_with_a_read_only_token_as_basic_password(site, served, tmp_path):
    """QGIS 3.22 cannot send a Bearer header: a read-only token is the Basic password, its name the username."""
    from dialogkarta.layers import accounts

    with site["app"].app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "test-planner", "qgis-read-only", scope="read").token
    answer = run_qgis(
        [
            {
                "do": "oapif",
                "url": f"{served.url}/ogc",
                "typenames": ["proposals-planner"],
                "username": "qgis-read-only",
                "password": token,
            },
        ],
        tmp_path,
    )
    info = answer["steps"][0]["proposals-planner"]
    assert info["valid"], info.get("error")
    assert site["seeded"]["hidden"]["public_id"] in info["ids"]
    assert info["count_read"] == len(site["seeded"]["public"]) + 1


# ------------------------------------------------------------------ edit in QGIS, import back
def _area_ids(site, tmp_path, name) -> dict:
    out = tmp_path / f"{name}.geojson"
    result = site["runner"].invoke(args=["export", "proposals", "--format", "geojson", "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pyogrio.read_dataframe(out)
    return {row.id: set(filter(None, (row.area_ids or "").split(";"))) for row in frame.itertuples()}


def test_an_area_edited_in_qgis_and_imported_with_layer_changes_the_joins(site, tmp_path):
    crs = "EPSG:3008"  # the local zone Skåne's planners often work in
    path = tmp_path / "dalby-3008.gpkg"
    _export_all(site, path, crs)
    before = _area_ids(site, tmp_path, "before")
    areas = pyogrio.read_dataframe(path, layer="development_areas")
    area = str(areas["id"].iloc[0])
    # A proposal outside that area: QGIS moves the area onto it (a 120 m square around the proposal).
    target = next(r for r in site["seeded"]["public"] if area not in before[r["public_id"]])
    x, y = transform_xy(target["lon"], target["lat"], WGS84, crs)
    square = shapely.box(float(x) - 60, float(y) - 60, float(x) + 60, float(y) + 60)
    inside_before = {pid for pid, ids in before.items() if area in ids}

    edit = run_qgis([{"do": "edit", "path": str(path), "table": "development_areas", "id": area, "wkt": square.wkt}], tmp_path)
    assert edit["steps"][0]["changed"] and edit["steps"][0]["committed"], edit["steps"][0]
    saved = pyogrio.read_dataframe(path, layer="development_areas").set_index("id")
    assert parse_crs(pyogrio.read_info(path, layer="development_areas")["crs"]) == parse_crs(crs)
    assert saved.geometry[area].equals_exact(square, 0.01)

    result = site["runner"].invoke(args=["import-layer", str(path), "--layer", "development_areas", "--as", "development-areas"])
    assert result.exit_code == 0, result.output
    after = _area_ids(site, tmp_path, "after")
    assert area in after[target["public_id"]]
    for public_id in inside_before - {target["public_id"]}:  # the area left where it was
        assert area not in after[public_id]
    assert {pid for pid, ids in after.items() if area in ids} != inside_before
