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

    names = [name for name, _ in pyogrio.list_layers(path)]
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
    assert [pyogrio.read_info(path, layer=name)["features"] for name, _ in pyogrio.list_layers(path)] == [0, 1, 0]
