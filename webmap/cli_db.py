"""The ``dialogkarta db`` commands: the store's schema revision (Alembic), upgraded, shown, or a new one written."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import migrations
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.group("db")
def db_group():
    """The store's schema: its revision and migrations (Alembic)."""


def _url() -> str:
    return db.engine().url.render_as_string(hide_password=True)


@db_group.command("upgrade")
@with_appcontext
def upgrade_command():
    """Bring the store to the newest schema revision (every start does this too; safe to run again)."""
    before, after = current_app.extensions["dialogkarta.schema_revisions"]  # opening the store ran the upgrade
    if before == after:
        click.echo(f"Store already at revision {after} (the newest): {_url()}")
    else:
        click.echo(f"Store now at revision {after} (upgraded from {before or 'none'}): {_url()}")


@db_group.command("current")
@with_appcontext
def current_command():
    """Print the store's schema revision and the newest one this version knows."""
    click.echo(f"{migrations.current(db.engine())} (newest: {migrations.head()})")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="One sentence saying what now holds.")
@with_appcontext
def revision_command(message):
    """Write a migration for what layers/schema.py declares beyond the newest revision (for developers)."""
    click.echo(f"Wrote {migrations.new_revision(db.engine(), message)}: read it before committing.")
