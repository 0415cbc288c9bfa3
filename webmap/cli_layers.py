"""CLI commands for layers in and out: ``dialogkarta export`` and ``dialogkarta import-layer``.

Thin wrappers over ``layers.export`` and ``layers.layer_import``; user errors become
``ClickException`` with the Swedish and English message.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..geo.errors import UserError
from ..layers import export, layer_import
from ..layers.registry import UnknownLayer
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.command("export")
@click.argument("layer")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(export.FORMATS),
    required=True,
    help="geojson (RFC 7946, WGS84), csv (lon/lat + SWEREF 99 TM), gpkg (EPSG:3006, QGIS styles), fgb.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write; '-' writes GeoJSON or CSV to standard output.",
)
@click.option("--crs", default=None, help="gpkg/fgb only: EPSG:3006 (default for gpkg) or EPSG:3008.")
@click.option("--bom", is_flag=True, help="csv: start with a UTF-8 byte order mark (for Excel).")
@click.option("--planner", is_flag=True, help="The planner layer: department, forwarding, history, moderation, hidden proposals.")
@click.option("--contacts", is_flag=True, help="With --planner: residents' consented names and e-mail addresses (admins only).")
@with_appcontext
def export_command(layer, fmt, output, crs, bom, planner, contacts):
    """Export LAYER (a layer name, 'proposals', or 'all' with --format gpkg) to a file."""
    if contacts and not planner:
        raise click.UsageError("--contacts needs --planner")
    audience = (
        export.ADMIN if contacts else export.PLANNER if planner else export.Audience(grid_m=current_app.config["PUBLIC_GRID_M"])
    )
    registry, engine = db.registry(), db.engine()
    try:
        if output == "-":
            if fmt not in ("geojson", "csv"):
                raise click.UsageError("only geojson and csv can be written to standard output")
            export.check_layer(registry, layer, audience)
            chunks = (
                export.iter_geojson(engine, registry, layer, audience)
                if fmt == "geojson"
                else export.iter_csv(engine, registry, layer, audience, bom=bom)
            )
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        count = export.export_to_file(engine, registry, layer, fmt, output, crs=crs, bom=bom, audience=audience)
    except UnknownLayer:
        known = ", ".join(export.exportable_layers(registry, audience) + ["all"])
        raise click.ClickException(f"Okänt lager / unknown layer {layer!r}. Välj / choose: {known}") from None
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {count} features to {output} ({fmt}{', ' + crs if crs else ''}).")


@commands.command("import-layer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--as", "name", required=True, help="The layer to replace: development-areas, service-locations or another declared layer."
)
@click.option("--crs", default=None, help="The file's CRS when it declares none (or declares a wrong one), e.g. EPSG:3008.")
@click.option(
    "--map", "mapping", multiple=True, metavar="FIELD=COLUMN", help="Take FIELD from the file's COLUMN, e.g. --map name=PLANNAMN."
)
@click.option(
    "--layer",
    "source_layer",
    default=None,
    metavar="NAME",
    help="The layer to take from a file with several (default: the one named like --as; otherwise refused with the list).",
)
@click.option("--max-mb", default=500, show_default=True, type=int, help="Refuse files larger than this (unpacked, for a zip).")
@with_appcontext
def import_layer_command(file, name, crs, mapping, source_layer, max_mb):
    """Replace a layer with a planner's FILE (GeoPackage, Shapefile/.zip, GeoJSON, FlatGeobuf) and recompute joins.

    The layer and the joins are stored in one transaction: they change together or not at all.
    Limits on features and vertices: DIALOGKARTA_LAYER_MAX_FEATURES, DIALOGKARTA_LAYER_MAX_VERTICES.
    """
    registry, engine = db.registry(), db.engine()
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Recomputing joins / räknar om anslutningar", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = layer_import.import_layer(
            file,
            registry,
            name,
            engine,
            crs=crs,
            mapping=layer_import.parse_mapping(mapping),
            source_layer=source_layer,
            limits=db.import_limits(max_mb * 1024 * 1024),
            progress=progress,
        )
    except UserError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for line in report.lines():
        click.echo(line)
