"""Staff accounts, login, sessions, lock-out, tokens and the guard on every planner route."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from dialogkarta.layers import accounts
from dialogkarta.layers.schema import users
from tests.planner_helpers import PASSWORD, add_proposal, csrf_token, login, make_user
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

PUBLIC_PLANNER_ENDPOINTS = {"auth.login", "auth.logout"}


def make_app(tmp_path, **config):
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'auth.sqlite'}", "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": True, **config,
    })


def guarded_rules(app):
    """Every URL rule whose view needs a staff role, with a URL built for it."""
    rules = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if not hasattr(view, "required_role"):
                continue
            values = {name: _sample(rule._converters[name]) for name in rule.arguments}
            url = app.url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                rules.append((rule.endpoint, method, url, view.required_role))
    return rules


def _sample(converter):
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "no-such-id"


# ------------------------------------------------------------------------------ accounts
def test_password_is_stored_as_scrypt_hash(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD, "planner")
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("scrypt:") and PASSWORD not in stored


@pytest.mark.parametrize("username, password, role, match", [
    ("a", PASSWORD, "planner", "username"),
    ("anna", "short", "planner", "at least"),
    ("anna", PASSWORD, "boss", "unknown role"),
])
def test_create_user_refuses_bad_input(engine, username, password, role, match):
    with engine.begin() as conn, pytest.raises(accounts.AccountError, match=match):
        accounts.create_user(conn, username, password, role)


def test_roles_are_a_hierarchy():
    assert accounts.role_allows("admin", "moderator") and accounts.role_allows("moderator", "planner")
    assert not accounts.role_allows("planner", "moderator") and not accounts.role_allows("moderator", "admin")


def test_lockout_after_failures_refuses_even_the_right_password(engine):
    now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        for _ in range(2):
            assert accounts.authenticate(conn, "anna", "wrong", max_failures=3, now=now).reason == "invalid"
        assert accounts.authenticate(conn, "anna", "wrong", max_failures=3, now=now).reason == "locked"
        assert accounts.authenticate(conn, "anna", PASSWORD, max_failures=3, now=now + timedelta(minutes=14)).reason == "locked"
        result = accounts.authenticate(conn, "anna", PASSWORD, max_failures=3, now=now + timedelta(minutes=16))
    assert result.reason == "ok" and result.user.username == "anna"


def test_tokens_are_stored_hashed_and_can_be_revoked(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        token = accounts.create_token(conn, "anna", "qgis")
        assert accounts.user_for_token(conn, token).username == "anna"
        assert accounts.user_for_token(conn, token + "x") is None
        accounts.revoke_tokens(conn, "anna")
        assert accounts.user_for_token(conn, token) is None


# ------------------------------------------------------------------------------ login over HTTP
def test_login_sets_a_protected_session_cookie_that_expires(app, client):
    make_user(app, "anna")
    response = login(client, "anna")
    assert response.status_code == 302 and response.headers["Location"].endswith("/planner/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    hours = (expires - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds() / 3600
    assert 7.9 < hours <= 8.01
    assert client.get("/planner/").status_code == 200


def test_session_cookie_is_secure_when_configured(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    make_user(app, "anna")
    client = app.test_client()
    assert "Secure" in login(client, "anna").headers["Set-Cookie"]


def test_wrong_password_is_refused_and_lockout_shows_on_the_form(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES=2)
    make_user(app, "anna")
    client = app.test_client()
    assert login(client, "anna", "wrong password").status_code == 401
    locked = login(client, "anna", "wrong password")
    assert locked.status_code == 401 and "låst" in locked.get_data(as_text=True)
    assert login(client, "anna").status_code == 401  # right password, still locked
    assert client.get("/planner/").status_code == 302


def test_login_without_csrf_token_is_refused(app, client):
    make_user(app, "anna")
    response = client.post("/planner/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/planner/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\t/evil.example", "/\\evil.example",
                                    "/\n/evil.example"])
def test_login_ignores_an_offsite_next(app, client, target):
    make_user(app, "anna")
    token = csrf_token(client)
    response = client.post("/planner/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token,
                                                   "next": target})
    assert response.headers["Location"] == "/planner/"


def test_login_returns_to_the_page_that_asked(app, client):
    make_user(app, "anna")
    assert client.get("/planner/report").headers["Location"] == "/planner/login?next=/planner/report"
    token = csrf_token(client, "/planner/login?next=/planner/report")
    response = client.post("/planner/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token,
                                                   "next": "/planner/report"})
    assert response.headers["Location"] == "/planner/report"


def test_logout_needs_post_with_csrf_and_ends_the_session(app, client):
    make_user(app, "anna")
    login(client, "anna")
    assert client.get("/planner/logout").status_code == 405
    assert client.post("/planner/logout").status_code == 400  # no CSRF token
    assert client.get("/planner/").status_code == 200
    client.post("/planner/logout", data={"csrf_token": csrf_token(client, "/planner/")})
    assert client.get("/planner/").status_code == 302


def test_deactivated_user_loses_the_session(app, client):
    make_user(app, "anna")
    login(client, "anna")
    with app.app_context(), db.transaction() as conn:
        accounts.set_active(conn, "anna", False)
    assert client.get("/planner/").status_code == 302


def test_basic_and_bearer_authorization(app, client):
    make_user(app, "anna")
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna")
    basic = base64.b64encode(f"anna:{PASSWORD}".encode()).decode()
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.get("/planner/", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert "Bearer" in refused.headers["WWW-Authenticate"]


# ------------------------------------------------------------------------------ every guarded route
def test_every_planner_route_is_guarded(app):
    """A new /planner route without @login_required fails here, so none can be forgotten."""
    unguarded = [rule.rule for rule in app.url_map.iter_rules()
                 if (rule.rule == "/planner" or rule.rule.startswith("/planner/"))
                 and rule.endpoint not in PUBLIC_PLANNER_ENDPOINTS
                 and not hasattr(app.view_functions[rule.endpoint], "required_role")]
    assert unguarded == []
    endpoints = {endpoint for endpoint, *_ in guarded_rules(app)}
    assert {"planner.index", "planner.api_proposals", "planner.hide", "planner.users", "activity.new"} <= endpoints


def test_anonymous_requests_are_redirected_or_refused(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)  # reach the auth check on POSTs too
    client = app.test_client()
    for endpoint, method, url, _role in guarded_rules(app):
        page = client.open(url, method=method)
        if "/api/" in url or url.startswith("/ogc"):  # JSON endpoints answer 401 whatever the client prefers
            assert page.status_code == 401, (endpoint, method)
        else:
            assert page.status_code == 302 and "/planner/login" in page.headers["Location"], (endpoint, method)
        data = client.open(url, method=method, headers={"Accept": "application/json"})
        assert data.status_code == 401 and data.json["error"]["code"] == "unauthorized", (endpoint, method)


def test_users_below_the_needed_role_are_refused(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False)
    checked = 0
    for role in accounts.ROLES:
        make_user(app, f"user-{role}", role)
        client = app.test_client()
        login(client, f"user-{role}")
        for endpoint, method, url, required in guarded_rules(app):
            if accounts.role_allows(role, required):
                continue
            response = client.open(url, method=method, headers={"Accept": "application/json"})
            assert response.status_code == 403, (role, endpoint, method)
            checked += 1
    assert checked >= 5  # hide, restore, moderation (planner) and users GET/POST (planner, moderator)


def test_form_posts_without_csrf_token_are_refused_when_logged_in(app, client):
    record = add_proposal(app, 13.3514, 55.6652)
    make_user(app, "anna", "admin")
    login(client, "anna")
    for action, data in (("forward", {"department": "tekniska"}), ("answer", {"body": "Svar"}),
                         ("status", {"status": "planned"}), ("hide", {"reason": "x"})):
        response = client.post(f"/planner/p/{record['public_id']}/{action}", data=data)
        assert response.status_code == 400, action
    page = client.get(f"/planner/p/{record['public_id']}").get_data(as_text=True)
    assert "Svar</p>" not in page and 'data-status="received"' in page


# ------------------------------------------------------------------------------ CLI
def test_cli_create_user_from_stdin_and_prompt(app, runner):
    result = runner.invoke(args=["create-user", "anna", "--role", "moderator", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    prompted = runner.invoke(args=["create-user", "bo"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    refused = runner.invoke(args=["create-user", "cia", "--password-stdin"], input="short\n")
    assert refused.exit_code != 0 and "at least" in refused.output
    with app.app_context(), db.reading() as conn:
        roles = {u["username"]: u["role"] for u in accounts.list_users(conn)}
    assert roles == {"anna": "moderator", "bo": "planner"}


def test_cli_create_token_authenticates(app, runner, client):
    make_user(app, "anna")
    result = runner.invoke(args=["create-token", "anna"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("dk_")
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
