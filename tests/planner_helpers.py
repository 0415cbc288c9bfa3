"""Helpers shared by the planner tests: staff accounts, logging in through the real form, real Dalby positions."""
from __future__ import annotations

import re

from dialogkarta.layers import accounts, proposals
from dialogkarta.webmap import db

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app, username: str, role: str = "planner", password: str = PASSWORD):
    with app.app_context(), db.transaction() as conn:
        return accounts.create_user(conn, username, password, role)


def csrf_token(client, url: str = "/planner/login") -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {url} ({page.status_code})"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/planner/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client, url: str, data: dict, form_url: str):
    """Post ``data`` with the CSRF token taken from the form page at ``form_url``."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url)})


def feature_point(registry, role: str, feature_id: str) -> tuple[float, float]:
    """Return (lon, lat) of a service (its point) or an area (a point inside it) from the bundled data."""
    frame = registry.services() if role == "services" else registry.areas()
    geometry = frame.loc[frame["id"] == feature_id].geometry.iloc[0]
    point = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    return round(point.x, 6), round(point.y, 6)


def add_proposal(app, lon, lat, category="other", title="Ett förslag", role="resident", **extra):
    data = {"lon": lon, "lat": lat, "category": category, "title": title, "description": "Beskrivning.", **extra}
    with app.app_context(), db.transaction() as conn:
        return proposals.submit(conn, db.registry(), data, role=role)
