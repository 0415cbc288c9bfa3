"""Staff exports of a survey's drawn answers: one layer per map question, joined to the plan in SWEREF 99 TM.

Each row is one drawn shape with its respondent's number (the response's row number, which says
nothing about the person), the comment, whether and why it was repaired, and its joins: for a
point the development areas it lies in; for a line its length, the length inside each development
area and the services within ``NEAR_LINE_M``; for an area its size, its overlap with each
development area (m² and share of the drawn area) and the services inside. Staff only: raw drawn
answers never reach a public output (the public sees ``answer_grid`` cells of at least k).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import csv
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Connection, select

from ..geo import shape_joins
from ..geo.io import frame_to_geojson, write_gpkg
from ..geo.joins import AreaIndex
from .export import describe_gpkg, new_gpkg, spreadsheet_text
from .locality import Locality
from .registry import LayerRegistry
from .schema import survey_responses, survey_shapes, surveys
from .styles import LayerText, drawn_answers_style
from .surveys import Survey, in_language
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")

NEAR_LINE_M = 200.0


def answer_layers(conn: Connection, registry: LayerRegistry, survey: Survey) -> dict[str, gpd.GeoDataFrame]:
    """Return ``{question id: frame in WGS84}`` for every map question of ``survey``, in question order."""
    survey_id = conn.execute(select(surveys.c.id).where(surveys.c.slug == survey.slug)).scalar_one()
    rows = conn.execute(
        select(survey_shapes.c.question_id, survey_shapes.c.response_id, survey_shapes.c.geometry, survey_shapes.c.comment,
               survey_shapes.c.repair)
        .join(survey_responses, survey_responses.c.id == survey_shapes.c.response_id)
        .where(survey_responses.c.survey_id == survey_id)
        .order_by(survey_shapes.c.id)
    ).all()  # fmt: skip
    by_question = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
    areas, services = registry.areas(), registry.services()
    layers = {}
    for question in survey.questions:
        if question.type != "map":
            continue
        found = by_question.get(question.id, [])
        frame = gpd.GeoDataFrame(
            {
                "respondent": [row.response_id for row in found],
                "comment": [row.comment for row in found],
                "repaired": [row.repair or "" for row in found],
            },
            geometry=shapely.from_geojson([row.geometry for row in found]) if found else [],
            crs="EPSG:4326",
        )
        layers[question.id] = _joined(frame, question.geometry, areas, services)
    return layers


def _joined(frame: gpd.GeoDataFrame, kind: str | None, areas: gpd.GeoDataFrame, services: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if kind == "point":
        pairs = AreaIndex(areas).containing(frame)
        frame["areas"] = _listed(frame, pairs["point"], pairs["area_id"].astype(str))
    elif kind == "line":
        frame["length_m"] = shape_joins.line_lengths(frame).round(2)
        pairs = shape_joins.lines_in_areas(frame, areas)
        frame["areas"] = _listed(
            frame, pairs["shape"], pairs["area_id"].astype(str) + ": " + pairs["length_m"].round(1).astype(str) + " m"
        )
        near = shape_joins.services_near_lines(frame, services, NEAR_LINE_M)
        frame[f"services_within_{int(NEAR_LINE_M)}_m"] = near.groupby("shape").size().reindex(frame.index, fill_value=0)
    else:
        frame["area_m2"] = shape_joins.polygon_sizes(frame).round(1)
        pairs = shape_joins.polygon_overlaps(frame, areas)
        text = pairs["area_id"].astype(str) + ": " + pairs["overlap_m2"].round(0).astype(int).astype(str) + " m² ("
        frame["areas"] = _listed(frame, pairs["shape"], text + pairs["share_of_shape_pct"].round(1).astype(str) + " %)")
        inside = shape_joins.services_inside(frame, services)
        frame["services_inside"] = inside.groupby("shape").size().reindex(frame.index, fill_value=0)
    return frame


def _listed(frame: gpd.GeoDataFrame, shape_labels, texts) -> list[str]:
    grouped: dict = defaultdict(list)
    for label, text in zip(shape_labels, texts):
        grouped[label].append(text)
    return ["; ".join(grouped.get(label, [])) for label in frame.index]


def write_survey(layers: dict[str, gpd.GeoDataFrame], survey: Survey, fmt: str, output, locality: Locality) -> list[str]:
    """Write the answer layers: one GeoPackage (a layer per question, EPSG:3006, each with its QGIS style, title
    and abstract), or one GeoJSON/CSV file per question in the folder ``output``. Return the names written."""
    output = Path(output)
    slug = survey.slug
    written = []
    if fmt == "gpkg":
        output.unlink(missing_ok=True)
        new_gpkg(output)
        questions = {question.id: question for question in survey.questions}
        styles, texts = {}, {}
        for question, frame in layers.items():
            table = f"{slug}_{question}"
            write_gpkg(frame, output, layer=table, description=f"Survey {slug}, question {question}")
            styles[table] = drawn_answers_style(table, questions[question].geometry or "point", locality)
            texts[table] = LayerText(
                f"{in_language(survey.title, 'sv')}: {in_language(questions[question].text, 'sv')}",
                f"Ritade svar på enkäten {slug}, fråga {question} ({len(frame)} st). Bara för handläggare. / "
                f"Drawn answers to survey {slug}, question {question} ({len(frame)}). Staff only.",
            )
            written.append(table)
        describe_gpkg(output, styles, texts)
        return written
    output.mkdir(parents=True, exist_ok=True)
    for question, frame in layers.items():
        path = output / f"{slug}-{question}.{fmt}"
        if fmt == "geojson":
            path.write_bytes(frame_to_geojson(frame, id_column=None))
        else:
            columns = [c for c in frame.columns if c != frame.geometry.name]
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\r\n")
                writer.writerow([*columns, "wkt_epsg3006"])
                for values, shape in zip(frame[columns].itertuples(index=False), frame.to_crs("EPSG:3006").geometry):
                    cells = [spreadsheet_text(v) if isinstance(v, str) else v for v in values]
                    writer.writerow([*cells, shapely.to_wkt(shape, rounding_precision=2)])
        written.append(path.name)
    return written
