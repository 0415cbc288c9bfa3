"""Survey results for planners: each question counted, drawn answers on a grid, narrowed by a cross-filter; staff only."""

import pytest

from dialogkarta.layers import survey_results, surveys
from dialogkarta.testing import login, make_user
from dialogkarta.webmap import db
from tests.routes import open_example_survey

SLUG = "trygghet-och-vagar"
PARK = {
    "type": "Polygon",
    "coordinates": [[[13.349, 55.664], [13.351, 55.664], [13.351, 55.665], [13.349, 55.665], [13.349, 55.664]]],
}
SPOT = {"type": "Point", "coordinates": [13.3514, 55.6652]}
# Three residents: two walk (one also cycles), one drives; only walkers drew the park.
RESIDENTS = [
    {"travel_mode": ["walk", "bike"], "safety_overall": 4, "green_spaces": PARK, "anything_else": "Fler bänkar"},
    {"travel_mode": ["walk"], "safety_overall": 2, "green_spaces": PARK, "unsafe_places": SPOT},
    {"travel_mode": ["car"], "safety_overall": 5, "anything_else": "<b>Parkering</b>"},
]


@pytest.fixture
def answered(app):
    with app.app_context(), db.transaction() as conn:
        surveys.save_survey(conn, open_example_survey())
    for answers in RESIDENTS:
        reply = app.test_client().post(f"/api/surveys/{SLUG}/responses", json={"answers": answers})  # a new browser each
        assert reply.status_code == 201, reply.get_json()
    return app


@pytest.fixture
def planner(answered):
    make_user(answered, "pia")
    client = answered.test_client()
    login(client, "pia")
    return client


def test_choices_and_scales_are_counted_over_every_respondent(answered):
    survey = open_example_survey()
    questions = {q.id: q for q in survey.questions}
    with answered.app_context(), db.reading() as conn:
        everyone = survey_results.load_responses(conn, survey)
    assert survey_results.choice_counts(questions["travel_mode"], everyone) == {"walk": 2, "bike": 1, "bus": 0, "car": 1}
    assert survey_results.scale_counts(questions["safety_overall"], everyone) == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert survey_results.scale_mean({1: 0, 2: 1, 3: 0, 4: 1, 5: 1}) == pytest.approx(11 / 3)
    assert survey_results.text_answers(questions["anything_else"], everyone) == ["<b>Parkering</b>", "Fler bänkar"]


def test_a_cross_filter_keeps_only_those_who_gave_that_answer(answered):
    survey = open_example_survey()
    questions = {q.id: q for q in survey.questions}
    with answered.app_context(), db.reading() as conn:
        walkers = survey_results.matching(
            survey_results.load_responses(conn, survey), survey_results.parse_where(survey, "travel_mode=walk")
        )
        drawn = survey_results.drawn_answers(conn, survey, "green_spaces", walkers)
    assert survey_results.scale_counts(questions["safety_overall"], walkers) == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    assert len(drawn) == 2 and drawn["respondent"].nunique() == 2


@pytest.mark.parametrize("where", ["travel_mode=plane", "ingen=walk", "anything_else=x", "safety_overall=6", "travel_mode"])
def test_a_filter_the_survey_cannot_answer_is_refused(where):
    with pytest.raises(survey_results.InvalidFilter):
        survey_results.parse_where(open_example_survey(), where)


def test_the_results_page_shows_tables_charts_texts_as_text_and_a_grid_map(planner):
    page = planner.get(f"/planner/surveys/{SLUG}?lang=sv").get_data(as_text=True)
    assert '<p id="respondents">3 svarande.</p>' in page
    walk_row = page.split('id="table-travel_mode"')[1].split("</table>")[0]
    assert '<th scope="row">Till fots</th><td>2</td>' in walk_row
    assert "&lt;b&gt;Parkering&lt;/b&gt;" in page and "<b>Parkering</b>" not in page
    assert "2 ritade svar från 2 svarande." in page and "Flest i en ruta: 2." in page
    assert page.count('<svg role="img"') == 6  # three charts (two choice, one scale) and three maps


def test_the_results_page_narrowed_to_those_who_drive(planner):
    page = planner.get(f"/planner/surveys/{SLUG}?lang=sv&where=travel_mode%3Dcar").get_data(as_text=True)
    assert '<p id="respondents">1 av 3 svarande, filtrerat.</p>' in page
    assert "0 ritade svar från 0 svarande." in page
    assert '<option value="travel_mode=car" selected>' in page


@pytest.mark.parametrize("query", ["where=travel_mode%3Dplane", "cell=5", "cell=abc", "where=" + "x" * 300])
def test_a_bad_filter_or_cell_size_is_a_400_saying_why(planner, query):
    reply = planner.get(f"/planner/surveys/{SLUG}?lang=en&{query}")
    assert reply.status_code == 400
    assert any(word in reply.get_data(as_text=True) for word in ("filter", "cell", "where"))


def test_the_list_shows_each_round_with_its_responses(planner):
    page = planner.get("/planner/surveys?lang=sv").get_data(as_text=True)
    assert f'href="/planner/surveys/{SLUG}">Trygghet och vägar i Dalby</a>' in page and "<td>3</td>" in page


def test_residents_and_anonymous_visitors_get_no_results(answered):
    anonymous = answered.test_client()
    assert anonymous.get(f"/planner/surveys/{SLUG}").status_code in (302, 401)
    assert anonymous.get("/planner/surveys").status_code in (302, 401)
    assert anonymous.get("/planner/surveys/finns-inte").status_code in (302, 401)


def test_an_unknown_survey_is_404_for_staff(planner):
    assert planner.get("/planner/surveys/finns-inte").status_code == 404


def test_the_summary_report_lists_each_survey_round_with_its_responses_and_a_link_to_its_results(planner):
    page = planner.get("/planner/report?lang=sv").get_data(as_text=True)
    table = page.split('id="table-surveys"')[1].split("</table>")[0]
    assert f'<a href="/planner/surveys/{SLUG}">Trygghet och vägar i Dalby</a>' in table and "<td>3</td>" in table


def test_planners_download_the_drawn_answers_as_a_geopackage_gdal_opens(planner, tmp_path):
    import pyogrio

    reply = planner.get(f"/planner/surveys/{SLUG}/export.gpkg")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "private, no-store"
    assert f"filename={SLUG}.gpkg" in reply.headers["Content-Disposition"]
    path = tmp_path / "download.gpkg"
    path.write_bytes(reply.data)
    layers = {name: kind for name, kind in pyogrio.list_layers(path) if name != "layer_styles"}
    assert set(layers) == {f"{SLUG}_unsafe_places", f"{SLUG}_way_to_school", f"{SLUG}_green_spaces"}
    areas = pyogrio.read_dataframe(path, layer=f"{SLUG}_green_spaces")
    assert len(areas) == 2 and areas.crs.to_epsg() == 3006
    assert planner.get("/planner/surveys/finns-inte/export.gpkg").status_code == 404
