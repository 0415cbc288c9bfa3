"""Planner commands of the `dialogkarta` group: accounts, API tokens and the summary report."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import accounts
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), default="planner", show_default=True,
              help="planner < moderator < admin; each role may do what the ones before it may.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def create_user_command(name, role, password_stdin):
    """Create a staff account NAME; the password is asked for twice unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.transaction() as conn:
            user = accounts.create_user(conn, name, password, role)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} {user.username!r}.")


@commands.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def set_password_command(name, password_stdin):
    """Set a new password for NAME (also lifts a lock-out)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else \
        click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with db.transaction() as conn:
            accounts.set_password(conn, name, password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Password changed for {name!r}.")


@commands.command("create-token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for, e.g. 'QGIS on the planning office PC'.")
@with_appcontext
def create_token_command(name, label):
    """Create an API token for NAME (use as 'Authorization: Bearer TOKEN'); it is shown only once."""
    try:
        with db.transaction() as conn:
            token = accounts.create_token(conn, name, label)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)


@commands.command("report")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="Where to write the HTML report (open it in a browser and print to PDF).")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@with_appcontext
def report_command(output, lang):
    """Write the summary report as one self-contained HTML file."""
    from . import planner_report

    with current_app.test_request_context(f"/planner/report?lang={lang}"):
        html = planner_report.render(standalone=True)
    output.write_text(html, encoding="utf-8")
    click.echo(f"Wrote {output} ({len(html) // 1024} kB).")
