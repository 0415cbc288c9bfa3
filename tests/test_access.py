"""Access: every registered route, as every kind of visitor, gets exactly the allowed answer.

The sweep walks ``app.url_map``, so a new route fails ``test_every_route_is_classified`` until it
is added to ``REQUIRED`` below with the least role that may use it (``None``: public). Then each
(route, method) is requested as anonymous, resident (anonymous with a browser token cookie),
planner, moderator and admin: allowed roles must not be refused, every other one must be
(anonymous: 401 or a redirect to the login page; a logged-in role too low: 403), and nothing may
answer 5xx. CSRF is off in the sweep so POSTs reach the access check; CSRF has its own test.
Also: passwords are hashed with scrypt, login locks out after repeated failures, sessions expire.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogkarta.layers import accounts
from dialogkarta.layers.schema import login_failures, users
from dialogkarta.webmap.app import create_app
from tests.routes import route_url, seed_route_values

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "test-artifacts" / "access.txt"
ROLES = ("anonymous", "resident", "planner", "moderator", "admin")
RANK = {"anonymous": 0, "resident": 0, "planner": 1, "moderator": 2, "admin": 3}
PASSWORD = "korrekt-häst-batteri-42"

# (endpoint, method) -> least role that may use it; None = public. Explicit on purpose.
REQUIRED = {
    ("static", "GET"): None,
    ("unfingerprinted_static", "GET"): None,
    ("resident.healthz", "GET"): None,
    ("resident.index", "GET"): None,
    ("resident.proposal", "GET"): None,
    ("resident.privacy", "GET"): None,
    ("resident.vendor", "GET"): None,
    ("offline.service_worker", "GET"): None,
    ("offline.manifest", "GET"): None,
    ("offline.supported", "GET"): None,
    ("moderation.flag", "POST"): None,
    ("activity.index", "GET"): None,
    ("activity.index_json", "GET"): None,
    ("activity.show", "GET"): None,
    ("activity.new", "GET"): "planner",
    ("activity.new", "POST"): "planner",
    ("activity.edit", "GET"): "planner",
    ("activity.edit", "POST"): "planner",
    ("api.layers", "GET"): None,
    ("api.layer", "GET"): None,
    ("api.openapi", "GET"): None,
    ("api.list_proposals", "GET"): None,
    ("api.create_proposal", "POST"): None,
    ("api.get_proposal", "GET"): None,
    ("api.support", "POST"): None,
    ("api.nearby", "GET"): None,
    ("api.similar", "GET"): None,
    ("surveys.open_surveys", "GET"): None,
    ("surveys.survey", "GET"): None,
    ("surveys.respond", "POST"): None,
    ("surveys.question_grid", "GET"): None,
    ("surveys.my_response", "GET"): None,
    ("survey_page.answer", "GET"): None,
    ("survey_results.index", "GET"): "planner",
    ("survey_results.results", "GET"): "planner",
    ("survey_results.export_gpkg", "GET"): "planner",
    ("api.proposal_map", "GET"): None,
    ("view_summary.summary", "GET"): None,
    ("proposal_shapes_api.shapes", "GET"): None,  # the public line and area proposals (issue 15)
    ("downloads.index", "GET"): None,
    ("downloads.public_export", "GET"): None,
    ("downloads.planner_export", "GET"): "planner",
    ("downloads.upload", "GET"): "admin",
    ("downloads.upload", "POST"): "admin",
    ("ogc.landing", "GET"): None,
    ("ogc.api", "GET"): None,
    ("ogc.conformance", "GET"): None,
    ("ogc.collections", "GET"): None,
    ("ogc.collection", "GET"): None,
    ("ogc.items", "GET"): None,
    ("ogc.item", "GET"): None,
    ("ogc.planner_collection", "GET"): "planner",
    ("ogc.planner_items", "GET"): "planner",
    ("ogc.planner_item", "GET"): "planner",
    ("auth.login", "GET"): None,
    ("auth.login", "POST"): None,
    ("auth.logout", "POST"): None,
    ("planner.index", "GET"): "planner",
    ("planner.api_areas", "GET"): "planner",
    ("planner.api_proposals", "GET"): "planner",
    ("planner.api_proposal_map", "GET"): "planner",
    ("planner.new", "GET"): "planner",
    ("planner.new", "POST"): "planner",
    ("workbook.index", "GET"): "planner",
    ("workbook.pdf", "GET"): "planner",
    ("workbook.entries", "POST"): "planner",
    ("workbook.import_csv", "POST"): "planner",
    ("planner.proposal", "GET"): "planner",
    ("planner.answer", "POST"): "planner",
    ("planner.forward", "POST"): "planner",
    ("planner.change_status", "POST"): "planner",
    ("planner.bulk_action", "POST"): "planner",
    ("planner.table_csv", "GET"): "planner",
    ("planner.save_filter", "POST"): "planner",
    ("planner.delete_filter", "POST"): "planner",
    ("planner.recompute", "POST"): "planner",
    ("planner.report", "GET"): "planner",
    ("planner.moderation", "GET"): "moderator",
    ("planner.hide", "POST"): "moderator",
    ("planner.restore", "POST"): "moderator",
    ("photos.photo", "GET"): None,  # published photos to anyone; pending ones to staff only (tests/test_photos.py)
    ("photos.decide", "POST"): "moderator",
    ("planner.users", "GET"): "admin",
    ("planner.users", "POST"): "admin",
    ("planner.set_role", "POST"): "admin",
    ("planner.set_active", "POST"): "admin",
    ("planner.revoke_token", "POST"): "admin",
}
# What a read-only API token may use (GET only), whatever its account's role. Explicit on purpose.
READ_TOKEN_ALLOWED = {
    ("ogc.planner_collection", "GET"),
    ("ogc.planner_items", "GET"),
    ("ogc.planner_item", "GET"),
    ("downloads.planner_export", "GET"),
    ("planner.api_areas", "GET"),
    ("planner.api_proposals", "GET"),
    ("planner.table_csv", "GET"),
    ("planner.api_proposal_map", "GET"),
}
# Under /planner only these may be reached without logging in.
PLANNER_PUBLIC = {"auth.login", "auth.logout"}
# Public routes whose ordinary answer looks like a refusal: a failed login is 401, logging out
# redirects to the login page.
ANSWERS_LIKE_REFUSAL = {("auth.login", "POST"), ("auth.logout", "POST")}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "access-sweep",
            "DATABASE_URL": f"sqlite:///{folder / 'access.sqlite'}",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "HOLD_LINKS": False,
            "FLAG_HIDE_THRESHOLD": 1000,
        }
    )
    from dialogkarta.webmap import db

    values = seed_route_values(app)
    ids = {}
    with app.app_context(), db.transaction() as conn:
        for role in ("planner", "moderator", "admin"):
            ids[role] = accounts.create_user(conn, f"sweep-{role}", PASSWORD, role).id
    return {"app": app, "users": ids, "values": values}


def _client(sweep, role):
    client = sweep["app"].test_client()
    if role == "resident":
        client.set_cookie("dialogkarta_token", "resident-browser-token-0123456789")
    elif role in sweep["users"]:
        from dialogkarta.webmap import db

        with sweep["app"].app_context(), db.reading() as conn:  # current: the sweep's own logouts bump it
            version = conn.execute(select(users.c.session_version).where(users.c.id == sweep["users"][role])).scalar_one()
        with client.session_transaction() as session:
            session["staff_user_id"] = sweep["users"][role]
            session["staff_session_version"] = version
            session.permanent = True
    return client


def _url(sweep, rule) -> str:
    return route_url(sweep["app"], rule, sweep["values"])


def _refused(response) -> str | None:
    """How the request was refused ("401", "403", "login"), or None if it was not."""
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code in (302, 303) and "/planner/login" in response.headers.get("Location", ""):
        return "login"
    return None


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_classified(sweep):
    registered = {(rule.endpoint, method) for rule, method in _routes(sweep["app"])}
    unclassified = registered - set(REQUIRED)
    assert not unclassified, f"new routes: add them to REQUIRED with their least role: {sorted(unclassified)}"
    assert not set(REQUIRED) - registered, f"routes gone: {sorted(set(REQUIRED) - registered)}"


def test_classification_matches_the_views_decorators(sweep):
    """What REQUIRED says agrees with each view's @login_required, and /planner/** is never public."""
    app = sweep["app"]
    for rule, method in _routes(app):
        declared = getattr(app.view_functions[rule.endpoint], "required_role", None)
        expected = REQUIRED[(rule.endpoint, method)]
        if declared is not None:  # a view without the decorator may check inside (the sweep tests it)
            assert declared == expected, (rule.rule, method, declared, expected)
        if rule.rule.startswith("/planner") and rule.endpoint not in PLANNER_PUBLIC:
            assert expected is not None, f"{rule.rule} is under /planner but public"


def test_sweep_every_route_as_every_role(sweep):
    app = sweep["app"]
    problems, swept = [], 0
    for rule, method in sorted(_routes(app), key=lambda item: (item[0].rule, item[1])):
        required = REQUIRED[(rule.endpoint, method)]
        url = _url(sweep, rule)
        for role in ROLES:
            client = _client(sweep, role)
            for accept in ("text/html", "application/json"):
                response = client.open(url, method=method, headers={"Accept": accept}, data={})
                swept += 1
                refused = _refused(response)
                allowed = required is None or (RANK[role] >= RANK[required] and RANK[role] > 0)
                where = f"{method} {url} as {role} ({accept}): {response.status_code}"
                if response.status_code >= 500:
                    problems.append(f"{where} server error")
                elif allowed and refused and (rule.endpoint, method) not in ANSWERS_LIKE_REFUSAL:
                    problems.append(f"{where} refused, should be allowed")
                elif not allowed and not refused:
                    problems.append(f"{where} allowed, should need {required}")
                elif not allowed and RANK[role] > 0 and refused != "403":
                    problems.append(f"{where} should be 403 for a logged-in {role}")
                elif not allowed and RANK[role] == 0 and refused == "403":
                    problems.append(f"{where} anonymous should be asked to log in (401/redirect), not 403")
    routes = len(list(_routes(app)))
    ARTIFACT.parent.mkdir(exist_ok=True)
    with ARTIFACT.open("a") as out:
        out.write(
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} access sweep: {routes} route-methods x {len(ROLES)} roles "
            f"x 2 Accept = {swept} requests, problems={len(problems)}\n"
        )
    assert not problems, "\n".join(problems)


def test_read_only_token_sweep(sweep):
    """A read-only token of the admin account: allowed exactly on READ_TOKEN_ALLOWED, 403 on every other staff route."""
    from dialogkarta.webmap import db

    app = sweep["app"]
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "sweep-admin", "sweep-read", scope="read").token
    client = app.test_client()
    problems = []
    for rule, method in sorted(_routes(app), key=lambda item: (item[0].rule, item[1])):
        if REQUIRED[(rule.endpoint, method)] is None or rule.endpoint in PLANNER_PUBLIC:
            continue
        declared = getattr(app.view_functions[rule.endpoint], "token_scope", "full") == "read"
        allowed = (rule.endpoint, method) in READ_TOKEN_ALLOWED
        response = client.open(_url(sweep, rule), method=method, headers={"Authorization": f"Bearer {token}"}, data={})
        where = f"{method} {rule.rule}: {response.status_code}"
        if declared != (allowed or (rule.endpoint, "GET") in READ_TOKEN_ALLOWED):
            problems.append(f"{where} read_only={declared} disagrees with READ_TOKEN_ALLOWED")
        if response.status_code >= 500 or (allowed and _refused(response)) or (not allowed and _refused(response) != "403"):
            problems.append(f"{where} ({'should be allowed' if allowed else 'should be 403'})")
    assert not problems, "\n".join(problems)


def test_json_clients_get_401_not_a_redirect(sweep):
    client = sweep["app"].test_client()
    response = client.get("/planner/api/proposals", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_bearer_token_gets_the_users_role_and_a_bad_one_gets_nothing(sweep):
    from dialogkarta.webmap import db

    app = sweep["app"]
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "sweep-planner").token
    client = app.test_client()
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/planner/moderation", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.get("/planner/api/proposals", headers={"Authorization": "Bearer dk_forged"}).status_code == 401


# ----------------------------------------------------------------------- passwords and sessions


def test_passwords_are_stored_as_scrypt_hashes(sweep):
    from dialogkarta.webmap import db

    with sweep["app"].app_context(), db.reading() as conn:
        hashes = conn.execute(select(users.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("scrypt:") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_login_locks_out_after_repeated_failures(sweep):
    from dialogkarta.webmap import db

    app = sweep["app"]
    with app.app_context(), db.transaction() as conn:
        accounts.create_user(conn, "sweep-lockout", PASSWORD, "planner")
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert client.post("/planner/login", data={"username": "sweep-lockout", "password": "wrong"}).status_code == 401
    response = client.post("/planner/login", data={"username": "sweep-lockout", "password": PASSWORD})
    assert response.status_code == 401  # locked: even the right password is refused for a while
    with app.app_context(), db.reading() as conn:
        locked_until = conn.execute(
            select(login_failures.c.locked_until).where(login_failures.c.username == accounts.failure_key("sweep-lockout"))
        ).scalar_one()
    assert locked_until is not None  # for this client and name only: the account itself is never locked


def test_login_works_and_sets_a_hardened_expiring_session_cookie(sweep):
    client = sweep["app"].test_client()
    response = client.post("/planner/login", data={"username": "sweep-planner", "password": PASSWORD})
    assert response.status_code in (302, 303)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/planner/").status_code == 200
    assert sweep["app"].permanent_session_lifetime <= timedelta(hours=12)


def test_sessions_expire(sweep, monkeypatch):
    app = sweep["app"]
    client = app.test_client()
    assert client.post("/planner/login", data={"username": "sweep-planner", "password": PASSWORD}).status_code in (302, 303)
    assert client.get("/planner/").status_code == 200
    # Nine hours later the signed cookie's timestamp is past PERMANENT_SESSION_LIFETIME (8 h).
    import itsdangerous.timed

    later = time.time() + app.permanent_session_lifetime.total_seconds() + 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = client.get("/planner/")
    assert _refused(response) == "login"


def test_forged_session_cookie_is_refused(sweep):
    client = sweep["app"].test_client()
    from flask.sessions import SecureCookieSessionInterface

    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "not-the-secret",
            "INSTANCE_PATH": str(Path(sweep["app"].instance_path)),
            "DATABASE_URL": sweep["app"].config["DATABASE_URL"],
        }
    )
    serializer = SecureCookieSessionInterface().get_signing_serializer(other)
    client.set_cookie("session", serializer.dumps({"staff_user_id": sweep["users"]["admin"]}))
    assert _refused(client.get("/planner/users")) == "login"


def test_csrf_is_enforced_on_staff_forms(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "csrf",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'csrf.sqlite'}",
            "WTF_CSRF_ENABLED": True,
        }
    )
    from dialogkarta.webmap import db

    with app.app_context(), db.transaction() as conn:
        accounts.create_user(conn, "csrf-user", PASSWORD, "planner")
    response = app.test_client().post("/planner/login", data={"username": "csrf-user", "password": PASSWORD})
    assert response.status_code == 400  # no CSRF token: refused before the password is even checked


def test_login_is_rate_limited_per_client_across_accounts(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "rl",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'rl.sqlite'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGINS": "5/minute",
        }
    )
    client = app.test_client()
    # Spraying one password over many usernames never trips a per-account lock-out; this does.
    statuses = [
        client.post("/planner/login", data={"username": f"user{i}", "password": "Sommar2026!"}).status_code for i in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2
    other = app.test_client()
    assert other.get("/planner/login", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
