"""What the URL-map sweeps (access, CSRF) need: something behind every route variable, and its URL."""

from __future__ import annotations

from datetime import date, timedelta
from importlib.resources import files

from flask import url_for

from dialogkarta.layers import activities, surveys
from dialogkarta.webmap import db

PROPOSAL = {"lon": 13.3514, "lat": 55.6652, "category": "traffic", "title": "Bänk", "description": "Vid dammen"}
MEETING = {"kind": "open_meeting", "title": "Öppet möte", "date": "2026-12-01", "place": "Dalby bibliotek", "status": "planned"}


def seed_route_values(app, **overrides) -> dict:
    """Store one proposal and one activity; return a value for every variable a route may have."""
    public_id = app.test_client().post("/api/proposals", json=PROPOSAL).get_json()["id"]
    with app.app_context(), db.transaction() as conn:
        activity_id = activities.create(conn, MEETING, role="planner")
        surveys.save_survey(conn, open_example_survey())
    values = {
        "public_id": public_id,
        "feature_id": public_id,
        "activity_id": activity_id,
        "name": "proposals",
        "fmt": "geojson",
        "filename": "leaflet.js",
        "fingerprint": "0",
        "path": "leaflet.js",
        "username": "no-such-user",
        "token_id": 999999,
        "slug": "trygghet-och-vagar",
        "question_id": "way_to_school",
        "filter_id": 999999,
        "photo_id": 999999,
        "decision": "publish",
        "sha256": "0" * 64,
    }
    return {**values, **overrides}


def open_example_survey() -> surveys.Survey:
    """The bundled Dalby survey, opened yesterday and closing in a month."""
    text = (files("dialogkarta.data") / "dalby" / "surveys" / "trygghet-och-vagar.toml").read_text(encoding="utf-8")
    today = date.today()
    text = text.replace("opens = 2027-03-01", f"opens = {today - timedelta(days=1)}")
    return surveys.parse_survey(text.replace("closes = 2027-04-30", f"closes = {today + timedelta(days=30)}"))


def route_url(app, rule, values: dict) -> str:
    """The URL of ``rule`` with ``values``; a layer route names a real layer of its kind."""
    values = dict(values)
    if rule.endpoint == "api.layer":
        values["name"] = "development-areas"
    if rule.endpoint in ("ogc.collection", "ogc.items", "ogc.item"):
        values["name"] = "proposals"
    with app.test_request_context():
        return url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
