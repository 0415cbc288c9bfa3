"""Several app servers on one store: each with its own instance folder, all agreeing on everything a resident or planner sees.

Two apps stand for two machines behind a load balancer: separate instance folders (so separate
caches, secret-key files and download caches), one store (a shared SQLite file, or the PostgreSQL
test database when ``DIALOGKARTA_TEST_DATABASE_URL`` is set) and one photo folder.
"""

from __future__ import annotations

import socket
import time

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, to_sweref
from dialogkarta.layers import accounts
from dialogkarta.settings import SettingsError
from dialogkarta.testing import Served, csrf_token, login, make_user, proposal, public_id_of, request
from dialogkarta.webmap import db, ratelimit
from dialogkarta.webmap.app import create_app
from tests.conftest import DialogkartaRunner, fresh_database_url

PROPOSAL = {
    "lon": 13.3625,
    "lat": 55.6596,
    "category": "traffic",
    "title": "Övergångsställe",
    "description": "Vid busshållplatsen.",
}


@pytest.fixture
def shared(tmp_path) -> dict:
    """What every server of one deployment is given: the store, the secret and the photo folder."""
    return {
        "DATABASE_URL": fresh_database_url(tmp_path, "shared.sqlite"),
        "SECRET_KEY": "one-secret-for-every-server",
        "PHOTO_DIR": str(tmp_path / "photos"),
        "SERVERS": 2,
    }


@pytest.fixture
def servers(tmp_path, shared):
    def server(name: str, **config):
        return create_app(
            {"TESTING": True, "INSTANCE_PATH": str(tmp_path / name), "RATELIMIT_ENABLED": False, **shared, **config}
        )

    return server


def test_a_proposal_posted_on_one_server_is_listed_by_the_other(servers):
    a, b = servers("a"), servers("b")
    b_client = b.test_client()
    assert b_client.get("/api/proposals").get_json()["features"] == []  # B has read (and cached) the empty list
    posted = a.test_client().post("/api/proposals", json=PROPOSAL)
    assert posted.status_code == 201
    listed = [feature["id"] for feature in b_client.get("/api/proposals").get_json()["features"]]
    assert listed == [posted.get_json()["id"]]
    assert b_client.get(f"/api/proposals/{posted.get_json()['id']}").status_code == 200


def _plan_file(tmp_path) -> str:
    easting, northing = to_sweref(13.3450, 55.6640)
    frame = gpd.GeoDataFrame(
        {"PLAN_ID": ["plan-ny"], "PLANNAMN": ["Nya planen"]},
        geometry=[shapely.box(easting - 150, northing - 150, easting + 150, northing + 150)],
        crs=SWEREF99TM,
    )
    path = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(frame, path, layer="plan")
    return str(path)


def _area_ids(client) -> list[str]:
    return [feature["properties"]["id"] for feature in client.get("/api/layers/development-areas").get_json()["features"]]


def test_a_layer_imported_through_one_server_is_served_by_the_other_at_once(servers, tmp_path):
    a, b = servers("a"), servers("b")
    b_client = b.test_client()
    assert "plan-ny" not in _area_ids(b_client)  # B serves (and caches) the bundled areas
    bundled_etag = b_client.get("/api/layers/development-areas").headers["ETag"]
    command = ["import-layer", _plan_file(tmp_path), "--as", "development-areas", "--map", "id=PLAN_ID", "--map", "name=PLANNAMN"]
    result = DialogkartaRunner(a).invoke(args=command)
    assert result.exit_code == 0, result.output
    assert _area_ids(b_client) == ["plan-ny"]
    assert b_client.get("/api/layers/development-areas", headers={"If-None-Match": bundled_etag}).status_code == 200
    assert "Nya planen" in b_client.get("/").get_data(as_text=True)  # the map page B had drawn is drawn again


@pytest.fixture(params=["store", "redis"])
def counted_in(request) -> dict:
    """Where every server keeps its rate-limit counts: the store, or one Redis."""
    return {} if request.param == "store" else {"REDIS_URL": request.getfixturevalue("redis_url")}


def test_a_rate_limit_reached_on_one_server_holds_on_the_other(servers, counted_in):
    limits = {"RATELIMIT_ENABLED": True, "RATELIMIT_PROPOSALS": "2/minute", **counted_in}
    a, b = servers("a", **limits), servers("b", **limits)
    assert [a.test_client().post("/api/proposals", json=PROPOSAL).status_code for _ in range(2)] == [201, 201]
    refused = b.test_client().post("/api/proposals", json=PROPOSAL)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    other_client = b.test_client().post("/api/proposals", json=PROPOSAL, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_client.status_code == 201
    if counted_in:  # and the counts are in Redis: one key per client and limit, none in the store
        import redis

        assert redis.Redis.from_url(counted_in["REDIS_URL"]).dbsize() == 2


def test_with_redis_unreachable_the_store_counts_and_the_log_says_so(servers, caplog, monkeypatch):
    pytest.importorskip("redis")
    monkeypatch.setitem(ratelimit._warned, "at", -ratelimit.WARN_EVERY - time.monotonic())  # not warned lately
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    limits = {"RATELIMIT_ENABLED": True, "RATELIMIT_PROPOSALS": "2/minute", "REDIS_URL": nowhere}
    a, b = servers("a", **limits), servers("b", **limits)
    assert [a.test_client().post("/api/proposals", json=PROPOSAL).status_code for _ in range(2)] == [201, 201]
    assert b.test_client().post("/api/proposals", json=PROPOSAL).status_code == 429
    assert "rate limits counted in the store for now" in caplog.text


def _copied_session(app, client):
    """A browser on another server holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_logout_on_one_server_ends_the_session_on_the_other_even_for_a_copied_cookie(servers):
    a, b = servers("a"), servers("b")
    make_user(a, "anna")
    on_a = a.test_client()
    assert login(on_a, "anna").status_code == 302
    on_b = _copied_session(b, on_a)
    assert on_b.get("/planner/").status_code == 200  # one secret: B accepts A's cookie
    copy = on_a.get_cookie("session").value
    on_a.post("/planner/logout", data={"csrf_token": csrf_token(on_a, "/planner/")})
    replayed = b.test_client()
    replayed.set_cookie("session", copy)
    assert replayed.get("/planner/").status_code == 302  # to the login page
    assert replayed.get("/planner/api/proposals", headers={"Accept": "application/json"}).status_code == 401


def test_a_new_password_revokes_the_tokens_and_sessions_on_every_server(servers):
    a, b = servers("a"), servers("b")
    make_user(a, "anna")
    with a.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna", "anna-qgis").token
    bearer = {"Authorization": f"Bearer {token}"}
    on_a = a.test_client()
    login(on_a, "anna")
    on_b = _copied_session(b, on_a)
    assert b.test_client().get("/planner/api/proposals", headers=bearer).status_code == 200
    result = DialogkartaRunner(a).invoke(args=["set-password", "anna", "--password-stdin"], input="ett helt nytt lösenord\n")
    assert result.exit_code == 0 and "1 API token(s) revoked" in result.output
    assert b.test_client().get("/planner/api/proposals", headers=bearer).status_code == 401
    assert on_b.get("/planner/").status_code == 302
    with b.app_context(), db.reading() as conn:
        assert [t["status"] for t in accounts.list_tokens(conn, "anna")] == ["revoked"]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "PHOTO_DIR"])
def test_several_servers_refuse_to_start_without_an_explicit_shared_setting(tmp_path, shared, missing):
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "a"), **shared, missing: None}
    with pytest.raises(SettingsError, match=f"DIALOGKARTA_SERVERS=2 .*\n  DIALOGKARTA_{missing}: "):
        create_app(config)
    assert create_app({**config, "SERVERS": 1}).config[missing]  # one server: the per-instance default


def test_two_dialogkarta_serve_processes_on_one_store_agree(tmp_path, shared):
    settings = {key: str(value) for key, value in shared.items()}
    settings |= {"RATELIMIT_PROPOSALS": "3/minute", "HOLD_LINKS": "false"}
    with Served(tmp_path / "a", **settings) as a, Served(tmp_path / "b", **settings) as b:
        statuses = []
        for i in range(3):
            status, body = request("POST", a.port, "/api/proposals", proposal(i))
            statuses.append(status)
        posted = public_id_of(body)
        assert statuses == [201] * 3
        status, listed = request("GET", b.port, "/api/proposals")
        assert status == 200 and posted in [feature["id"] for feature in listed["features"]]
        assert request("POST", b.port, "/api/proposals", proposal(4))[0] == 429
