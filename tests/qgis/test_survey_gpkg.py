"""QGIS opens a survey's drawn answers as the planners download them: each layer valid, in SWEREF 99 TM, in orange."""

from __future__ import annotations

import pyogrio
import pytest

from dialogkarta.layers import surveys
from dialogkarta.layers.styles import DRAWN_ANSWER_COLOR
from dialogkarta.webmap import db
from tests.qgis.pyqgis import gdal_warnings, require_qgis, run_qgis
from tests.routes import open_example_survey

pytestmark = pytest.mark.qgis

SLUG = "trygghet-och-vagar"
WAY = {"type": "LineString", "coordinates": [[13.345, 55.664], [13.348, 55.665], [13.350, 55.666]]}
PARK = {
    "type": "Polygon",
    "coordinates": [[[13.349, 55.664], [13.351, 55.664], [13.351, 55.665], [13.349, 55.665], [13.349, 55.664]]],
}
SPOT = {"type": "Point", "coordinates": [13.3514, 55.6652]}


def test_qgis_opens_each_answer_layer_with_its_orange_style(app, runner, tmp_path):
    require_qgis()
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
    answers = {"unsafe_places": [SPOT], "way_to_school": WAY, "green_spaces": PARK, "safety_overall": 3}
    assert app.test_client().post(f"/api/surveys/{SLUG}/responses", json={"answers": answers}).status_code == 201
    path = tmp_path / "survey.gpkg"
    assert runner.invoke(args=["survey", "export", SLUG, "-o", str(path)]).exit_code == 0
    tables = [name for name, _ in pyogrio.list_layers(path) if name != "layer_styles"]

    answer = run_qgis([{"do": "layers", "path": str(path), "tables": tables}], tmp_path)
    layers = answer["steps"][0]
    assert not gdal_warnings(answer), gdal_warnings(answer)
    assert sorted(layers) == sorted(tables)
    for table, info in layers.items():
        assert info["valid"] and info["crs"] == "EPSG:3006" and info["count"] == 1, (table, info)
        assert info["title"].startswith("Trygghet och vägar i Dalby: "), table
        assert info["styles_in_database"]["count"] == 1, table
        colors = {layer["color"] for symbol in info["renderer"]["symbols"] for layer in symbol}
        assert DRAWN_ANSWER_COLOR in colors, (table, info["renderer"])
