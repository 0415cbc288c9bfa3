"""Survey rounds as data: files checked line by line, stored, listed, and refused whole when wrong."""

from datetime import date
from importlib.resources import files

import pytest

from dialogkarta.layers.surveys import InvalidSurvey, get_survey, list_surveys, parse_survey, save_survey
from dialogkarta.webmap import db

EXAMPLE = files("dialogkarta.data") / "dalby" / "surveys" / "trygghet-och-vagar.toml"

GOOD = """\
slug = "parker"
opens = 2027-03-01
closes = 2027-03-31
title = { sv = "Parker", en = "Parks" }
intro = { sv = "Om parker.", en = "About parks." }

[[questions]]
id = "favourite"
type = "map"
geometry = "polygon"
max_count = 2
text = { sv = "Rita din park.", en = "Draw your park." }

[[questions]]
id = "visits"
type = "scale"
text = { sv = "Hur ofta?", en = "How often?" }
"""


def mistake(text: str) -> InvalidSurvey:
    with pytest.raises(InvalidSurvey) as caught:
        parse_survey(text)
    return caught.value


def test_the_bundled_dalby_survey_reads_with_a_point_a_line_and_an_area_question():
    survey = parse_survey(EXAMPLE.read_text(encoding="utf-8"))

    assert survey.slug == "trygghet-och-vagar"
    assert [(q.id, q.geometry) for q in survey.questions if q.type == "map"] == [
        ("unsafe_places", "point"),
        ("way_to_school", "line"),
        ("green_spaces", "polygon"),
    ]
    travel = next(q for q in survey.questions if q.id == "travel_mode")
    assert travel.multiple and [o["id"] for o in travel.options] == ["walk", "bike", "bus", "car"]
    assert survey.opens < survey.closes


def test_a_good_file_keeps_its_order_texts_and_limits():
    survey = parse_survey(GOOD)

    assert [q.id for q in survey.questions] == ["favourite", "visits"]
    assert survey.questions[0].max_count == 2 and survey.questions[0].comment is False
    assert survey.title == {"sv": "Parker", "en": "Parks"}
    assert survey.is_open(date(2027, 3, 31)) and not survey.is_open(date(2027, 4, 1))


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (('type = "scale"', 'type = "slider"'), 16, "unknown question type 'slider' (choose text, choice, scale or map)"),
        (('geometry = "polygon"\n', ""), 7, "a map question must give geometry: point, line or polygon"),
        (('geometry = "polygon"', 'geometry = "circle"'), 10, "a map question must give geometry: point, line or polygon"),
        (
            ("closes = 2027-03-31", "closes = 2027-02-28"),
            3,
            "the closing date (2027-02-28) is before the opening date (2027-03-01)",
        ),
        (("opens = 2027-03-01", 'opens = "2027-03-01"'), 2, "opens must be a date without quotes"),
        (('id = "visits"', 'id = "favourite"'), 15, "question 'favourite' appears twice"),
        (("max_count = 2", "max_count = 50"), 11, "max_count must be a whole number 1–20"),
        (("max_count = 2", "max_cuont = 2"), 11, "unknown key 'max_cuont'"),
        (('type = "scale"', 'type = "scale"\ngeometry = "point"'), 17, "geometry does not belong to a scale question"),
        (('en = "Parks"', 'en = ""'), 4, "title needs a Swedish (sv) and an English (en) text"),
        (('slug = "parker"', 'slug = "Parker i Dalby"'), 1, "slug is missing or invalid"),
        (("closes = 2027-03-31", "closes = 2027-03-31 ]"), 3, "the file is not valid TOML"),
        (('type = "scale"', 'type = "scale"\nbackground = true'), 17, "background questions need a consent text"),
        (('type = "map"', 'type = "map"\nbackground = true'), 10, "background does not belong to a map question"),
        (
            ('type = "scale"', 'type = "scale"\nbackground = true\nrequired = true'),
            18,
            "a background question cannot be required",
        ),
    ],
)
def test_mistakes_are_refused_with_the_line_and_the_reason(change, line, reason):
    old, new = change
    assert old in GOOD
    error = mistake(GOOD.replace(old, new, 1))

    assert error.line == line
    assert error.message("en").startswith(f"line {line}: {reason}")
    assert error.message("sv").startswith(f"rad {line}: ")


def test_a_choice_question_needs_two_distinct_options_in_both_languages():
    choice = GOOD + '\n[[questions]]\nid = "mode"\ntype = "choice"\ntext = { sv = "Hur?", en = "How?" }\n'
    assert "needs 2–20 options" in mistake(choice + 'options = [{ id = "walk", sv = "Gå", en = "Walk" }]\n').message("en")
    twice = 'options = [{ id = "walk", sv = "Gå", en = "Walk" }, { id = "walk", sv = "Gå", en = "Walk" }]\n'
    assert "option 'walk' appears twice" in mistake(choice + twice).message("en")
    no_english = 'options = [{ id = "walk", sv = "Gå" }, { id = "bus", sv = "Buss", en = "Bus" }]\n'
    assert "option 'walk' needs sv and en" in mistake(choice + no_english).message("en")


def test_a_survey_without_questions_is_refused():
    assert "the survey has no questions" in mistake(GOOD.split("[[questions]]")[0]).message("en")


def test_import_stores_the_survey_and_list_shows_it(runner, app, tmp_path):
    path = tmp_path / "parker.toml"
    path.write_text(GOOD, encoding="utf-8")

    first = runner.invoke(args=["survey", "import", str(path)])
    again = runner.invoke(args=["survey", "import", str(path)])
    listed = runner.invoke(args=["survey", "list"])

    assert first.exit_code == 0, first.output
    assert "Added survey parker: 2 questions, open 2027-03-01 to 2027-03-31" in first.output
    assert "Updated survey parker" in again.output
    assert "parker\t2027-03-01–2027-03-31" in listed.output and "2 questions\tParker" in listed.output
    with app.app_context(), db.engine().connect() as conn:
        assert get_survey(conn, "parker") == parse_survey(GOOD)


def test_a_file_with_a_mistake_stores_nothing(runner, app, tmp_path):
    path = tmp_path / "wrong.toml"
    path.write_text(GOOD.replace('type = "scale"', 'type = "slider"'), encoding="utf-8")

    result = runner.invoke(args=["survey", "import", str(path)])

    assert result.exit_code == 1
    assert "line 16: unknown question type 'slider'" in result.output
    with app.app_context(), db.engine().connect() as conn:
        assert list_surveys(conn) == []


def test_a_survey_naming_an_activity_that_does_not_exist_is_refused(engine):
    survey = parse_survey("activity = 99\n" + GOOD)
    with engine.begin() as conn, pytest.raises(InvalidSurvey, match="no activity number 99"):
        save_survey(conn, survey)


def test_only_open_surveys_are_listed_as_open(engine):
    with engine.begin() as conn:
        save_survey(conn, parse_survey(GOOD))
        save_survey(conn, parse_survey(GOOD.replace("parker", "senare").replace("2027-03", "2027-05")))

        assert [s.slug for s in list_surveys(conn)] == ["parker", "senare"]
        assert [s.slug for s in list_surveys(conn, open_on=date(2027, 5, 2))] == ["senare"]
        assert list_surveys(conn, open_on=date(2027, 4, 15)) == []


def test_a_background_question_comes_with_the_survey_s_consent_text():
    text = GOOD.replace('type = "scale"', 'type = "scale"\nbackground = true').replace(
        "closes = 2027-03-31", 'closes = 2027-03-31\nconsent = { sv = "Jag samtycker.", en = "I agree." }'
    )
    survey = parse_survey(text)
    assert [q.id for q in survey.questions if q.background] == ["visits"]
    assert survey.consent == {"sv": "Jag samtycker.", "en": "I agree."}
