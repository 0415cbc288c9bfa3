"""A survey's results as planners read them: per question a table and a chart, or a grid map of the drawn answers.

Counts come from ``layers.survey_results``; charts are the report's bar charts (``planner_report``);
a map question's answers are counted on a SWEREF 99 TM grid by ``geo.answer_grid`` (respondents per
cell: a heat map of points, the density of drawn lines, the overlap of drawn areas) and drawn with
the locality's boundary and development areas as inline SVG. Staff see every cell (k = 1); the
public grid API keeps its k.
"""

from __future__ import annotations

from matplotlib.figure import Figure

import matplotlib
from flask_babel import gettext as _

from ..geo.answer_grid import answer_grid
from ..geo.crs import to_metric
from ..layers import survey_results
from ..layers.surveys import Survey, in_language
from .planner_report import SVG_RC, _svg, bar_chart, metric_axes, shade_by_count

STAFF_MIN_ANSWERS = 1


def grid_map(registry, grid, title: str) -> str:
    """The cells of ``grid`` (EPSG:3006, ``count``) shaded by count over the locality's boundary and areas, as SVG."""
    with matplotlib.rc_context(SVG_RC):
        fig = Figure(figsize=(7, 5.5))
        ax = fig.subplots()
        to_metric(registry.frame(registry.locality.boundary_layer)).boundary.plot(
            ax=ax, color="#333333", linewidth=1, linestyle="--"
        )
        to_metric(registry.areas()).boundary.plot(ax=ax, color="#6a51a3", linewidth=1)
        if len(grid):
            shade_by_count(ax, grid, "OrRd", _("antal svarande"), alpha=0.85)
        metric_axes(ax, title)
        return _svg(fig, title)


def build(conn, registry, survey: Survey, where: survey_results.Where | None, cell_m: int, lang: str) -> dict:
    """Every question's results over the respondents ``where`` keeps."""
    everyone = survey_results.load_responses(conn, survey)
    kept = survey_results.matching(everyone, where)
    questions = []
    for question in survey.questions:
        text = in_language(question.text, lang)
        result = {"id": question.id, "type": question.type, "text": text}
        if question.type == "choice":
            labels = {option["id"]: in_language(option, lang) for option in question.options}
            counts = survey_results.choice_counts(question, kept)
            result |= {"rows": [(labels[k], n) for k, n in counts.items()], "chart": bar_chart(counts, labels, text)}
        elif question.type == "scale":
            counts = survey_results.scale_counts(question, kept)
            labels = {step: str(step) for step in counts}
            if question.low:
                labels[1] = f"1 {in_language(question.low, lang)}"
            if question.high:
                labels[5] = f"5 {in_language(question.high, lang)}"
            result |= {
                "rows": [(labels[k], n) for k, n in counts.items()],
                "mean": survey_results.scale_mean(counts),
                "chart": bar_chart(counts, labels, text),
            }
        elif question.type == "text":
            result["texts"] = survey_results.text_answers(question, kept)
        else:
            shapes = survey_results.drawn_answers(conn, survey, question.id, kept)
            grid = answer_grid(shapes, cell_m, STAFF_MIN_ANSWERS)
            result |= {
                "geometry": question.geometry,
                "shapes": len(shapes),
                "respondents": int(shapes["respondent"].nunique()),
                "map": grid_map(registry, grid, text),
                "busiest": int(grid["count"].max()) if len(grid) else 0,
            }
        questions.append(result)
    choices = [
        (f"{question.id}={value}", f"{in_language(question.text, lang)} – {_choice_label(question, value, lang)}")
        for question, value in survey_results.filter_choices(survey)
    ]
    return {"total": len(everyone), "kept": len(kept), "questions": questions, "filter_choices": choices}


def _choice_label(question, value: str, lang: str) -> str:
    if question.type == "scale":
        return value
    option = next(option for option in question.options if option["id"] == value)
    return in_language(option, lang)
