"""Every output that shows proposals carries exactly the fields ``tests/contracts.py`` pins.

Each output is read the way its real client reads it: GeoJSON parsed as JSON, CSV with ``csv``,
GeoPackage and FlatGeobuf with pyogrio (GDAL), OGC items and the API over HTTP, the report's HTML
with an HTML parser. A field that appears anywhere without being placed in the contract fails,
and so does a planner field that leaks into a public output (planted below).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from html.parser import HTMLParser

import orjson
import pyogrio
import pytest

from dialogkarta.layers import export
from dialogkarta.webmap import api, db
from tests import contracts
from tests.contracts import assert_exact
from tests.live import bearer, seed


@pytest.fixture
def seeded(app):
    return seed(app)


@pytest.fixture
def kinds(app):
    """The service kinds the locality declares: the nearest-service columns derive from them."""
    with app.app_context():
        declared = list(db.registry().locality.service_kinds)
    assert declared, "the locality declares service kinds"
    return declared


# ------------------------------------------------------------------------ readers
def _json(response) -> dict:
    assert response.status_code in (200, 201), (response.status_code, response.data[:300])
    return orjson.loads(response.data)


def _feature_fields(body: dict, output: str) -> set:
    """Return the property names the features share; every feature must carry the same ones."""
    assert body["features"], f"{output}: no features to check"
    found = {frozenset(f["properties"]) for f in body["features"]}
    assert len(found) == 1, f"{output}: features differ in their fields: {sorted(map(sorted, found))}"
    return set(next(iter(found)))


def _geojson(client, url, headers=None) -> set:
    return _feature_fields(_json(client.get(url, headers=headers)), url)


def _csv(client, url, headers=None) -> set:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    reader = csv.reader(io.StringIO(response.data.decode("utf-8-sig")))
    header = next(reader)
    assert len(header) == len(set(header)), f"{url}: a column appears twice"
    assert next(reader, None) is not None, f"{url}: no rows to check"
    return set(header)


def _gdal(client, url, tmp_path, headers=None, layer="proposals") -> set:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (response.status_code, response.data[:300])
    path = tmp_path / url.rsplit("/", 1)[-1].split("?")[0]
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path, layer=layer)
    assert len(frame), f"{url}: no features to check"
    return set(frame.columns) - {frame.geometry.name}


def _submit(client) -> set:
    body = _json(
        client.post(
            "/api/proposals",
            json={"lon": 13.3470, "lat": 55.6650, "category": "traffic", "title": "Ny cykelväg", "description": "Längs vägen."},
        )
    )
    return set(body["properties"])


def _nearby(client, seeded) -> set:
    first = seeded["public"][0]
    return _geojson(client, f"/api/proposals/nearby?lon={first['lon']}&lat={first['lat']}&radius=1000")


def _similar(client, seeded) -> set:
    first = seeded["public"][0]
    from urllib.parse import urlencode

    query = {key: first[key] for key in ("lon", "lat", "category")} | {"text": f"{first['title']} {first['description']}"}
    return _geojson(client, f"/api/proposals/similar?{urlencode(query)}")


def _item(client, seeded, url) -> set:
    return set(_json(client.get(url.format(id=seeded["public"][0]["public_id"])))["properties"])


# (output, reader(client, seeded, tmp_path, headers), expected(kinds)); the public outputs
PUBLIC_OUTPUTS = [
    ("GET /api/proposals", lambda c, s, t: _geojson(c, "/api/proposals"), lambda k: contracts.API_LIST),
    (
        "GET /api/proposals?limit",
        lambda c, s, t: _geojson(c, "/api/proposals?limit=100&category=traffic"),
        lambda k: contracts.API_LIST,
    ),
    ("GET /api/proposals/nearby", lambda c, s, t: _nearby(c, s), lambda k: contracts.API_NEARBY),
    ("GET /api/proposals/similar", lambda c, s, t: _similar(c, s), lambda k: contracts.API_SIMILAR),
    (
        "GET /api/proposals/map",
        lambda c, s, t: _geojson(c, "/api/proposals/map?bbox=13.30,55.63,13.42,55.70&zoom=14"),
        lambda k: contracts.API_MAP_POINT,
    ),
    ("GET /api/proposals/<id>", lambda c, s, t: _item(c, s, "/api/proposals/{id}"), lambda k: contracts.API_ITEM),
    ("POST /api/proposals", lambda c, s, t: _submit(c), lambda k: contracts.API_SUBMITTED),
    ("proposals.geojson", lambda c, s, t: _geojson(c, "/api/export/proposals.geojson"), contracts.proposal_row),
    (
        "proposals.csv",
        lambda c, s, t: _csv(c, "/api/export/proposals.csv?bom=1"),
        lambda k: contracts.CSV_POSITION | contracts.proposal_row(k),
    ),
    ("proposals.gpkg", lambda c, s, t: _gdal(c, "/api/export/proposals.gpkg", t), contracts.proposal_row),
    ("all.gpkg", lambda c, s, t: _gdal(c, "/api/export/all.gpkg", t, layer="proposals"), contracts.proposal_row),
    ("proposals.fgb", lambda c, s, t: _gdal(c, "/api/export/proposals.fgb", t), contracts.proposal_row),
    ("OGC proposals items", lambda c, s, t: _geojson(c, "/ogc/collections/proposals/items?limit=100"), contracts.proposal_row),
    ("OGC proposals item", lambda c, s, t: _item(c, s, "/ogc/collections/proposals/items/{id}"), contracts.proposal_row),
]


def _planner_outputs(role: str, contacts: bool):
    query = "?contacts=1" if contacts else ""

    def expected(kinds):
        return contracts.proposal_row(kinds, planner=True, contacts=contacts)

    def auth(s):
        return bearer(s["tokens"][role])

    outputs = [
        (
            f"{role} proposals.geojson{query}",
            lambda c, s, t: _geojson(c, f"/planner/export/proposals.geojson{query}", auth(s)),
            expected,
        ),
        (
            f"{role} proposals.csv{query}",
            lambda c, s, t: _csv(c, f"/planner/export/proposals.csv{query}", auth(s)),
            lambda k: contracts.CSV_POSITION | expected(k),
        ),
        (
            f"{role} proposals.gpkg{query}",
            lambda c, s, t: _gdal(c, f"/planner/export/proposals.gpkg{query}", t, auth(s)),
            expected,
        ),
        (f"{role} proposals.fgb{query}", lambda c, s, t: _gdal(c, f"/planner/export/proposals.fgb{query}", t, auth(s)), expected),
    ]
    if not contacts:
        outputs.append(
            (
                f"{role} OGC proposals-planner items",
                lambda c, s, t: _geojson(c, "/ogc/collections/proposals-planner/items?limit=100", auth(s)),
                expected,
            )
        )
    return outputs


PLANNER_OUTPUTS = _planner_outputs("planner", contacts=False) + _planner_outputs("admin", contacts=True)


# ------------------------------------------------------------------------- the pins
@pytest.mark.parametrize("output, read, expected", PUBLIC_OUTPUTS, ids=[o[0] for o in PUBLIC_OUTPUTS])
def test_public_output_carries_exactly_its_pinned_fields(client, seeded, kinds, tmp_path, output, read, expected):
    assert_exact(read(client, seeded, tmp_path), expected(kinds), output)


@pytest.mark.parametrize("output, read, expected", PLANNER_OUTPUTS, ids=[o[0] for o in PLANNER_OUTPUTS])
def test_planner_output_carries_exactly_its_pinned_fields(client, seeded, kinds, tmp_path, output, read, expected):
    assert_exact(read(client, seeded, tmp_path), expected(kinds), output)


def test_command_line_exports_follow_the_same_contracts(runner, seeded, kinds):
    public = runner.invoke(args=["export", "proposals", "--format", "geojson", "-o", "-"])
    planner = runner.invoke(args=["export", "proposals", "--format", "geojson", "--planner", "-o", "-"])
    admin = runner.invoke(args=["export", "proposals", "--format", "geojson", "--planner", "--contacts", "-o", "-"])
    assert_exact(_feature_fields(orjson.loads(public.stdout_bytes), "cli"), contracts.proposal_row(kinds), "cli")
    assert_exact(
        _feature_fields(orjson.loads(planner.stdout_bytes), "cli --planner"),
        contracts.proposal_row(kinds, planner=True),
        "cli --planner",
    )
    assert_exact(
        _feature_fields(orjson.loads(admin.stdout_bytes), "cli --contacts"),
        contracts.proposal_row(kinds, planner=True, contacts=True),
        "cli --contacts",
    )


def test_the_three_sets_are_apart_and_channel_is_public():
    assert not contracts.PUBLIC_PROPOSAL & contracts.PLANNER_ONLY
    assert not contracts.PUBLIC_PROPOSAL & contracts.CONTACTS
    assert not contracts.PLANNER_ONLY & contracts.CONTACTS
    assert "channel" in contracts.PUBLIC_PROPOSAL and "channel" in contracts.API_LIST
    assert {"meeting", "hidden", "flag_count"} <= contracts.PLANNER_ONLY
    assert not {"meeting", "hidden", "flag_count", "hidden_reason"} & (contracts.API_ITEM | contracts.API_NEARBY)


def test_nested_api_records_carry_exactly_their_pinned_fields(client, seeded):
    # The first seeded proposal has a public answer, a status history, areas and nearest services.
    properties = _json(client.get(f"/api/proposals/{seeded['public'][0]['public_id']}"))["properties"]
    for output, entries, expected in (
        ("history", properties["history"], contracts.API_HISTORY_ENTRY),
        ("answers", properties["answers"], contracts.API_ANSWER),
        ("forwardings", properties["forwardings"], contracts.API_FORWARDING),
        ("nearest", list(properties["nearest"].values()), contracts.API_NEAREST),
    ):
        assert entries, f"{output}: nothing to check"
        for entry in entries:
            assert_exact(entry, expected, f"GET /api/proposals/<id> {output}")
    with client.application.app_context():
        inside = db.registry().areas().geometry.iloc[0].representative_point()
    submitted = _json(
        client.post(
            "/api/proposals",
            json={
                "lon": round(inside.x, 6),
                "lat": round(inside.y, 6),
                "category": "traffic",
                "title": "I området",
                "description": "Här.",
            },
        )
    )
    areas = _json(client.get(f"/api/proposals/{submitted['id']}"))["properties"]["areas"]
    assert areas, "the proposal lies in a development area"
    for area in areas:
        assert_exact(area, contracts.API_AREA, "GET /api/proposals/<id> areas")


def test_nearest_columns_follow_the_declared_service_kinds(app, seeded, monkeypatch, client):
    # Declare one more kind: its two columns appear (empty until joined), derived from the declaration.
    with app.app_context():
        registry = db.registry()
    kinds = {**registry.locality.service_kinds, "bastu": {"sv": "Bastu", "en": "Sauna"}}
    monkeypatch.setattr(registry, "locality", dataclasses.replace(registry.locality, service_kinds=kinds))
    assert_exact(_geojson(client, "/api/export/proposals.geojson"), contracts.proposal_row(kinds), "proposals.geojson")


# --------------------------------------------------------------- the report
class _ReportFields(HTMLParser):
    """Collect the report's table ids and the terms of its key-figure list."""

    def __init__(self):
        super().__init__()
        self.tables, self.facts, self._in_dt = set(), set(), False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self.tables.add(attrs["id"].removeprefix("table-"))
        self._in_dt = tag == "dt"

    def handle_endtag(self, tag):
        if tag == "dt":
            self._in_dt = False

    def handle_data(self, data):
        if self._in_dt and data.strip():
            self.facts.add(data.strip())


def test_report_exposes_exactly_its_pinned_tables_and_figures(client, seeded):
    response = client.get("/planner/report", headers=bearer(seeded["tokens"]["planner"]))
    assert response.status_code == 200
    found = _ReportFields()
    found.feed(response.data.decode("utf-8"))
    assert_exact(found.tables, contracts.REPORT_TABLES, "report tables")
    assert_exact(found.facts, contracts.REPORT_FACTS, "report key figures")


# ------------------------------------------------- a planted leak fails the pins
def _leak_meeting_into_public_exports(monkeypatch):
    original = export.proposal_columns

    def leaky(registry, audience=export.PUBLIC):
        columns = original(registry, audience)
        return columns if audience.planner else columns + [("meeting", "str")]

    monkeypatch.setattr(export, "proposal_columns", leaky)


def _leak_meeting_into_the_api(monkeypatch):
    original = api.list_properties
    monkeypatch.setattr(api, "list_properties", lambda view: {**original(view), "meeting": view.get("meeting")})


def _leak_meeting_into_the_map(monkeypatch):
    from dialogkarta.layers.map_view import MapView

    original = MapView._points

    def leaky(self, conn, table, rows):
        features = original(self, conn, table, rows)
        for feature in features:
            feature["properties"]["meeting"] = None
        return features

    monkeypatch.setattr(MapView, "_points", leaky)


@pytest.mark.parametrize("output, read, expected", PUBLIC_OUTPUTS, ids=[o[0] for o in PUBLIC_OUTPUTS])
def test_a_planner_field_leaking_into_a_public_output_fails_its_pin(
    client, seeded, kinds, tmp_path, monkeypatch, output, read, expected
):
    plant = _leak_meeting_into_the_api if output.startswith(("GET /api", "POST /api")) else _leak_meeting_into_public_exports
    if output == "GET /api/proposals/map":
        plant = _leak_meeting_into_the_map
    plant(monkeypatch)
    with pytest.raises(AssertionError, match=r"not in its contract \['meeting'\]"):
        assert_exact(read(client, seeded, tmp_path), expected(kinds), output)


def test_openapi_document_describes_exactly_the_pinned_api_fields(client):
    schemas = _json(client.get("/api/openapi.json"))["components"]["schemas"]
    listed = schemas["ProposalProperties"]["properties"]
    assert_exact(listed, contracts.API_SIMILAR, "OpenAPI ProposalProperties")  # distance_m, similarity: nearby, similar
    one = schemas["ProposalFeature"]["properties"]["properties"]["allOf"][1]["properties"]
    assert_exact(set(listed) - {"distance_m", "similarity"} | set(one), contracts.API_ITEM, "OpenAPI ProposalFeature")
    assert_exact(one["areas"]["items"]["properties"], contracts.API_AREA, "OpenAPI areas")
    assert_exact(one["nearest"]["additionalProperties"]["properties"], contracts.API_NEAREST, "OpenAPI nearest")
    assert_exact(one["history"]["items"]["properties"], contracts.API_HISTORY_ENTRY, "OpenAPI history")
    assert_exact(one["answers"]["items"]["properties"], contracts.API_ANSWER, "OpenAPI answers")
    assert_exact(one["forwardings"]["items"]["properties"], contracts.API_FORWARDING, "OpenAPI forwardings")


# ------------------------------------------------------------------ the public layers
def _layer_outputs(client, name, tmp_path) -> dict:
    """Return {output: field set} for one public layer on every path that serves it."""
    table = name.replace("-", "_")
    outputs = {
        "/api/layers/<name>": _geojson(client, f"/api/layers/{name}"),
        f"{name}.geojson": _geojson(client, f"/api/export/{name}.geojson"),
        f"{name}.csv": _csv(client, f"/api/export/{name}.csv") - contracts.CSV_POSITION - {"wkt"},
        f"{name}.gpkg": _gdal(client, f"/api/export/{name}.gpkg", tmp_path, layer=table),
        f"{name}.fgb": _gdal(client, f"/api/export/{name}.fgb", tmp_path, layer=None),
        "OGC items": _geojson(client, f"/ogc/collections/{name}/items?limit=1000"),
    }
    return outputs


def test_every_path_serves_a_public_layer_with_the_same_fields(app, client, tmp_path):
    # A layer's fields come from its file (bundled or imported), not from a pin here; what is pinned
    # is that no path adds a field to a layer or drops one.
    with app.app_context():
        registry = db.registry()
        public = {
            layer.name: set(registry.frame(layer.name).columns) - {registry.frame(layer.name).geometry.name}
            for layer in registry
            if layer.public
        }
    assert public
    for name, fields in public.items():
        for output, found in _layer_outputs(client, name, tmp_path).items():
            assert_exact(found, fields, f"{name} {output}")
