"""The overlay's filtered table as a tool: bulk forwarding and status changes with one note (all or nothing,
written like single actions), the same table as CSV, and named saved filters per planner."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import saved_filters
from dialogkarta.layers.schema import audit_log, forwardings, proposals, status_history
from tests.contracts import PLANNER_TABLE_CSV
from tests.planner_helpers import add_proposal, csrf_token, feature_point, login, make_user
from dialogkarta.webmap import db


@pytest.fixture
def seeded(app):
    with app.app_context():
        lon, lat = feature_point(db.registry(), "areas", "kvarnskon-vattenrannan")
    traffic = [add_proposal(app, lon, lat, category="traffic", title=f"Trafik {i}") for i in range(3)]
    other = add_proposal(
        app, lon, lat, category="housing", title='=HYPERLINK("http://x")', name="Eva Boende", email="eva@example.se", consent=True
    )
    make_user(app, "anna")
    make_user(app, "bertil")
    return {"traffic": [r["public_id"] for r in traffic], "other": other["public_id"]}


@pytest.fixture
def anna(client, seeded):
    login(client, "anna")
    return client


def _bulk(client, public_ids, **form):
    data = {"csrf_token": csrf_token(client, "/planner/"), "public_id": public_ids, "note": "Samlat beslut", **form}
    return client.post("/planner/bulk", data=data)


def _count(app, table, **where) -> int:
    with app.app_context(), db.reading() as conn:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return conn.execute(query).scalar_one()


def _statuses(app, public_ids) -> dict:
    with app.app_context(), db.reading() as conn:
        rows = conn.execute(select(proposals.c.public_id, proposals.c.status).where(proposals.c.public_id.in_(public_ids)))
        return dict(rows.all())


def test_bulk_forward_writes_a_forwarding_history_and_audit_row_for_each_proposal(app, anna, seeded):
    response = _bulk(anna, seeded["traffic"], action="forward", department="kultur_fritid", query="category=traffic")
    assert response.status_code == 303 and response.headers["Location"].endswith("/planner/?category=traffic")
    assert _statuses(app, seeded["traffic"]) == dict.fromkeys(seeded["traffic"], "forwarded")
    assert _count(app, forwardings, to_department="kultur_fritid", note="Samlat beslut") == 3
    assert _count(app, status_history, status="forwarded") == 3
    assert _count(app, audit_log, action="forward") == 3


def test_bulk_forward_to_the_suggested_department_records_confirmations(app, anna, seeded):
    assert _bulk(anna, seeded["traffic"], action="forward", department="tekniska").status_code == 303  # traffic's suggestion
    assert _count(app, forwardings, to_department="tekniska", action="confirm") == 3
    assert _count(app, audit_log, action="confirm") == 3 and _count(app, audit_log, action="forward") == 0


def test_bulk_status_change_is_all_or_nothing(app, anna, seeded):
    everyone = [*seeded["traffic"], seeded["other"]]
    assert _bulk(anna, seeded["traffic"][:1], action="status", status="done").status_code == 303
    # "done" cannot become "planned": the whole batch is refused and the first two stay "received".
    response = _bulk(anna, everyone, action="status", status="planned", query="category=traffic")
    assert response.status_code == 400
    assert '"query":"category=traffic"' in response.get_data(as_text=True)  # the refused page keeps the filter
    assert "Inget ändrades" in response.get_data(as_text=True)
    assert _statuses(app, everyone) == {**dict.fromkeys(everyone, "received"), seeded["traffic"][0]: "done"}
    assert _count(app, audit_log, action="status") == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "delete"}, "Okänd åtgärd"),
        ({"action": "forward", "department": "nowhere"}, "Okänd förvaltning"),
        ({"action": "status", "status": "declined", "note": ""}, "Skälet"),
    ],
)
def test_a_bad_bulk_action_is_refused_with_a_reason_and_changes_nothing(app, anna, seeded, form, message):
    response = _bulk(anna, seeded["traffic"], **form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(app, audit_log) == 0


def test_bulk_with_an_unknown_proposal_changes_nothing(app, anna, seeded):
    response = _bulk(anna, [*seeded["traffic"], "no-such-id"], action="forward", department="tekniska")
    assert response.status_code == 400
    assert _count(app, forwardings) == 0


def test_bulk_needs_a_csrf_token(app, anna, seeded):
    response = anna.post("/planner/bulk", data={"public_id": seeded["traffic"], "action": "forward", "department": "tekniska"})
    assert response.status_code == 400
    assert _count(app, forwardings) == 0


def test_csv_of_the_filtered_table_has_the_tables_columns_and_rows(anna, seeded):
    response = anna.get("/planner/table.csv?category=traffic")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == PLANNER_TABLE_CSV
    assert sorted(row[0] for row in rows[1:]) == ["Trafik 0", "Trafik 1", "Trafik 2"]
    assert {row[2] for row in rows[1:]} == {"Mottaget"}


def test_csv_of_the_table_guards_formulas_and_holds_no_contact_details(anna, seeded):
    text = anna.get("/planner/table.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert '\'=HYPERLINK("http://x")' in [row[0] for row in rows]
    assert "eva@example.se" not in text and "Eva Boende" not in text


def test_csv_of_the_table_refuses_a_bad_date(anna, seeded):
    response = anna.get("/planner/table.csv?date_from=igår")
    assert response.status_code == 400 and "ÅÅÅÅ-MM-DD" in response.get_json()["error"]["message"]


def test_a_saved_filter_is_listed_for_its_owner_as_a_shareable_link(app, client, seeded):
    login(client, "anna")
    token = csrf_token(client, "/planner/")
    response = client.post(
        "/planner/filters",
        data={"csrf_token": token, "name": "Trafik i mars", "query": "category=traffic&bom=1&date_from=2026-03-01"},
    )
    assert response.status_code == 303
    html = client.get("/planner/").get_data(as_text=True)
    assert 'href="/planner/?category=traffic&amp;date_from=2026-03-01">Trafik i mars</a>' in html
    client.post("/planner/logout", data={"csrf_token": csrf_token(client, "/planner/")})
    login(client, "bertil")
    assert "Trafik i mars" not in client.get("/planner/").get_data(as_text=True)


def test_a_filter_name_is_unique_per_planner_and_a_bad_filter_is_refused(app, anna, seeded):
    token = csrf_token(anna, "/planner/")
    assert (
        anna.post("/planner/filters", data={"csrf_token": token, "name": "Mitt", "query": "status=received"}).status_code == 303
    )
    again = anna.post("/planner/filters", data={"csrf_token": token, "name": "Mitt", "query": "status=done"})
    assert again.status_code == 400 and "redan ett filter" in again.get_data(as_text=True)
    bad = anna.post("/planner/filters", data={"csrf_token": token, "name": "Datum", "query": "date_to=snart"})
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.get_data(as_text=True)


def test_a_planner_deletes_only_their_own_saved_filters(app, client, seeded):
    with app.app_context(), db.transaction() as conn:
        from dialogkarta.layers.schema import users

        bertil = conn.execute(select(users.c.id).where(users.c.username == "bertil")).scalar_one()
        filter_id = saved_filters.save(conn, bertil, "Bertils", "status=received")
    login(client, "anna")
    token = csrf_token(client, "/planner/")
    assert client.post(f"/planner/filters/{filter_id}/delete", data={"csrf_token": token}).status_code == 404
    with app.app_context(), db.reading() as conn:
        assert [f["name"] for f in saved_filters.for_user(conn, bertil)] == ["Bertils"]


def test_clean_query_keeps_only_filter_parameters_in_a_fixed_order():
    assert saved_filters.clean_query("?date_to=2026-04-01&x=1&category=traffic&status=") == "category=traffic&date_to=2026-04-01"


def test_the_overlay_table_comes_a_page_at_a_time_with_the_total_and_area_counts_of_every_match(anna, seeded):
    first = anna.get("/planner/api/proposals?limit=2").get_json()
    assert (first["total"], first["numberReturned"], first["offset"]) == (4, 2, 0)
    assert first["area_counts"]["kvarnskon-vattenrannan"] == 4  # counted over every match, not the page
    walked, page = [f["properties"]["public_id"] for f in first["features"]], first
    while page["links"]:
        (link,) = [link for link in page["links"] if link["rel"] == "next"]
        page = anna.get(link["href"]).get_json()
        walked += [f["properties"]["public_id"] for f in page["features"]]
    assert sorted(walked) == sorted(seeded["traffic"] + [seeded["other"]]) and len(set(walked)) == 4
    filtered = anna.get("/planner/api/proposals?category=traffic&limit=2").get_json()
    assert filtered["total"] == 3 and "category=traffic" in filtered["links"][0]["href"]


def test_the_overlay_tables_default_page_is_bounded(anna, seeded, monkeypatch):
    from dialogkarta.webmap import planner

    monkeypatch.setattr(planner, "TABLE_LIMIT_DEFAULT", 3)
    body = anna.get("/planner/api/proposals").get_json()
    assert (body["total"], body["numberReturned"]) == (4, 3) and body["links"]


@pytest.mark.parametrize("query", ["limit=0", "limit=10001", "limit=x", "offset=-1"])
def test_a_bad_page_of_the_overlay_table_is_refused_with_a_reason(anna, seeded, query):
    response = anna.get(f"/planner/api/proposals?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["field"] in ("limit", "offset")
