"""Exports: every format read back with GDAL, and nothing private in the public ones."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import orjson
import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, parse_crs, to_sweref
from dialogkarta.layers import export
from dialogkarta.layers.export import ADMIN, PLANNER, PUBLIC
from tests.live import HIDDEN_TITLE, PLANTED_EMAIL, PLANTED_NAME, SUPPORT_TOKEN, bearer, seed
from dialogkarta.webmap import db

CM = 0.01


@pytest.fixture
def seeded(app):
    return seed(app)


@pytest.fixture
def ctx(app, seeded):
    with app.app_context():
        yield db.engine(), db.registry()


def _metres_apart(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    ea, na = to_sweref(lon_a, lat_a)
    eb, nb = to_sweref(lon_b, lat_b)
    return np.hypot(ea - eb, na - nb)


def _source_points(seeded) -> dict:
    return {r["public_id"]: (r["lon"], r["lat"]) for r in seeded["public"]}


def test_public_geojson_is_rfc7946(client, seeded, tmp_path):
    response = client.get("/api/export/proposals.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.is_streamed
    body = orjson.loads(response.data)
    assert body["type"] == "FeatureCollection" and "crs" not in body
    assert all(len(re.sub(r"^-?\d+\.?", "", repr(c))) <= 7 for f in body["features"] for c in f["geometry"]["coordinates"])
    path = tmp_path / "p.geojson"
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path)
    assert frame.crs == parse_crs("EPSG:4326")
    assert len(frame) == len(seeded["public"])
    source = _source_points(seeded)
    lon, lat = zip(*(source[i] for i in frame["id"]))
    assert _metres_apart(frame.geometry.x, frame.geometry.y, lon, lat).max() < CM
    first = frame.set_index("id").loc[seeded["public"][0]["public_id"]]
    assert first["title"] == "Förslag 0 åäö"
    assert first["support_count"] == 1
    assert first["answer"].startswith("Vi tittar")


def test_polygon_geojson_rings_are_counter_clockwise(client):
    body = orjson.loads(client.get("/api/export/development-areas.geojson").data)
    assert body["features"]
    for feature in body["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        polygons = getattr(geometry, "geoms", [geometry])
        assert all(p.exterior.is_ccw for p in polygons)


@pytest.mark.parametrize("url", ["/api/export/proposals.geojson", "/api/export/proposals.csv", "/api/export/proposals.csv?bom=1"])
def test_public_exports_hold_nothing_private(client, seeded, url):
    data = client.get(url).data
    for secret in (PLANTED_EMAIL, PLANTED_NAME, HIDDEN_TITLE, SUPPORT_TOKEN, "dold.person@example.se", "Dold Person"):
        assert secret.encode("utf-8") not in data, secret
    assert b"@" not in data  # no e-mail address of any kind
    assert seeded["hidden"]["public_id"].encode() not in data
    assert not re.search(rb'(^|[,"])department([,"]|$)', data, re.M)  # answer_department is public, department is not
    assert b"hidden_reason" not in data and b"also_departments" not in data and b"forwarding" not in data


def test_csv_has_lonlat_sweref_and_joins(client, seeded, ctx, tmp_path):
    plain = client.get("/api/export/proposals.csv").data
    with_bom = client.get("/api/export/proposals.csv?bom=1").data
    assert not plain.startswith(export.BOM) and with_bom.startswith(export.BOM) and with_bom[3:] == plain
    rows = list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))
    assert len(rows) == len(seeded["public"])
    assert list(rows[0])[:4] == ["lon", "lat", "easting", "northing"]
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    easting, northing = to_sweref(lon, lat)
    assert np.abs(easting - [float(r["easting"]) for r in rows]).max() < CM
    assert np.abs(northing - [float(r["northing"]) for r in rows]).max() < CM
    stored = {r["public_id"]: r for r in seeded["public"]}
    for row in rows:
        record = stored[row["id"]]
        assert row["area_ids"] == ";".join(record["area_ids"])
        for kind, near in record["nearest"].items():
            assert row[f"nearest_{kind}"] == near["name"]
            assert float(row[f"nearest_{kind}_m"]) == pytest.approx(near["distance_m"], abs=0.05)
    path = tmp_path / "p.csv"
    path.write_bytes(plain)
    frame = pyogrio.read_dataframe(path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    assert len(frame) == len(rows)
    source = _source_points(seeded)
    lon, lat = zip(*(source[i] for i in frame["id"]))
    assert _metres_apart(frame.geometry.x, frame.geometry.y, lon, lat).max() < CM


@pytest.mark.parametrize("crs", ["EPSG:3006", "EPSG:3008"])
def test_geopackage_holds_every_layer_in_crs_with_styles(ctx, seeded, tmp_path, crs):
    engine, registry = ctx
    path = tmp_path / "dalby.gpkg"
    counts = export.write_gpkg_export(engine, registry, path, crs=crs)
    layers = dict(pyogrio.list_layers(path))
    expected = [export.table_name(n) for n in export.exportable_layers(registry)]
    assert set(expected) <= set(layers) and "layer_styles" in layers
    for name in export.exportable_layers(registry):
        table = export.table_name(name)
        info = pyogrio.read_info(path, layer=table)
        assert parse_crs(info["crs"]) == parse_crs(crs)
        if name in export.SHAPE_LAYERS:  # the seeded proposals are points: their line and area layers are empty
            want = 0
        else:
            want = len(seeded["public"]) if name == export.PROPOSALS else len(registry.frame(name))
        assert info["features"] == counts[table] == want
    # geometries equal to the source within 1 cm
    areas = pyogrio.read_dataframe(path, layer="development_areas").to_crs(SWEREF99TM).set_index("id")
    source = registry.areas().to_crs(SWEREF99TM).set_index("id")
    for area_id, geometry in source.geometry.items():
        assert areas.geometry[area_id].hausdorff_distance(geometry) < CM
    assert list(areas.loc[source.index, "status"]) == list(source["status"])
    props = pyogrio.read_dataframe(path, layer="proposals")
    lon, lat = zip(*(_source_points(seeded)[i] for i in props["id"]))
    x, y = props.to_crs("EPSG:4326").geometry.x, props.to_crs("EPSG:4326").geometry.y
    assert _metres_apart(x, y, lon, lat).max() < CM
    # descriptions and one QGIS default style per layer, with the web map's area colours
    with sqlite3.connect(path) as conn:
        described = dict(conn.execute("select table_name, description from gpkg_contents"))
        styles = conn.execute(
            "select f_table_name, styleQML, styleSLD, useAsDefault, f_geometry_column from layer_styles"
        ).fetchall()
    assert all(described[t] for t in expected)
    assert sorted(s[0] for s in styles) == sorted(expected)
    assert all(s[3] == 1 and s[4] == "geom" and s[1].startswith("<!DOCTYPE qgis") for s in styles)
    for _table, style_qml, style_sld, *_rest in styles:  # well-formed, with a renderer QGIS reads
        assert ElementTree.fromstring(style_qml).find("renderer-v2") is not None
        assert ElementTree.fromstring(style_sld).tag.endswith("StyledLayerDescriptor")
    qml = next(s[1] for s in styles if s[0] == "development_areas")
    for status in registry.locality.area_status.values():
        colour = status["color"].lstrip("#")
        assert ",".join(str(int(colour[i : i + 2], 16)) for i in (0, 2, 4)) in qml


def test_geopackage_refuses_a_geographic_crs(ctx, tmp_path):
    from dialogkarta.webmap.errors import user_message

    engine, registry = ctx
    with pytest.raises(export.ExportError) as caught:
        export.write_gpkg_export(engine, registry, tmp_path / "x.gpkg", crs="EPSG:4326")
    assert user_message(caught.value, "sv") == "GeoPackage-exporten skrivs i EPSG:3006 eller EPSG:3008, inte EPSG:4326."
    assert user_message(caught.value, "en") == "The GeoPackage export is written in EPSG:3006 or EPSG:3008, not EPSG:4326."
    assert not (tmp_path / "x.gpkg").exists()


def test_flatgeobuf_reads_back(ctx, seeded, tmp_path):
    engine, registry = ctx
    path = tmp_path / "p.fgb"
    assert export.export_to_file(engine, registry, "proposals", "fgb", path) == len(seeded["public"])
    frame = pyogrio.read_dataframe(path)
    assert frame.crs == parse_crs("EPSG:4326") and len(frame) == len(seeded["public"])
    lon, lat = zip(*(_source_points(seeded)[i] for i in frame["id"]))
    assert _metres_apart(frame.geometry.x, frame.geometry.y, lon, lat).max() < CM


def test_exports_page_through_the_store(ctx, seeded, monkeypatch):
    engine, registry = ctx
    calls = []
    original = export.store.page_proposals

    def spy(conn, **kwargs):
        calls.append(kwargs)
        return original(conn, **kwargs)

    monkeypatch.setattr(export.store, "page_proposals", spy)
    rows = list(export.iter_proposal_rows(engine, registry, PUBLIC, page_size=2))
    assert [len(page) for page in rows] == [2, 2, len(seeded["public"]) - 4] and calls[-1]["limit"] == 2
    calls.clear()
    chunks = list(export.iter_geojson(engine, registry, "proposals", PUBLIC, page_size=2))
    assert len(orjson.loads(b"".join(chunks))["features"]) == len(seeded["public"])
    assert len(chunks) >= 4  # head, three pages, tail
    afters = [c["after_id"] for c in calls]
    assert afters[0] == 0 and afters == sorted(afters) and all(c["limit"] == 2 and not c.get("offset") for c in calls)


def test_planner_layer_adds_workflow_fields_and_contacts_only_for_admins(ctx, seeded):
    engine, registry = ctx
    with engine.begin() as conn:
        conn.execute(
            export.schema.forwardings.insert().values(
                proposal_id=1,
                from_department="tekniska",
                to_department="kultur_fritid",
                note="Parkfråga",
                role="planner",
                forwarded_at=seeded["public"][0]["created_at"],
            )
        )
    planner = b"".join(export.iter_csv(engine, registry, "proposals", PLANNER)).decode()
    assert HIDDEN_TITLE in planner and "department" in planner and "hidden_reason" in planner
    assert PLANTED_EMAIL not in planner and PLANTED_NAME not in planner
    assert "tekniska -> kultur_fritid role=planner: Parkfråga" in planner
    public = b"".join(export.iter_csv(engine, registry, "proposals", PUBLIC)).decode()
    assert "Parkfråga" not in public and HIDDEN_TITLE not in public
    admin = b"".join(export.iter_csv(engine, registry, "proposals", ADMIN)).decode()
    assert PLANTED_EMAIL in admin and PLANTED_NAME in admin


def test_planner_downloads_need_login_and_contacts_need_admin(client, seeded):
    assert client.get("/planner/export/proposals.csv", headers={"Accept": "application/json"}).status_code == 401
    planner = bearer(seeded["tokens"]["planner"])
    response = client.get("/planner/export/proposals.geojson", headers=planner)
    assert response.status_code == 200 and HIDDEN_TITLE.encode() in response.data
    assert client.get("/planner/export/proposals.csv?contacts=1", headers=planner).status_code == 403
    admin = client.get("/planner/export/proposals.csv?contacts=1", headers=bearer(seeded["tokens"]["admin"]))
    assert admin.status_code == 200 and PLANTED_EMAIL.encode() in admin.data


def test_unknown_layer_is_404(client):
    assert client.get("/api/export/nope.geojson").status_code == 404
    assert client.get("/api/export/all.csv").status_code == 404


def test_cli_exports_geojson_and_geopackage(runner, seeded, tmp_path):
    out = tmp_path / "p.geojson"
    result = runner.invoke(args=["export", "proposals", "--format", "geojson", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(seeded['public'])} features" in result.output
    assert len(pyogrio.read_dataframe(out)) == len(seeded["public"])
    gpkg = tmp_path / "all.gpkg"
    result = runner.invoke(args=["export", "all", "--format", "gpkg", "--crs", "EPSG:3008", "-o", str(gpkg)])
    assert result.exit_code == 0, result.output
    assert parse_crs(pyogrio.read_info(gpkg, layer="proposals")["crs"]) == parse_crs("EPSG:3008")
    planner = tmp_path / "planner.csv"
    result = runner.invoke(args=["export", "proposals", "--format", "csv", "--planner", "--bom", "-o", str(planner)])
    assert result.exit_code == 0 and planner.read_bytes().startswith(export.BOM)
    assert HIDDEN_TITLE in planner.read_text(encoding="utf-8-sig")
    bad = runner.invoke(args=["export", "nope", "--format", "csv", "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "unknown layer" in bad.output


def test_public_grid_generalises_public_exports_only(app, client, seeded):
    app.config["PUBLIC_GRID_M"] = 100
    body = orjson.loads(client.get("/api/export/proposals.geojson").data)
    source = _source_points(seeded)
    moved = [_metres_apart(*f["geometry"]["coordinates"], *source[f["id"]]) for f in body["features"]]
    assert max(moved) <= 100 / np.sqrt(2) + CM and min(moved) > CM  # snapped to 100 m cell centres
    assert all(f["properties"]["nearest_school_m"] % 100 == 0 for f in body["features"])
    planner = orjson.loads(client.get("/planner/export/proposals.geojson", headers=bearer(seeded["tokens"]["planner"])).data)
    exact = {f["id"]: f["geometry"]["coordinates"] for f in planner["features"]}
    assert all(_metres_apart(*exact[i], *source[i]) < CM for i in source)
    ogc = client.get("/ogc/collections/proposals/items?limit=100").get_json()
    assert all(_metres_apart(*f["geometry"]["coordinates"], *source[f["id"]]) > CM for f in ogc["features"])


# ------------------------------------------------------------- CSV opened in a spreadsheet (#9)
FORMULAS = ['=HYPERLINK("http://evil.example","Klicka")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _seed_formulas(engine):
    from dialogkarta.layers import store

    with engine.begin() as conn:
        for i, text in enumerate(FORMULAS):
            store.insert_proposal(
                conn,
                lon=13.3450 + 0.001 * i,
                lat=55.6640,
                category="traffic",
                title=text,
                description=text,
                department=text,
                meeting=text,
                contact={"name": text, "email": "a@example.se", "consent_at": store.utcnow()},
            )
        # west of Greenwich: negative longitude (and easting far from the zone) must stay plain numbers
        store.insert_proposal(
            conn, lon=-1.25, lat=55.6640, category="traffic", title="-5 grader", description="-", department="tekniska"
        )


def _spreadsheet_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("audience", [PUBLIC, PLANNER, ADMIN], ids=["public", "planner", "contacts"])
def test_csv_exports_hold_no_live_formula_and_numbers_stay_numbers(ctx, audience):
    engine, registry = ctx
    _seed_formulas(engine)
    rows = _spreadsheet_rows(b"".join(export.iter_csv(engine, registry, "proposals", audience, bom=True)))
    types = dict(export.proposal_columns(registry, audience))
    numeric = {"lon", "lat", "easting", "northing"} | {c for c, t in types.items() if t in ("int", "float")}
    text = [c for c, t in types.items() if t == "str"]
    assert len(rows) >= len(FORMULAS)
    for row in rows:
        for column in numeric:
            if row[column] != "":
                float(row[column])  # a plain number, not '-1.25
                assert not row[column].startswith("'")
        for column in text:
            assert not row[column].startswith(TRIGGERS), (column, row[column])
    by_title = {row["title"]: row for row in rows}
    for formula in FORMULAS:
        row = by_title["'" + formula]
        assert row["description"] == "'" + formula
        if audience.planner:
            assert row["department"] == row["meeting"] == "'" + formula
        if audience.contacts:
            assert row["contact_name"] == "'" + formula
    west = by_title["'-5 grader"]
    assert west["lon"] == "-1.2500000" and float(west["easting"]) < 0


def test_layer_csv_neutralises_text_and_keeps_negative_numbers(locality, engine):
    from dialogkarta.layers import layer_store
    from dialogkarta.layers.registry import LayerRegistry

    areas = LayerRegistry(locality).areas().copy()
    areas["name"] = ["=1+1"] + list(areas["name"][1:])
    areas["level_m"] = -2.5
    with engine.begin() as conn:  # an imported plan layer with a formula for a name and a negative number
        layer_store.add_version(conn, "development-areas", layer_store.encode(areas, "development-areas"), features=len(areas))
    registry = LayerRegistry(locality, engine)
    rows = _spreadsheet_rows(b"".join(export.iter_csv(engine, registry, "development-areas")))
    assert rows[0]["name"] == "'=1+1"
    assert all(row["level_m"] == "-2.5" for row in rows)
    assert not any(value.startswith(TRIGGERS) for row in rows for key, value in row.items() if key != "level_m")


def test_public_ids_never_start_like_a_formula(monkeypatch):
    from dialogkarta.layers import store

    drawn = iter(["-bcdefghijklmnop", "_bcdefghijklmnop", "Abcdefghijklmnop"])
    monkeypatch.setattr(store.secrets, "token_urlsafe", lambda n: next(drawn))
    assert store.new_public_id() == "Abcdefghijklmnop"  # so a CSV id cell never needs a leading '


def test_style_times_never_fall_on_a_whole_second_which_gdal_would_write_without_its_milliseconds():
    from datetime import UTC, datetime

    clock = export._StyleClock(now=datetime(2026, 11, 27, 13, 43, 37, 998000, tzinfo=UTC))
    times = [clock.tick() for _ in range(5)]
    assert all(t.microsecond != 0 for t in times)
    assert times == sorted(set(times))  # strictly increasing: one row each
    assert times[2] == datetime(2026, 11, 27, 13, 43, 38, 1000, tzinfo=UTC)


SOFFICE = shutil.which("soffice")
# LibreOffice's CSV import with comma, quote, UTF-8 and "evaluate formulas" on: the worst case a planner meets.
CSV_IMPORT = "CSV:44,34,76,1,,1033,false,true,true,false,false,-1,true"


def _as_spreadsheet(csv_path: Path, home: Path) -> dict[str, tuple[str, str]]:
    """Open ``csv_path`` in LibreOffice Calc (headless), save it as .xlsx, return {cell: (type, formula)}."""
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"--infilter={CSV_IMPORT}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(csv_path.parent),
            str(csv_path),
        ],
        env={**os.environ, "HOME": str(home)},
        check=True,
        capture_output=True,
        timeout=180,
    )
    with zipfile.ZipFile(csv_path.with_suffix(".xlsx")) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    return {
        cell: (kind, formula)
        for cell, kind, formula in re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*?t="(\w+)"[^>]*>(?:<f[^>]*>([^<]*)</f>)?', sheet)
    }


@pytest.mark.skipif(
    not SOFFICE and os.environ.get("DIALOGKARTA_REQUIRE_SPREADSHEET") != "1",
    reason="LibreOffice Calc not installed (apt-get install libreoffice-calc-nogui)",
)
def test_a_spreadsheet_opening_any_csv_export_finds_no_formula(ctx, tmp_path):
    """Calc itself opens the contacts CSV (every text column there is) and the control file it would trip on."""
    assert SOFFICE, "DIALOGKARTA_REQUIRE_SPREADSHEET=1 but soffice is not installed"
    engine, registry = ctx
    _seed_formulas(engine)
    export_csv = tmp_path / "forslag.csv"
    export_csv.write_bytes(b"".join(export.iter_csv(engine, registry, "proposals", ADMIN, bom=True)))
    control = tmp_path / "control.csv"
    control.write_text("title,lon\n=1+1,-1.25\n", encoding="utf-8")

    cells = _as_spreadsheet(export_csv, tmp_path)
    assert len(cells) > 100
    assert [cell for cell, (_kind, formula) in cells.items() if formula] == []
    header = next(csv.reader(io.StringIO(export_csv.read_text(encoding="utf-8-sig"))))
    lon_column = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("lon")]
    assert all(
        kind == "n"
        for cell, (kind, _f) in cells.items()
        if re.fullmatch(lon_column + r"[0-9]+", cell) and cell != f"{lon_column}1"
    )  # positions stay numbers, negative ones too
    assert _as_spreadsheet(control, tmp_path)["A2"] == ("n", "1+1")  # the same Calc does run an unguarded one


# ------------------------------------------------------------------ who sees what, line by line
def test_contacts_are_only_for_a_planner_audience():
    with pytest.raises(ValueError, match=r"^contacts=True needs planner=True$"):
        export.Audience(contacts=True)
    assert export.Audience(planner=True, contacts=True).contacts


class _OneLayerRegistry:
    """A registry holding one layer, kept from the public."""

    def __init__(self, layer):
        self.layer = layer

    def get(self, name):
        from dialogkarta.layers.registry import UnknownLayer

        if name != self.layer.name:
            raise UnknownLayer(name)
        return self.layer

    def __iter__(self):
        return iter([self.layer])


def test_a_layer_kept_from_the_public_does_not_exist_for_the_public(registry):
    from dataclasses import replace

    from dialogkarta.layers.registry import UnknownLayer

    first = next(iter(registry))
    private = _OneLayerRegistry(replace(first, public=False))
    with pytest.raises(UnknownLayer) as caught:
        export.check_layer(private, first.name)
    assert caught.value.name == first.name
    export.check_layer(private, first.name, PLANNER)
    assert export.exportable_layers(private) == [export.PROPOSALS, *export.SHAPE_LAYERS]
    assert export.exportable_layers(private, PLANNER) == [first.name, export.PROPOSALS, *export.SHAPE_LAYERS]
    export.check_layer(_OneLayerRegistry(first), first.name)  # a public layer for everyone


def test_a_forwarding_reads_as_planners_see_it_without_who_did_it():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    at = datetime(2026, 11, 27, 9, 30, 5)  # SQLite gives times back without a zone; they are UTC
    row = SimpleNamespace(action="forward", from_department=None, to_department="tekniska", role="lead", note="", forwarded_at=at)
    assert export._forwarding_line(row) == "2026-11-27T09:30:05+00:00 ? -> tekniska role=lead"
    row.from_department, row.note = "plan", "Gäller cykelvägen"
    assert export._forwarding_line(row) == "2026-11-27T09:30:05+00:00 plan -> tekniska role=lead: Gäller cykelvägen"
    row.from_department, row.note = "tekniska", None  # to the same department: a confirmation
    assert export._forwarding_line(row) == "2026-11-27T09:30:05+00:00 confirmed tekniska role=lead"
    row.action, row.from_department, row.forwarded_at = "confirm", "plan", datetime(2026, 1, 2, tzinfo=UTC)
    assert export._forwarding_line(row) == "2026-01-02T00:00:00+00:00 confirmed tekniska role=lead"


def test_public_positions_snap_to_cell_centres_and_distances_round_to_the_grid():
    from dialogkarta.geo.generalise import snap_to_grid

    records = [
        {"lon": 13.3451, "lat": 55.6642, "nearest": {"school": {"id": "s", "distance_m": 149.0}}},
        {
            "lon": 13.3502,
            "lat": 55.6610,
            "nearest": {"school": {"id": "s", "distance_m": 151.0}, "bus_stop": {"id": "b", "distance_m": 40.0}},
        },
    ]
    lon, lat = snap_to_grid(np.array([13.3451, 13.3502]), np.array([55.6642, 55.6610]), 100)
    export._generalise(records, 100)
    assert [(r["lon"], r["lat"]) for r in records] == list(zip(lon.tolist(), lat.tolist()))
    assert [{k: v["distance_m"] for k, v in r["nearest"].items()} for r in records] == [
        {"school": 100.0},
        {"school": 200.0, "bus_stop": 0.0},
    ]
    assert records[1]["nearest"]["bus_stop"]["id"] == "b"


@pytest.mark.parametrize(
    "value, cell", [(None, ""), ("=1+1", "'=1+1"), ("Dalby", "Dalby"), (3, "3"), (True, "true"), (float("nan"), "")]
)
def test_a_text_column_writes_none_as_empty_and_keeps_formulas_inert(value, cell):
    assert export._csv_text(value) == cell


@pytest.mark.parametrize("audience", [PUBLIC, PLANNER, ADMIN], ids=["public", "planner", "contacts"])
def test_proposal_columns_are_the_pinned_fields_each_with_the_type_gis_tools_get(registry, audience):
    from tests.contracts import proposal_row

    kinds = export.service_kinds(registry)
    columns = export.proposal_columns(registry, audience)
    assert len(columns) == len(dict(columns))
    assert set(dict(columns)) == proposal_row(kinds, planner=audience.planner, contacts=audience.contacts)
    typed = {
        "created_at": "datetime",
        "updated_at": "datetime",
        "answered_at": "datetime",
        "support_count": "int",
        "answer_count": "int",
        "flag_count": "int",
        "hidden": "bool",
        "length_m": "float",
        "area_m2": "float",
        **{f"nearest_{kind}_m": "float" for kind in kinds},
        **{f"within_{kind}": "int" for kind in kinds},
        **{f"within_{kind}_radius_m": "float" for kind in kinds},
    }
    assert dict(columns) == {name: typed.get(name, "str") for name, _ in columns}


def test_service_kinds_are_the_declared_ones_then_any_others_in_the_layer(registry, monkeypatch):
    declared = list(registry.locality.service_kinds)
    assert export.service_kinds(registry) == declared + [k for k in registry.service_index().kinds if k not in declared]
    monkeypatch.setattr(type(registry.locality), "service_kinds", property(lambda self: declared[:1]), raising=False)
    assert export.service_kinds(registry)[0] == declared[0]
    assert sorted(export.service_kinds(registry)) == sorted(set(declared) | set(registry.service_index().kinds))

    def broken():
        raise OSError("the service layer cannot be read")

    monkeypatch.setattr(registry, "service_index", broken)
    assert export.service_kinds(registry) == declared[:1]  # a broken layer does not break the export


@pytest.mark.parametrize("value, cell", [(True, "true"), (False, "false"), ("datetime", "2026-01-02T03:04:05+00:00")])
def test_a_boolean_or_time_cell_is_written_as_a_spreadsheet_reads_it(value, cell):
    from datetime import UTC, datetime

    value = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) if value == "datetime" else value
    assert export._csv_value(value) == cell


def test_a_proposal_feature_is_a_point_whose_properties_leave_out_its_position():
    feature = export._proposal_feature({"id": "DLB-1", "lon": 13.123456789, "lat": 55.987654321, "title": "Bänk"})
    assert feature == {
        "type": "Feature",
        "id": "DLB-1",
        "geometry": {"type": "Point", "coordinates": [13.1234568, 55.9876543]},
        "properties": {"id": "DLB-1", "title": "Bänk"},
    }


def test_times_in_cells_are_utc_to_the_second_and_other_values_plain_text():
    from datetime import datetime

    assert export._iso(datetime(2026, 11, 27, 9, 30, 5, 123456)) == "2026-11-27T09:30:05+00:00"
    assert export._iso(None) == "" and export._iso("2026-11-27") == "2026-11-27" and export._iso(3) == "3"


def test_a_csv_table_writes_every_cell_safely_with_a_bom_only_when_asked():
    assert export.csv_table(["namn", "antal"], [["=1+1", 3], [None, True]]) == b"namn,antal\r\n'=1+1,3\r\n,true\r\n"
    assert export.csv_table(["a"], [], bom=True) == export.BOM + b"a\r\n"


@pytest.mark.parametrize(
    "value, plain",
    [("NaT", None), (float("nan"), None), (None, None), ([1, 2], [1, 2]), ({"a": 1}, {"a": 1}), ("", ""), (1.5, 1.5)],
)
def test_missing_values_become_none_for_gdal_and_others_stay_as_they_are(value, plain):
    import pandas as pd

    assert export._plain(pd.NaT if value == "NaT" else value) == plain


def test_planner_columns_from_the_workflow_tables_carry_their_values_in_time_order(engine):
    from datetime import UTC, datetime, timedelta

    from dialogkarta.layers import store

    schema = export.schema
    t0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    with engine.begin() as conn:
        first = store.insert_proposal(
            conn, lon=13.3450, lat=55.6640, category="traffic", title="Bänk", description="-", department="tekniska"
        )
        second = store.insert_proposal(
            conn, lon=13.3460, lat=55.6640, category="traffic", title="Lampa", description="-", department="tekniska"
        )
        ids = [first["id"], second["id"]]
        conn.execute(schema.status_history.delete().where(schema.status_history.c.proposal_id.in_(ids)))
        history = [  # inserted out of time order: the export sorts by time, then by id
            (ids[0], "in_progress", None, "planner", t0 + timedelta(days=2)),
            (ids[0], "received", "Tack!", "system", t0),
            (ids[0], "declined", "Utanför planområdet", "planner", t0 + timedelta(days=3)),
        ]
        for pid, status, note, role, at in history:
            conn.execute(
                schema.status_history.insert().values(proposal_id=pid, status=status, note=note, role=role, changed_at=at)
            )
        for body, days in (("Senare svar", 4), ("Första svaret", 1)):
            conn.execute(
                schema.answers.insert().values(
                    proposal_id=ids[0], body=body, department="tekniska", role="planner", answered_at=t0 + timedelta(days=days)
                )
            )
        for token in ("a", "b"):
            conn.execute(schema.flags.insert().values(proposal_id=ids[1], token_hash=token, reason="", created_at=t0))
    with engine.connect() as conn:
        extra = export._extra_for(conn, ids, PLANNER)
        public = export._extra_for(conn, ids, PUBLIC)
    assert extra["status_history"] == {
        ids[0]: [
            "2026-11-01T08:00:00+00:00 received (system): Tack!",
            "2026-11-03T08:00:00+00:00 in_progress (planner)",
            "2026-11-04T08:00:00+00:00 declined (planner): Utanför planområdet",
        ]
    }
    assert extra["status_note"] == public["status_note"] == {ids[0]: "Utanför planområdet"}
    assert extra["answer"] == {ids[0]: "Senare svar"} and extra["answer_count"] == {ids[0]: 2}
    assert extra["answered_at"] == {ids[0]: t0 + timedelta(days=4)} and extra["answer_department"] == {ids[0]: "tekniska"}
    assert extra["flag_count"] == {ids[1]: 2}
    assert "status_history" not in public and "flag_count" not in public


def test_planner_columns_name_each_photo_and_its_state_and_the_workbook_round(engine):
    from dialogkarta.layers import store

    schema = export.schema
    with engine.begin() as conn:
        ids = [
            store.insert_proposal(
                conn, lon=13.3450 + i / 1000, lat=55.6640, category="traffic", title=t, description="-", department="tekniska"
            )["id"]
            for i, t in enumerate(("Publicerad", "Avvisad", "Väntar", "Utan foto"))
        ]
        for pid, status, digit in zip(ids, ("published", "rejected", "pending"), "abc"):
            conn.execute(
                schema.proposal_photos.insert().values(
                    proposal_id=pid,
                    sha256=digit * 64,
                    width=4,
                    height=3,
                    bytes=100,
                    status=status,
                    created_at=store.utcnow(),
                )
            )
        conn.execute(schema.proposal_rounds.insert().values(proposal_id=ids[1], round_name="Våren 2026"))
    with engine.connect() as conn:
        planner = export._extra_for(conn, ids, PLANNER)
        public = export._extra_for(conn, ids, PUBLIC)
    # a rejected photo's file is gone, so it has no address; its state still tells the planner why
    assert planner["photo"] == {ids[0]: "/photos/" + "a" * 64 + ".jpg", ids[2]: "/photos/" + "c" * 64 + ".jpg"}
    assert planner["photo_status"] == {ids[0]: "published", ids[1]: "rejected", ids[2]: "pending"}
    assert planner["round"] == {ids[1]: "Våren 2026"}
    assert not {"photo", "photo_status", "round"} & public.keys()


def test_forwardings_read_in_time_order_even_when_recorded_out_of_it_and_ties_in_the_order_made(engine):
    from datetime import UTC, datetime, timedelta

    from dialogkarta.layers import store

    schema = export.schema
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        pid = store.insert_proposal(
            conn, lon=13.3450, lat=55.6640, category="traffic", title="Väg", description="-", department="x"
        )["id"]
        conn.execute(schema.status_history.delete().where(schema.status_history.c.proposal_id == pid))
        for to, days in (("kultur", 2), ("tekniska", 0), ("miljo", 1), ("bygg", 2)):  # a clock set back, then a tie
            conn.execute(
                schema.forwardings.insert().values(
                    proposal_id=pid,
                    from_department="x",
                    to_department=to,
                    role="planner",
                    note="",
                    forwarded_at=t0 + timedelta(days=days),
                )
            )
        for status in ("received", "in_progress"):  # two changes in the same second
            conn.execute(schema.status_history.insert().values(proposal_id=pid, status=status, role="planner", changed_at=t0))
        for body in ("Först", "Sedan"):
            conn.execute(
                schema.answers.insert().values(proposal_id=pid, body=body, department="x", role="planner", answered_at=t0)
            )
    with engine.connect() as conn:
        extra = export._extra_for(conn, [pid], PLANNER)
    assert [line.split(" -> ")[1].split(" ")[0] for line in extra["forwarding"][pid]] == ["tekniska", "miljo", "kultur", "bygg"]
    assert [line.split(" ")[1] for line in extra["status_history"][pid]] == ["received", "in_progress"]
    assert extra["answer"] == {pid: "Sedan"}


def test_export_to_file_writes_the_layer_asked_for_in_its_format_and_crs(ctx, seeded, tmp_path):
    engine, registry = ctx
    public = len(seeded["public"])
    one = tmp_path / "areas.gpkg"
    assert export.export_to_file(engine, registry, "development-areas", "gpkg", one) == len(registry.frame("development-areas"))
    assert [name for name, _kind in pyogrio.list_layers(one) if name != "layer_styles"] == ["development_areas"]
    assert parse_crs(pyogrio.read_info(one, layer="development_areas")["crs"]) == parse_crs(SWEREF99TM)
    plain = tmp_path / "p.csv"
    assert export.export_to_file(engine, registry, "proposals", "csv", plain) == public
    assert not plain.read_bytes().startswith(export.BOM)  # a BOM only when asked for
    assert export.export_to_file(engine, registry, "proposals", "csv", plain, crs="EPSG:4326") == public
    planner = tmp_path / "planner.fgb"
    assert export.export_to_file(engine, registry, "proposals", "fgb", planner, audience=PLANNER) == public + 1
    frame = pyogrio.read_dataframe(planner)
    assert HIDDEN_TITLE in set(frame["title"]) and "department" in frame.columns
    geojson = tmp_path / "planner.geojson"
    assert export.export_to_file(engine, registry, "proposals", "geojson", geojson, audience=PLANNER) == public + 1
    assert HIDDEN_TITLE in geojson.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name, fmt, crs, sv, en",
    [
        (
            "all",
            "geojson",
            None,
            "Alla lager i en fil finns bara som GeoPackage (--format gpkg).",
            "All layers in one file is only available as GeoPackage (--format gpkg).",
        ),
        (
            "all",
            "fgb",
            None,
            "Alla lager i en fil finns bara som GeoPackage (--format gpkg).",
            "All layers in one file is only available as GeoPackage (--format gpkg).",
        ),
        (
            "proposals",
            "csv",
            "EPSG:3006",
            "CSV skrivs alltid i WGS84 (CSV har även SWEREF 99 TM-kolumner).",
            "CSV is always written in WGS84 (CSV also has SWEREF 99 TM columns).",
        ),
        (
            "proposals",
            "geojson",
            "EPSG:3008",
            "GEOJSON skrivs alltid i WGS84 (CSV har även SWEREF 99 TM-kolumner).",
            "GEOJSON is always written in WGS84 (CSV also has SWEREF 99 TM columns).",
        ),
    ],
)
def test_export_to_file_refuses_what_a_format_cannot_hold_and_writes_nothing(ctx, tmp_path, name, fmt, crs, sv, en):
    from dialogkarta.webmap.errors import user_message

    engine, registry = ctx
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(export.ExportError) as caught:
        export.export_to_file(engine, registry, name, fmt, folder / f"out.{fmt}", crs=crs)
    assert (user_message(caught.value, "sv"), user_message(caught.value, "en")) == (sv, en)
    assert list(folder.iterdir()) == []


def test_export_to_file_names_the_formats_it_knows():
    with pytest.raises(ValueError, match=r"format must be one of \('geojson', 'csv', 'gpkg', 'fgb'\), got 'shp'"):
        export.export_to_file(None, None, "proposals", "shp", "x.shp")


def test_a_layer_kept_from_the_public_exports_for_planners_only(ctx, tmp_path, monkeypatch):
    from dataclasses import replace

    from dialogkarta.layers.registry import UnknownLayer

    engine, registry = ctx
    monkeypatch.setitem(registry._layers, "places", replace(registry.get("places"), public=False))
    everything = tmp_path / "everything.gpkg"
    assert "places" in export.write_gpkg_export(engine, registry, everything, audience=PLANNER)
    assert "places" not in export.write_gpkg_export(engine, registry, tmp_path / "public.gpkg")
    with pytest.raises(UnknownLayer):
        export.write_gpkg_export(engine, registry, tmp_path / "asked.gpkg", names=["places"])
    for fmt in export.FORMATS:
        path = tmp_path / f"places.{fmt}"
        with pytest.raises(UnknownLayer):
            export.export_to_file(engine, registry, "places", fmt, path)
        assert not path.exists()
        count = export.export_to_file(engine, registry, "places", fmt, path, audience=PLANNER)
        read = _csv_rows([path.read_bytes()]) if fmt == "csv" else pyogrio.read_dataframe(path, layer="places")
        assert count == len(registry.frame("places")) == len(read)


FIELD_DTYPES = {"str": "object", "float": "float64", "int": "int64", "bool": "bool", "datetime": "datetime64[ms]"}


def _same_cell(read, expected) -> bool:
    import pandas as pd

    if expected is None:
        return read is None or (not isinstance(read, str) and pd.isna(read))
    if isinstance(expected, float):
        return read == pytest.approx(expected, abs=1e-9)
    if hasattr(expected, "tzinfo"):
        return pd.Timestamp(read) == pd.Timestamp(expected).floor("ms")
    return read == expected and type(read) is type(expected) or (isinstance(expected, str) and str(read) == expected)


@pytest.mark.parametrize("fmt, crs", [("gpkg", "EPSG:3006"), ("gpkg", "EPSG:3008"), ("fgb", "EPSG:4326"), ("fgb", "EPSG:3006")])
@pytest.mark.parametrize("audience", [PUBLIC, PLANNER], ids=["public", "planner"])
def test_a_file_export_holds_every_value_of_every_row_with_its_field_type(ctx, seeded, tmp_path, fmt, crs, audience):
    engine, registry = ctx
    path = tmp_path / f"proposals.{fmt}"
    export.export_to_file(engine, registry, "proposals", fmt, path, crs=crs, audience=audience)
    columns = export.proposal_columns(registry, audience)
    info = pyogrio.read_info(path, layer="proposals")
    assert list(zip(info["fields"], info["dtypes"])) == [(name, FIELD_DTYPES[kind]) for name, kind in columns]
    assert info["geometry_type"] == "Point" and parse_crs(info["crs"]) == parse_crs(crs)
    expected = {row["id"]: row for page in export.iter_proposal_rows(engine, registry, audience) for row in page}
    frame = pyogrio.read_dataframe(path, layer="proposals")
    assert sorted(frame["id"]) == sorted(expected)
    for _index, read in frame.iterrows():
        row = expected[read["id"]]
        wrong = {name: (read[name], row[name]) for name, _kind in columns if not _same_cell(read[name], row[name])}
        assert wrong == {}, read["id"]
        point = gpd.GeoSeries(gpd.points_from_xy([row["lon"]], [row["lat"]]), crs="EPSG:4326").to_crs(crs)[0]
        assert read.geometry.distance(point) < (1e-9 if crs == "EPSG:4326" else CM)
    assert frame["hidden"].any() if audience.planner else "hidden" not in frame


def test_file_exports_written_a_page_at_a_time_hold_every_proposal_once(ctx, seeded, tmp_path):
    engine, registry = ctx
    everyone = {r["public_id"] for r in seeded["public"]} | {seeded["hidden"]["public_id"]}
    gpkg, fgb = tmp_path / "paged.gpkg", tmp_path / "paged.fgb"
    assert export.write_gpkg_export(engine, registry, gpkg, audience=PLANNER, names=["proposals"], page_size=2)[
        "proposals"
    ] == len(everyone)
    assert export.write_fgb_export(engine, registry, "proposals", fgb, audience=PLANNER, page_size=2) == len(everyone)
    for path in (gpkg, fgb):
        ids = list(pyogrio.read_dataframe(path, layer="proposals")["id"])
        assert sorted(ids) == sorted(everyone) and len(ids) == len(set(ids))


@pytest.mark.parametrize("audience", [PUBLIC, PLANNER], ids=["public", "planner"])
def test_empty_proposal_layers_keep_their_geometry_type_and_fields(app, tmp_path, audience):
    with app.app_context():
        engine, registry = db.engine(), db.registry()
        gpkg = tmp_path / "empty.gpkg"
        counts = export.write_gpkg_export(engine, registry, gpkg, audience=audience, names=["proposals"])
        assert counts == {"proposals": 0, "proposals_lines": 0, "proposals_areas": 0}
        fields = [name for name, _kind in export.proposal_columns(registry, audience)]
        for table, geometry_type in (("proposals", "Point"), ("proposals_lines", "LineString"), ("proposals_areas", "Polygon")):
            info = pyogrio.read_info(gpkg, layer=table)
            assert (info["geometry_type"], info["features"], list(info["fields"])) == (geometry_type, 0, fields)
            assert list(info["dtypes"]) == [FIELD_DTYPES[kind] for _name, kind in export.proposal_columns(registry, audience)]
        for name, geometry_type in (("proposals", "Point"), ("proposals-lines", "LineString"), ("proposals-areas", "Polygon")):
            fgb = tmp_path / f"{name}.fgb"
            assert export.write_fgb_export(engine, registry, name, fgb, audience=audience) == 0
            info = pyogrio.read_info(fgb)  # an empty FlatGeobuf does not say how many features it has: read them
            assert list(info["dtypes"]) == [FIELD_DTYPES[kind] for _name, kind in export.proposal_columns(registry, audience)]
            assert (info["geometry_type"], len(pyogrio.read_dataframe(fgb)), list(info["fields"])) == (geometry_type, 0, fields)


def test_a_reference_layer_as_flatgeobuf_is_named_after_its_table_and_holds_every_feature(ctx, tmp_path):
    engine, registry = ctx
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "areas.fgb"
    assert export.write_fgb_export(engine, registry, "development-areas", path, crs=SWEREF99TM) == len(registry.areas())
    assert [name for name, _kind in pyogrio.list_layers(path)] == ["development_areas"]
    assert path.read_bytes()[:3] == b"fgb"
    written = pyogrio.read_dataframe(path).set_index("id")
    assert parse_crs(written.crs) == parse_crs(SWEREF99TM)
    for area_id, geometry in registry.areas().to_crs(SWEREF99TM).set_index("id").geometry.items():
        assert written.geometry[area_id].hausdorff_distance(geometry) < CM
    assert [p.name for p in path.parent.iterdir()] == ["areas.fgb"]  # no temporary file left


def test_a_reference_layer_as_geojson_is_one_collection_whatever_the_page_size(ctx):
    engine, registry = ctx
    source = registry.frame("development-areas")
    for page_size in (1, 2, 1000):
        collection = orjson.loads(b"".join(export.iter_geojson(engine, registry, "development-areas", page_size=page_size)))
        assert collection["type"] == "FeatureCollection"
        assert [f["id"] for f in collection["features"]] == list(source["id"])
        for feature, geometry in zip(collection["features"], source.geometry):
            assert shapely.geometry.shape(feature["geometry"]).equals_exact(geometry, 1e-7)


def test_a_layer_without_ids_is_exported_with_features_without_ids(ctx, monkeypatch):
    engine, registry = ctx
    frame = registry.frame("places").drop(columns="id")
    monkeypatch.setattr(registry, "frame", lambda name: frame)
    places = orjson.loads(b"".join(export.iter_geojson(engine, registry, "places")))
    assert len(places["features"]) == len(frame) and all("id" not in f for f in places["features"])
    assert [f["properties"]["name"] for f in places["features"]] == list(frame["name"])


def _csv_rows(chunks) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8"))))


def test_a_point_layer_as_csv_has_its_positions_and_no_wkt_and_an_area_layer_its_wkt(ctx):
    engine, registry = ctx
    services = registry.frame("service-locations")
    rows = _csv_rows(export.iter_csv(engine, registry, "service-locations", page_size=3))
    assert "wkt" not in rows[0] and len(rows) == len(services)
    cells = list(csv.reader(io.StringIO(b"".join(export.iter_csv(engine, registry, "service-locations")).decode())))
    assert {len(row) for row in cells} == {len(cells[0])}  # no row has a cell the header does not name
    for row, point in zip(rows, services.geometry):
        assert (float(row["lon"]), float(row["lat"])) == pytest.approx((point.x, point.y), abs=1e-7)
    areas = registry.frame("development-areas")
    rows = _csv_rows(export.iter_csv(engine, registry, "development-areas", page_size=2))
    assert len(rows) == len(areas)
    for row, geometry in zip(rows, areas.geometry):
        assert shapely.from_wkt(row["wkt"]).equals_exact(geometry, 1e-6)
        inside = shapely.Point(float(row["lon"]), float(row["lat"]))
        assert geometry.buffer(1e-7).contains(inside)  # a point on the area, not its centroid
        easting, northing = to_sweref(float(row["lon"]), float(row["lat"]))
        assert float(row["easting"]) == pytest.approx(float(np.ravel(easting)[0]), abs=0.01)
        assert float(row["northing"]) == pytest.approx(float(np.ravel(northing)[0]), abs=0.01)


@pytest.mark.parametrize("audience, crs", [(PUBLIC, "EPSG:3006"), (PLANNER, "EPSG:3008")], ids=["public", "planner"])
def test_the_geopackage_styles_and_titles_are_exactly_the_rows_qgis_reads(ctx, tmp_path, audience, crs):
    from datetime import UTC, datetime

    from dialogkarta.layers import styles

    engine, registry = ctx
    locality = registry.locality
    path = tmp_path / "styled.gpkg"
    at = datetime(2026, 11, 27, 12, 0, 0, 500000, tzinfo=UTC)
    counts = export.write_gpkg_export(engine, registry, path, crs=crs, audience=audience, now=at)
    names = export.exportable_layers(registry, audience)
    planner = audience.planner
    expected_styles, expected_texts = [], {}
    for name in [n for n in names if n not in (export.PROPOSALS, *export.SHAPE_LAYERS)]:
        layer = registry.get(name)
        expected_styles.append((export.table_name(name), styles.layer_style(layer, locality)))
        expected_texts[export.table_name(name)] = styles.layer_text(layer, locality, len(registry.frame(name)))
    expected_styles.append(("proposals", styles.proposals_style(locality)))
    expected_texts["proposals"] = styles.proposals_text(locality, counts["proposals"], planner, crs, "2026-11-27 12:00 UTC")
    for name, kind in export.SHAPE_LAYERS.items():
        expected_styles.append((export.table_name(name), styles.proposal_shapes_style(name, kind, locality)))
        expected_texts[export.table_name(name)] = styles.proposal_shapes_text(locality, kind, planner)
    with sqlite3.connect(path) as conn:
        columns = [(row[1], row[2]) for row in conn.execute("PRAGMA table_info(layer_styles)")]
        rows = conn.execute("SELECT * FROM layer_styles ORDER BY fid").fetchall()
        contents = {row[0]: row[1:] for row in conn.execute("SELECT table_name, identifier, description FROM gpkg_contents")}
    assert columns == [
        ("fid", "INTEGER"), ("f_table_catalog", "TEXT"), ("f_table_schema", "TEXT"), ("f_table_name", "TEXT"),
        ("f_geometry_column", "TEXT"), ("styleName", "TEXT"), ("styleQML", "TEXT"), ("styleSLD", "TEXT"),
        ("useAsDefault", "BOOLEAN"), ("description", "TEXT"), ("owner", "TEXT"), ("ui", "TEXT"), ("update_time", "DATETIME"),
    ]  # fmt: skip
    assert rows == [
        (i, "", "", table, "geom", style.name, style.qml, style.sld, 1, style.description, "dialogkarta", None,
         f"2026-11-27T12:00:00.{500 + i - 1:03d}Z")
        for i, (table, style) in enumerate(expected_styles, start=1)
    ]  # fmt: skip
    assert {table: contents[table] for table in expected_texts} == {
        table: (text.title, text.abstract) for table, text in expected_texts.items()
    }


def test_style_times_follow_the_wall_clock_when_none_is_given(ctx, tmp_path):
    from datetime import UTC, datetime

    import pandas as pd

    engine, registry = ctx
    before = pd.Timestamp(datetime.now(UTC)).floor("ms")
    export.write_gpkg_export(engine, registry, tmp_path / "now.gpkg")
    after = pd.Timestamp(datetime.now(UTC))
    with sqlite3.connect(tmp_path / "now.gpkg") as conn:
        times = [pd.Timestamp(t) for (t,) in conn.execute("SELECT update_time FROM layer_styles ORDER BY fid")]
    assert times == sorted(set(times)) and before <= times[0] and times[-1] <= after + pd.Timedelta(len(times), "ms")


def test_a_geopackage_written_elsewhere_is_version_1_2_and_two_layers_sharing_a_title_stay_apart(tmp_path):
    from datetime import UTC, datetime

    import geopandas as gpd
    from shapely.geometry import Point

    from dialogkarta.layers.styles import LayerText, Style

    path = tmp_path / "survey.gpkg"
    export.new_gpkg(path)
    for table in ("answers_a", "answers_b"):
        frame = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(395000, 6170000)], crs=SWEREF99TM)
        pyogrio.write_dataframe(frame, path, layer=table, driver="GPKG", append=False)
    style = Style("svar", "<qgis/>", "<sld/>", "Svar / Answers")
    texts = {"answers_a": LayerText("Svar", "Första"), "answers_b": LayerText("Svar", "Andra")}
    export.describe_gpkg(path, {"answers_a": style, "answers_b": style}, texts, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2, which QGIS 3.22 reads quietly
        contents = {t: (i, d) for t, i, d in conn.execute("SELECT table_name, identifier, description FROM gpkg_contents")}
        rows = conn.execute("SELECT f_table_name, styleName, update_time FROM layer_styles ORDER BY fid").fetchall()
    assert contents["answers_a"] == ("Svar", "Första") and contents["answers_b"] == ("Svar (answers_b)", "Andra")
    assert rows == [("answers_a", "svar", "2026-01-02T03:04:05.001Z"), ("answers_b", "svar", "2026-01-02T03:04:05.002Z")]


def test_the_full_export_is_a_geopackage_1_2(ctx, tmp_path):
    engine, registry = ctx
    export.write_gpkg_export(engine, registry, tmp_path / "all.gpkg")
    with sqlite3.connect(tmp_path / "all.gpkg") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200


def test_each_proposal_csv_cell_is_written_by_its_column_type(ctx, monkeypatch):
    from datetime import UTC, datetime

    engine, registry = ctx
    typed = export.proposal_columns(registry, PLANNER)
    sample = {
        "str": "=HYPERLINK(1)",
        "float": 12.345,
        "int": 3,
        "bool": True,
        "datetime": datetime(2026, 5, 1, 8, 30, 15, 999, tzinfo=UTC),
    }
    written = {"str": "'=HYPERLINK(1)", "float": "12.3", "int": "3", "bool": "true", "datetime": "2026-05-01T08:30:15+00:00"}
    row = {"lon": 13.35, "lat": 55.66, **{name: sample[kind] for name, kind in typed}}
    monkeypatch.setattr(export, "iter_proposal_pages", lambda *args, **kwargs: iter([([row], {})]))
    (read,) = _csv_rows(export.iter_csv(engine, registry, "proposals", PLANNER))
    assert {name: read[name] for name, _kind in typed} == {name: written[kind] for name, kind in typed}


def test_style_times_follow_the_wall_clock_skip_whole_seconds_and_never_go_back(monkeypatch):
    from datetime import UTC, datetime

    import pandas as pd

    moments = [
        datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=UTC),  # the clock starts
        datetime(2026, 1, 1, 12, 0, 3, 400000, tzinfo=UTC),  # a slow layer later
        datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC),  # a whole second, which GDAL would write without ".000"
        datetime(2026, 1, 1, 12, 0, 4, tzinfo=UTC),  # the machine's clock set back
    ]

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moments.pop(0)

    monkeypatch.setattr(export, "datetime", Clock)
    clock = export._StyleClock()
    ticks = [clock.tick() for _ in range(3)]
    assert clock.started == "2026-01-01 12:00 UTC"
    assert ticks == [
        pd.Timestamp(t, tz="UTC") for t in ("2026-01-01 12:00:03.400", "2026-01-01 12:00:05.001", "2026-01-01 12:00:05.002")
    ]


def test_a_stored_record_becomes_a_row_field_by_field(app):
    from datetime import UTC, datetime

    from dialogkarta.layers import store

    created, updated = datetime(2026, 4, 1, 9, 0, tzinfo=UTC), datetime(2026, 4, 2, 10, 30, tzinfo=UTC)
    with app.app_context(), db.transaction() as conn:
        registry = db.registry()
        pid = store.insert_proposal(conn, lon=13.36, lat=55.66, category="traffic", title="T", description="D", department="x")[
            "id"
        ]
        conn.execute(
            export.schema.status_history.insert().values(
                proposal_id=pid, status="in_progress", note="Vi utreder", role="planner", changed_at=updated
            )
        )
        kinds = export.service_kinds(registry)
        record = {
            "id": pid, "public_id": "abc123", "lon": 13.36, "lat": 55.66, "category": "traffic", "title": "Säkrare väg",
            "description": "Beskrivning", "channel": "meeting", "meeting": "Öppet möte 12 maj", "status": "in_progress",
            "department": "tekniska", "also_departments": "kultur;miljo", "hidden": 1, "hidden_reason": "personuppgifter",
            "created_at": created, "updated_at": updated, "support_count": 7,
            "area_ids": ["stationsomradet", "hagalund", "borttaget-omrade"],
            "nearest": {kinds[0]: {"id": "s1", "name": "Skolan", "distance_m": 120.5}},
            "within": {kinds[0]: {"radius_m": 800.0, "count": 3}},
        }  # fmt: skip
        unknown = {**record, "id": -1, "public_id": "old", "category": "nedlagd-kategori", "area_ids": []}
        rows = export.rows_for_records(conn, export.RowContext.of(registry, PLANNER), [record, unknown])
    row = rows[0]
    assert {k: row[k] for k in ("id", "lon", "lat", "category", "category_label", "title", "description", "channel", "status")} == {
        "id": "abc123", "lon": 13.36, "lat": 55.66, "category": "traffic", "category_label": "Trafik och gator",
        "title": "Säkrare väg", "description": "Beskrivning", "channel": "meeting", "status": "in_progress",
    }  # fmt: skip
    assert (row["status_note"], row["created_at"], row["updated_at"], row["support_count"]) == ("Vi utreder", created, updated, 7)
    assert row["area_ids"] == "stationsomradet;hagalund;borttaget-omrade"
    assert row["area_names"] == "Stationsområdet i Dalby;Hagalund;borttaget-omrade"  # an area no longer declared keeps its id
    assert (row[f"nearest_{kinds[0]}"], row[f"nearest_{kinds[0]}_m"]) == ("Skolan", 120.5)
    assert (row[f"nearest_{kinds[1]}"], row[f"nearest_{kinds[1]}_m"]) == (None, None)
    assert (row[f"within_{kinds[0]}"], row[f"within_{kinds[0]}_radius_m"]) == (3, 800.0)
    assert (row[f"within_{kinds[1]}"], row[f"within_{kinds[1]}_radius_m"]) == (None, None)
    assert (row["department"], row["also_departments"], row["meeting"]) == ("tekniska", "kultur;miljo", "Öppet möte 12 maj")
    assert (row["hidden"], row["hidden_reason"]) == (True, "personuppgifter") and row["hidden"] is True
    assert (row["answer_count"], row["flag_count"], row["answer"]) == (0, 0, None)
    first, then = row["status_history"].split("; ")  # the change dated in April, then the submission's "received" (now)
    assert first == "2026-04-02T10:30:00+00:00 in_progress (planner): Vi utreder" and then.endswith(" received (resident)")
    assert "status_note" in row and list(row)[:2] == ["lon", "lat"]
    assert rows[1]["category_label"] == "nedlagd-kategori" and rows[1]["status_note"] is None


def test_areas_without_names_are_named_by_their_ids(app, monkeypatch):
    with app.app_context():
        registry = db.registry()
        areas = registry.areas()
        assert export.RowContext.of(registry).area_names == dict(zip(areas["id"], areas["name"]))
        monkeypatch.setattr(registry, "areas", lambda: areas.drop(columns="name"))
        assert export.RowContext.of(registry).area_names == {}
