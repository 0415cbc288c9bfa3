"""The resident map's view in words (GET /api/proposals/summary): its counts are the store's public proposals
inside the view, per development area and answered or not; bad views are refused; Swedish and English."""

from __future__ import annotations

import pytest

from dialogkarta.layers import proposals, workflow
from dialogkarta.layers.schema import answers, proposal_areas
from dialogkarta.layers.schema import proposals as proposals_table
from dialogkarta.webmap import db
from sqlalchemy import select

KVARNSKON = (13.3625, 55.6596)  # inside Kvarnskon–Vattenrännan
VILLAGE = (13.3466, 55.6657)  # in no development area
WHOLE = "13.29,55.63,13.42,55.70"


def _add(app, lon, lat, title="Förslag", *, answered=False, hidden=False) -> int:
    with app.app_context(), db.transaction() as conn:
        record = proposals.submit(conn, db.registry(), {"lon": lon, "lat": lat, "category": "traffic", "title": title,
                                                        "description": "En beskrivning."})  # fmt: skip
        if answered:
            workflow.answer(conn, record["id"], "Vi tittar på det.", role="planner")
        if hidden:
            workflow.hide(conn, record["id"], "test", role="moderator")
        return record["id"]


def _from_the_store(app, bbox) -> dict:
    """Count straight from the tables: public proposals inside bbox, per area, answered."""
    min_lon, min_lat, max_lon, max_lat = bbox
    with app.app_context(), db.reading() as conn:
        p = proposals_table.c
        inside = {
            row.id
            for row in conn.execute(select(p.id, p.lon, p.lat).where(p.hidden.is_(False)))
            if min_lon <= row.lon <= max_lon and min_lat <= row.lat <= max_lat
        }
        answered = set(conn.execute(select(answers.c.proposal_id)).scalars()) & inside
        per_area: dict[str, list[int]] = {}
        for pid, area in conn.execute(select(proposal_areas.c.proposal_id, proposal_areas.c.area_id)):
            if pid in inside:
                per_area.setdefault(area, []).append(pid)
    in_areas = {pid for ids in per_area.values() for pid in ids}
    return {
        "count": len(inside),
        "answered": len(answered),
        "areas": {area: (len(ids), len(set(ids) & answered)) for area, ids in per_area.items()},
        "elsewhere": {"count": len(inside - in_areas), "answered": len((inside - in_areas) & answered)},
    }


def _summary(client, bbox: str, lang: str = "sv"):
    response = client.get(f"/api/proposals/summary?bbox={bbox}&lang={lang}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    "bbox",
    [WHOLE, "13.355,55.655,13.370,55.665", "13.340,55.660,13.350,55.670", "13.0,55.0,13.1,55.1"],
    ids=["whole locality", "around Kvarnskon", "the village centre", "far away"],
)
def test_counts_are_the_stores_public_proposals_in_the_view(app, client, bbox):
    for i in range(3):
        _add(app, KVARNSKON[0] + i * 0.0003, KVARNSKON[1], answered=i == 0)
    _add(app, KVARNSKON[0], KVARNSKON[1] + 0.0004, hidden=True, answered=True)  # never counted
    _add(app, *VILLAGE, answered=True)
    _add(app, VILLAGE[0] + 0.0005, VILLAGE[1])
    answer = _summary(client, bbox)
    expected = _from_the_store(app, [float(v) for v in bbox.split(",")])
    assert answer["count"] == expected["count"] and answer["answered"] == expected["answered"]
    assert {a["id"]: (a["count"], a["answered"]) for a in answer["areas"]} == expected["areas"]
    assert answer["elsewhere"] == expected["elsewhere"]


def test_the_sentence_names_each_area_with_its_counts(app, client):
    for i in range(3):
        _add(app, KVARNSKON[0] + i * 0.0003, KVARNSKON[1], answered=i == 0)
    around_kvarnskon = "13.355,55.655,13.370,55.665"
    assert _summary(client, around_kvarnskon)["text"] == "I kartvyn: 3 förslag i Kvarnskon–Vattenrännan, 1 besvarat."
    assert (
        _summary(client, around_kvarnskon, "en")["text"] == "In the map view: 3 proposals in Kvarnskon–Vattenrännan, 1 answered."
    )
    _add(app, *VILLAGE)
    assert _summary(client, WHOLE)["text"] == (
        "I kartvyn 4 förslag, 1 besvarat: 3 förslag i Kvarnskon–Vattenrännan, 1 besvarat; "
        "1 förslag utanför utvecklingsområdena, 0 besvarade."
    )
    assert _summary(client, "13.0,55.0,13.1,55.1", "en")["text"] == "No proposals in the map view."


def test_an_answer_or_a_new_proposal_shows_at_once(app, client):
    pid = _add(app, *KVARNSKON)
    assert (_summary(client, WHOLE)["count"], _summary(client, WHOLE)["answered"]) == (1, 0)
    with app.app_context(), db.transaction() as conn:
        workflow.answer(conn, pid, "Svar.", role="planner")
    _add(app, *VILLAGE)
    assert (_summary(client, WHOLE)["count"], _summary(client, WHOLE)["answered"]) == (2, 1)


@pytest.mark.parametrize("bbox", ["", "1,2,3", "13.4,55.7,13.3,55.6", "0,0,200,10", "a,b,c,d", "nan,1,2,3"])
def test_a_bad_view_is_refused_with_a_message(client, bbox):
    response = client.get(f"/api/proposals/summary?bbox={bbox}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
