"""CSRF, swept over the URL map: no state-changing route can be driven by another site.

Every POST/PUT/PATCH/DELETE route is found by walking ``app.url_map`` (a route added tomorrow is
swept tomorrow) and sent what a cross-site page can send, as a logged-in admin so that only CSRF
stands in the way: a form post without a token. Forms must answer 400; the JSON API, exempt from
tokens because a cross-site form cannot send ``application/json`` without a CORS preflight, must
refuse the form body (4xx). Either way the store's every row and the imported layers stay exactly
as they were.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from dialogkarta.layers.schema import metadata
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app
from tests.planner_helpers import login, make_user
from tests.routes import route_url, seed_route_values

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
JSON_ONLY_BLUEPRINTS = {"api", "surveys"}  # csrf.exempt: JSON bodies only, refused when sent as a form
# What a forged form carries: plausible fields of every staff form, and never a csrf_token.
FORGED_FORM = {
    "username": "mallory",
    "password": "a-long-enough-password-1",
    "role": "admin",
    "title": "Forged",
    "description": "Forged",
    "text": "Forged answer",
    "status": "done",
    "note": "x",
    "reason": "x",
    "department": "tekniska",
    "to_department": "tekniska",
    "kind": "open_meeting",
    "date": "2026-12-01",
    "lon": "13.3514",
    "lat": "55.6652",
    "category": "traffic",
    "channel": "web",
}


@pytest.fixture
def admin_client(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "csrf-sweep",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'csrf.sqlite'}",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
            "HOLD_LINKS": False,
        }
    )
    client = app.test_client()
    client.values = seed_route_values(app, username="sweep-admin", token_id=1, user_id=1)
    make_user(app, "sweep-admin", role="admin")
    assert login(client, "sweep-admin").status_code in (302, 303)
    return client


def state_changing_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods & STATE_CHANGING):
            yield rule, method


def snapshot(app) -> dict:
    """Every row of every table (imported layers included: they live in the store), and the upload work folder."""
    with app.app_context(), db.reading() as conn:
        rows = {table.name: sorted(map(repr, conn.execute(select(table)).all())) for table in metadata.sorted_tables}
    layers = Path(app.config["LAYER_OVERRIDE_DIR"])
    rows["layer files"] = sorted(str(p.relative_to(layers)) for p in layers.rglob("*")) if layers.exists() else []
    return rows


def forged_request(client, rule, method):
    url = route_url(client.application, rule, client.values)
    return client.open(url, method=method, data=FORGED_FORM, headers={"Accept": "text/html"})


def test_the_sweep_finds_the_staff_forms_it_must_guard(admin_client):
    endpoints = {rule.endpoint for rule, _ in state_changing_routes(admin_client.application)}
    assert {
        "planner.users",
        "planner.new",
        "planner.restore",
        "planner.recompute",
        "activity.new",
        "auth.logout",
        "downloads.upload",
    } <= endpoints


def test_no_state_changing_route_accepts_a_form_without_a_csrf_token(admin_client):
    app = admin_client.application
    before = snapshot(app)
    problems = []
    for rule, method in state_changing_routes(app):
        response = forged_request(admin_client, rule, method)
        blueprint = rule.endpoint.split(".")[0]
        expected = "4xx" if blueprint in JSON_ONLY_BLUEPRINTS else "400"
        ok = (400 <= response.status_code < 500) if expected == "4xx" else response.status_code == 400
        if not ok:
            problems.append(f"{method} {rule.rule}: {response.status_code}, expected {expected}")
    assert problems == []
    assert snapshot(app) == before


def test_the_sweep_fails_when_one_form_loses_its_csrf_check(admin_client):
    """Exempting one staff form from CSRF (the bug the sweep exists for) is caught."""
    from dialogkarta.webmap.security import csrf

    app = admin_client.application
    csrf.exempt(app.view_functions["planner.users"])
    try:
        rule = next(rule for rule, method in state_changing_routes(app) if rule.endpoint == "planner.users")
        before = snapshot(app)
        response = forged_request(admin_client, rule, "POST")
        assert response.status_code != 400 and snapshot(app) != before  # a forged admin account
    finally:
        csrf._exempt_views.discard(
            f"{app.view_functions['planner.users'].__module__}.{app.view_functions['planner.users'].__name__}"
        )
