"""The ``dialogkarta`` command line: one click group; each area of the app owns its commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from .. import __version__
from ..webmap import cli as store_commands, cli_db, cli_layers, cli_planner, cli_qgis, cli_surveys, cli_trust, cli_workbook


def _create_app():
    from ..webmap.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
@click.version_option(__version__, prog_name="dialogkarta")
def cli():
    """Dialogkarta: a planning and participation map. Configure with DIALOGKARTA_* variables."""


for _area in (store_commands, cli_db, cli_layers, cli_planner, cli_qgis, cli_surveys, cli_trust, cli_workbook):
    for _command in _area.commands.commands.values():
        cli.add_command(_command)
