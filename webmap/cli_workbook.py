"""CLI commands for the paper workbook: ``dialogkarta workbook`` prints it, ``dialogkarta import-proposals`` types it back in."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import proposal_import, workbook_pdf
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.command("workbook")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The PDF file to write.")
@click.option("--area", "areas", multiple=True, help="A development area's id (repeatable); all areas by default.")
@click.option("--round", "round_name", help="A round declared under [workbook] in locality.toml; the newest by default.")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option("--base-url", help="The site's public address for the QR codes (default: DIALOGKARTA_BASE_URL).")
@with_appcontext
def workbook_command(output, areas, round_name, lang, base_url):
    """Write the A4 workbook: a cover, a page for the whole locality and one per development area, each with a QR code."""
    base_url = base_url or current_app.config.get("BASE_URL")
    if not base_url:
        raise click.ClickException("Ange --base-url eller DIALOGKARTA_BASE_URL. / Give --base-url or DIALOGKARTA_BASE_URL.")
    request = workbook_pdf.WorkbookRequest(base_url=base_url, areas=tuple(areas) or None, round_name=round_name, lang=lang)
    try:
        data = workbook_pdf.build_pdf(db.registry(), request)
    except workbook_pdf.UnknownArea as error:
        raise click.ClickException(f"Okänt område: {error}. / Unknown area: {error}.") from None
    except workbook_pdf.TooManyAreas as error:
        raise click.ClickException(f"För många områden. / Too many areas: {error}.") from None
    except LookupError:
        raise click.ClickException(f"Okänd omgång {round_name!r}. / Unknown round {round_name!r}.") from None
    Path(output).write_bytes(data)
    pages = 2 + (len(set(areas)) if areas else len(db.registry().areas()))
    click.echo(f"Wrote {output}: {pages} A4 pages ({len(data) // 1024} kB).")


@commands.command("import-proposals")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_proposals_command(path):
    """Store the proposals of the CSV file PATH (returned workbooks), all or none; each bad row is named by its line."""
    with open(path, "rb") as handle:
        data = handle.read(proposal_import.MAX_BYTES + 1)
    registry = db.registry()
    try:
        submissions = proposal_import.check_rows(registry, proposal_import.read_csv(data))
        with db.transaction() as conn:
            ids = proposal_import.store_rows(conn, registry, submissions)
    except proposal_import.ImportRefused as error:
        lines = [f"{path}: inget sparades / nothing was stored"]
        lines += [f"  {problem.message('sv')} / {problem.message('en')}" for problem in error.problems]
        raise click.ClickException("\n".join(lines)) from None
    click.echo(f"Stored {len(ids)} proposals: {', '.join(ids)}")
