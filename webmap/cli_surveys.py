"""CLI commands for survey rounds: ``dialogkarta survey import FILE`` and ``dialogkarta survey list``."""

from __future__ import annotations


import click
from flask.cli import with_appcontext

from ..geo.errors import UserError
from ..layers import survey_export, surveys
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.group("survey")
def survey_group():
    """Survey rounds with map questions: load them from TOML files, list them."""


@survey_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path):
    """Check the survey file PATH and store it (a known slug is replaced); nothing is stored from a file with a mistake."""
    try:
        with open(path, encoding="utf-8") as handle:
            survey = surveys.parse_survey(handle.read())
        with db.engine().begin() as conn:
            outcome = surveys.save_survey(conn, survey)
    except UnicodeDecodeError:
        raise click.ClickException("Filen är inte UTF-8-text. / The file is not UTF-8 text.") from None
    except UserError as error:
        raise click.ClickException(f"{path}: {error}") from None
    verb = "Added" if outcome == "created" else "Updated"
    click.echo(f"{verb} survey {survey.slug}: {len(survey.questions)} questions, open {survey.opens} to {survey.closes}")


@survey_group.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only the surveys open today.")
@with_appcontext
def list_command(only_open):
    """List stored surveys: slug, dates, number of questions and title."""
    today = db.registry().locality.today()
    with db.engine().connect() as conn:
        found = surveys.list_surveys(conn, open_on=today if only_open else None)
    for survey in found:
        state = "open" if survey.is_open(today) else "closed" if survey.closes < today else "upcoming"
        click.echo(
            f"{survey.slug}\t{survey.opens}–{survey.closes}\t{state}\t{len(survey.questions)} questions\t{survey.title['sv']}"
        )
    if not found:
        click.echo("No surveys." if not only_open else "No open surveys.")


@survey_group.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["gpkg", "geojson", "csv"]), default="gpkg", show_default=True)
@click.option(
    "-o", "--output", required=True, type=click.Path(), help="gpkg: the file; geojson and csv: a folder, one file per question."
)
@with_appcontext
def export_command(slug, fmt, output):
    """Export the drawn answers of survey SLUG with their joins (staff only: raw answers, never public)."""
    registry = db.registry()
    with db.engine().connect() as conn:
        survey = surveys.get_survey(conn, slug)
        if survey is None:
            raise click.ClickException(f"Ingen enkät {slug!r}. / No survey {slug!r}.")
        layers = survey_export.answer_layers(conn, registry, survey)
    for name in survey_export.write_survey(layers, survey, fmt, output, registry.locality):
        click.echo(f"wrote {name}")
