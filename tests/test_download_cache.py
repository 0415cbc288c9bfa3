"""Public downloads are built once per change of the data, then served from disk, and rate limited."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import WGS84
from dialogkarta.layers import export
from tests.live import seed

NEW = {"lon": 13.3625, "lat": 55.6596, "category": "traffic", "title": "Ny belysning", "description": "Vid skolan."}


@pytest.fixture
def builds(monkeypatch):
    """Count the exports actually built."""
    calls = []
    real = export.export_to_file

    def counting(*args, **kwargs):
        calls.append(args[2:4])
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "export_to_file", counting)
    return calls


def _features(body: bytes, fmt: str, folder: Path) -> int:
    path = folder / f"download.{fmt}"
    path.write_bytes(body)
    return len(pyogrio.read_dataframe(path, layer="proposals" if fmt == "gpkg" else None))


@pytest.mark.parametrize("fmt", ["gpkg", "fgb", "geojson", "csv"])
def test_a_download_is_built_once_and_again_when_proposals_change(app, client, builds, fmt, tmp_path):
    seed(app, count=3)
    first = client.get(f"/api/export/proposals.{fmt}")
    second = client.get(f"/api/export/proposals.{fmt}")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and len(builds) == 1
    assert first.headers["ETag"] == second.headers["ETag"]
    assert client.get(f"/api/export/proposals.{fmt}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    assert client.post("/api/proposals", json=NEW).status_code == 201
    third = client.get(f"/api/export/proposals.{fmt}")
    assert len(builds) == 2 and third.headers["ETag"] != first.headers["ETag"]
    if fmt == "csv":
        assert third.data.count(b"\n") == first.data.count(b"\n") + 1
    else:
        assert _features(third.data, fmt, tmp_path) == _features(first.data, fmt, tmp_path) + 1 == 4
    assert len(list((Path(app.instance_path) / "cache" / "downloads").glob(f"*.{fmt}"))) == 1  # the old one went


def test_a_crs_spelt_three_ways_is_one_file_and_an_unoffered_one_is_400(app, client, builds):
    seed(app, count=2)
    bodies = {client.get(f"/api/export/all.gpkg?crs={crs}").data for crs in ("3008", "EPSG:3008", "epsg:3008")}
    assert len(bodies) == 1 and len(builds) == 1
    refused = client.get("/api/export/all.gpkg?crs=EPSG:32633", headers={"Accept-Language": "en"})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "crs"
    assert "EPSG:3006" in refused.get_json()["error"]["message"] and len(builds) == 1


def test_public_downloads_are_rate_limited_per_client(app, client, builds):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_DOWNLOADS="2/minute")
    assert [client.get("/api/export/proposals.geojson").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/export/proposals.gpkg", headers={"Accept-Language": "en"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "rate_limited" and len(builds) == 1
    other = client.get("/api/export/proposals.gpkg", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 200


def test_a_layer_import_gives_a_fresh_download(app, client, runner, builds, tmp_path):
    before = client.get("/api/export/development-areas.geojson")
    plan = gpd.GeoDataFrame(
        {"id": ["plan-ny"], "name": ["Nya planen"], "status": ["detailed_plan"]},
        geometry=[shapely.box(13.340, 55.660, 13.345, 55.663)],
        crs=WGS84,
    )
    path = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(plan, path, layer="plan")
    assert runner.invoke(args=["import-layer", str(path), "--as", "development-areas"]).exit_code == 0
    after = client.get("/api/export/development-areas.geojson")
    assert len(builds) == 2 and b"plan-ny" in after.data and b"plan-ny" not in before.data
