"""Staff exports of drawn survey answers: one layer per map question, joined in SWEREF 99 TM, opened by GDAL."""

import csv

import pyogrio
import pytest

from dialogkarta.layers import surveys
from dialogkarta.webmap import db
from tests.routes import open_example_survey
from tests.test_survey_api import PARK, SPOT, URL, WAY

SLUG = "trygghet-och-vagar"


@pytest.fixture
def answered(app):
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
    answers = {
        "unsafe_places": [{"geometry": SPOT, "comment": '=HYPERLINK("x")'}],
        "way_to_school": WAY,
        "green_spaces": PARK,
        "safety_overall": 2,
    }
    for _ in range(2):
        assert app.test_client().post(URL, json={"answers": answers}).status_code == 201
    return app


def test_the_geopackage_has_a_layer_per_map_question_in_sweref_with_joins(answered, runner, tmp_path):
    path = tmp_path / "survey.gpkg"
    result = runner.invoke(args=["survey", "export", SLUG, "-o", str(path)])
    assert result.exit_code == 0, result.output

    names = [name for name, _ in pyogrio.list_layers(path) if name != "layer_styles"]
    assert names == [f"{SLUG}_unsafe_places", f"{SLUG}_way_to_school", f"{SLUG}_green_spaces"]
    for name in names:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:3006" and info["features"] == 2
    lines = pyogrio.read_dataframe(path, layer=f"{SLUG}_way_to_school")
    assert lines["length_m"].tolist() == pytest.approx(list(lines.geometry.length), abs=0.01)
    areas = pyogrio.read_dataframe(path, layer=f"{SLUG}_green_spaces")
    assert areas["area_m2"].tolist() == pytest.approx(list(areas.geometry.area), abs=0.1)
    assert set(areas.columns) >= {"respondent", "comment", "repaired", "areas", "services_inside"}


def test_geojson_and_csv_write_a_file_per_question_that_gdal_opens(answered, runner, tmp_path):
    for fmt in ("geojson", "csv"):
        folder = tmp_path / fmt
        assert runner.invoke(args=["survey", "export", SLUG, "--format", fmt, "-o", str(folder)]).exit_code == 0
        files = sorted(p.name for p in folder.iterdir())
        assert files == sorted(f"{SLUG}-{q}.{fmt}" for q in ("unsafe_places", "way_to_school", "green_spaces"))
        assert pyogrio.read_info(folder / f"{SLUG}-way_to_school.{fmt}")["features"] == 2
    rows = list(csv.DictReader((tmp_path / "csv" / f"{SLUG}-unsafe_places.csv").open(encoding="utf-8")))
    assert rows[0]["comment"] == '\'=HYPERLINK("x")'  # a comment never runs as a formula
    assert rows[0]["wkt_epsg3006"].startswith("POINT (")


def test_an_unknown_survey_is_refused(app, runner, tmp_path):
    result = runner.invoke(args=["survey", "export", "ingen", "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 1 and "No survey 'ingen'" in result.output


def test_a_question_nobody_answered_is_an_empty_layer(app, runner, tmp_path):
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
    assert app.test_client().post(URL, json={"answers": {"way_to_school": WAY, "safety_overall": 2}}).status_code == 201
    path = tmp_path / "survey.gpkg"
    assert runner.invoke(args=["survey", "export", SLUG, "-o", str(path)]).exit_code == 0
    layers = [name for name, _ in pyogrio.list_layers(path) if name != "layer_styles"]
    assert [pyogrio.read_info(path, layer=name)["features"] for name in layers] == [0, 1, 0]


def test_each_answer_layer_has_its_qgis_style_and_a_title(answered, runner, tmp_path):
    import sqlite3
    from contextlib import closing

    path = tmp_path / "survey.gpkg"
    assert runner.invoke(args=["survey", "export", SLUG, "-o", str(path)]).exit_code == 0
    with closing(sqlite3.connect(path)) as conn:
        styles = dict(conn.execute("select f_table_name, styleQML from layer_styles where useAsDefault").fetchall())
        titles = dict(conn.execute("select table_name, identifier from gpkg_contents").fetchall())
    assert set(styles) == {f"{SLUG}_unsafe_places", f"{SLUG}_way_to_school", f"{SLUG}_green_spaces"}
    assert all("#d94801" in qml or "217,72,1" in qml for qml in styles.values())  # drawn answers in orange
    assert (
        titles[f"{SLUG}_way_to_school"]
        == "Trygghet och vägar i Dalby: Rita vägen du eller dina barn går eller cyklar till skolan."
    )
