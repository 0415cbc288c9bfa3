"""Account changes are kept: every change an admin makes on the accounts page or from the shell is in
the audit log with who made it, is listed on the accounts page, and never holds a password or a token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogkarta.layers import account_audit, accounts
from dialogkarta.layers.schema import audit_log
from dialogkarta.webmap import db
from tests.planner_helpers import PASSWORD, login, make_user, post_form


def _changes(app) -> list[tuple[str, str, str, str | None]]:
    with app.app_context(), db.reading() as conn:
        return [(c["action"], c["detail"], c["role"], c["by"]) for c in reversed(account_audit.trail(conn))]


def _admin(app):
    make_user(app, "root", "admin")
    admin = app.test_client()
    login(admin, "root")
    return admin


def test_each_change_on_the_accounts_page_is_kept_with_the_admin_who_made_it(app):
    admin = _admin(app)
    assert (
        post_form(
            admin, "/planner/users", {"username": "anna", "password": PASSWORD, "role": "planner"}, "/planner/users"
        ).status_code
        == 302
    )
    assert post_form(admin, "/planner/users/anna/role", {"role": "moderator"}, "/planner/users").status_code == 302
    assert post_form(admin, "/planner/users/anna/active", {"active": "0"}, "/planner/users").status_code == 302
    assert post_form(admin, "/planner/users/anna/active", {"active": "1"}, "/planner/users").status_code == 302
    with app.app_context(), db.transaction() as conn:
        accounts.create_token(conn, "anna", "anna-qgis", days=30)
        token_id = accounts.list_tokens(conn, "anna")[0]["id"]
    assert post_form(admin, f"/planner/tokens/{token_id}/revoke", {}, "/planner/users").status_code == 302
    assert _changes(app) == [
        ("account_create", "anna (planner)", "admin", "root"),
        ("account_role", "anna -> moderator", "admin", "root"),
        ("account_inactive", "anna", "admin", "root"),
        ("account_active", "anna", "admin", "root"),
        ("token_revoke", f"#{token_id}", "admin", "root"),
    ]
    page = admin.get("/planner/users").get_data(as_text=True)
    assert "Kontohändelser" in page and "konto inaktiverat" in page and "anna -&gt; moderator" in page


def test_a_refused_change_leaves_no_trace(app):
    make_user(app, "anna")
    admin = _admin(app)
    assert post_form(admin, "/planner/users/anna/role", {"role": "boss"}, "/planner/users").status_code == 400
    assert post_form(admin, "/planner/users", {"username": "anna", "password": PASSWORD}, "/planner/users").status_code == 400
    assert _changes(app) == []


def test_changes_from_the_shell_are_kept_as_the_command_line_and_never_hold_a_secret(app, runner):
    secret = "ett-hemligt-lösenord-42"
    assert (
        runner.invoke(args=["create-user", "berit", "--role", "moderator", "--password-stdin"], input=secret + "\n").exit_code
        == 0
    )
    made = runner.invoke(args=["create-token", "berit", "--name", "berit-qgis", "--scope", "read", "--days", "7"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert runner.invoke(args=["set-password", "berit", "--password-stdin"], input=secret + "-nytt\n").exit_code == 0
    assert runner.invoke(args=["set-role", "berit", "planner"]).exit_code == 0
    assert runner.invoke(args=["deactivate", "berit"]).exit_code == 0
    assert runner.invoke(args=["revoke-token", "berit-qgis"]).exit_code == 0
    assert _changes(app) == [
        ("account_create", "berit (moderator)", "cli", None),
        ("token_create", "berit-qgis for berit (read, 7 days)", "cli", None),
        ("account_password", "berit: 1 token(s) revoked", "cli", None),
        ("account_role", "berit -> planner", "cli", None),
        ("account_inactive", "berit", "cli", None),
        ("token_revoke", "berit-qgis", "cli", None),
    ]
    with app.app_context(), db.reading() as conn:
        every_detail = " ".join(conn.execute(select(audit_log.c.detail)).scalars())
    assert secret not in every_detail and token not in every_detail


def test_the_moderation_trail_keeps_its_own_actions_however_many_account_changes_follow(app, client):
    import re

    from tests.planner_helpers import add_proposal, csrf_token

    make_user(app, "mod", "moderator")
    page = f"/planner/p/{add_proposal(app, 13.3551, 55.6698)['public_id']}"
    login(client, "mod")
    client.post(f"{page}/hide", data={"reason": "Kränkande ord", "csrf_token": csrf_token(client, page)})
    with app.app_context(), db.transaction() as conn:
        for n in range(120):
            account_audit.record(conn, "account_role", f"x{n} -> planner", role="cli")
    log = re.search(r'<ol id="moderation-log">(.*?)</ol>', client.get("/planner/moderation").get_data(as_text=True), re.S)
    assert "Kränkande ord" in log.group(1) and "x0 -&gt;" not in log.group(1)


def test_only_account_actions_are_recorded_as_account_changes(app):
    with app.app_context(), db.transaction() as conn, pytest.raises(ValueError):
        account_audit.record(conn, "hide", "x", role="cli")
