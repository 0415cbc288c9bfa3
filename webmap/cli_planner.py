"""Planner commands of the `dialogkarta` group: accounts, API tokens and the summary report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import account_audit, accounts
from . import db, localtime

commands = click.Group(help="Commands registered on the dialogkarta group.")
CLI = "cli"  # the audit log's role for a change made from the shell (whoever runs it has the store's credentials)


@commands.command("create-user")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="planner",
    show_default=True,
    help="planner < moderator < admin; each role may do what the ones before it may.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def create_user_command(name, role, password_stdin):
    """Create a staff account NAME; the password is asked for twice unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _account_command(lambda conn: accounts.create_user(conn, name, password, role), "account_create", f"{name} ({role})")
    click.echo(f"Created {user.role} {user.username!r}.")


@commands.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def set_password_command(name, password_stdin):
    """Set a new password for NAME; its sessions end, its API tokens are revoked and its lock-outs are lifted."""
    password = (
        sys.stdin.readline().rstrip("\r\n")
        if password_stdin
        else click.prompt("New password", hide_input=True, confirmation_prompt=True)
    )
    revoked = _account_command(
        lambda conn: accounts.set_password(conn, name, password),
        "account_password",
        lambda count: f"{name}: {count} token(s) revoked",
    )
    click.echo(f"Password changed for {name!r}; {revoked} API token(s) revoked.")


@commands.command("create-token")
@click.argument("user")
@click.option("--name", help="Unique name of the token; the username for HTTP Basic (default: USER-xxxx).")
@click.option(
    "--scope",
    type=click.Choice(accounts.SCOPES),
    default="full",
    show_default=True,
    help="full: the account's rights; read: only read the planner's layers and OGC collections.",
)
@click.option(
    "--days", type=click.IntRange(1, 3650), default=None, help="Days until it expires [default: DIALOGKARTA_TOKEN_DAYS, 90]."
)
@click.option("--label", default="", help="What the token is for, e.g. 'QGIS on the planning office PC'.")
@with_appcontext
def create_token_command(user, name, scope, days, label):
    """Create an API token for USER and print it (shown only once).

    Send it as 'Authorization: Bearer TOKEN', or as HTTP Basic with the token's name as the
    username and the token as the password (QGIS 3.22).
    """
    days = days or current_app.config["TOKEN_DAYS"]
    new = _account_command(
        lambda conn: accounts.create_token(conn, user, name, scope=scope, days=days, label=label),
        "token_create",
        lambda token: f"{token.name} for {user} ({token.scope}, {days} days)",
    )
    click.echo(f"Token {new.name!r} for {user!r} ({new.scope}), expires {_when(new.expires_at)}:", err=True)
    click.echo(new.token)


def _when(value) -> str:
    """A time as the locality's clock shows it ("2026-03-29 03:30 CEST"); "-" for none."""
    return localtime.local_time(value) if value else "-"


@commands.command("users")
@with_appcontext
def users_command():
    """List staff accounts: name, role, active, last login."""
    with db.reading() as conn:
        rows = accounts.list_users(conn)
    for row in rows:
        click.echo(
            f"{row['username']:<24} {row['role']:<10} {'active' if row['active'] else 'inactive':<9} "
            f"last login {_when(row['last_login_at'])}"
        )


def _account_command(change, action: str, detail):
    """Run one account change and keep it in the audit log, in one transaction; return what the change returned.

    ``detail`` is the log's text, or a function of the change's result that gives it."""
    try:
        with db.transaction() as conn:
            result = change(conn)
            account_audit.record(conn, action, detail(result) if callable(detail) else detail, role=CLI)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    return result


@commands.command("deactivate")
@click.argument("name")
@click.option("--undo", is_flag=True, help="Activate the account again.")
@with_appcontext
def deactivate_command(name, undo):
    """Deactivate NAME: its sessions end at once and its tokens stop working (--undo reactivates)."""
    _account_command(lambda conn: accounts.set_active(conn, name, undo), "account_active" if undo else "account_inactive", name)
    click.echo(f"{name!r} is {'active again' if undo else 'deactivated; its sessions are ended'}.")


@commands.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(accounts.ROLES))
@with_appcontext
def set_role_command(name, role):
    """Give NAME the role ROLE; its sessions end at once."""
    _account_command(lambda conn: accounts.set_role(conn, name, role), "account_role", f"{name} -> {role}")
    click.echo(f"{name!r} is now {role}; its sessions are ended.")


@commands.command("tokens")
@click.argument("user", required=False)
@with_appcontext
def tokens_command(user):
    """List API tokens (of USER, or all): name, account, scope, expiry, last use, status."""
    with db.reading() as conn:
        rows = accounts.list_tokens(conn, user)
    for row in rows:
        click.echo(
            f"{row['name'] or '#' + str(row['id']):<24} {row['username']:<20} {row['scope']:<5} "
            f"expires {_when(row['expires_at'])}  last used {_when(row['last_used_at'])}  {row['status']}"
        )


@commands.command("revoke-token")
@click.argument("name")
@with_appcontext
def revoke_token_command(name):
    """Revoke the token NAME (as 'tokens' lists it; '#ID' for a token made before tokens had names)."""
    target = {"token_id": int(name[1:])} if name.startswith("#") and name[1:].isdigit() else {"name": name}
    _account_command(lambda conn: accounts.revoke_token(conn, **target), "token_revoke", name)
    click.echo(f"Token {name} is revoked.")


@commands.command("report")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write the HTML report (open it in a browser and print to PDF).",
)
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@with_appcontext
def report_command(output, lang):
    """Write the summary report as one self-contained HTML file."""
    from . import planner_report

    with current_app.test_request_context(f"/planner/report?lang={lang}"):
        html = planner_report.render(standalone=True)
    output.write_text(html, encoding="utf-8")
    click.echo(f"Wrote {output} ({len(html) // 1024} kB).")
