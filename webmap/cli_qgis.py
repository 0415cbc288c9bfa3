"""QGIS on the database: the ``qgis-role`` command, which makes the read-only role QGIS connects as."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import qgis_db
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.command("qgis-role")
@click.option("--name", default=qgis_db.READER_ROLE, show_default=True, help="the login role to create or update")
@click.option("--password-env", required=True, metavar="VARIABLE", help="the environment variable holding its password")
@with_appcontext
def qgis_role_command(name, password_env):
    """Create a PostgreSQL login role that reads the QGIS views and styles, and nothing else."""
    password = os.environ.get(password_env)
    if not password:
        raise click.ClickException(f"set the role's password in the environment variable {password_env}")
    try:
        qgis_db.create_reader(
            db.engine(), db.registry().locality, name, password, public_grid_m=float(current_app.config["PUBLIC_GRID_M"] or 0)
        )
    except qgis_db.QgisSetupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Role {name} may read {', '.join(qgis_db.view_names(db.registry().locality))} and layer_styles.")
