"""Times in the locality's time zone (Europe/Stockholm for Dalby) on pages, the report and the CLI,
across the change to summer time on the last Sunday of March; exports keep ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest
from sqlalchemy import update

from dialogkarta.layers import proposals
from dialogkarta.layers.locality import LocalityConfigError, load_locality
from dialogkarta.layers.schema import users
from dialogkarta.webmap import db
from tests.planner_helpers import feature_point, login, make_user

SUMMER = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # after 01:00 UTC that Sunday Sweden keeps CEST, UTC+2
WINTER = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # still CET, UTC+1
SATURDAY_NIGHT = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # already Sunday in Dalby


def submit_at(app, when: datetime, title: str) -> dict:
    with app.app_context(), db.transaction() as conn:
        registry = db.registry()
        lon, lat = feature_point(registry, "services", "busstation")
        data = {"lon": lon, "lat": lat, "category": "traffic", "title": title, "description": "Beskrivning."}
        return proposals.submit(conn, registry, data, now=when)


@pytest.fixture
def planner(app, client):
    make_user(app, "anna", "planner")
    login(client, "anna")
    return client


def test_the_locality_names_its_time_zone(locality):
    assert locality.timezone == "Europe/Stockholm"
    assert locality.local(SUMMER).strftime("%H:%M %Z") == "03:30 CEST"
    assert locality.local(WINTER).strftime("%H:%M %Z") == "01:30 CET"


def test_an_unknown_time_zone_is_refused(tmp_path, locality):
    for path in locality.directory.iterdir():
        if path.is_file():
            (tmp_path / path.name).write_bytes(path.read_bytes())
    config = tmp_path / "locality.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("Europe/Stockholm", "Europe/Dalby"), encoding="utf-8")
    with pytest.raises(LocalityConfigError, match="unknown timezone 'Europe/Dalby'"):
        load_locality(tmp_path)


@pytest.mark.parametrize("when, shown", [(SUMMER, "2026-03-29 03:30 CEST"), (WINTER, "2026-03-29 01:30 CET")])
def test_the_planner_page_shows_when_a_proposal_came_in_on_the_locality_clock(app, planner, when, shown):
    record = submit_at(app, when, "Ett förslag")
    page = planner.get(f"/planner/p/{record['public_id']}").get_data(as_text=True)
    assert f"<dd>{shown}</dd>" in page and f"<li>{shown} – " in page  # arrival and the status history


@pytest.mark.parametrize(
    "when, attribute",
    [(SUMMER, "2026-03-29T03:30:00+02:00"), (WINTER, "2026-03-29T01:30:00+01:00"), (SATURDAY_NIGHT, "2026-03-29T00:30:00+01:00")],
)
def test_the_permalink_dates_a_proposal_by_the_locality_calendar(app, client, when, attribute):
    record = submit_at(app, when, "Ett förslag")
    page = client.get(f"/p/{record['public_id']}").get_data(as_text=True)
    assert f'<time datetime="{attribute}">2026-03-29</time>' in page


def test_the_overlay_filters_by_the_locality_calendar_day(app, planner):
    saturday_night = submit_at(app, SATURDAY_NIGHT, "Lördag kväll i UTC")
    body = planner.get("/planner/api/proposals?date_from=2026-03-29&date_to=2026-03-29").get_json()
    (feature,) = body["features"]
    assert feature["properties"]["public_id"] == saturday_night["public_id"]
    assert feature["properties"]["created_at"] == "2026-03-29T00:30:00+01:00"


def test_the_report_counts_days_and_says_when_it_was_made_on_the_locality_clock(app, planner):
    submit_at(app, SATURDAY_NIGHT, "Lördag kväll i UTC")
    with app.test_request_context("/planner/report"):
        from dialogkarta.webmap import planner_report

        with db.reading() as conn:
            data = planner_report.build(conn, db.registry(), "sv")
    assert data["figures"]["timeline"] == [("2026-03-23", 1)]  # the week of Monday 23 March, not of the 28th in UTC
    assert data["generated_at"].tzname() in ("CET", "CEST")
    html = planner.get("/planner/report").get_data(as_text=True)
    assert " CET." in html or " CEST." in html


def test_the_cli_lists_times_on_the_locality_clock(app, runner):
    make_user(app, "anna", "planner")
    with app.app_context(), db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "anna").values(last_login_at=SUMMER))
    result = runner.invoke(args=["users"])
    assert result.exit_code == 0 and "last login 2026-03-29 03:30 CEST" in result.output


def test_exports_keep_iso_8601_with_the_offset(app, planner):
    record = submit_at(app, SUMMER, "Ett förslag")
    rows = planner.get("/planner/export/proposals.geojson").get_json()["features"]
    (row,) = [f["properties"] for f in rows if f["properties"]["id"] == record["public_id"]]
    assert datetime.fromisoformat(row["created_at"]) == SUMMER and row["created_at"].endswith(("+00:00", "Z"))


def test_staff_pages_show_their_times_on_the_locality_clock(app, client):
    from dialogkarta.layers import activities, workflow

    make_user(app, "admin-anna", "admin")
    login(client, "admin-anna")
    record = submit_at(app, WINTER, "Ett förslag")
    with app.app_context(), db.transaction() as conn:  # after the login, which sets last_login_at
        conn.execute(update(users).where(users.c.username == "admin-anna").values(last_login_at=SUMMER))
        workflow.hide(conn, record["id"], "Personuppgifter", role="moderator", now=SUMMER)
        fields = {
            "kind": "open_meeting",
            "title": "Öppet möte",
            "date": "2026-03-29",
            "place": "Biblioteket",
            "status": "planned",
        }
        activity_id = activities.create(conn, fields, role="planner", now=WINTER)
    shown = "2026-03-29 03:30 CEST"
    assert shown in client.get("/planner/users").get_data(as_text=True)  # last login
    assert shown in client.get("/planner/moderation").get_data(as_text=True)  # the hide in the moderation log
    assert "2026-03-29 01:30 CET" in client.get(f"/activity-plan/{activity_id}").get_data(as_text=True)  # a revision
