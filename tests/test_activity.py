"""The activity plan: every revision kept in order and shown publicly by role, never by name."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from dialogkarta.layers import accounts, activities, proposals
from tests.planner_helpers import add_proposal, csrf_token, login, make_user

T0 = datetime(2026, 2, 1, 8, tzinfo=UTC)
MEETING = {
    "kind": "open_meeting",
    "title": "Öppet möte om stationsområdet",
    "date": "2026-03-12",
    "place": "Dalby bibliotek",
    "lon": 13.34602,
    "lat": 55.66521,
    "status": "planned",
}


@pytest.fixture
def linked(engine, registry):
    with engine.begin() as conn:
        user = accounts.create_user(conn, "anna", "correct horse battery")
        record = proposals.submit(
            conn,
            registry,
            {"lon": 13.3551, "lat": 55.6698, "category": "traffic", "title": "Cykelparkering", "description": "Vid stationen."},
        )
    return user, record


def test_revisions_record_what_changed_in_order(engine, linked):
    user, record = linked
    with engine.begin() as conn:
        activity_id = activities.create(conn, MEETING, role="planner", user_id=user.id, now=T0)
        changes = activities.update_activity(
            conn,
            activity_id,
            {"date": "2026-03-19", "place": "Medborgarhuset"},
            role="planner",
            user_id=user.id,
            now=T0 + timedelta(days=1),
        )
        activities.update_activity(
            conn,
            activity_id,
            {"status": "done", "proposals": [(record["public_id"], "produced")]},
            role="admin",
            user_id=user.id,
            now=T0 + timedelta(days=40),
        )
        assert activities.update_activity(conn, activity_id, {"status": "done"}, role="planner") == {}
        item = activities.get_activity(conn, activity_id)
    assert changes == {"date": ["2026-03-12", "2026-03-19"], "place": ["Dalby bibliotek", "Medborgarhuset"]}
    assert [r["revision"] for r in item["revisions"]] == [1, 2, 3]
    assert [r["role"] for r in item["revisions"]] == ["planner", "planner", "admin"]
    assert item["revisions"][0]["changes"]["title"] == [None, MEETING["title"]]
    assert item["revisions"][2]["changes"] == {
        "status": ["planned", "done"],
        "proposals": [[], [[record["public_id"], "produced"]]],
    }
    assert all("user_id" not in r for r in item["revisions"])
    assert item["proposals"] == [{"public_id": record["public_id"], "relation": "produced"}]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "party"}, "kind"),
        ({"date": "12/3/2026"}, "date"),
        ({"title": ""}, "title"),
        ({"status": "maybe"}, "status"),
        ({"lon": 13.3, "lat": None}, "lon"),
        ({"proposals": ["nope"]}, "proposals"),
    ],
)
def test_invalid_activities_are_refused(engine, change, field):
    with engine.begin() as conn, pytest.raises(activities.InvalidActivity) as error:
        activities.create(conn, {**MEETING, **change}, role="planner")
    assert error.value.field == field


def test_planners_edit_and_everyone_sees_the_plan_and_its_history(app, client):
    hidden = add_proposal(app, 13.3551, 55.6698, title="Dold idé")
    shown = add_proposal(app, 13.3460, 55.6652, title="Synlig idé")
    make_user(app, "planner-nilsson")
    make_user(app, "mod", "moderator")
    assert client.get("/activity-plan/new").status_code == 302  # anonymous: to the login page
    login(client, "planner-nilsson")
    response = client.post(
        "/activity-plan/new",
        data={
            "kind": "walk",
            "title": "Trygghetsvandring",
            "date": "2026-04-20",
            "place": "Centrum",
            "lat": "55.6652",
            "lon": "13.3460",
            "status": "planned",
            "produced": f"{shown['public_id']} {hidden['public_id']}",
            "csrf_token": csrf_token(client, "/activity-plan/new"),
        },
    )
    assert response.status_code == 302
    url = response.headers["Location"]
    edit = f"{url}/edit"
    client.post(
        edit,
        data={
            "kind": "walk",
            "title": "Trygghetsvandring i centrum",
            "date": "2026-04-27",
            "place": "Centrum",
            "lat": "55.6652",
            "lon": "13.3460",
            "status": "done",
            "produced": f"{shown['public_id']} {hidden['public_id']}",
            "csrf_token": csrf_token(client, edit),
        },
    )
    refused = client.post(edit, data={"kind": "walk", "title": "x", "date": "2026-04-27"})
    assert refused.status_code == 400  # no CSRF token
    outside = client.post(
        edit,
        data={
            "kind": "walk",
            "title": "Utflykt",
            "date": "2026-04-27",
            "lat": "59.3",
            "lon": "18.0",
            "csrf_token": csrf_token(client, edit),
        },
    )
    assert outside.status_code == 422

    mod = app.test_client()
    login(mod, "mod")
    page = f"/planner/p/{hidden['public_id']}"
    mod.post(f"{page}/hide", data={"reason": "Dubblett", "csrf_token": csrf_token(mod, page)})

    public = app.test_client()
    plan = public.get("/activity-plan").get_data(as_text=True)
    detail = public.get(url).get_data(as_text=True)
    assert "Trygghetsvandring i centrum" in plan and "2026-04-27" in plan
    assert "Revision 2" in detail and "<del>2026-04-20</del>" in detail and "<ins>2026-04-27</ins>" in detail
    assert "handläggare" in detail  # the role, not the person
    assert "planner-nilsson" not in plan + detail
    assert "Synlig idé" in detail and "Dold idé" not in detail and hidden["public_id"] not in detail
    assert "1 dolt förslag" in detail and "<ins>Vandring</ins>" in detail  # labels, not ids
    data = public.get("/activity-plan/activities.json").json["activities"]
    assert [p["public_id"] for p in data[0]["proposals"]] == [shown["public_id"]]
    assert "/vendor/leaflet/" in plan
    assert "Trygghetsvandring i centrum" in client.get(f"/planner/p/{shown['public_id']}").get_data(as_text=True)
