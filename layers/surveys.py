"""Survey rounds as data: read a survey file (TOML), check it, keep it in the store, list the open ones.

A survey file names its questions in order; each question is ``text``, ``choice`` (one or many),
``scale`` (1–5) or ``map`` (a ``point``, ``line`` or ``polygon`` drawn on the map, at most
``max_count`` of them, each with an optional comment). Every mistake in a file is reported with
its line and the reason, in Swedish and English; nothing is stored from a file with a mistake.
The definition is kept as JSON beside its slug and dates. No Flask.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import Connection, insert, select, update

from ..geo.errors import UserError
from .schema import activities, surveys
from .store import utcnow

QUESTION_TYPES = ("text", "choice", "scale", "map")
GEOMETRIES = ("point", "line", "polygon")
LANGUAGES = ("sv", "en")
MAX_QUESTIONS = 50
MAX_OPTIONS = 20
MAX_DRAWN = 20
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SURVEY_KEYS = {"slug", "title", "intro", "opens", "closes", "activity", "consent", "questions"}
_QUESTION_KEYS = {
    "id", "type", "text", "required", "background", "options", "multiple", "geometry", "max_count", "comment", "low", "high",
}  # fmt: skip
_KEYS_BY_TYPE = {
    "text": {"background"},
    "choice": {"options", "multiple", "background"},
    "scale": {"low", "high", "background"},
    "map": {"geometry", "max_count", "comment"},
}


class InvalidSurvey(UserError):
    """A survey file with a mistake; ``line`` is where it is (1-based, None when the file is empty)."""

    code = "invalid_survey"

    def __init__(self, sv: str, en: str, line: int | None = None):
        where_sv, where_en = (f"rad {line}: ", f"line {line}: ") if line else ("", "")
        super().__init__(where_sv + sv, where_en + en, line=line)
        self.line = line


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: dict
    required: bool = False
    options: tuple = ()  # choice: ({"id", "sv", "en"}, ...)
    multiple: bool = False  # choice: more than one option may be chosen
    geometry: str | None = None  # map: point, line or polygon
    max_count: int = 1  # map: how many shapes one answer may hold
    comment: bool = False  # map: a comment per drawn shape
    low: dict = field(default_factory=dict)  # scale: words for 1 and 5
    high: dict = field(default_factory=dict)
    background: bool = False  # about the respondent (age, household): asked, and kept, only with consent


@dataclass(frozen=True)
class Survey:
    slug: str
    title: dict
    intro: dict
    opens: date
    closes: date
    questions: tuple[Question, ...]
    activity: int | None = None
    consent: dict = field(default_factory=dict)  # what a respondent agrees to before background questions

    def is_open(self, today: date) -> bool:
        return self.opens <= today <= self.closes

    def definition(self) -> dict:
        """The survey as JSON-ready data (dates as ISO strings), the form it is stored and served in."""
        data = asdict(self)
        data["opens"], data["closes"] = self.opens.isoformat(), self.closes.isoformat()
        return data


def in_language(texts: dict, lang: str) -> str:
    """The text in ``lang``, else Swedish, else any: a survey file may lack a language."""
    return texts.get(lang) or texts.get("sv") or next(iter(texts.values()), "")


class _Lines:
    """Find where a key sits in a TOML text, for error messages: top level or in the n-th ``[[questions]]``."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.question_starts = [i for i, line in enumerate(self.lines) if re.match(r"^\s*\[\[\s*questions\s*\]\]", line)]

    def of(self, key: str | None = None, question: int | None = None) -> int | None:
        if question is None:
            start, end = 0, (self.question_starts[0] if self.question_starts else len(self.lines))
        else:
            start = self.question_starts[question]
            end = self.question_starts[question + 1] if question + 1 < len(self.question_starts) else len(self.lines)
        if key is not None:
            pattern = re.compile(rf"^\s*(\[\s*(questions\.)?{re.escape(key)}\s*\]|{re.escape(key)}\s*[=.])")
            for number in range(start, end):
                if pattern.match(self.lines[number]):
                    return number + 1
        return start + 1 if question is not None else None


def parse_survey(text: str) -> Survey:
    """Return the survey a TOML text declares, or raise ``InvalidSurvey`` naming the line and the reason."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        reason = str(exc).split(" (at line")[0]
        raise InvalidSurvey(
            f"filen är inte giltig TOML ({reason})", f"the file is not valid TOML ({reason})", int(found[1]) if found else None
        ) from None
    lines = _Lines(text)
    _no_unknown_keys(raw, _SURVEY_KEYS, lines, None)
    slug = raw.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise InvalidSurvey(
            "slug saknas eller är ogiltig (små bokstäver, siffror och bindestreck, 2–63 tecken)",
            "slug is missing or invalid (lower-case letters, digits and hyphens, 2–63 characters)",
            lines.of("slug"),
        )
    title = _texts(raw, "title", lines, None, limit=200)
    intro = _texts(raw, "intro", lines, None, limit=4000)
    opens, closes = _date(raw, "opens", lines), _date(raw, "closes", lines)
    if closes < opens:
        raise InvalidSurvey(
            f"sista dagen ({closes}) ligger före första dagen ({opens})",
            f"the closing date ({closes}) is before the opening date ({opens})",
            lines.of("closes"),
        )
    activity = raw.get("activity")
    if activity is not None and (not isinstance(activity, int) or isinstance(activity, bool) or activity < 1):
        raise InvalidSurvey(
            "activity ska vara numret på en aktivitet i aktivitetsplanen",
            "activity must be the number of an activity in the activity plan",
            lines.of("activity"),
        )
    items = raw.get("questions")
    if not isinstance(items, list) or not items:
        raise InvalidSurvey("enkäten har inga frågor ([[questions]])", "the survey has no questions ([[questions]])", lines.of())
    if len(items) > MAX_QUESTIONS:
        raise InvalidSurvey(
            f"högst {MAX_QUESTIONS} frågor", f"at most {MAX_QUESTIONS} questions", lines.of(question=MAX_QUESTIONS)
        )
    questions = tuple(_question(item, n, lines) for n, item in enumerate(items))
    seen: set[str] = set()
    for n, question in enumerate(questions):
        if question.id in seen:
            raise InvalidSurvey(
                f"frågan {question.id!r} finns redan", f"question {question.id!r} appears twice", lines.of("id", n)
            )
        seen.add(question.id)
    background = [n for n, question in enumerate(questions) if question.background]
    consent = _texts(raw, "consent", lines, None, limit=2000) if "consent" in raw else {}
    if background and not consent:
        raise InvalidSurvey(
            "bakgrundsfrågor kräver en samtyckestext: consent = { sv = ..., en = ... }",
            "background questions need a consent text: consent = { sv = ..., en = ... }",
            lines.of("background", background[0]),
        )
    return Survey(slug, title, intro, opens, closes, questions, activity, consent)


def _question(item, n: int, lines: _Lines) -> Question:
    if not isinstance(item, dict):
        raise InvalidSurvey("en fråga ska vara en tabell", "a question must be a table", lines.of(question=n))
    _no_unknown_keys(item, _QUESTION_KEYS, lines, n)
    question_id = item.get("id")
    if not isinstance(question_id, str) or not _QUESTION_ID.match(question_id):
        raise InvalidSurvey(
            "frågan saknar id eller har ett ogiltigt (små bokstäver, siffror och _, börjar med en bokstav)",
            "the question has no id or an invalid one (lower-case letters, digits and _, starting with a letter)",
            lines.of("id", n),
        )
    kind = item.get("type")
    if kind not in QUESTION_TYPES:
        raise InvalidSurvey(
            f"okänd frågetyp {kind!r} (välj text, choice, scale eller map)",
            f"unknown question type {kind!r} (choose text, choice, scale or map)",
            lines.of("type", n),
        )
    for key in sorted(set(item) - {"id", "type", "text", "required"} - _KEYS_BY_TYPE[kind]):
        raise InvalidSurvey(
            f"{key} hör inte till en fråga av typen {kind}", f"{key} does not belong to a {kind} question", lines.of(key, n)
        )
    required = item.get("required", False)
    if not isinstance(required, bool):
        raise InvalidSurvey("required ska vara true eller false", "required must be true or false", lines.of("required", n))
    background = _flag(item, "background", lines, n)
    if background and required:
        raise InvalidSurvey(
            "en bakgrundsfråga kan inte vara obligatorisk (den besvaras bara med samtycke)",
            "a background question cannot be required (it is answered only with consent)",
            lines.of("required", n),
        )
    text = _texts(item, "text", lines, n, limit=1000)
    if kind == "choice":
        return Question(
            question_id, kind, text, required, options=_options(item, lines, n), multiple=_flag(item, "multiple", lines, n),
            background=background,
        )  # fmt: skip
    if kind == "scale":
        low = _texts(item, "low", lines, n, limit=100) if "low" in item else {}
        high = _texts(item, "high", lines, n, limit=100) if "high" in item else {}
        return Question(question_id, kind, text, required, low=low, high=high, background=background)
    if kind == "map":
        geometry = item.get("geometry")
        if geometry not in GEOMETRIES:
            raise InvalidSurvey(
                "en kartfråga ska ange geometry: point, line eller polygon",
                "a map question must give geometry: point, line or polygon",
                lines.of("geometry", n) if "geometry" in item else lines.of(question=n),
            )
        max_count = item.get("max_count", 1)
        if not isinstance(max_count, int) or isinstance(max_count, bool) or not 1 <= max_count <= MAX_DRAWN:
            raise InvalidSurvey(
                f"max_count ska vara ett heltal 1–{MAX_DRAWN}",
                f"max_count must be a whole number 1–{MAX_DRAWN}",
                lines.of("max_count", n),
            )
        return Question(
            question_id, kind, text, required, geometry=geometry, max_count=max_count, comment=_flag(item, "comment", lines, n)
        )
    return Question(question_id, kind, text, required, background=background)


def _options(item: dict, lines: _Lines, n: int) -> tuple:
    options = item.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise InvalidSurvey(
            f"en valfråga ska ha 2–{MAX_OPTIONS} svarsalternativ (options)",
            f"a choice question needs 2–{MAX_OPTIONS} options",
            lines.of("options", n) if "options" in item else lines.of(question=n),
        )
    checked, seen = [], set()
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("id"), str) or not _QUESTION_ID.match(option["id"]):
            raise InvalidSurvey(
                "varje svarsalternativ behöver ett id och en text på svenska och engelska",
                "each option needs an id and a text in Swedish and English",
                lines.of("options", n),
            )
        if option["id"] in seen:
            raise InvalidSurvey(
                f"svarsalternativet {option['id']!r} finns redan",
                f"option {option['id']!r} appears twice",
                lines.of("options", n),
            )
        seen.add(option["id"])
        labels = {lang: option.get(lang) for lang in LANGUAGES}
        if not all(isinstance(label, str) and label.strip() and len(label) <= 200 for label in labels.values()):
            raise InvalidSurvey(
                f"svarsalternativet {option['id']!r} behöver sv och en (högst 200 tecken)",
                f"option {option['id']!r} needs sv and en (at most 200 characters)",
                lines.of("options", n),
            )
        checked.append({"id": option["id"], **{lang: str(label).strip() for lang, label in labels.items()}})
    return tuple(checked)


def _texts(table: dict, key: str, lines: _Lines, n: int | None, limit: int) -> dict:
    value = table.get(key)
    where = lines.of(key, n) if key in table else lines.of(question=n) if n is not None else None
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES):
        raise InvalidSurvey(
            f"{key} behöver en text på svenska (sv) och engelska (en)",
            f"{key} needs a Swedish (sv) and an English (en) text",
            where,
        )
    if any(not isinstance(text, str) or len(text) > limit for text in value.values()):
        raise InvalidSurvey(f"{key} får vara högst {limit} tecken", f"{key} may be at most {limit} characters", where)
    return {lang: text.strip() for lang, text in value.items()}


def _date(raw: dict, key: str, lines: _Lines) -> date:
    value = raw.get(key)
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidSurvey(
            f"{key} ska vara ett datum utan citattecken, t.ex. {key} = 2027-03-01",
            f"{key} must be a date without quotes, e.g. {key} = 2027-03-01",
            lines.of(key),
        )
    return value


def _flag(item: dict, key: str, lines: _Lines, n: int) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise InvalidSurvey(f"{key} ska vara true eller false", f"{key} must be true or false", lines.of(key, n))
    return value


def _no_unknown_keys(table: dict, known: set, lines: _Lines, n: int | None) -> None:
    for key in sorted(set(table) - known):
        raise InvalidSurvey(f"okänd nyckel {key!r}", f"unknown key {key!r}", lines.of(key, n))


# --------------------------------------------------------------------------- the store


def survey_from_definition(data: dict) -> Survey:
    questions = tuple(Question(**{**q, "options": tuple(q["options"])}) for q in data["questions"])
    return Survey(
        data["slug"], data["title"], data["intro"], date.fromisoformat(data["opens"]), date.fromisoformat(data["closes"]),
        questions, data.get("activity"), data.get("consent", {}),
    )  # fmt: skip


def save_survey(conn: Connection, survey: Survey) -> str:
    """Store ``survey`` (a new slug is added, a known one replaced); return "created" or "updated"."""
    if (
        survey.activity is not None
        and conn.execute(select(activities.c.id).where(activities.c.id == survey.activity)).first() is None
    ):
        raise InvalidSurvey(
            f"det finns ingen aktivitet nummer {survey.activity} i aktivitetsplanen",
            f"there is no activity number {survey.activity} in the activity plan",
        )
    now = utcnow()
    values = {
        "definition": json.dumps(survey.definition(), ensure_ascii=False, sort_keys=True),
        "opens_on": survey.opens,
        "closes_on": survey.closes,
        "activity_id": survey.activity,
        "updated_at": now,
    }
    known = conn.execute(select(surveys.c.id).where(surveys.c.slug == survey.slug)).first()
    if known is None:
        conn.execute(insert(surveys).values(slug=survey.slug, created_at=now, **values))
        return "created"
    conn.execute(update(surveys).where(surveys.c.id == known.id).values(**values))
    return "updated"


def list_surveys(conn: Connection, open_on: date | None = None) -> list[Survey]:
    """Every stored survey by opening date, or only those open on ``open_on``."""
    query = select(surveys.c.definition).order_by(surveys.c.opens_on, surveys.c.slug)
    if open_on is not None:
        query = query.where(surveys.c.opens_on <= open_on, surveys.c.closes_on >= open_on)
    return [survey_from_definition(json.loads(row.definition)) for row in conn.execute(query)]


def get_survey(conn: Connection, slug: str) -> Survey | None:
    row = conn.execute(select(surveys.c.definition).where(surveys.c.slug == slug)).first()
    return survey_from_definition(json.loads(row.definition)) if row else None
