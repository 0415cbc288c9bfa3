"""The GeoPackage's styles and layer texts as a planner gets them, read from the file without QGIS.

What QGIS itself makes of them is in ``test_pyqgis.py``.
"""

from __future__ import annotations

import re

import sqlite3
import unicodedata
from contextlib import closing
from datetime import UTC, datetime
from xml.etree import ElementTree

import geopandas as gpd
import pytest
import shapely

from dialogkarta.geo.io import write_gpkg
from dialogkarta.layers import export, styles
from dialogkarta.layers.vocabulary import PROPOSAL_STATUSES
from dialogkarta.webmap import db
from tests.live import seed


@pytest.fixture
def gpkg(app, tmp_path):
    seed(app, count=3)
    path = tmp_path / "dalby.gpkg"
    with app.app_context():
        export.write_gpkg_export(db.engine(), db.registry(), path)
    return path


def _rows(path, sql):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _qml(path) -> dict:
    return {table: ElementTree.fromstring(qml) for table, qml in _rows(path, "select f_table_name, styleQML from layer_styles")}


def _markers(qml) -> set[tuple[str, str]]:
    """(class and shape, size) of every point symbol layer in a style."""
    out = set()
    for layer in qml.iter("layer"):
        props = {p.get("k"): p.get("v") for p in layer.findall("prop")}
        if layer.get("class") in ("SimpleMarker", "SvgMarker"):
            shape = props["name"] if layer.get("class") == "SimpleMarker" else "svg"
            out.add((shape, props["size"]))
    return out


def test_every_style_row_has_its_own_update_time(gpkg):
    times = [t for (t,) in _rows(gpkg, "select update_time from layer_styles")]
    assert len(times) == len(set(times)) > 1
    assert all(t.endswith("Z") for t in times)


def test_fixed_export_time_still_gives_each_style_its_own_time(app, tmp_path):
    path = tmp_path / "fixed.gpkg"
    with app.app_context():
        export.write_gpkg_export(db.engine(), db.registry(), path, now=datetime(2026, 3, 1, 12, tzinfo=UTC))
    rows = _rows(path, "select update_time from layer_styles")
    times = sorted(datetime.fromisoformat(t.replace("Z", "+00:00")) for (t,) in rows)
    # A whole second would be written without ".000" (GDAL 3.6 warns): the first style takes 12:00:00.001.
    assert times[0] == datetime(2026, 3, 1, 12, 0, 0, 1000, tzinfo=UTC) and len(set(times)) == len(times)
    assert all(re.search(r"T\d\d:\d\d:\d\d\.\d{3}Z$", text) for (text,) in rows)


def test_the_geopackage_is_version_1_2_for_gdal_3_6(gpkg):
    # GDAL >= 3.7 writes 1.4 by default; GDAL 3.6 (QGIS 3.22 on Debian 12) warns that 1.4 is "partially supported".
    assert _rows(gpkg, "pragma application_id") == [(0x47504B47,)]  # "GPKG"
    assert _rows(gpkg, "pragma user_version") == [(10200,)]


def test_proposals_are_drawn_unlike_services_and_every_other_layer(gpkg):
    qml = _qml(gpkg)
    proposals = qml.pop("proposals")
    assert proposals.find("renderer-v2").get("type") == "categorizedSymbol"
    assert proposals.find("renderer-v2").get("attr") == "status"
    services = qml["service_locations"].find("renderer-v2")
    assert services.get("type") == "categorizedSymbol" and services.get("attr") == "kind"
    mine = _markers(proposals)
    assert mine == {("diamond", "6")}
    for table, other in qml.items():
        theirs = _markers(other)
        assert not {shape for shape, _size in mine} & {shape for shape, _size in theirs}, table
        assert not {size for _shape, size in mine} & {size for _shape, size in theirs}, table
    assert {shape for shape, _size in _markers(qml["service_locations"])} == {"circle", "svg"}


def test_the_proposal_legend_names_every_status_in_swedish(gpkg):
    categories = _qml(gpkg)["proposals"].find("renderer-v2/categories")
    labels = {c.get("value"): c.get("label") for c in categories}
    assert {value: labels[value] for value in PROPOSAL_STATUSES} == {k: v["sv"] for k, v in PROPOSAL_STATUSES.items()}
    assert labels[""] == "Annan status"


def test_service_kinds_get_svg_icons_from_qgis_library_and_no_emoji(gpkg, locality):
    assert set(locality.service_kinds) <= set(styles.SERVICE_SVG)  # no declared kind falls back to the generic icon
    qml = _qml(gpkg)["service_locations"]
    labels = {c.get("value"): c.get("label") for c in qml.find("renderer-v2/categories")}
    assert {k: labels[k] for k in locality.service_kinds} == {k: v["sv"] for k, v in locality.service_kinds.items()}
    svgs = {p.get("v") for p in qml.iter("prop") if p.get("k") == "name" and p.get("v").endswith(".svg")}
    assert svgs == set(styles.SERVICE_SVG.values()) | {styles.OTHER_SVG}
    assert all("/" in path and not path.startswith("/") for path in svgs)  # relative: resolved in QGIS's own library
    for _table, qml_text, sld in _rows(gpkg, "select f_table_name, styleQML, styleSLD from layer_styles"):
        assert not [c for c in qml_text + sld if unicodedata.category(c) == "So"], "a symbol character needs an emoji font"


def test_every_layer_has_a_title_and_an_abstract(gpkg, locality):
    rows = _rows(gpkg, "select table_name, identifier, description from gpkg_contents where table_name != 'layer_styles'")
    assert len(rows) > 5
    for table, title, abstract in rows:
        assert title and title != table, table
        assert len(abstract) > 60 and "\n\n" in abstract, table  # Swedish, then English
    titles = {t: title for t, title, _a in rows}
    assert titles["proposals"] == f"Förslag från invånare i {locality.name}"
    assert titles["development_areas"] == "Utvecklingsområden"
    abstract = {t: a for t, _title, a in rows}["proposals"]
    assert "3 förslag" in abstract and "EPSG:3006" in abstract and "Publik version" in abstract


def test_style_xml_is_well_formed_with_both_property_forms(gpkg):
    for table, qml in _qml(gpkg).items():
        for layer in qml.iter("layer"):
            old = {p.get("k"): p.get("v") for p in layer.findall("prop")}
            new = {o.get("name"): o.get("value") for o in layer.findall("Option/Option")}
            assert old == new and old, table


def test_two_layers_with_one_title_still_export(tmp_path):
    # gpkg_contents.identifier is UNIQUE: a locality declaring two layers with the same title must not break the export.
    path = tmp_path / "t.gpkg"
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(396300, 6170000)], crs="EPSG:3006")
    export._create_gpkg(path)
    for table in ("one", "two"):
        write_gpkg(frame, path, layer=table)
    same = styles.LayerText("Samma titel", "Sammanfattning")
    export._write_texts(path, {"one": same, "two": same})
    assert sorted(_rows(path, "select identifier from gpkg_contents where table_name in ('one', 'two')")) == [
        ("Samma titel",),
        ("Samma titel (two)",),
    ]
