"""A survey's results for planners: each question's answers counted, narrowed by a cross-filter. No Flask.

A cross-filter keeps the respondents who gave one answer to one choice or scale question ("those
who walk": ``travel_mode=walk``); every count, text list and drawn-answer grid is then over them.
Drawn answers come back as a frame with the respondent of each shape, for ``geo.answer_grid``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from ..geo.errors import UserError
from ..lazy import lazy_module
from .schema import survey_responses, survey_shapes, surveys
from .surveys import Question, Survey

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")

TEXTS_SHOWN = 200  # the newest free-text answers listed per question; the export has all


class InvalidFilter(UserError):
    code = "invalid_filter"


@dataclass(frozen=True)
class Where:
    """Respondents whose answer to ``question`` is (or, for several choices, includes) ``value``."""

    question: str
    value: str

    def as_text(self) -> str:
        return f"{self.question}={self.value}"


def filter_choices(survey: Survey) -> list[tuple[Question, str]]:
    """Every answer a cross-filter can pick: each option of a choice question and each step of a scale."""
    found: list[tuple[Question, str]] = []
    for question in survey.questions:
        if question.type == "choice":
            found.extend((question, option["id"]) for option in question.options)
        elif question.type == "scale":
            found.extend((question, str(step)) for step in range(1, 6))
    return found


def parse_where(survey: Survey, text: str | None) -> Where | None:
    """Read ``question=value``; None for no filter; ``InvalidFilter`` for a question or answer the survey lacks."""
    if not text:
        return None
    question_id, _, value = text.partition("=")
    if (question_id, value) not in {(question.id, choice) for question, choice in filter_choices(survey)}:
        raise InvalidFilter(
            "Filtret ska vara fråga=svar, med en fråga med svarsalternativ eller skala i enkäten.",
            "The filter must be question=answer, for a choice or scale question of the survey.",
            field="where",
        )
    return Where(question_id, value)


def response_counts(conn: Connection) -> dict[str, int]:
    """How many responses each survey has, by slug (a survey nobody answered is left out)."""
    rows = conn.execute(
        select(surveys.c.slug, func.count())
        .join(survey_responses, survey_responses.c.survey_id == surveys.c.id)
        .group_by(surveys.c.slug)
    ).all()
    return {str(slug): int(count) for slug, count in rows}


def load_responses(conn: Connection, survey: Survey) -> dict[int, dict]:
    """Return ``{response id: answers}`` (choice, scale and text answers; drawn shapes are in ``drawn_answers``)."""
    rows = conn.execute(
        select(survey_responses.c.id, survey_responses.c.answers)
        .join(surveys, surveys.c.id == survey_responses.c.survey_id)
        .where(surveys.c.slug == survey.slug)
        .order_by(survey_responses.c.id)
    ).all()
    return {row.id: json.loads(row.answers) for row in rows}


def matching(responses: dict[int, dict], where: Where | None) -> dict[int, dict]:
    """The responses the filter keeps (all of them without one)."""
    if where is None:
        return responses

    def keeps(answers: dict) -> bool:
        given = answers.get(where.question)
        return where.value in ([str(v) for v in given] if isinstance(given, list) else [str(given)])

    return {response_id: answers for response_id, answers in responses.items() if keeps(answers)}


def choice_counts(question: Question, responses: dict[int, dict]) -> dict[str, int]:
    """How many respondents chose each option, in the survey's order (zero included)."""
    counts = {option["id"]: 0 for option in question.options}
    for answers in responses.values():
        given = answers.get(question.id)
        for option in given if isinstance(given, list) else [given]:
            if option in counts:
                counts[option] += 1
    return counts


def scale_counts(question: Question, responses: dict[int, dict]) -> dict[int, int]:
    counts = dict.fromkeys(range(1, 6), 0)
    for answers in responses.values():
        if answers.get(question.id) in counts:
            counts[answers[question.id]] += 1
    return counts


def scale_mean(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    return sum(step * n for step, n in counts.items()) / total if total else None


def text_answers(question: Question, responses: dict[int, dict]) -> list[str]:
    """The newest ``TEXTS_SHOWN`` free-text answers, newest first."""
    given = [answers[question.id] for answers in responses.values() if answers.get(question.id)]
    return given[::-1][:TEXTS_SHOWN]


def drawn_answers(conn: Connection, survey: Survey, question_id: str, response_ids=None) -> gpd.GeoDataFrame:
    """The shapes drawn for one map question (by the given respondents; None: by all), in WGS84, with ``respondent``."""
    rows = conn.execute(
        select(survey_shapes.c.response_id, survey_shapes.c.geometry)
        .join(survey_responses, survey_responses.c.id == survey_shapes.c.response_id)
        .join(surveys, surveys.c.id == survey_responses.c.survey_id)
        .where(surveys.c.slug == survey.slug, survey_shapes.c.question_id == question_id)
        .order_by(survey_shapes.c.id)
    ).all()
    wanted = None if response_ids is None else set(response_ids)
    kept = [row for row in rows if wanted is None or row.response_id in wanted]
    return gpd.GeoDataFrame(
        {"respondent": [row.response_id for row in kept]},
        geometry=shapely.from_geojson([row.geometry for row in kept]) if kept else [],
        crs="EPSG:4326",
    )
