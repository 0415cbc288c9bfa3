"""Staff accounts, login, sessions, lock-out, tokens and the guard on every planner route."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta, UTC

import pytest
from sqlalchemy import insert, select
from werkzeug.routing import AnyConverter, IntegerConverter

from dialogkarta.layers import accounts
from dialogkarta.layers.schema import api_tokens, login_failures, users
from dialogkarta.layers.store import init_db
from tests.conftest import on_sqlite_only
from werkzeug.security import generate_password_hash
from tests.planner_helpers import PASSWORD, add_proposal, csrf_token, login, make_user, post_form
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

PUBLIC_PLANNER_ENDPOINTS = {"auth.login", "auth.logout"}


def make_app(tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'auth.sqlite'}",
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
            **config,
        }
    )


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


NAME_RULE_SV = "ska ha 2–64 tecken: bokstäver, siffror, . _ @ -"
NAME_RULE_EN = "must have 2-64 characters: letters, digits, . _ @ -"


@pytest.mark.parametrize(
    "username, password, role, sv, en",
    [
        ("a", PASSWORD, "planner", f"Användarnamnet {NAME_RULE_SV}", f"The username {NAME_RULE_EN}"),
        ("anna:x", PASSWORD, "planner", f"Användarnamnet {NAME_RULE_SV}", f"The username {NAME_RULE_EN}"),
        ("a" * 65, PASSWORD, "planner", f"Användarnamnet {NAME_RULE_SV}", f"The username {NAME_RULE_EN}"),
        (
            "anna",
            "123456789",
            "planner",
            "Lösenordet måste ha minst 10 tecken.",
            "The password must have at least 10 characters.",
        ),
        (
            "anna",
            PASSWORD,
            "boss",
            "Okänd roll 'boss'; välj en av planner, moderator, admin.",
            "Unknown role 'boss'; choose one of planner, moderator, admin.",
        ),
    ],
)
def test_create_user_refuses_bad_input_and_says_why(engine, username, password, role, sv, en):
    with engine.begin() as conn, pytest.raises(accounts.AccountError) as refused:
        accounts.create_user(conn, username, password, role)
    assert refused.value.messages == {"sv": sv, "en": en} and refused.value.code == "invalid_account"


def test_names_of_two_and_sixty_four_characters_and_ten_character_passwords_are_accepted(engine):
    with engine.begin() as conn:
        for name in ("ab", "a" * 64, "anna.berg@lund-se_1"):
            assert accounts.create_user(conn, name, "1234567890").username == name


@pytest.mark.parametrize(
    "action, error, sv, en",
    [
        (
            lambda c: accounts.set_password(c, "nobody", PASSWORD),
            accounts.UnknownAccount,
            "Det finns inget konto som heter 'nobody'.",
            "There is no user named 'nobody'.",
        ),
        (
            lambda c: accounts.create_user(c, "anna", PASSWORD),
            accounts.AccountError,
            "Det finns redan ett konto som heter 'anna'.",
            "A user named 'anna' already exists.",
        ),
        (
            lambda c: accounts.create_token(c, "nobody"),
            accounts.UnknownAccount,
            "Det finns inget aktivt konto som heter 'nobody'.",
            "There is no active user named 'nobody'.",
        ),
        (
            lambda c: accounts.create_token(c, "anna", scope="write"),
            accounts.AccountError,
            "Okänd behörighet 'write'; välj full eller read.",
            "Unknown scope 'write'; choose full or read.",
        ),
        (
            lambda c: accounts.create_token(c, "anna", days=0),
            accounts.AccountError,
            "En token gäller mellan 1 och 3650 dagar.",
            "A token lasts between 1 and 3650 days.",
        ),
        (
            lambda c: accounts.create_token(c, "anna", days=3651),
            accounts.AccountError,
            "En token gäller mellan 1 och 3650 dagar.",
            "A token lasts between 1 and 3650 days.",
        ),
        (
            lambda c: accounts.create_token(c, "anna", "x"),
            accounts.AccountError,
            f"Tokens namn {NAME_RULE_SV}",
            f"The token name {NAME_RULE_EN}",
        ),
        (
            lambda c: [accounts.create_token(c, "anna", "anna-qgis") for _ in range(2)],
            accounts.AccountError,
            "Det finns redan en token som heter 'anna-qgis'.",
            "A token named 'anna-qgis' already exists.",
        ),
        (
            lambda c: accounts.revoke_token(c, name="ghost"),
            accounts.UnknownAccount,
            "Det finns ingen token ghost.",
            "There is no token ghost.",
        ),
        (
            lambda c: accounts.revoke_token(c, token_id=999),
            accounts.UnknownAccount,
            "Det finns ingen token #999.",
            "There is no token #999.",
        ),
        (
            lambda c: accounts.set_role(c, "anna", "planner"),
            accounts.AccountError,
            "'anna' är det sista aktiva administratörskontot; utse en annan administratör först.",
            "'anna' is the last active admin; make someone else admin first.",
        ),
    ],
)
def test_account_and_token_refusals_say_why_in_swedish_and_english(engine, action, error, sv, en):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD, "admin")
        with pytest.raises(error) as refused:
            action(conn)
    assert refused.value.messages == {"sv": sv, "en": en}


def test_a_token_may_last_from_one_day_up_to_ten_years(engine):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        longest = accounts.create_token(conn, "anna", "longest", days=3650, now=now)
        shortest = accounts.create_token(conn, "anna", "shortest", days=1, now=now)
    assert longest.expires_at == now + timedelta(days=3650) and shortest.expires_at == now + timedelta(days=1)


def test_roles_are_a_hierarchy():
    assert accounts.role_allows("admin", "moderator") and accounts.role_allows("moderator", "planner")
    assert not accounts.role_allows("planner", "moderator") and not accounts.role_allows("moderator", "admin")


def test_lockout_is_per_name_and_client_and_refuses_even_the_right_password(engine):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        for _ in range(2):
            assert accounts.authenticate(conn, "anna", "wrong", client="attacker", max_failures=3, now=now).reason == "invalid"
        assert accounts.authenticate(conn, "anna", "wrong", client="attacker", max_failures=3, now=now).reason == "locked"
        later = now + timedelta(minutes=14)
        assert accounts.authenticate(conn, "anna", PASSWORD, client="attacker", max_failures=3, now=later).reason == "locked"
        assert accounts.authenticate(conn, "anna", PASSWORD, client="office", max_failures=3, now=later).reason == "ok"
        result = accounts.authenticate(conn, "anna", PASSWORD, client="attacker", max_failures=3, now=now + timedelta(minutes=16))
    assert result.reason == "ok" and result.user.username == "anna"


def test_unknown_names_lock_out_like_known_ones(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        reasons = {
            name: [accounts.authenticate(conn, name, "wrong", client="c", max_failures=2).reason for _ in range(3)]
            for name in ("anna", "nobody")
        }
    assert reasons == {"anna": ["invalid", "locked", "locked"], "nobody": ["invalid", "locked", "locked"]}


def test_failed_names_are_stored_hashed_and_a_new_password_lifts_the_lockout(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        accounts.authenticate(conn, "Correct horse battery", "x", client="c", max_failures=1)  # password typed as the name
        accounts.authenticate(conn, "anna", "wrong", client="c", max_failures=1)
        stored = conn.execute(select(login_failures.c.username)).scalars().all()
        assert len(stored) == 2 and not any("horse" in name or "anna" in name for name in stored)
        accounts.set_password(conn, "anna", "ett helt nytt lösenord")
        assert accounts.authenticate(conn, "anna", "ett helt nytt lösenord", client="c", max_failures=1).reason == "ok"


def test_tokens_are_stored_hashed_and_can_be_revoked(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        token = accounts.create_token(conn, "anna", "anna-qgis").token
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
        assert token not in stored
        assert accounts.user_for_token(conn, token).username == "anna"
        assert accounts.user_for_token(conn, token + "x") is None
        accounts.revoke_tokens(conn, "anna")
        assert accounts.user_for_token(conn, token) is None


def test_token_expires(engine):
    made = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        token = accounts.create_token(conn, "anna", "anna-qgis", days=90, now=made).token
        assert accounts.user_for_token(conn, token, now=made + timedelta(days=89)).username == "anna"
        assert accounts.user_for_token(conn, token, now=made + timedelta(days=90)) is None  # from the second it expires
        assert accounts.user_for_token(conn, token, now=made + timedelta(days=90, seconds=1)) is None


def test_a_token_made_before_tokens_expired_gets_the_default_lifetime(engine):
    made = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        user = accounts.create_user(conn, "anna", PASSWORD)
        conn.execute(
            insert(api_tokens).values(
                user_id=user.id, token_hash=hashlib.sha256(b"dk_old").hexdigest(), created_at=made, revoked=False
            )
        )  # no name, no expiry: as stored before #9
        assert accounts.user_for_token(conn, "dk_old", now=made + timedelta(days=89)).scope == "full"
        assert accounts.user_for_token(conn, "dk_old", now=made + timedelta(days=91)) is None


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "root", PASSWORD, "admin")
        for change in (lambda: accounts.set_role(conn, "root", "planner"), lambda: accounts.set_active(conn, "root", False)):
            with pytest.raises(accounts.AccountError, match="last active admin"):
                change()
        accounts.create_user(conn, "second", PASSWORD, "admin")
        accounts.set_role(conn, "root", "planner")
        assert {u["username"]: u["role"] for u in accounts.list_users(conn)} == {"root": "planner", "second": "admin"}


@on_sqlite_only  # DROP COLUMN to rebuild the shape of an older store
def test_a_store_from_before_revocable_access_gains_session_versions_and_token_names(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")  # made before the migrations: never stamped
        conn.exec_driver_sql("DROP INDEX uq_api_tokens_name")
        for table, column in (
            ("users", "session_version"),
            ("api_tokens", "name"),
            ("api_tokens", "scope"),
            ("api_tokens", "expires_at"),
            ("api_tokens", "revoked_at"),
        ):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.exec_driver_sql(
            "INSERT INTO users (username, password_hash, role, active, failed_logins, created_at) "
            f"VALUES ('anna', '{generate_password_hash(PASSWORD)}', 'planner', 1, 0, CURRENT_TIMESTAMP)"
        )
        conn.exec_driver_sql(
            "INSERT INTO api_tokens (user_id, token_hash, label, created_at, revoked) "
            f"VALUES (1, '{hashlib.sha256(b'dk_old').hexdigest()}', '', CURRENT_TIMESTAMP, 0)"
        )
    init_db(engine)
    with engine.begin() as conn:
        assert accounts.authenticate(conn, "anna", PASSWORD, client="c").session_version == 1
        assert accounts.user_for_token(conn, "dk_old").scope == "full"
        accounts.create_token(conn, "anna", "anna-qgis")
        with pytest.raises(accounts.AccountError, match="already exists"):  # the unique index is there too
            accounts.create_token(conn, "anna", "anna-qgis")


# ------------------------------------------------------------------------------ login over HTTP
def test_login_sets_a_protected_session_cookie_that_expires(app, client):
    make_user(app, "anna")
    response = login(client, "anna")
    assert response.status_code == 302 and response.headers["Location"].endswith("/planner/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    hours = (expires - datetime.now(UTC).replace(tzinfo=None)).total_seconds() / 3600
    assert 7.9 < hours <= 8.01
    assert client.get("/planner/").status_code == 200


def test_session_cookie_is_secure_when_configured(tmp_path):
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    make_user(app, "anna")
    client = app.test_client()
    assert "Secure" in login(client, "anna").headers["Set-Cookie"]


def test_wrong_password_is_refused_and_a_locked_client_stays_out(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES=2)
    make_user(app, "anna")
    client = app.test_client()
    assert login(client, "anna", "wrong password").status_code == 401
    assert login(client, "anna", "wrong password").status_code == 401
    assert login(client, "anna").status_code == 401  # right password, this client still locked out of "anna"
    assert client.get("/planner/").status_code == 302


def test_login_without_csrf_token_is_refused(app, client):
    make_user(app, "anna")
    response = client.post("/planner/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/planner/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "/\x00/evil",
        "/\x7f/evil",
    ],
)
def test_login_ignores_an_offsite_next(app, client, target):
    make_user(app, "anna")
    token = csrf_token(client)
    response = client.post("/planner/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token, "next": target})
    assert response.headers["Location"] == "/planner/"


def test_login_returns_to_the_page_that_asked(app, client):
    make_user(app, "anna")
    assert client.get("/planner/report").headers["Location"] == "/planner/login?next=/planner/report"
    token = csrf_token(client, "/planner/login?next=/planner/report")
    response = client.post(
        "/planner/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token, "next": "/planner/report"}
    )
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
        token = accounts.create_token(conn, "anna").token
    basic = base64.b64encode(f"anna:{PASSWORD}".encode()).decode()
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.get("/planner/", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert "Bearer" in refused.headers["WWW-Authenticate"]


def test_api_clients_are_told_how_to_log_in_and_why_they_are_refused(app, client):
    make_user(app, "anna", "planner")
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna").token
    anonymous = client.get("/planner/api/proposals")
    assert anonymous.status_code == 401
    assert anonymous.json == {"error": {"code": "unauthorized", "message": "Du behöver logga in."}}
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="dialogkarta", Basic realm="dialogkarta"'
    below = client.get("/planner/users", headers={"Authorization": f"Bearer {token}"})
    assert below.status_code == 403 and "WWW-Authenticate" not in below.headers
    assert below.json == {"error": {"code": "forbidden", "message": "Du har inte behörighet till detta."}}
    assert client.get("/planner/api/proposals", headers={"Authorization": f"BEARER  {token} "}).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64",
        "Basic !" + base64.b64encode(f"anna:{PASSWORD}".encode()).decode(),  # right credentials, but not clean base64
        "Digest " + base64.b64encode(f"anna:{PASSWORD}".encode()).decode(),  # right credentials, under another scheme
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b"anna").decode(),
        "Bearer ",
        "Digest abc",
    ],
)
def test_malformed_authorization_is_refused_without_an_error(app, client, authorization):
    make_user(app, "anna", "planner")
    response = client.get("/planner/api/proposals", headers={"Authorization": authorization})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


# ------------------------------------------------------------------------------ every guarded route
def test_every_planner_route_is_guarded(app):
    """A new /planner route without @login_required fails here, so none can be forgotten."""
    unguarded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if (rule.rule == "/planner" or rule.rule.startswith("/planner/"))
        and rule.endpoint not in PUBLIC_PLANNER_ENDPOINTS
        and not hasattr(app.view_functions[rule.endpoint], "required_role")
    ]
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
    for action, data in (
        ("forward", {"department": "tekniska"}),
        ("answer", {"body": "Svar"}),
        ("status", {"status": "planned"}),
        ("hide", {"reason": "x"}),
    ):
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
    token = result.stdout.strip()  # only the token on stdout, so scripts can capture it
    assert result.exit_code == 0 and token.startswith("dk_")
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# ------------------------------------------------------------------------------ sessions that can be ended
def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def stolen_copy(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _log_out(client, runner):
    client.post("/planner/logout", data={"csrf_token": csrf_token(client, "/planner/")})


def _new_password(client, runner):
    return runner.invoke(args=["set-password", "anna", "--password-stdin"], input="ett helt nytt lösenord\n")


def _deactivate(client, runner):
    return runner.invoke(args=["deactivate", "anna"])


def _new_role(client, runner):
    return runner.invoke(args=["set-role", "anna", "moderator"])


@pytest.mark.parametrize(
    "end", [_log_out, _new_password, _deactivate, _new_role], ids=["logout", "password", "deactivation", "role"]
)
def test_a_stolen_session_cookie_is_refused_after(app, client, runner, end):
    make_user(app, "anna")
    login(client, "anna")
    thief = stolen_copy(app, client)
    assert thief.get("/planner/").status_code == 200
    result = end(client, runner)
    assert result is None or result.exit_code == 0, result.output
    assert thief.get("/planner/").status_code == 302
    assert thief.get("/planner/api/proposals").status_code == 401


def test_logout_ends_the_session_on_every_device(app):
    make_user(app, "anna")
    office, phone = app.test_client(), app.test_client()
    login(office, "anna")
    login(phone, "anna")
    _log_out(office, None)
    assert phone.get("/planner/").status_code == 302
    assert login(phone, "anna").status_code == 302 and phone.get("/planner/").status_code == 200


# ------------------------------------------------------------------------------ tokens over HTTP
OGC_PLANNER = "/ogc/collections/proposals-planner"


def _token(app, username="anna", role="planner", **options) -> str:
    make_user(app, username, role)
    with app.app_context(), db.transaction() as conn:
        return accounts.create_token(conn, username, f"{username}-qgis", **options).token


def test_an_expired_token_is_refused(app, client):
    token = _token(app, now=datetime.now(UTC) - timedelta(days=2), days=1)
    assert client.get("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(OGC_PLANNER, headers=basic("anna-qgis", token)).status_code == 401


def test_a_revoked_token_is_refused(app, client, runner):
    token = _token(app)
    assert client.get(OGC_PLANNER, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    result = runner.invoke(args=["revoke-token", "anna-qgis"])
    assert result.exit_code == 0, result.output
    assert client.get(OGC_PLANNER, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(OGC_PLANNER, headers=basic("anna-qgis", token)).status_code == 401


def test_a_token_works_as_the_basic_password_with_its_name_as_username(app, client):
    """QGIS 3.22 sends no Bearer header; its Basic authentication carries the token instead."""
    token = _token(app)
    answer = client.get(f"{OGC_PLANNER}/items", headers=basic("anna-qgis", token))
    assert answer.status_code == 200 and answer.json["type"] == "FeatureCollection"
    assert client.get(OGC_PLANNER, headers=basic("anna", token)).status_code == 401  # the account's name is not the token's
    assert client.get(OGC_PLANNER, headers=basic("other-qgis", token)).status_code == 401


@pytest.mark.parametrize(
    "url", [OGC_PLANNER, f"{OGC_PLANNER}/items", "/planner/export/proposals.geojson", "/planner/api/proposals"]
)
def test_a_read_only_token_reads_the_planner_layers(app, client, url):
    token = _token(app, "root", "admin", scope="read")
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "url", ["/planner/export/proposals.geojson?contacts=1", "/planner/users", "/planner/moderation", "/planner/"]
)
def test_a_read_only_token_of_an_admin_is_refused_beyond_reading_layers(app, client, url):
    token = _token(app, "root", "admin", scope="read")
    for headers in ({"Authorization": f"Bearer {token}"}, basic("root-qgis", token)):
        assert client.get(url, headers=headers).status_code == 403, headers
    full = _token(app, "boss", "admin")
    assert client.get(url, headers={"Authorization": f"Bearer {full}"}).status_code == 200


# ------------------------------------------------------------------------------ one throttle for every way in
API = "/planner/api/proposals"


def count_hashes(monkeypatch) -> list:
    hashes = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *args: hashes.append(args) or real(*args))
    return hashes


def test_basic_auth_is_throttled_before_any_password_is_hashed(tmp_path, monkeypatch):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGINS="5/minute", LOGIN_MAX_FAILURES=1000)
    make_user(app, "anna")
    hashes = count_hashes(monkeypatch)
    client = app.test_client()
    statuses = [client.get(API, headers=basic(f"user{i}", "Sommar2026!")).status_code for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    assert len(hashes) == 5
    throttled = client.get(API, headers=basic("anna", PASSWORD))  # even the right password, and still no hash
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert len(hashes) == 5
    assert client.get("/planner/login").status_code == 429  # the same limit as the login form
    assert client.get("/activity-plan", headers=basic("anna", "x")).status_code == 429  # a public page asking who it is
    other = app.test_client()
    assert other.get(API, headers=basic("anna", PASSWORD), environ_base={"REMOTE_ADDR": "192.0.2.20"}).status_code == 200


def test_form_basic_and_token_attempts_count_in_one_limit(tmp_path, monkeypatch):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGINS="5/minute")
    make_user(app, "anna")
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna", "anna-qgis").token
    client = app.test_client()
    assert client.get(API, headers={"Authorization": "Bearer dk_guess"}).status_code == 401  # 1
    assert client.get(API, headers={"Authorization": "Bearer dk_guess2"}).status_code == 401  # 2
    assert login(client, "anna", "wrong password").status_code == 401  # 3, 4 (form and post)
    assert client.get(API, headers=basic("anna", "wrong password")).status_code == 401  # 5
    hashes = count_hashes(monkeypatch)
    for headers in ({"Authorization": f"Bearer {token}"}, basic("anna-qgis", token), basic("anna", PASSWORD)):
        assert client.get(API, headers=headers).status_code == 429, headers
    assert hashes == []


def _normalised(response, username: str) -> tuple[int, str]:
    text = response.get_data(as_text=True)
    text = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", text)
    text = re.sub(r'nonce(=|-)"?[A-Za-z0-9_-]+', "NONCE", text)
    return response.status_code, text.replace(f'value="{username}"', 'value="NAME"')


def test_unknown_wrong_password_and_locked_get_the_same_answer(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES=3)
    make_user(app, "anna")
    make_user(app, "bo")
    client = app.test_client()
    for _ in range(3):
        client.get(API, headers=basic("bo", "wrong password"))
        login(client, "bo", "wrong password")
    attempts = (("nobody", PASSWORD), ("anna", "wrong password"), ("bo", PASSWORD))  # unknown, wrong, locked
    over_basic = [client.get(API, headers=basic(name, password)) for name, password in attempts]
    assert {(r.status_code, r.get_data(), r.headers["WWW-Authenticate"]) for r in over_basic} == {
        (401, over_basic[0].get_data(), over_basic[0].headers["WWW-Authenticate"])
    }
    over_form = {_normalised(login(client, name, password), name) for name, password in attempts}
    assert len(over_form) == 1 and over_form.pop()[0] == 401


def test_an_attacker_cannot_lock_out_the_real_user(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES=3)
    make_user(app, "anna")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.66"
    for _ in range(10):
        assert login(attacker, "anna", "gissning-123").status_code == 401
        assert attacker.get(API, headers=basic("anna", "gissning-123")).status_code == 401
    assert login(attacker, "anna").status_code == 401  # the attacker's client is locked out of "anna"
    real = app.test_client()
    real.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert login(real, "anna").status_code == 302 and real.get("/planner/").status_code == 200
    assert real.get(API, headers=basic("anna", PASSWORD)).status_code == 200


# ------------------------------------------------------------------------------ the accounts page (admin)
def _admin(app):
    make_user(app, "root", "admin")
    admin = app.test_client()
    login(admin, "root")
    return admin


def test_accounts_page_changes_role_deactivates_and_revokes(app, client):
    token = _token(app)
    login(client, "anna")
    admin = _admin(app)
    page = admin.get("/planner/users").get_data(as_text=True)
    assert "anna-qgis" in page and "giltig" in page
    assert post_form(admin, "/planner/users/anna/role", {"role": "moderator"}, "/planner/users").status_code == 302
    assert client.get("/planner/").status_code == 302  # the role change ended anna's session
    with app.app_context(), db.reading() as conn:
        assert {u["username"]: u["role"] for u in accounts.list_users(conn)}["anna"] == "moderator"
        token_id = accounts.list_tokens(conn, "anna")[0]["id"]
    assert post_form(admin, f"/planner/tokens/{token_id}/revoke", {}, "/planner/users").status_code == 302
    assert client.get(API, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    login(client, "anna")
    assert post_form(admin, "/planner/users/anna/active", {"active": "0"}, "/planner/users").status_code == 302
    assert client.get("/planner/").status_code == 302
    assert login(client, "anna").status_code == 401


@pytest.mark.parametrize(
    "url, data, status, message",
    [
        ("/planner/users/anna/role", {"role": "boss"}, 400, "Okänd roll"),
        ("/planner/users/nobody/role", {"role": "admin"}, 404, "Det finns inget konto"),
        ("/planner/users/anna/active", {"active": "kanske"}, 400, "aktivt"),
        ("/planner/users/root/role", {"role": "planner"}, 400, "sista aktiva"),
        ("/planner/tokens/999/revoke", {}, 404, "ingen token"),
    ],
)
def test_accounts_page_refuses_bad_input_and_changes_nothing(app, url, data, status, message):
    make_user(app, "anna")
    admin = _admin(app)
    with app.app_context(), db.reading() as conn:
        before = accounts.list_users(conn)
    response = post_form(admin, url, data, "/planner/users")
    assert response.status_code == status and message in response.get_data(as_text=True)
    with app.app_context(), db.reading() as conn:
        assert accounts.list_users(conn) == before
    assert admin.get("/planner/users").status_code == 200  # the admin's own session is untouched


# ------------------------------------------------------------------------------ CLI: users and tokens
def test_cli_lists_users_and_tokens_and_revokes(app, runner):
    make_user(app, "anna", "moderator")
    created = runner.invoke(args=["create-token", "anna", "--name", "anna-qgis", "--scope", "read", "--days", "30"])
    assert created.exit_code == 0 and created.stdout.startswith("dk_"), created.output
    listed = runner.invoke(args=["users"]).output
    assert "anna" in listed and "moderator" in listed and "active" in listed
    tokens = runner.invoke(args=["tokens"]).output
    assert "anna-qgis" in tokens and "read" in tokens and "active" in tokens
    assert runner.invoke(args=["revoke-token", "anna-qgis"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "anna"]).output


@pytest.mark.parametrize(
    "args, message",
    [
        (["revoke-token", "nothing"], "no token nothing"),
        (["deactivate", "nobody"], "no user named 'nobody'"),
        (["set-role", "nobody", "admin"], "no user named 'nobody'"),
        (["create-token", "anna", "--name", "has:colon"], "token name must have"),
    ],
)
def test_cli_account_commands_refuse_bad_input(app, runner, args, message):
    make_user(app, "anna")
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output, result.output


def test_the_token_list_shows_each_status_newest_first_and_revoking_a_users_tokens_spares_others(engine):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        for name in ("anna", "bo"):
            accounts.create_user(conn, name, PASSWORD)
        accounts.create_token(conn, "anna", "anna-old", days=1, now=now - timedelta(days=2))
        accounts.create_token(conn, "anna", "anna-new", scope="read", now=now - timedelta(hours=1))
        accounts.create_token(conn, "bo", "bo-1", now=now - timedelta(minutes=30))
        before = [(t["name"], t["status"]) for t in accounts.list_tokens(conn, now=now)]
        assert accounts.revoke_tokens(conn, "anna", now=now) == 2
        after = [
            (t["name"], t["username"], t["scope"], t["status"], t["revoked_at"]) for t in accounts.list_tokens(conn, now=now)
        ]
        only_bo = [t["name"] for t in accounts.list_tokens(conn, "bo", now=now)]
    assert before == [("bo-1", "active"), ("anna-new", "active"), ("anna-old", "expired")]
    assert after == [
        ("bo-1", "bo", "full", "active", None),
        ("anna-new", "anna", "read", "revoked", now),
        ("anna-old", "anna", "full", "revoked", now),
    ]
    assert only_bo == ["bo-1"]


# ------------------------------------------------------------------------------ accounts, lock-out and tokens in detail
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_create_user_returns_the_account_with_its_number_name_and_role(engine):
    with engine.begin() as conn:
        user = accounts.create_user(conn, "anna", PASSWORD, "moderator")
        stored_id = conn.execute(select(users.c.id)).scalar_one()
    assert user == accounts.User(stored_id, "anna", "moderator", "full")


def test_a_role_outside_the_hierarchy_may_do_nothing_and_asking_for_one_is_a_programming_error():
    assert not accounts.role_allows("visitor", "planner") and not accounts.role_allows("", "planner")
    with pytest.raises(ValueError) as wrong:
        accounts.role_allows("admin", "boss")
    assert str(wrong.value) == "unknown role 'boss'; expected one of ('planner', 'moderator', 'admin')"


def test_an_inactive_admin_does_not_count_as_another_admin_and_staying_admin_is_always_allowed(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "root", PASSWORD, "admin")
        accounts.create_user(conn, "old", PASSWORD, "admin")
        accounts.set_active(conn, "old", False)
        with pytest.raises(accounts.AccountError, match="last active admin"):
            accounts.set_role(conn, "root", "planner")
        accounts.set_role(conn, "root", "admin")
        assert {u["username"]: (u["role"], u["active"]) for u in accounts.list_users(conn)} == {
            "old": ("admin", False),
            "root": ("admin", True),
        }


def test_get_user_finds_active_accounts_only(engine):
    with engine.begin() as conn:
        anna = accounts.create_user(conn, "anna", PASSWORD, "moderator")
        bo = accounts.create_user(conn, "bo", PASSWORD)
        accounts.set_active(conn, "bo", False)
        assert accounts.get_user(conn, anna.id) == accounts.User(anna.id, "anna", "moderator")
        assert accounts.get_user(conn, bo.id) is None and accounts.get_user(conn, anna.id + bo.id + 1) is None


def test_a_session_names_an_active_account_by_number_with_its_current_session_version(engine):
    with engine.begin() as conn:
        anna = accounts.create_user(conn, "anna", PASSWORD)
        version = accounts.authenticate(conn, "anna", PASSWORD, client="c").session_version
        assert accounts.user_for_session(conn, anna.id, version) == accounts.User(anna.id, "anna", "planner")
        assert accounts.user_for_session(conn, str(anna.id), version) is None  # a cookie holding text names nobody
        assert accounts.user_for_session(conn, anna.id, str(version)) is None
        assert accounts.user_for_session(conn, anna.id, version + 1) is None
        accounts.set_active(conn, "anna", False)
        current = conn.execute(select(users.c.session_version)).scalar_one()
        assert accounts.user_for_session(conn, anna.id, current) is None  # inactive: not even with the current version


def test_the_account_list_is_sorted_by_name_and_says_when_each_last_logged_in(engine):
    with engine.begin() as conn:
        bo = accounts.create_user(conn, "bo", PASSWORD, now=T0)
        anna = accounts.create_user(conn, "anna", PASSWORD, "admin", now=T0 + timedelta(hours=1))
        assert accounts.authenticate(conn, "bo", PASSWORD, client="c", now=T0 + timedelta(hours=2)).reason == "ok"
        listed = accounts.list_users(conn)
    assert listed == [
        {
            "id": anna.id,
            "username": "anna",
            "role": "admin",
            "active": True,
            "created_at": T0 + timedelta(hours=1),
            "last_login_at": None,
        },
        {
            "id": bo.id,
            "username": "bo",
            "role": "planner",
            "active": True,
            "created_at": T0,
            "last_login_at": T0 + timedelta(hours=2),
        },
    ]


def test_a_typed_name_is_stored_as_the_sha256_of_its_trimmed_lower_case_form(engine):
    with engine.begin() as conn:
        for typed in (" Anna ", "anna", ""):
            accounts.authenticate(conn, typed, "wrong", client="c")
        stored = {r.username: r.failures for r in conn.execute(select(login_failures))}
    assert stored == {hashlib.sha256(b"anna").hexdigest(): 2, hashlib.sha256(b"").hexdigest(): 1}


def test_a_missing_name_or_password_is_a_wrong_answer_not_an_error(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        attempts = ((None, None), ("", PASSWORD), ("nobody", None), ("anna", None), ("anna", ""))
        reasons = [accounts.authenticate(conn, name, password, client="c", max_failures=10).reason for name, password in attempts]
    assert reasons == ["invalid"] * 5


def test_by_default_the_fifth_wrong_password_in_a_row_locks_the_client_out_for_a_quarter_of_an_hour(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        reasons = [accounts.authenticate(conn, "anna", "wrong", client="c", now=T0).reason for _ in range(5)]
        just_before = T0 + timedelta(minutes=15, seconds=-1)
        assert accounts.authenticate(conn, "anna", PASSWORD, client="c", now=just_before).reason == "locked"
        assert accounts.authenticate(conn, "anna", PASSWORD, client="c", now=T0 + timedelta(minutes=15)).reason == "ok"
    assert reasons == ["invalid"] * 4 + ["locked"]


def test_a_lockout_ends_on_the_second_and_the_count_then_starts_again(engine):
    def attempt(conn, at):
        return accounts.authenticate(conn, "anna", "wrong", client="c", max_failures=3, now=at).reason

    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        first = [attempt(conn, T0) for _ in range(3)]
        again = [attempt(conn, T0 + timedelta(minutes=15)) for _ in range(3)]
    assert first == again == ["invalid", "invalid", "locked"]


@pytest.mark.parametrize(
    "max_failures, minutes, reasons",
    [
        (3, (0, 10, 20), ["invalid", "invalid", "locked"]),  # each within 15 minutes of the one before
        (2, (0, 15), ["invalid", "locked"]),  # exactly the lock-out apart is still in a row
        (2, (0, 16), ["invalid", "invalid"]),  # a longer pause starts the count again
    ],
)
def test_wrong_passwords_are_in_a_row_while_each_comes_within_the_lockout_of_the_one_before(
    engine, max_failures, minutes, reasons
):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        seen = [
            accounts.authenticate(
                conn, "anna", "wrong", client="c", max_failures=max_failures, now=T0 + timedelta(minutes=m)
            ).reason
            for m in minutes
        ]
    assert seen == reasons


def test_a_pair_is_forgotten_a_day_after_its_last_failure(engine):
    with engine.begin() as conn:
        for name, at in (("old", T0 - timedelta(days=1, seconds=1)), ("recent", T0 - timedelta(days=1)), ("anna", T0)):
            accounts.authenticate(conn, name, "wrong", client="c", now=at)
        kept = set(conn.execute(select(login_failures.c.username)).scalars())
    assert kept == {accounts.failure_key("recent"), accounts.failure_key("anna")}


def test_logging_in_clears_only_that_clients_count_for_that_name(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        for name, client in (("anna", "office"), ("anna", "attacker"), ("bo", "office")):
            accounts.authenticate(conn, name, "wrong", client=client)
        assert accounts.authenticate(conn, "anna", PASSWORD, client="office").reason == "ok"
        left = {tuple(r) for r in conn.execute(select(login_failures.c.username, login_failures.c.client))}
    assert left == {(accounts.failure_key("anna"), "attacker"), (accounts.failure_key("bo"), "office")}


def test_locking_a_pair_leaves_the_clients_other_names_and_the_names_other_clients_alone(engine):
    with engine.begin() as conn:
        for name in ("anna", "bo"):
            accounts.create_user(conn, name, PASSWORD)
        accounts.authenticate(conn, "anna", "wrong", client="office", max_failures=2)  # anna mistypes once at the office
        accounts.authenticate(conn, "bo", "wrong", client="attacker", max_failures=2)  # one guess at bo
        guesses = [accounts.authenticate(conn, "anna", "wrong", client="attacker", max_failures=2).reason for _ in range(2)]
        assert guesses == ["invalid", "locked"]
        assert accounts.authenticate(conn, "anna", PASSWORD, client="office", max_failures=2).reason == "ok"
        assert accounts.authenticate(conn, "bo", PASSWORD, client="attacker", max_failures=2).reason == "ok"


def test_a_failure_whose_row_another_request_just_inserted_counts_on_that_row(engine):
    """Two wrong answers from one client at once: both read no row, the second insert fails and counts on the first's row."""
    key = accounts.failure_key
    with engine.begin() as conn:
        for name, client in (("bo", "office"), ("anna", "attacker"), ("anna", "office")):
            accounts.authenticate(conn, name, "wrong", client=client, now=T0)
        reason = accounts._count_failure(conn, key("anna"), "office", None, T0, 2, timedelta(minutes=15))
        counts = {
            (r.username, r.client): (r.failures, accounts.aware(r.locked_until)) for r in conn.execute(select(login_failures))
        }
    assert reason == "locked"
    assert counts == {
        (key("bo"), "office"): (1, None),
        (key("anna"), "attacker"): (1, None),
        (key("anna"), "office"): (2, T0 + timedelta(minutes=15)),
    }


def test_a_token_without_a_name_is_named_after_its_account_and_carries_32_random_bytes(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "a" * 64, PASSWORD)
        made = accounts.create_token(conn, "a" * 64, now=T0)
    assert re.fullmatch("a" * 58 + "-[0-9a-f]{4}", made.name)
    assert re.fullmatch(r"dk_[A-Za-z0-9_-]{43}", made.token)
    assert (made.scope, made.expires_at) == ("full", T0 + timedelta(days=90))


def test_the_token_list_shows_each_tokens_details_newest_first(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        qgis = accounts.create_token(conn, "anna", "anna-qgis", scope="read", days=30, label="QGIS på kontoret", now=T0)
        accounts.create_token(conn, "anna", "anna-script", label="x" * 150, now=T0)  # made at the same time, after
        accounts.create_token(conn, "anna", "anna-plain", now=T0 - timedelta(days=1))  # made last, dated earlier
        accounts.user_for_token(conn, qgis.token, now=T0 + timedelta(minutes=1))
        ids = {r.name: r.id for r in conn.execute(select(api_tokens.c.name, api_tokens.c.id))}
        listed = accounts.list_tokens(conn, now=T0 + timedelta(minutes=2))

    def row(name, scope, label, created_at, expires_at, last_used_at=None):
        return {
            "id": ids[name],
            "name": name,
            "username": "anna",
            "scope": scope,
            "label": label,
            "created_at": created_at,
            "expires_at": expires_at,
            "last_used_at": last_used_at,
            "revoked_at": None,
            "status": "active",
        }

    assert listed == [
        row("anna-script", "full", "x" * 100, T0, T0 + timedelta(days=90)),
        row("anna-qgis", "read", "QGIS på kontoret", T0, T0 + timedelta(days=30), T0 + timedelta(minutes=1)),
        row("anna-plain", "full", "", T0 - timedelta(days=1), T0 + timedelta(days=89)),
    ]


def test_revoking_one_token_leaves_the_others_and_revoking_it_again_changes_nothing(engine):
    def revoked(conn):
        return {t["name"]: (t["status"], t["revoked_at"]) for t in accounts.list_tokens(conn, now=T0)}

    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        for name in ("anna-1", "anna-2"):
            accounts.create_token(conn, "anna", name, now=T0)
        accounts.revoke_token(conn, name="anna-1", now=T0 + timedelta(hours=1))
        assert revoked(conn) == {"anna-1": ("revoked", T0 + timedelta(hours=1)), "anna-2": ("active", None)}
        accounts.revoke_token(conn, name="anna-1", now=T0 + timedelta(hours=2))
        assert revoked(conn) == {"anna-1": ("revoked", T0 + timedelta(hours=1)), "anna-2": ("active", None)}
        assert accounts.revoke_tokens(conn, "anna", now=T0 + timedelta(hours=3)) == 1
        assert revoked(conn) == {"anna-1": ("revoked", T0 + timedelta(hours=1)), "anna-2": ("revoked", T0 + timedelta(hours=3))}


def test_an_inactive_account_gets_no_new_token_and_its_tokens_work_only_while_it_is_active(engine):
    with engine.begin() as conn:
        accounts.create_user(conn, "anna", PASSWORD)
        token = accounts.create_token(conn, "anna", "anna-qgis", now=T0).token
        accounts.set_active(conn, "anna", False)
        assert accounts.user_for_token(conn, token, now=T0) is None
        with pytest.raises(accounts.UnknownAccount) as refused:
            accounts.create_token(conn, "anna", "anna-2")
        assert refused.value.messages == {
            "sv": "Det finns inget aktivt konto som heter 'anna'.",
            "en": "There is no active user named 'anna'.",
        }
        accounts.set_active(conn, "anna", True)
        assert accounts.user_for_token(conn, token, now=T0).username == "anna"


def test_a_tokens_last_use_is_recorded_at_most_once_a_minute_and_on_that_token_only(engine):
    with engine.begin() as conn:
        anna = accounts.create_user(conn, "anna", PASSWORD)
        token = accounts.create_token(conn, "anna", "anna-1", now=T0).token
        accounts.create_token(conn, "anna", "anna-2", now=T0)

        def use(seconds):
            user = accounts.user_for_token(conn, token, now=T0 + timedelta(seconds=seconds))
            return user, {t["name"]: t["last_used_at"] for t in accounts.list_tokens(conn, now=T0)}

        assert use(10) == (
            accounts.User(anna.id, "anna", "planner", "full"),
            {"anna-1": T0 + timedelta(seconds=10), "anna-2": None},
        )
        assert use(70)[1]["anna-1"] == T0 + timedelta(seconds=10)  # exactly a minute later: not yet
        assert use(71)[1] == {"anna-1": T0 + timedelta(seconds=71), "anna-2": None}


def test_only_texts_starting_dk_are_taken_for_tokens(engine):
    assert accounts.looks_like_token("dk_abc") and not accounts.looks_like_token("Sommar2026!")
    assert not accounts.looks_like_token(None)
    with engine.begin() as conn:
        assert accounts.user_for_token(conn, 12345) is None and accounts.user_for_token(conn, "") is None


# ------------------------------------------------------------------------------ webmap.auth: who is asking, in detail
def test_a_failed_login_says_so_in_an_alert_and_keeps_the_typed_name(app, client):
    make_user(app, "anna")
    page = login(client, "anna", "wrong password")
    html = page.get_data(as_text=True)
    assert page.status_code == 401 and 'value="anna"' in html
    assert (
        '<p class="flash flash-error" role="alert">Fel användarnamn eller lösenord. '
        "Efter flera misslyckade försök i rad måste du vänta en stund.</p>"
    ) in html


def test_the_empty_login_form_has_an_empty_name_field(client):
    html = client.get("/planner/login").get_data(as_text=True)
    assert 'autocomplete="username" required value=""' in html


def test_a_name_typed_with_spaces_around_it_logs_in(app, client):
    make_user(app, "anna")
    assert login(client, " anna ").status_code == 302 and client.get("/planner/").status_code == 200


def test_logging_in_starts_a_fresh_session(app, client):
    make_user(app, "anna")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    login(client, "anna")
    with client.session_transaction() as after:
        assert "planted" not in after and after["staff_user_id"] == 1 and after["staff_session_version"] == 1


def test_logging_out_returns_to_the_login_page_and_says_so(app, client):
    make_user(app, "anna")
    login(client, "anna")
    response = client.post("/planner/logout", data={"csrf_token": csrf_token(client, "/planner/")})
    assert response.status_code == 302 and response.headers["Location"] == "/planner/login"
    assert '<p class="flash flash-info" role="status">Du är utloggad.</p>' in client.get("/planner/login").get_data(as_text=True)


def test_a_session_ended_elsewhere_is_dropped_from_the_cookie(app, client):
    make_user(app, "anna")
    login(client, "anna")
    thief = stolen_copy(app, client)
    _log_out(client, None)
    assert thief.get("/planner/").status_code == 302
    with thief.session_transaction() as stale:
        assert "staff_user_id" not in stale and "staff_session_version" not in stale


def test_the_planner_pages_name_who_is_logged_in(app, client):
    make_user(app, "anna")
    login(client, "anna")
    assert "<span>anna (handläggare)</span>" in client.get("/planner/").get_data(as_text=True)


def test_who_is_asking_is_worked_out_once_per_request(app, monkeypatch):
    make_user(app, "anna")
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna", "anna-qgis").token
    lookups = []
    real = accounts.user_for_token
    monkeypatch.setattr(accounts, "user_for_token", lambda *args, **kwargs: lookups.append(args) or real(*args, **kwargs))
    from dialogkarta.webmap import auth

    with app.test_request_context("/planner/", headers={"Authorization": f"Bearer {token}"}):
        first, second = auth.current_user(), auth.current_user()
    assert first is second and first.username == "anna" and len(lookups) == 1


def test_the_audit_trail_names_the_staff_member_or_the_system(app):
    make_user(app, "anna", "moderator")
    with app.app_context(), db.transaction() as conn:
        token = accounts.create_token(conn, "anna", "anna-qgis").token
        anna_id = accounts.list_users(conn)[0]["id"]
    from dialogkarta.webmap import auth

    with app.test_request_context("/planner/", headers={"Authorization": f"Bearer {token}"}):
        assert auth.actor() == ("moderator", anna_id)
    with app.test_request_context("/planner/"):
        assert auth.actor() == ("system", None)


def test_an_anonymous_request_sending_json_to_a_staff_page_gets_401_not_a_redirect(client):
    response = client.get("/planner/report", json={})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_a_page_request_below_the_needed_role_gets_the_403_page(app, client):
    make_user(app, "anna")
    login(client, "anna")
    response = client.get("/planner/users")
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "Du har inte behörighet till detta." in response.get_data(as_text=True)


def test_a_read_only_token_may_also_ask_for_headers_only(app, client):
    token = _token(app, "root", "admin", scope="read")
    assert client.head("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.post("/planner/api/proposals", headers={"Authorization": f"Bearer {token}"}).status_code in (403, 405)


def test_views_declare_their_role_and_whether_read_only_tokens_may_use_them(app):
    views = app.view_functions
    assert (views["planner.api_proposals"].required_role, views["planner.api_proposals"].token_scope) == ("planner", "read")
    assert (views["planner.users"].required_role, views["planner.users"].token_scope) == ("admin", "full")


def test_a_misspelt_role_fails_when_the_view_is_declared():
    from dialogkarta.webmap.auth import login_required

    with pytest.raises(ValueError, match="unknown role 'admni'"):
        login_required(role="admni")


def test_login_required_guards_a_view_bare_or_with_a_role_and_read_only(app):
    """The views are decorated when their modules are imported; these are decorated here, where a change shows."""
    from dialogkarta.webmap.auth import login_required

    def hello():
        return "hej"

    bare = login_required(hello)
    readable = login_required(role="planner", read_only=True)(hello)
    moderators = login_required(role="moderator")(hello)
    assert [(v.__name__, v.required_role, v.token_scope) for v in (bare, readable, moderators)] == [
        ("hello", "planner", "full"),
        ("hello", "planner", "read"),
        ("hello", "moderator", "full"),
    ]
    for name, view in (("bare", bare), ("readable", readable), ("moderators", moderators)):
        app.add_url_rule(f"/planner/test-{name}", f"test_{name}", view)
    read_only = {"Authorization": f"Bearer {_token(app, 'root', 'admin', scope='read')}"}
    planner = {"Authorization": f"Bearer {_token(app, 'anna', 'planner')}"}
    client = app.test_client()
    answers = {
        name: [client.get(f"/planner/test-{name}", headers=headers).status_code for headers in ({}, read_only, planner)]
        for name in ("bare", "readable", "moderators")
    }
    assert answers == {"bare": [302, 403, 200], "readable": [302, 200, 200], "moderators": [302, 403, 403]}


def test_a_basic_password_may_contain_a_colon(app, client):
    """RFC 7617: the user name ends at the first colon; the password may hold more."""
    make_user(app, "anna")
    with app.app_context(), db.transaction() as conn:
        accounts.set_password(conn, "anna", "korrekt:häst:batteri")
    assert client.get(API, headers=basic("anna", "korrekt:häst:batteri")).status_code == 200


def test_the_login_page_returns_to_a_proposal_whatever_its_id_ends_with(client):
    """Permalink ids are URL-safe base64: an id may end in any letter, an X included."""
    assert client.get("/planner/p/k3Jd9_xQ2mAX").headers["Location"] == "/planner/login?next=/planner/p/k3Jd9_xQ2mAX"


def test_a_session_cookie_from_before_session_versions_is_dropped_not_an_error(app, client):
    make_user(app, "anna")
    with client.session_transaction() as old:
        old["staff_user_id"] = 1  # no staff_session_version: issued before sessions could be ended
    assert client.get("/planner/").status_code == 302
    with client.session_transaction() as after:
        assert "staff_user_id" not in after


def test_a_lockout_lasts_as_long_as_configured(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES=1, LOGIN_LOCKOUT_MINUTES=0)  # 0: a wrong password locks nothing
    make_user(app, "anna")
    client = app.test_client()
    assert login(client, "anna", "wrong password").status_code == 401
    assert login(client, "anna").status_code == 302
