"""Answers to a survey: check every answer against its question, keep one response per browser.

``check_answers`` judges a whole response before anything is written (a wrong answer refuses
the response and names the question); ``save_response`` writes it, replacing the browser's
earlier response to the same survey, in one transaction. Drawn shapes are checked by
``geo.drawn`` (kind, vertices, inside the locality; self-crossing areas repaired and reported).
The respondent is kept only as the hash of the browser's random token. No Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from ..geo.answer_grid import answer_grid
from ..geo.drawn import check_drawn
from ..geo.errors import UserError
from .schema import survey_responses, survey_shapes, surveys
from .store import hash_token, inserted_id
from .survey_results import drawn_answers
from .surveys import Question, Survey
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
    from shapely.geometry.base import BaseGeometry
else:
    gpd = lazy_module("geopandas")
    shapely = lazy_module("shapely")

MAX_TEXT = 2000
MAX_COMMENT = 500


class InvalidAnswer(UserError):
    """An answer that does not fit its question; ``field`` is the question's id."""

    code = "invalid_answer"


class SurveyClosed(UserError):
    code = "survey_closed"


@dataclass
class CheckedResponse:
    values: dict = field(default_factory=dict)  # question id -> text, option id(s) or scale value
    shapes: list = field(default_factory=list)  # (question id, kind, geometry, comment, repair)

    def repairs(self) -> list[dict]:
        return [
            {"question": question, "index": index, "reason": repair}
            for question, index, repair in self._numbered()
            if repair is not None
        ]

    def _numbered(self):
        counts: dict[str, int] = {}
        for question, _kind, _geometry, _comment, repair in self.shapes:
            counts[question] = counts.get(question, 0) + 1
            yield question, counts[question] - 1, repair


def check_answers(
    survey: Survey, answers, boundary: BaseGeometry, locality_name: str = "orten", consent: bool = False
) -> CheckedResponse:
    """Return the checked response, or raise ``InvalidAnswer`` (or a geometry error) for the first wrong answer.

    Background questions are answered only with ``consent``; an answer to one without it is refused.
    """
    if not isinstance(answers, dict):
        raise InvalidAnswer("answers ska vara ett objekt {fråga: svar}.", "answers must be an object {question: answer}.")
    questions = {question.id: question for question in survey.questions}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise InvalidAnswer(f"Okänd fråga: {unknown[0]}.", f"Unknown question: {unknown[0]}.", field=unknown[0])
    checked = CheckedResponse()
    for question in survey.questions:
        value = answers.get(question.id)
        if value is None or value == [] or value == "":
            if question.required:
                raise InvalidAnswer("Frågan måste besvaras.", "This question must be answered.", field=question.id)
            continue
        if question.background and not consent:
            raise InvalidAnswer(
                "Bakgrundsfrågor sparas bara om du samtycker. Kryssa i samtycket eller lämna frågan tom.",
                "Background questions are kept only with your consent. Tick the consent or leave the question empty.",
                field=question.id,
            )
        if question.type == "map":
            checked.shapes.extend(_shapes(question, value, boundary, locality_name))
        else:
            checked.values[question.id] = _value(question, value)
    return checked


def _value(question: Question, value):
    wrong = InvalidAnswer
    if question.type == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise wrong(
                f"Svaret ska vara text, högst {MAX_TEXT} tecken.",
                f"The answer must be text, at most {MAX_TEXT} characters.",
                field=question.id,
            )
        return value.strip()
    if question.type == "scale":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise wrong("Svaret ska vara ett heltal 1–5.", "The answer must be a whole number 1–5.", field=question.id)
        return value
    known = [option["id"] for option in question.options]
    chosen = value if question.multiple and isinstance(value, list) else [value]
    if not all(isinstance(option, str) and option in known for option in chosen) or len(set(chosen)) != len(chosen):
        raise wrong(
            f"Välj bland: {', '.join(known)}.", f"Choose from: {', '.join(known)}.", field=question.id
        )  # fmt: skip
    return sorted(chosen, key=known.index) if question.multiple else chosen[0]


def _shapes(question: Question, value, boundary, locality_name) -> list:
    items = value if isinstance(value, list) else [value]
    if len(items) > question.max_count:
        raise InvalidAnswer(
            f"Högst {question.max_count} ritade svar på den här frågan.",
            f"At most {question.max_count} drawn answers to this question.",
            field=question.id,
        )
    shapes = []
    for item in items:
        geometry, comment = (
            (item.get("geometry"), item.get("comment", "")) if isinstance(item, dict) and "geometry" in item else (item, "")
        )
        if comment and not question.comment:
            raise InvalidAnswer("Den här frågan tar inga kommentarer.", "This question takes no comments.", field=question.id)
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise InvalidAnswer(
                f"En kommentar är text, högst {MAX_COMMENT} tecken.",
                f"A comment is text, at most {MAX_COMMENT} characters.",
                field=question.id,
            )
        try:
            drawn = check_drawn(geometry, question.geometry or "point", boundary, locality_name)
        except UserError as error:
            error.details["field"] = question.id
            raise
        shapes.append((question.id, question.geometry, drawn.geometry, comment.strip(), drawn.repair))
    return shapes


def save_response(
    conn: Connection, survey: Survey, browser_token: str, checked: CheckedResponse, now: datetime, today: date
) -> bool:
    """Store the response (replacing this browser's earlier one); return True when it is the first."""
    if not survey.is_open(today):
        raise SurveyClosed(
            f"Enkäten är stängd (öppen {survey.opens}–{survey.closes}).",
            f"The survey is closed (open {survey.opens} to {survey.closes}).",
        )
    survey_id = conn.execute(select(surveys.c.id).where(surveys.c.slug == survey.slug)).scalar_one()
    respondent = hash_token(browser_token)
    earlier = conn.execute(
        select(survey_responses.c.id).where(
            survey_responses.c.survey_id == survey_id, survey_responses.c.respondent == respondent
        )
    ).first()
    answers = json.dumps(checked.values, ensure_ascii=False, sort_keys=True)
    if earlier is None:
        values = {"survey_id": survey_id, "respondent": respondent, "answers": answers, "created_at": now, "updated_at": now}
        response_id = inserted_id(conn.execute(insert(survey_responses).values(**values)))
    else:
        response_id = earlier.id
        conn.execute(update(survey_responses).where(survey_responses.c.id == response_id).values(answers=answers, updated_at=now))
        conn.execute(delete(survey_shapes).where(survey_shapes.c.response_id == response_id))
    if checked.shapes:
        rows = [
            {
                "response_id": response_id,
                "question_id": question,
                "kind": kind,
                "geometry": shapely.to_geojson(geometry),
                "comment": comment,
                "repair": repair,
            }
            for question, kind, geometry, comment, repair in checked.shapes
        ]
        conn.execute(insert(survey_shapes), rows)
    return earlier is None


def load_response(conn: Connection, survey: Survey, browser_token: str) -> dict | None:
    """This browser's answers as it sent them (drawn shapes as GeoJSON with their comments), or None."""
    respondent = hash_token(browser_token)
    response = conn.execute(
        select(survey_responses.c.id, survey_responses.c.answers, survey_responses.c.updated_at)
        .join(surveys, surveys.c.id == survey_responses.c.survey_id)
        .where(surveys.c.slug == survey.slug, survey_responses.c.respondent == respondent)
    ).first()
    if response is None:
        return None
    answers: dict = json.loads(response.answers)
    shapes = conn.execute(
        select(survey_shapes.c.question_id, survey_shapes.c.geometry, survey_shapes.c.comment)
        .where(survey_shapes.c.response_id == response.id)
        .order_by(survey_shapes.c.id)
    ).all()
    for shape in shapes:
        drawn = {"geometry": json.loads(shape.geometry)} | ({"comment": shape.comment} if shape.comment else {})
        answers.setdefault(shape.question_id, []).append(drawn)
    return {"answers": answers, "updated_at": response.updated_at}


def question_grid(conn: Connection, survey: Survey, question_id: str, cell_m: float, k: int) -> gpd.GeoDataFrame:
    """The public grid of one map question's answers (EPSG:3006 cells of at least ``k`` respondents)."""
    shapes = drawn_answers(conn, survey, question_id)
    return answer_grid(shapes, cell_m, k)
