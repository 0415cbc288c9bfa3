"""A layer import killed with SIGKILL at any point leaves the old layer with its joins or the new with its joins.

The import runs in a child process (``CHILD``) that stops at one of ``layer_import.STAGES``: after
validation, after the new version is written, midway through the joins (after the first of three
chunks), before the commit, and after it. The test kills it there with SIGKILL, then starts the
app again, as the next start after a crash would, and checks that the layer the registry serves
is the old version or (only once committed) the new one, that every proposal's stored joins are
what that layer gives, and that ``dialogkarta check`` finds the store sound.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, to_sweref
from dialogkarta.layers import layer_import, proposals, store
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.conftest import DialogkartaRunner, fresh_database_url
from tests.live import seed

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"id": "PLAN_ID", "name": "PLANNAMN"}

CHILD = r"""
import json, sys, time
from dialogkarta.layers import layer_import
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

config, stop_at, path = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
app = create_app(config)

def reached(stage):
    if stage == stop_at:
        print(stage, flush=True)
        time.sleep(600)  # killed here by the test

with app.app_context():
    layer_import.import_layer(path, db.registry(), "development-areas", db.engine(),
                              mapping={"id": "PLAN_ID", "name": "PLANNAMN"}, on_stage=reached, chunk=2)
print("finished without stopping", flush=True)
"""


def _plan(path: Path, around, plan_id: str, half: float) -> Path:
    easting, northing = to_sweref(*around)
    frame = gpd.GeoDataFrame(
        {"PLAN_ID": [plan_id], "PLANNAMN": [f"Plan {plan_id}"]},
        geometry=[shapely.box(easting - half, northing - half, easting + half, northing + half)],
        crs=SWEREF99TM,
    )
    pyogrio.write_dataframe(frame, path, layer="plan", driver="GPKG")
    return path


def _consistent_state(config) -> tuple[int, list[str]]:
    """Start the app as after a crash; assert every stored join is what the served layer gives; return (version, area ids)."""
    app = create_app(config)
    with app.app_context():
        registry = db.registry()
        with db.reading() as conn:
            records = store.list_proposals(conn, include_hidden=True)
        computed = proposals.compute_joins(registry, [(r["lon"], r["lat"]) for r in records])
        for record, joins in zip(records, computed):
            assert sorted(record["area_ids"]) == sorted(joins["area_ids"]), record["title"]
            assert {k: v["id"] for k, v in record["nearest"].items()} == {n["kind"]: n["service_id"] for n in joins["nearest"]}, (
                record["title"]
            )
        version, ids = registry.current_version("development-areas"), sorted(registry.areas()["id"])
    if config["DATABASE_URL"].startswith("sqlite"):
        result = DialogkartaRunner(app).invoke(args=["check"])
        assert result.exit_code == 0 and "ok" in result.output, result.output
    app.extensions["dialogkarta.engine"].dispose()
    return version, ids


@pytest.mark.parametrize("stage", layer_import.STAGES)
def test_an_import_killed_at_any_stage_leaves_the_layer_and_its_joins_together(tmp_path, stage):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "crash",
        "DATABASE_URL": fresh_database_url(tmp_path, "crash.sqlite"),
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    seeded = seed(app, count=5)  # six proposals with the hidden one: three chunks of two
    first = seeded["public"][0]
    with app.app_context():  # the old state is itself an import, with its joins
        layer_import.import_layer(
            _plan(tmp_path / "old.gpkg", (first["lon"], first["lat"]), "old", 400.0),
            db.registry(),
            "development-areas",
            db.engine(),
            mapping=MAPPING,
        )
    app.extensions["dialogkarta.engine"].dispose()
    old = _consistent_state(config)
    assert old == (1, ["old"])

    new_plan = _plan(tmp_path / "new.gpkg", (first["lon"], first["lat"]), "new", 60.0)
    errors = tmp_path / "child.err"
    with errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config), stage, str(new_plan)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            ready, _, _ = select.select([child.stdout], [], [], 120)
            line = child.stdout.readline().strip() if ready else ""
            assert line == stage, f"the import did not reach {stage!r}: {line!r} {errors.read_text()[-2000:]}"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    after = _consistent_state(config)
    assert after == ((2, ["new"]) if stage == "committed" else old)


def test_a_proposal_joined_while_a_layer_is_imported_is_stored_with_joins_of_the_layer_that_won(app, tmp_path, monkeypatch):
    """An import that commits while a proposal is being joined must not leave that proposal's old joins behind."""
    import threading

    from dialogkarta.layers import proposals

    with app.app_context():
        engine, registry = db.engine(), db.registry()
        around = (13.3514, 55.6652)
        plan = _plan(tmp_path / "new.gpkg", around, "mitt", 300.0)
        joining, importing_started = threading.Event(), threading.Event()
        real_compute = proposals.compute_joins

        def slow_compute(reg, points):
            result = real_compute(reg, points)  # joined against the layer of this moment ...
            joining.set()
            importing_started.wait(5)
            time.sleep(0.5)  # ... while an import tries to commit a new one
            return result

        def run_import():
            joining.wait(5)
            importing_started.set()
            with app.app_context():
                layer_import.import_layer(
                    plan, db.registry(), "development-areas", db.engine(), mapping={"id": "PLAN_ID", "name": "PLANNAMN"}
                )

        monkeypatch.setattr(proposals, "compute_joins", slow_compute)
        importer = threading.Thread(target=run_import)
        importer.start()
        with engine.begin() as conn:
            record = proposals.submit(
                conn,
                registry,
                {
                    "lon": around[0],
                    "lat": around[1],
                    "category": "traffic",
                    "title": "Under importen",
                    "description": "samtidigt",
                },
            )
        importer.join(30)
        monkeypatch.setattr(proposals, "compute_joins", real_compute)
        with engine.connect() as conn:
            stored = store.get_proposal(conn, record["public_id"])["area_ids"]
        assert stored == real_compute(db.registry(), [around])[0]["area_ids"] == ["mitt"]


def test_a_proposal_prepared_before_an_import_commits_is_stored_with_the_new_layers_joins(app, tmp_path):
    """The API joins before its transaction; an import committing in between makes the store step join again."""
    from dialogkarta.layers import proposals

    with app.app_context():
        engine, registry = db.engine(), db.registry()
        around = (13.3514, 55.6652)
        data = {"lon": around[0], "lat": around[1], "category": "traffic", "title": "Före importen", "description": "förberett"}
        with registry.checked():
            prepared = proposals.prepare(registry, data)
        assert "mitt" not in prepared.joins["area_ids"]
        layer_import.import_layer(
            _plan(tmp_path / "new.gpkg", around, "mitt", 300.0),
            registry,
            "development-areas",
            engine,
            mapping={"id": "PLAN_ID", "name": "PLANNAMN"},
        )
        with engine.begin() as conn:
            record, _held = proposals.store_prepared(conn, registry, prepared)
        with engine.connect() as conn:
            assert store.get_proposal(conn, record["public_id"])["area_ids"] == ["mitt"]


def test_a_post_after_another_process_imported_a_layer_is_joined_against_the_new_one(app, client, tmp_path):
    """The API joins against this process's cached layers first; the held versions in its transaction say they are old."""
    from dialogkarta.layers.registry import LayerRegistry

    around = (13.3514, 55.6652)
    data = {"lon": around[0], "lat": around[1], "category": "traffic", "title": "Efter importen", "description": "ny plan"}
    assert client.post("/api/proposals", json=data).status_code == 201  # this process caches the bundled layers
    with app.app_context():
        elsewhere = LayerRegistry(db.registry().locality, db.engine())  # as the CLI in another process would
        plan = _plan(tmp_path / "new.gpkg", around, "mitt", 300.0)
        layer_import.import_layer(
            plan, elsewhere, "development-areas", db.engine(), mapping={"id": "PLAN_ID", "name": "PLANNAMN"}
        )
    response = client.post("/api/proposals", json=data)
    assert response.status_code == 201 and response.get_json()["properties"]["area_ids"] == ["mitt"]
    with app.app_context(), db.reading() as conn:
        assert store.get_proposal(conn, response.get_json()["properties"]["public_id"])["area_ids"] == ["mitt"]
