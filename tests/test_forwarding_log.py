"""Where a proposal went: the planner confirms or forwards, and the resident's permalink shows the
public forwarding log (department or committee, when, its public answer), never a staff member."""

from __future__ import annotations

import re

import pytest

from dialogkarta.layers import workflow
from dialogkarta.webmap import db
from tests.planner_helpers import add_proposal, feature_point, login, make_user, post_form

STAFF = "Greta.Gronkvist@lund-kommun.example"  # her name and e-mail in one: both must stay out of public outputs
STAFF_TRACES = ("gronkvist", "grönkvist", "lund-kommun.example")
NOTE = "Greta Grönkvist ringer trafikingenjören"


@pytest.fixture
def routed(app, client):
    """A traffic proposal the routing table gave to Tekniska, and Greta logged in as a planner."""
    with app.app_context():
        lon, lat = feature_point(db.registry(), "services", "busstation")
    record = add_proposal(app, lon, lat, category="traffic", title="Övergångsställe vid stationen")
    assert record["department"] == "tekniska"
    make_user(app, STAFF, "planner")
    login(client, STAFF)
    return record


def act(client, record, action: str, data: dict):
    page = f"/planner/p/{record['public_id']}"
    response = post_form(client, f"{page}/{action}", data, page)
    assert response.status_code == 302, response.data[:300]


def forwarding_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table id="forwardings"[^>]*>.*?</table>', html, re.S)
    assert table, "the planner page lists the forwardings"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


def test_confirming_the_suggested_department_is_recorded_as_a_confirmation(app, client, routed):
    act(client, routed, "forward", {"department": "tekniska", "note": ""})
    act(client, routed, "forward", {"department": "stadsbyggnadskontoret", "note": "Gäller detaljplanen"})
    rows = forwarding_rows(client.get(f"/planner/p/{routed['public_id']}?lang=sv").get_data(as_text=True))
    assert [row[1:3] for row in rows] == [
        ["Bekräftad, inte flyttad", "Tekniska förvaltningen (tekniska nämnden)"],
        ["Tekniska förvaltningen (tekniska nämnden)", "Stadsbyggnadskontoret (byggnadsnämnden)"],
    ]
    with app.app_context(), db.reading() as conn:
        trail = workflow.audit_trail(conn, routed["id"])
    assert [(entry["action"], entry["detail"]) for entry in reversed(trail) if entry["action"] in ("confirm", "forward")] == [
        ("confirm", "tekniska"),
        ("forward", "tekniska -> stadsbyggnadskontoret"),
    ]


def test_a_planner_export_says_confirmed_not_from_tekniska_to_tekniska(app, client, routed):
    act(client, routed, "forward", {"department": "tekniska", "note": ""})
    rows = client.get("/planner/export/proposals.geojson").get_json()["features"]
    (row,) = [f["properties"] for f in rows if f["properties"]["id"] == routed["public_id"]]
    assert "confirmed tekniska role=planner" in row["forwarding"] and "tekniska -> tekniska" not in row["forwarding"]


def test_the_permalink_shows_where_the_proposal_went_when_and_the_answer_without_staff(app, client, routed):
    act(client, routed, "forward", {"department": "tekniska", "note": NOTE})
    act(client, routed, "forward", {"department": "stadsbyggnadskontoret", "note": NOTE})
    act(client, routed, "answer", {"body": "Vi bygger om korsningen 2027.", "department": "stadsbyggnadskontoret"})
    resident = app.test_client()
    page = resident.get(f"/p/{routed['public_id']}?lang=sv").get_data(as_text=True)
    log = re.search(r'<ol id="forwarding-log">(.*?)</ol>', page, re.S)
    assert log, "the permalink has a forwarding log"
    assert re.findall(r'<li data-action="(\w+)"><time datetime="', log.group(1)) == ["confirm", "forward"]
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", log.group(1)))
    assert "Skickat till Tekniska förvaltningen (tekniska nämnden)" in words
    assert "Vidarebefordrat till Stadsbyggnadskontoret (byggnadsnämnden)" in words
    assert "Svar från Stadsbyggnadskontoret (byggnadsnämnden)" in words and "Vi bygger om korsningen 2027." in words
    english = resident.get(f"/p/{routed['public_id']}?lang=en").get_data(as_text=True)
    assert "Sent to Technical Services (Technical Committee)" in english and "Forwarded to City Planning Office" in english

    item = resident.get(f"/api/proposals/{routed['public_id']}").get_data(as_text=True)
    assert '"action":"confirm"' in item.replace(" ", "") and "stadsbyggnadskontoret" in item
    for output in (page, english, item):
        assert not [trace for trace in STAFF_TRACES if trace in output.lower()]
        assert NOTE not in output and "trafikingenjören" not in output


def test_the_permalink_says_when_nothing_has_been_sent_yet(app, routed):
    page = app.test_client().get(f"/p/{routed['public_id']}?lang=en").get_data(as_text=True)
    assert "The proposal has not been sent to a department yet." in page and 'id="forwarding-log"' not in page


def test_an_answer_is_shown_under_the_step_of_the_department_that_gave_it(app, client, routed):
    act(client, routed, "answer", {"body": "Svar före vidarebefordran.", "department": "tekniska"})
    act(client, routed, "forward", {"department": "tekniska", "note": ""})
    act(client, routed, "answer", {"body": "Tekniska svarar.", "department": "tekniska"})
    act(client, routed, "forward", {"department": "kultur_fritid", "note": ""})
    with app.app_context(), db.reading() as conn:
        steps = workflow.public_forwardings(conn, routed["id"])
    assert [(s["department"], [a["body"] for a in s["answers"]]) for s in steps] == [
        ("tekniska", ["Tekniska svarar."]),
        ("kultur_fritid", []),
    ]
