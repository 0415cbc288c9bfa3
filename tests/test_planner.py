"""The planner's overlay (filters, choropleth counts), proposal pages with their joins, and staff entry."""

from __future__ import annotations

from datetime import datetime, UTC

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from dialogkarta.layers import proposals
from dialogkarta.layers.schema import proposal_areas
from dialogkarta.layers.schema import proposals as proposals_table
from tests.planner_helpers import csrf_token, feature_point, login, make_user
from dialogkarta.webmap import db

# (category, where, channel, day): real Dalby positions, a service's point or a point inside an area.
SEED = [
    ("traffic", ("services", "busstation"), "web", 2),
    ("traffic", ("areas", "stationsomradet"), "open_meeting", 3),
    ("school", ("areas", "stationsomradet"), "web", 5),
    ("housing", ("areas", "kvarnskon-vattenrannan"), "focus_group", 9),
    ("parks_nature", ("areas", "kvarnskon-vattenrannan"), "web", 12),
    ("other", ("areas", "kvarnskon-vattenrannan"), "phone", 15),
    ("culture_leisure", ("services", "bibliotek"), "survey", 20),
    ("safety", ("areas", "paskaganget-sodra"), "workbook", 25),
]


@pytest.fixture
def seeded(app):
    return _seed(app)


@pytest.fixture(scope="module")
def overlay(tmp_path_factory):
    """A logged-in client on a seeded app, shared by the read-only filter cases (setup costs ~1 s)."""
    from tests.test_auth import make_app

    app = make_app(tmp_path_factory.mktemp("overlay"))
    _seed(app)
    client = app.test_client()
    login(client, "anna")
    return client


def _seed(app):
    records = []
    with app.app_context():
        registry = db.registry()
        with db.transaction() as conn:
            for category, where, channel, day in SEED:
                lon, lat = feature_point(registry, *where)
                records.append(
                    proposals.submit(
                        conn,
                        registry,
                        {
                            "lon": lon,
                            "lat": lat,
                            "category": category,
                            "title": f"{category} {day}",
                            "description": "Förslag.",
                            "channel": channel,
                        },
                        role="planner" if channel != "web" else "resident",
                        now=datetime(2026, 3, day, 10, tzinfo=UTC),
                    )
                )
    make_user(app, "anna")
    return records


@pytest.fixture
def staff(client, seeded):
    login(client, "anna")
    return client


def test_overlay_page_embeds_a_local_map_and_every_filter(staff):
    page = staff.get("/planner/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("category", "status", "channel", "area", "department", "date_from", "date_to"):
        assert f'name="{name}"' in html
    heat = next(part.split('"')[0] for part in html.split('src="')[1:] if "leaflet_heat" in part)
    assert "/vendor/leaflet/" in html and heat.startswith("/vendor/folium/")
    assert "cdn." not in html and "unpkg" not in html
    nonce = page.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in html
    assert staff.get(heat).status_code == 200


def test_choropleth_counts_equal_a_direct_count_per_area(app, staff, seeded):
    data = staff.get("/planner/api/proposals").json
    with app.app_context():
        with db.reading() as conn:
            direct = dict(
                conn.execute(
                    select(proposal_areas.c.area_id, func.count())
                    .join(proposals_table, proposals_table.c.id == proposal_areas.c.proposal_id)
                    .group_by(proposal_areas.c.area_id)
                ).all()
            )
        areas = db.registry().areas()
    points = gpd.GeoDataFrame(geometry=[shapely.Point(f["geometry"]["coordinates"]) for f in data["features"]], crs=4326)
    geometric = {
        row.id: int(points.within(row.geometry).sum() + points.touches(row.geometry).sum()) for row in areas.itertuples()
    }
    assert data["area_counts"] == {area_id: direct.get(area_id, 0) for area_id in areas["id"]} == geometric
    assert data["area_counts"]["kvarnskon-vattenrannan"] == 3 and data["area_counts"]["hagalund"] == 0


@pytest.mark.parametrize(
    "query, expected",
    [
        ("category=traffic", 2),
        ("channel=web", 3),
        ("area=stationsomradet", 2),
        ("department=stadsbyggnadskontoret", 6),  # responsible or informed (everything inside an area)
        ("department=utbildning", 1),
        ("date_from=2026-03-05&date_to=2026-03-15", 4),
        ("status=received", 8),
        ("status=planned", 0),
        ("category=traffic&area=stationsomradet", 1),
    ],
)
def test_filters_select_the_same_proposals_for_map_table_and_counts(overlay, query, expected):
    data = overlay.get(f"/planner/api/proposals?{query}").json
    assert data["total"] == len(data["features"]) == expected
    in_areas = sum(1 for f in data["features"] for _ in f["properties"]["area_ids"])
    assert sum(data["area_counts"].values()) == in_areas


def test_a_bad_date_filter_is_a_json_error(overlay):
    response = overlay.get("/planner/api/proposals?date_from=March")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_filter"


def test_proposal_page_shows_areas_and_nearest_services_in_metres(staff, seeded):
    record = seeded[3]  # housing in Kvarnskon–Vattenrännan
    html = staff.get(f"/planner/p/{record['public_id']}").get_data(as_text=True)
    assert 'data-area="kvarnskon-vattenrannan"' in html and "Kvarnskon–Vattenrännan" in html
    nearest_school = record["nearest"]["school"]
    assert nearest_school["name"] in html and f"{nearest_school['distance_m']:.0f} m" in html
    assert "Stadsbyggnadskontoret" in html  # proposed department


def test_recompute_button_rebuilds_the_joins(app, staff, seeded):
    record = seeded[3]
    with app.app_context(), db.transaction() as conn:
        conn.execute(proposal_areas.delete().where(proposal_areas.c.proposal_id == record["id"]))
    page = f"/planner/p/{record['public_id']}"
    assert 'data-area="kvarnskon-vattenrannan"' not in staff.get(page).get_data(as_text=True)
    response = staff.post(f"{page}/recompute", data={"csrf_token": csrf_token(staff, page)})
    assert response.status_code == 302
    assert 'data-area="kvarnskon-vattenrannan"' in staff.get(page).get_data(as_text=True)


def test_forward_answer_and_status_through_the_forms(staff, seeded):
    page = f"/planner/p/{seeded[0]['public_id']}"
    staff.post(
        f"{page}/forward", data={"department": "skanetrafiken", "note": "Hållplatsen", "csrf_token": csrf_token(staff, page)}
    )
    staff.post(f"{page}/answer", data={"body": "Skånetrafiken ser över hållplatsen.", "csrf_token": csrf_token(staff, page)})
    bad = staff.post(f"{page}/status", data={"status": "declined", "csrf_token": csrf_token(staff, page)}, follow_redirects=True)
    assert "Kunde inte spara" in bad.get_data(as_text=True)
    staff.post(f"{page}/status", data={"status": "under_consideration", "csrf_token": csrf_token(staff, page)})
    html = staff.get(page).get_data(as_text=True)
    assert 'data-status="under_consideration"' in html
    assert "Skånetrafiken ser över hållplatsen." in html and "Hållplatsen" in html


def test_staff_enter_a_proposal_with_channel_and_meeting(app, staff):
    lon, lat = feature_point(db_registry(app), "services", "traffpunkt")
    response = staff.post(
        "/planner/new",
        data={
            "channel": "open_meeting",
            "meeting": "Öppet möte i Dalby bibliotek 12 mars",
            "category": "culture_leisure",
            "title": "Fler bänkar",
            "description": "Sagt på mötet.",
            "lon": str(lon),
            "lat": str(lat),
            "csrf_token": csrf_token(staff, "/planner/new"),
        },
    )
    assert response.status_code == 302
    data = staff.get("/planner/api/proposals?channel=open_meeting").json
    assert "Fler bänkar" in [f["properties"]["title"] for f in data["features"]]
    with app.app_context(), db.reading() as conn:
        row = conn.execute(select(proposals_table).where(proposals_table.c.title == "Fler bänkar")).one()
        from dialogkarta.layers.schema import status_history

        first_role = conn.execute(select(status_history.c.role).where(status_history.c.proposal_id == row.id)).scalar_one()
    assert (row.channel, row.meeting, row.department, first_role) == (
        "open_meeting",
        "Öppet möte i Dalby bibliotek 12 mars",
        "kultur_fritid",
        "planner",
    )


def test_staff_entry_outside_the_locality_keeps_the_form(staff):
    response = staff.post(
        "/planner/new",
        data={
            "channel": "phone",
            "category": "other",
            "title": "Långt bort",
            "description": "x",
            "lon": "18.06",
            "lat": "59.33",
            "csrf_token": csrf_token(staff, "/planner/new"),
        },
    )
    assert response.status_code == 422 and 'value="Långt bort"' in response.get_data(as_text=True)


def db_registry(app):
    with app.app_context():
        return db.registry()


def test_planner_pages_speak_english_from_planner_po(staff):
    html = staff.get("/planner/?lang=en").get_data(as_text=True)
    assert "Overview map" in html and "Heat map" in html and "Värmekarta" not in html
    assert "Activity plan" in staff.get("/activity-plan?lang=en").get_data(as_text=True)


def test_every_planner_message_has_an_english_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[1] / "webmap" / "translations" / "en" / "LC_MESSAGES" / "planner.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    assert [m.id for m in catalog if m.id and not m.string] == []
