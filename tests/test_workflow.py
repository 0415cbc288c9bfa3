"""Status, forwarding, answers and moderation: recorded in order, public only where intended."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import select

from dialogkarta.layers import accounts, proposals, store, workflow
from dialogkarta.layers.schema import answers as answers_table
from dialogkarta.layers.schema import audit_log, status_history
from dialogkarta.layers.schema import flags as flags_table
from dialogkarta.layers.schema import proposals as proposals_table
from tests.planner_helpers import add_proposal, csrf_token, feature_point, login, make_user
from dialogkarta.webmap import db

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)
EMAIL = "planted.resident@example.se"
PLANNER = "planner-svensson"


@pytest.fixture
def proposal(engine, registry):
    lon, lat = feature_point(registry, "areas", "stationsomradet")
    with engine.begin() as conn:
        user = accounts.create_user(conn, PLANNER, "correct horse battery", "moderator")
        record = proposals.submit(
            conn,
            registry,
            {
                "lon": lon,
                "lat": lat,
                "category": "traffic",
                "title": "Cykelbana",
                "description": "Längs stationen.",
                "email": EMAIL,
                "consent": True,
            },
            now=T0,
        )
    return {"id": record["id"], "public_id": record["public_id"], "user": user}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_status_changes_are_kept_in_order_with_role_only(engine, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        for hours, status in ((1, "forwarded"), (2, "under_consideration"), (3, "planned"), (4, "done")):
            workflow.change_status(conn, pid, status, role="planner", user_id=uid, now=at(hours))
        rows = conn.execute(
            select(status_history).where(status_history.c.proposal_id == pid).order_by(status_history.c.changed_at)
        ).all()
        public = store.public_view(store.get_proposal(conn, proposal["public_id"]))
    assert [(r.status, r.role) for r in rows] == [
        ("received", "resident"),
        ("forwarded", "planner"),
        ("under_consideration", "planner"),
        ("planned", "planner"),
        ("done", "planner"),
    ]
    assert [h["status"] for h in public["history"]] == [r.status for r in rows]
    assert not any(PLANNER in str(v) or str(uid) == str(h.get("user_id")) for h in public["history"] for v in h.values())


@pytest.mark.parametrize(
    "start, target, allowed",
    [
        ("received", "planned", True),  # a step may be skipped forward
        ("planned", "forwarded", False),  # never backwards
        ("done", "declined", False),  # done is final
        ("declined", "under_consideration", True),  # a declined proposal may be reopened
        ("declined", "planned", False),  # ... as under consideration only
        ("received", "archived", False),
    ],
)
def test_status_transitions(engine, proposal, start, target, allowed):
    pid = proposal["id"]
    with engine.begin() as conn:
        path = {"received": [], "planned": ["planned"], "done": ["done"], "declined": ["declined"]}[start]
        for status in path:
            workflow.change_status(conn, pid, status, role="planner", note="Skäl.")
        if allowed:
            workflow.change_status(conn, pid, target, role="planner", note="Skäl.")
        else:
            with pytest.raises(workflow.WorkflowError, match="cannot become|unknown status"):
                workflow.change_status(conn, pid, target, role="planner", note="Skäl.")


def test_declining_needs_a_public_reason(engine, proposal):
    with engine.begin() as conn:
        with pytest.raises(workflow.WorkflowError, match="reason"):
            workflow.change_status(conn, proposal["id"], "declined", role="planner")
        workflow.change_status(conn, proposal["id"], "declined", role="planner", note="Marken är inte kommunens.")
        record = store.get_proposal(conn, proposal["public_id"])
    assert record["status"] == "declined" and record["history"][-1]["note"] == "Marken är inte kommunens."


DEPARTMENTS = ("planering", "tekniska")
STATUS_LIST = "received, forwarded, under_consideration, planned, done, declined"


@pytest.mark.parametrize(
    "action, sv, en",
    [
        (
            lambda c, p: workflow.change_status(c, p + 1000, "done", role="planner"),
            "Förslaget finns inte.",
            "no proposal with id",
        ),
        (
            lambda c, p: workflow.change_status(c, p, "archived", role="planner"),
            "Okänd status 'archived'.",
            f"unknown status 'archived'; expected one of {STATUS_LIST}",
        ),
        (
            lambda c, p: workflow.change_status(c, p, "declined", role="planner", note="   "),
            "Skälet får inte vara tomt.",
            "the reason must not be empty",
        ),
        (
            lambda c, p: workflow.change_status(c, p, "planned", role="planner", note=["Skäl"]),
            "Skälet måste vara text.",
            "the reason must be text",
        ),
        (
            lambda c, p: workflow.forward(c, p, "kultur", departments=DEPARTMENTS, role="planner"),
            "Okänd förvaltning 'kultur'.",
            "unknown department 'kultur'",
        ),
        (
            lambda c, p: workflow.forward(c, p, "tekniska", departments=DEPARTMENTS, role="planner", note="x" * 2001),
            "Anteckningen är för långt: högst 2000 tecken.",
            "the note is too long: at most 2000 characters",
        ),
        (
            lambda c, p: workflow.answer(c, p, "x" * 4001, role="planner"),
            "Svaret är för långt: högst 4000 tecken.",
            "the answer is too long: at most 4000 characters",
        ),
        (lambda c, p: workflow.answer(c, p, None, role="planner"), "Svaret får inte vara tomt.", "the answer must not be empty"),
        (lambda c, p: workflow.hide(c, p, "", role="moderator"), "Skälet får inte vara tomt.", "the reason must not be empty"),
    ],
)
def test_refused_actions_say_why_in_swedish_and_english_and_change_nothing(engine, proposal, action, sv, en):
    with engine.begin() as conn:
        before = store.get_proposal(conn, proposal["public_id"])
        with pytest.raises(workflow.WorkflowError) as refused:
            action(conn, proposal["id"])
        assert refused.value.messages["sv"] == sv and refused.value.messages["en"].startswith(en)
        assert refused.value.code == "workflow"
        assert store.get_proposal(conn, proposal["public_id"]) == before
        assert conn.execute(select(audit_log)).all() == []


def test_a_restore_note_over_the_limit_is_refused_in_swedish_and_english(engine, proposal):
    # The web layer rolls the whole transaction back on this error, so nothing of the restore stays.
    with engine.begin() as conn, pytest.raises(workflow.WorkflowError) as refused:
        workflow.restore(conn, proposal["id"], role="moderator", note="x" * 2001)
    assert refused.value.messages == {
        "sv": "Anteckningen är för långt: högst 2000 tecken.",
        "en": "the note is too long: at most 2000 characters",
    }


def test_a_planned_proposal_cannot_go_back_and_the_refusal_names_both_statuses(engine, proposal):
    with engine.begin() as conn:
        workflow.change_status(conn, proposal["id"], "planned", role="planner")
        with pytest.raises(workflow.WorkflowError) as refused:
            workflow.change_status(conn, proposal["id"], "forwarded", role="planner")
    assert refused.value.messages == {
        "sv": "Statusen kan inte ändras från planned till forwarded.",
        "en": "a proposal that is planned cannot become forwarded",
    }


def test_texts_up_to_their_limit_are_accepted_and_trimmed(engine, proposal):
    with engine.begin() as conn:
        workflow.forward(conn, proposal["id"], "tekniska", departments=DEPARTMENTS, role="planner", note=" " + "n" * 2000 + " ")
        workflow.answer(conn, proposal["id"], "a" * 4000, role="planner")
        workflow.change_status(conn, proposal["id"], "declined", role="planner", note="s" * 2000)
        assert workflow.forwardings_of(conn, proposal["id"])[0]["note"] == "n" * 2000
        assert workflow.public_answers(conn, proposal["id"])[0]["body"] == "a" * 4000
        assert store.get_proposal(conn, proposal["public_id"])["status"] == "declined"


def test_answers_are_public_without_their_author(engine, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        workflow.answer(conn, pid, "Vi utreder en cykelbana.", role="planner", user_id=uid, now=at(5))
        workflow.answer(
            conn, pid, "Beslut i tekniska nämnden i maj.", role="planner", user_id=uid, department="tekniska", now=at(30)
        )
        with pytest.raises(workflow.WorkflowError, match="empty"):
            workflow.answer(conn, pid, "   ", role="planner")
        answers = workflow.public_answers(conn, pid)
        first = workflow.first_answer_times(conn)
    assert [a["body"] for a in answers] == ["Vi utreder en cykelbana.", "Beslut i tekniska nämnden i maj."]
    assert set(answers[0]) == {"body", "department", "role", "answered_at"}
    assert first[pid] == at(5)


def test_moderation_hides_restores_and_keeps_an_ordered_audit_log(engine, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        with pytest.raises(workflow.WorkflowError):
            workflow.hide(conn, pid, "", role="moderator", user_id=uid)
        workflow.hide(conn, pid, "Personuppgifter i texten", role="moderator", user_id=uid, now=at(1))
        assert store.get_proposal(conn, proposal["public_id"]) is None
        assert store.get_proposal(conn, proposal["public_id"], include_hidden=True)["hidden_reason"] == "Personuppgifter i texten"
        workflow.restore(conn, pid, role="moderator", user_id=uid, note="Texten rättad", now=at(2))
        assert store.get_proposal(conn, proposal["public_id"]) is not None
        log = conn.execute(select(audit_log).where(audit_log.c.action.in_(["hide", "restore"])).order_by(audit_log.c.at)).all()
    assert [(e.action, e.role, e.user_id) for e in log] == [("hide", "moderator", uid), ("restore", "moderator", uid)]


def test_flags_hide_at_the_threshold_once_per_browser_and_restore_resets_them(engine, proposal):
    public_id = proposal["public_id"]
    with engine.begin() as conn:
        assert workflow.flag(conn, public_id, "browser-a", "spam", threshold=2) == {"added": True, "hidden": False}
        assert workflow.flag(conn, public_id, "browser-a", "spam", threshold=2) == {"added": False, "hidden": False}
        assert workflow.flag(conn, public_id, "browser-b", "", threshold=2) == {"added": True, "hidden": True}
        assert workflow.flag(conn, public_id, "browser-c", "", threshold=2) is None  # already hidden
        assert [q["open_flags"] for q in workflow.moderation_queue(conn)] == [2]
        workflow.restore(conn, proposal["id"], role="moderator")
        assert workflow.open_flag_count(conn, proposal["id"]) == 0
        assert workflow.flag(conn, public_id, "browser-c", "", threshold=2)["hidden"] is False


# ------------------------------------------------------------------------------ over HTTP, as the public sees it
def _public_texts(client, public_id):
    """Everything a member of the public can fetch about proposals and activities."""
    urls = [
        f"/p/{public_id}",
        f"/api/proposals/{public_id}",
        "/api/proposals",
        "/activity-plan",
        "/activity-plan/activities.json",
        "/",
    ]
    texts = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200:
            texts[url] = response.get_data(as_text=True)
    return texts


def test_public_pages_show_answers_and_reasons_but_never_names_or_contacts(app, client):
    record = add_proposal(
        app,
        13.3551,
        55.6698,
        category="traffic",
        title="Säkrare korsning",
        email=EMAIL,
        name="Resident Residentsson",
        consent=True,
    )
    public_id = record["public_id"]
    make_user(app, PLANNER, "moderator")
    login(client, PLANNER)
    page = f"/planner/p/{public_id}"
    assert EMAIL in client.get(page).get_data(as_text=True)  # staff see the contact, to reply
    client.post(
        f"{page}/forward",
        data={"department": "tekniska", "note": "Internt: ring Svensson", "csrf_token": csrf_token(client, page)},
    )
    client.post(f"{page}/answer", data={"body": "Korsningen byggs om 2027.", "csrf_token": csrf_token(client, page)})
    client.post(f"{page}/status", data={"status": "planned", "csrf_token": csrf_token(client, page)})
    client.post(
        "/activity-plan/new",
        data={
            "kind": "walk",
            "title": "Trygghetsvandring",
            "date": "2026-05-02",
            "produced": public_id,
            "csrf_token": csrf_token(client, "/activity-plan/new"),
        },
    )
    client.post("/planner/logout", data={"csrf_token": csrf_token(client, "/planner/")})

    public = app.test_client()
    texts = _public_texts(public, public_id)
    assert "/activity-plan" in texts and "/activity-plan/activities.json" in texts
    for url, text in texts.items():
        assert PLANNER not in text, url
        assert EMAIL not in text and "Residentsson" not in text, url
        assert "ring Svensson" not in text, url  # forwarding notes are internal
    with app.app_context(), db.reading() as conn:
        answers = workflow.public_answers(conn, record["id"])
    assert [a["body"] for a in answers] == ["Korsningen byggs om 2027."]
    assert "Korsningen byggs om 2027." in texts[f"/p/{public_id}"]  # the resident permalink renders public_answers
    api_answers = public.get(f"/api/proposals/{public_id}").get_json()["properties"]["answers"]
    assert [a["body"] for a in api_answers] == ["Korsningen byggs om 2027."] and "user_id" not in api_answers[0]
    activity = public.get("/activity-plan/1").get_data(as_text=True)
    assert "Säkrare korsning" in activity and PLANNER not in activity


def test_hidden_proposals_vanish_from_public_views_and_come_back(app, client):
    record = add_proposal(app, 13.3551, 55.6698, title="Olämplig text")
    public_id = record["public_id"]
    make_user(app, "mod", "moderator")
    login(client, "mod")
    page = f"/planner/p/{public_id}"
    client.post(f"{page}/hide", data={"reason": "Kränkande", "csrf_token": csrf_token(client, page)})
    public = app.test_client()
    assert public.get(f"/p/{public_id}").status_code == 404
    assert "Olämplig text" not in public.get("/api/proposals").get_data(as_text=True)
    assert "Olämplig text" in client.get("/planner/moderation").get_data(as_text=True)
    client.post(f"{page}/restore", data={"note": "Granskad", "csrf_token": csrf_token(client, page)})
    assert public.get(f"/p/{public_id}").status_code == 200


def test_residents_flag_through_the_form_and_the_threshold_hides(tmp_path):
    from tests.test_auth import make_app

    app = make_app(tmp_path, FLAG_HIDE_THRESHOLD=2)
    record = add_proposal(app, 13.3551, 55.6698, title="Flaggad")
    public_id = record["public_id"]
    for n in range(2):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = ("192.0.2.2", "198.51.100.2")[n]  # two residents, two networks
        refused = browser.post(f"/p/{public_id}/flag", data={"reason": "spam"})
        assert refused.status_code == 400  # no CSRF token
        token = csrf_token(browser, f"/p/{public_id}")  # the permalink carries the flag form
        response = browser.post(
            f"/p/{public_id}/flag", data={"reason": "spam", "csrf_token": token}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200 and "dialogkarta_token=" in response.headers["Set-Cookie"]
    assert app.test_client().get(f"/p/{public_id}").status_code == 404
    assert app.test_client().post("/p/unknown/flag", data={"csrf_token": token}).status_code in (400, 404)


def test_one_client_dropping_its_cookie_cannot_hide_a_proposal_alone(tmp_path):
    from tests.test_auth import make_app

    app = make_app(tmp_path, FLAG_HIDE_THRESHOLD=2)
    public_id = add_proposal(app, 13.3551, 55.6698, title="Omtyckt")["public_id"]
    for _ in range(3):
        browser = app.test_client()  # a fresh browser each time: no flag cookie, same address
        token = csrf_token(browser, f"/p/{public_id}")
        assert (
            browser.post(
                f"/p/{public_id}/flag", data={"reason": "x", "csrf_token": token}, headers={"Accept": "application/json"}
            ).status_code
            == 200
        )
    assert app.test_client().get(f"/p/{public_id}").status_code == 200  # still public
    with app.app_context(), db.reading() as conn:
        assert [q["open_flags"] for q in workflow.moderation_queue(conn)] == [3]  # but moderators see the flags


def test_a_proposal_held_for_its_link_is_published_from_the_moderation_queue(app, client):
    with app.app_context(), db.transaction() as conn:
        record = proposals.submit(
            conn,
            db.registry(),
            {"lon": 13.3551, "lat": 55.6698, "category": "other", "title": "Se min sida", "description": "https://example.se"},
            hold_links=True,
        )
    assert app.test_client().get(f"/p/{record['public_id']}").status_code == 404
    make_user(app, "mod", "moderator")
    login(client, "mod")
    queue = client.get("/planner/moderation").get_data(as_text=True)
    assert "Se min sida" in queue and "Väntar på granskning" in queue
    client.post(
        f"/planner/p/{record['public_id']}/restore", data={"note": "ok", "csrf_token": csrf_token(client, "/planner/moderation")}
    )
    assert app.test_client().get(f"/p/{record['public_id']}").status_code == 200
    assert "restore" in client.get("/planner/moderation").get_data(as_text=True)


def _second_proposal(conn, registry, proposal):
    lon, lat = feature_point(registry, "areas", "stationsomradet")
    data = {"lon": lon, "lat": lat, "category": "traffic", "title": "Ett annat", "description": "Annat."}
    return proposals.submit(conn, registry, data, now=T0)


def test_an_answer_comes_from_the_proposals_department_unless_named_and_touches_only_that_proposal(engine, registry, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        responsible = store.get_proposal(conn, proposal["public_id"])["department"]
        workflow.answer(conn, pid, "Vi tittar på det.", role="planner", user_id=uid, now=at(3))
        workflow.answer(conn, pid, "Beslut i maj.", role="planner", user_id=uid, department="tekniska", now=at(4))
        assert [a["department"] for a in workflow.public_answers(conn, pid)] == [responsible, "tekniska"]
        assert conn.execute(select(answers_table.c.user_id)).scalars().all() == [uid, uid]  # internal: who answered
        trail = workflow.audit_trail(conn, pid)
        assert [(e["action"], e["user_id"], e["role"]) for e in trail] == [("answer", uid, "planner")] * 2
        assert store.get_proposal(conn, proposal["public_id"])["updated_at"] == at(4)
        assert store.get_proposal(conn, other["public_id"])["updated_at"] == T0


def test_first_answer_times_are_per_proposal(engine, registry, proposal):
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        workflow.answer(conn, proposal["id"], "Först.", role="planner", now=at(2))
        workflow.answer(conn, other["id"], "Sedan.", role="planner", now=at(7))
        workflow.answer(conn, proposal["id"], "Igen.", role="planner", now=at(9))
        assert workflow.first_answer_times(conn) == {proposal["id"]: at(2), other["id"]: at(7)}


def test_hiding_is_dated_and_in_the_proposals_audit_trail(engine, proposal):
    with engine.begin() as conn:
        workflow.hide(conn, proposal["id"], "Personuppgifter", role="moderator", user_id=proposal["user"].id, now=at(6))
        assert store.get_proposal(conn, proposal["public_id"], include_hidden=True)["updated_at"] == at(6)
        assert [(e["action"], e["detail"]) for e in workflow.audit_trail(conn, proposal["id"])] == [("hide", "Personuppgifter")]


def test_only_a_restore_of_this_proposal_protects_it_from_being_hidden_by_flags(engine, registry, proposal):
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        workflow.hide(conn, other["id"], "Spam", role="moderator")
        workflow.restore(conn, other["id"], role="moderator")
        assert workflow.audit_trail(conn, other["id"])[0]["detail"] == ""  # no note given, none recorded
        workflow.forward(conn, proposal["id"], "tekniska", departments=DEPARTMENTS, role="planner")  # audited, not a restore
        assert not workflow.was_restored(conn, proposal["id"]) and workflow.was_restored(conn, other["id"])
        workflow.flag(conn, proposal["public_id"], "browser-a", "", threshold=2, client="net-a")
        assert workflow.flag(conn, proposal["public_id"], "browser-b", "", threshold=2, client="net-b")["hidden"] is True


def test_restoring_one_proposal_clears_its_reason_and_reviews_only_its_flags(engine, registry, proposal):
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        for public_id in (proposal["public_id"], other["public_id"]):
            workflow.flag(conn, public_id, "browser-a", "spam", threshold=0)
        workflow.hide(conn, proposal["id"], "Spam", role="moderator", now=at(1))
        workflow.restore(conn, proposal["id"], role="moderator", note="  Granskat  ", now=at(2))
        restored = store.get_proposal(conn, proposal["public_id"])
        assert (restored["hidden"], restored["hidden_reason"], restored["updated_at"]) == (False, None, at(2))
        assert workflow.open_flag_count(conn, proposal["id"]) == 0 and workflow.open_flag_count(conn, other["id"]) == 1
        assert workflow.audit_trail(conn, proposal["id"])[0]["detail"] == "Granskat"


def test_the_moderation_queue_lists_hidden_and_flagged_proposals_newest_change_first(engine, registry, proposal):
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        _second_proposal(conn, registry, proposal)  # neither hidden nor flagged: not in the queue
        workflow.hide(conn, proposal["id"], "Personuppgifter", role="moderator", now=at(1))
        workflow.flag(conn, other["public_id"], "browser-a", "spam", threshold=0, now=at(2))
        workflow.flag(conn, other["public_id"], "browser-b", "spam", threshold=0, now=at(2))
        workflow.flag(conn, proposal["public_id"], "browser-a", "spam", threshold=0, now=at(2))  # hidden: no effect
        conn.execute(proposals_table.update().where(proposals_table.c.id == other["id"]).values(updated_at=at(3)))
        queue = workflow.moderation_queue(conn)
    assert [(q["public_id"], q["hidden"], q["hidden_reason"], q["open_flags"], store.aware(q["updated_at"])) for q in queue] == [
        (other["public_id"], False, None, 2, at(3)),
        (proposal["public_id"], True, "Personuppgifter", 0, at(1)),
    ]


def test_flags_keep_a_trimmed_reason_and_an_automatic_hide_is_audited_as_the_system(engine, proposal):
    with engine.begin() as conn:
        workflow.flag(conn, proposal["public_id"], "browser-a", "  " + "x" * 600, threshold=2, client="net-a", now=at(1))
        workflow.flag(conn, proposal["public_id"], "browser-b", threshold=2, client="net-b", now=at(2))
        assert conn.execute(select(flags_table.c.reason).order_by(flags_table.c.id)).scalars().all() == ["x" * 500, ""]
        hidden = store.get_proposal(conn, proposal["public_id"], include_hidden=True)
        trail = workflow.audit_trail(conn, proposal["id"])
    assert (hidden["hidden"], hidden["hidden_reason"], hidden["updated_at"]) == (True, "flagged", at(2))
    assert [(e["action"], e["detail"], e["role"], e["user_id"]) for e in trail] == [("auto_hide", "2 flags", "system", None)]


def test_forwarding_records_from_and_to_and_moves_only_a_received_proposal_on(engine, registry, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        start = store.get_proposal(conn, proposal["public_id"])["department"]
        assert start != "planering"  # a forward to the department it already has is a confirmation (its own test)
        workflow.forward(
            conn, pid, "planering", departments=DEPARTMENTS, role="planner", user_id=uid, note="Gäller vägen", now=at(1)
        )
        workflow.change_status(conn, pid, "planned", role="planner", user_id=uid, now=at(2))
        workflow.forward(conn, pid, "tekniska", departments=DEPARTMENTS, role="planner", user_id=uid, now=at(3))
        record = store.get_proposal(conn, proposal["public_id"])
        untouched = store.get_proposal(conn, other["public_id"])
        entries = list(reversed(workflow.audit_trail(conn, pid)))
        assert [(e["user_id"], e["at"]) for e in entries] == [(uid, at(1)), (uid, at(1)), (uid, at(2)), (uid, at(3))]
        trail = [(e["action"], e["detail"]) for e in entries]
        moves = [(f["from"], f["to"], f["note"], f["at"], f["role"]) for f in workflow.forwardings_of(conn, pid)]
    assert (untouched["department"], untouched["updated_at"]) == (start, T0)
    assert (record["status"], record["department"], record["updated_at"]) == ("planned", "tekniska", at(3))
    assert moves == [(start, "planering", "Gäller vägen", at(1), "planner"), ("planering", "tekniska", "", at(3), "planner")]
    assert trail == [
        ("forward", f"{start} -> planering"),
        ("status", "received -> forwarded"),
        ("status", "forwarded -> planned"),
        ("forward", "planering -> tekniska"),
    ]


@pytest.mark.parametrize("threshold, hidden", [(0, False), (1, True)])
def test_a_threshold_of_zero_turns_automatic_hiding_off_and_one_hides_at_the_first_flag(engine, proposal, threshold, hidden):
    with engine.begin() as conn:
        assert workflow.flag(conn, proposal["public_id"], "browser-a", "spam", threshold=threshold) == {
            "added": True,
            "hidden": hidden,
        }
        assert (store.get_proposal(conn, proposal["public_id"]) is None) is hidden


def test_flags_on_other_proposals_do_not_count_towards_the_threshold(engine, registry, proposal):
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        workflow.flag(conn, other["public_id"], "browser-a", "spam", threshold=2, client="net-a")
        assert workflow.flag(conn, proposal["public_id"], "browser-b", "spam", threshold=2, client="net-b")["hidden"] is False


def test_a_status_change_is_dated_and_one_made_meanwhile_by_someone_else_wins(engine, proposal, monkeypatch):
    pid = proposal["id"]
    with engine.begin() as conn:
        workflow.change_status(conn, pid, "forwarded", role="planner", now=at(1))
        assert store.get_proposal(conn, proposal["public_id"])["updated_at"] == at(1)
        read_before_the_other_planner = workflow._proposal

        def read_then_changed_by_another_planner(conn, proposal_id):
            row = read_before_the_other_planner(conn, proposal_id)
            conn.execute(proposals_table.update().where(proposals_table.c.id == proposal_id).values(status="planned"))
            return row

        monkeypatch.setattr(workflow, "_proposal", read_then_changed_by_another_planner)
        with pytest.raises(workflow.WorkflowError) as refused:
            workflow.change_status(conn, pid, "under_consideration", role="planner", now=at(2))
        assert refused.value.messages == {
            "sv": "Statusen ändrades nyss av någon annan; ladda om sidan.",
            "en": "the status was changed by someone else just now; reload the page",
        }
        record = store.get_proposal(conn, proposal["public_id"])
    assert record["status"] == "planned" and [h["status"] for h in record["history"]] == ["received", "forwarded"]


def test_the_audit_trail_is_newest_first_per_proposal_with_who_and_when(engine, registry, proposal):
    pid, uid = proposal["id"], proposal["user"].id
    with engine.begin() as conn:
        other = _second_proposal(conn, registry, proposal)
        workflow.hide(conn, other["id"], "Spam", role="moderator", user_id=uid, now=at(9))
        workflow.change_status(conn, pid, "planned", role="planner", user_id=uid, now=at(5))
        workflow.hide(conn, pid, "Spam", role="moderator", user_id=uid, now=at(2))  # recorded later, dated earlier
        trail = workflow.audit_trail(conn, pid)
        assert [(e["action"], e["proposal_id"], e["user_id"], e["at"]) for e in trail] == [
            ("status", pid, uid, at(5)),
            ("hide", pid, uid, at(2)),
        ]
        assert [e["at"] for e in workflow.audit_trail(conn)] == [at(9), at(5), at(2)]
        assert [e["at"] for e in workflow.audit_trail(conn, limit=1)] == [at(9)]


def test_the_audit_trail_shows_the_latest_two_hundred_actions_by_default(engine, proposal):
    with engine.begin() as conn:
        conn.execute(
            audit_log.insert(),
            [
                {"at": at(n), "action": "hide", "proposal_id": proposal["id"], "detail": "", "role": "moderator"}
                for n in range(201)
            ],
        )
        trail = workflow.audit_trail(conn)
    assert len(trail) == 200 and trail[-1]["at"] == at(1)


def test_the_moderation_queue_is_empty_when_nothing_is_hidden_or_flagged_and_counts_each_proposals_flags(
    engine, registry, proposal
):
    with engine.begin() as conn:
        assert workflow.moderation_queue(conn) == []
        other = _second_proposal(conn, registry, proposal)
        for token in ("browser-a", "browser-b"):
            workflow.flag(conn, other["public_id"], token, "spam", threshold=0)
        workflow.flag(conn, proposal["public_id"], "browser-c", "spam", threshold=0)
        counts = {q["public_id"]: q["open_flags"] for q in workflow.moderation_queue(conn)}
    assert counts == {other["public_id"]: 2, proposal["public_id"]: 1}
