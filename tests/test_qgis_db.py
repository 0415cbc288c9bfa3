"""QGIS on the database, checked in SQL (PostGIS only): the views hold exactly what the exports hold,
never a name or an e-mail address, the layers' current versions and their default styles; the
read-only role reads them and nothing else. What QGIS itself makes of them: tests/qgis/test_qgis_database.py."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from dialogkarta.layers import export, qgis_db, styles
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.contracts import CONTACTS, assert_exact, proposal_row
from tests.live import PLANTED_EMAIL, PLANTED_NAME, seed
from tests.postgis_qgis import reader_role, require_postgis
from tests.test_import import MAPPING, _plan, _write


@pytest.fixture(autouse=True)
def postgis():
    require_postgis()


def _select(app, sql, **params):
    with app.app_context(), db.reading() as conn:
        return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def _columns(app, view):
    with app.app_context(), db.reading() as conn:
        return list(conn.execute(text(f"SELECT * FROM {view} LIMIT 0")).keys())


def _kinds(app):
    with app.app_context():
        return export.service_kinds(db.registry())


def _export_rows(app, audience):
    with app.app_context():
        return {row["id"]: row for page in export.iter_proposal_rows(db.engine(), db.registry(), audience) for row in page}


def _view_rows(app, view):
    rows = _select(app, f"SELECT *, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM {view}")
    return {row["id"]: row for row in rows}


def test_the_public_view_has_exactly_the_public_export_fields(app):
    assert_exact(set(_columns(app, "public_proposals")) - {"geom"}, proposal_row(_kinds(app)), "public_proposals")


def test_the_planner_view_has_the_joins_and_planner_fields_but_no_contact_details(app):
    columns = set(_columns(app, "planner_proposals")) - {"geom"}
    kinds = _kinds(app)
    assert columns <= proposal_row(kinds, planner=True)
    assert {"area_ids", "area_names", "hidden", "department"} | {f"nearest_{k}" for k in kinds} | {
        f"nearest_{k}_m" for k in kinds
    } <= columns
    assert not columns & CONTACTS


@pytest.mark.parametrize("grid_m", [0, 250])
def test_the_public_view_holds_what_the_public_export_holds(tmp_path, grid_m):
    from tests.conftest import fresh_database_url

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": fresh_database_url(tmp_path, "x.sqlite"),
            "SECRET_KEY": "t",
            "PUBLIC_GRID_M": grid_m,
        }
    )
    seeded = seed(app, count=4)
    exported = _export_rows(app, export.Audience(grid_m=grid_m))
    viewed = _view_rows(app, "public_proposals")
    assert set(viewed) == set(exported) and seeded["hidden"]["public_id"] not in viewed
    for pid, row in exported.items():
        for column, value in row.items():
            seen = viewed[pid][column]
            if isinstance(value, float):
                assert seen == pytest.approx(value, abs=1e-7), (pid, column)
            else:
                assert seen == value, (pid, column)


def test_the_planner_view_holds_every_proposal_at_its_exact_position_with_its_joins(app):
    seeded = seed(app, count=3)
    exported = _export_rows(app, export.PLANNER)
    viewed = _view_rows(app, "planner_proposals")
    assert set(viewed) == set(exported) and seeded["hidden"]["public_id"] in viewed
    for pid, row in exported.items():
        for column in set(viewed[pid]) & set(row):
            assert viewed[pid][column] == row[column], (pid, column)


def test_no_view_ever_shows_a_name_or_an_e_mail_address(app):
    seed(app, count=2)
    with app.app_context():
        views = qgis_db.view_names(db.registry().locality)
    for view in views:
        dump = " ".join(str(row) for row in _select(app, f"SELECT * FROM {view}"))
        assert PLANTED_NAME not in dump and PLANTED_EMAIL not in dump, view


def test_a_layer_view_serves_the_current_version_the_moment_an_import_commits(app, runner, tmp_path):
    with app.app_context():
        bundled = len(db.registry().areas())
    assert len(_select(app, "SELECT * FROM layer_development_areas")) == bundled
    path = _write(_plan((13.3520, 55.6660)), tmp_path / "plan.gpkg")
    assert runner.invoke(args=["import-layer", str(path), "--as", "development-areas", *MAPPING]).exit_code == 0
    rows = _select(
        app, "SELECT id, name, version, GeometryType(geom) AS kind, ST_SRID(geom) AS srid FROM layer_development_areas"
    )
    assert rows == [{"id": "plan-ny", "name": "Nya planen åäö", "version": 1, "kind": "MULTIPOLYGON", "srid": 4326}]


def test_every_view_has_its_default_style_in_layer_styles_as_qgis_reads_it(app):
    with app.app_context():
        locality = db.registry().locality
    rows = _select(
        app,
        "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, stylename, styleqml::text AS qml,"
        " useasdefault, type, current_database() AS db FROM layer_styles",
    )
    by_view = {row["f_table_name"]: row for row in rows}
    assert len(rows) == len(by_view) == len(qgis_db.view_names(locality))
    assert by_view["public_proposals"]["qml"].strip() == styles.proposals_style(locality).qml.strip()
    for view, row in by_view.items():
        assert (row["f_table_catalog"], row["f_table_schema"], row["f_geometry_column"], row["useasdefault"]) == (
            row["db"],
            "public",
            "geom",
            True,
        ), view
    areas = next(layer for layer in locality.layers if layer.role == "areas")
    assert 'attr="status"' in by_view["layer_development_areas"]["qml"]
    assert by_view["layer_development_areas"]["stylename"] == styles.layer_style(areas, locality).name
    assert {row["type"] for row in rows} == {None}  # QGIS then finds them whether its URI names a geometry type or not


def test_install_again_changes_nothing_and_keeps_one_style_per_view(app):
    with app.app_context():
        engine, locality = db.engine(), db.registry().locality
    before = _select(app, "SELECT id, f_table_name FROM layer_styles ORDER BY id")
    assert qgis_db.install(engine, locality) is True
    assert _select(app, "SELECT id, f_table_name FROM layer_styles ORDER BY id") == before


def test_the_read_only_role_reads_the_views_and_nothing_else(app, runner):
    seed(app, count=2)
    with reader_role(runner) as (_name, _password, url):
        reader = create_engine(url)
        with reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM public_proposals")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM layer_styles")).scalar() > 0
        with reader.connect() as conn, pytest.raises(DBAPIError, match="read-only transaction"):
            conn.execute(text("INSERT INTO layer_styles (f_table_name) VALUES ('x')"))  # its sessions start read-only
        writer = create_engine(url, isolation_level="AUTOCOMMIT")  # and a session that asks to write has no right to
        for statement in (
            "SELECT * FROM proposals",
            "SELECT * FROM contacts",
            "INSERT INTO layer_styles (f_table_name) VALUES ('x')",
            "INSERT INTO layer_development_areas (fid, version) VALUES (99, 99)",
            "DELETE FROM layer_styles",
            "UPDATE layer_features SET properties = '{}'",
        ):
            with writer.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
                conn.exec_driver_sql("SET default_transaction_read_only = off")
                conn.execute(text(statement))
        reader.dispose()
        writer.dispose()


def test_a_view_made_again_keeps_its_readers(app, runner, tmp_path):
    with reader_role(runner) as (_name, _password, url), app.app_context():
        qgis_db.install(db.engine(), db.registry().locality, public_grid_m=500)  # a new definition: dropped and made again
        reader = create_engine(url)
        with reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM public_proposals")).scalar() == 0
        reader.dispose()


def test_line_and_area_proposals_carry_their_figures_in_the_public_view_as_in_the_export(app, client, runner, tmp_path):
    from shapely.geometry import LineString, box

    from tests.conftest import ORIGIN_E as E, ORIGIN_N as N
    from tests.test_proposal_shapes import drawn, import_plan, post

    import_plan(runner, tmp_path)

    for shape in (LineString([(E - 500, N), (E + 500, N)]), box(E + 400, N - 50, E + 600, N + 50)):
        assert post(client, drawn(shape)).status_code == 201
    exported = _export_rows(app, export.Audience())
    viewed = _view_rows(app, "public_proposals")
    assert sorted(row["geometry_kind"] for row in viewed.values()) == ["area", "line"]
    for pid, row in exported.items():
        for column in ("geometry_kind", "length_m", "area_m2", "shape_areas"):
            assert viewed[pid][column] == row[column], (pid, column)


def test_a_restore_leaves_the_views_in_place_whether_it_succeeds_or_fails(app, runner, tmp_path, monkeypatch):
    from dialogkarta.layers import maintenance

    with app.app_context():
        engine = db.engine()
        views = sorted(qgis_db.views_present(engine.connect()))
    backup = tmp_path / "store.dump"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert sorted(qgis_db.views_present(conn)) == views  # at once, not at the next start
        assert conn.execute(text("SELECT count(*) FROM public_proposals")).scalar_one() >= 0

    def broken(*args, **kwargs):
        raise maintenance.MaintenanceError("psql failed")

    monkeypatch.setattr(maintenance, "_pg_run", broken)
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code != 0 and "psql failed" in result.output
    with engine.connect() as conn:
        assert sorted(qgis_db.views_present(conn)) == views
