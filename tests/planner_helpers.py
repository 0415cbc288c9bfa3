"""Helpers shared by the planner tests: staff accounts, logging in through the real form, real Dalby positions."""

from __future__ import annotations

from dialogkarta.layers import proposals
from dialogkarta.testing import PASSWORD, csrf_token, login, make_user  # noqa: F401 - re-exported for the tests
from dialogkarta.webmap import db


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
