"""Store and serving commands of the ``dialogkarta`` CLI: init-db, serve, layers, join."""

from __future__ import annotations

import sys

import click
import orjson
from flask.cli import with_appcontext

from ..layers import layer_tables, proposals, store
from . import db


commands = click.Group(help="Commands registered on the dialogkarta group.")


@commands.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database tables and store the bundled layers as rows (safe to run again)."""
    store.init_db(db.engine())
    layer_tables.seed_bundled(db.engine(), db.registry().locality, replace=True)  # bundled files a new release changed
    click.echo(f"Database ready: {db.engine().url.render_as_string(hide_password=True)}")


@commands.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the web app with waitress (production-grade, no extra setup)."""
    from flask import current_app
    from waitress import serve

    from .cli_trust import purge_expired_contacts

    purged = purge_expired_contacts()  # retention (CONTACT_RETENTION_DAYS) is applied at every start
    if purged:
        click.echo(f"Deleted contact details of {purged} proposal(s) closed past the retention period.")
    click.echo(f"Dialogkarta on http://{host}:{port}/  (Ctrl+C stops)")
    serve(
        current_app._get_current_object(),
        host=host,
        port=port,
        threads=threads,
        **waitress_proxy_options(int(current_app.config.get("PROXY_COUNT") or 0)),
    )


def waitress_proxy_options(proxy_count: int) -> dict:
    """Return the waitress settings that keep a proxy's X-Forwarded-* headers for ``PROXY_COUNT`` proxies.

    waitress removes those headers unless it trusts the peer, so without this the app (and its
    ProxyFix) would see every resident as the proxy. waitress then resolves the client the way
    ProxyFix does (the ``proxy_count``-th address from the right); ``serve`` listens on 127.0.0.1
    by default, so only a proxy on the same machine can send them.
    """
    if proxy_count <= 0:
        return {}  # waitress' default: forwarded headers from anyone are dropped, never believed
    return {
        "trusted_proxy": "*",
        "trusted_proxy_count": proxy_count,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
    }


@commands.command("layers")
@with_appcontext
def layers_command():
    """List the locality's layers: name, features, geometry type, CRS and data status."""
    registry = db.registry()
    rows = [("name", "features", "geometry", "crs", "status")]
    for layer in registry:
        frame = registry.frame(layer.name)
        statuses = set(frame.get("data_status", frame.get("status", [])).dropna()) if len(frame) else set()
        status = (
            "verified"
            if statuses and all("verified" in s for s in statuses)
            else "illustrative"
            if statuses == {"illustrative"}
            else "mixed"
            if statuses
            else "unknown"
        )
        geometry = ",".join(sorted(set(frame.geom_type.dropna())))
        rows.append((layer.name, str(len(frame)), geometry, frame.crs.to_string(), status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


@commands.command("join")
@click.option("--format", "output_format", type=click.Choice(["table", "geojson"]), default="table", show_default=True)
@click.option("--refresh", is_flag=True, help="Recompute and store every proposal's joins first (after layers changed).")
@with_appcontext
def join_command(output_format, refresh):
    """Show each proposal's development areas and nearest services (metres, SWEREF 99 TM)."""
    registry = db.registry()
    if refresh:
        with db.transaction() as conn:
            count = proposals.refresh_joins(conn, registry)
        click.echo(f"Recomputed joins for {count} proposals.", err=output_format == "geojson")
    with db.reading() as conn:
        records = [store.public_view(r) for r in store.list_proposals(conn, include_hidden=True)]
    if output_format == "geojson":
        features = [
            {
                "type": "Feature",
                "id": r["public_id"],
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {
                    "title": r["title"],
                    "category": r["category"],
                    "area_ids": r["area_ids"],
                    **{f"nearest_{k}": v["name"] for k, v in r["nearest"].items()},
                    **{f"nearest_{k}_m": v["distance_m"] for k, v in r["nearest"].items()},
                },
            }
            for r in records
        ]
        sys.stdout.buffer.write(orjson.dumps({"type": "FeatureCollection", "features": features}, option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        return
    for r in records:
        nearest = "; ".join(f"{k}: {v['name']} {v['distance_m']:.0f} m" for k, v in sorted(r["nearest"].items()))
        click.echo(f"{r['public_id']}  {r['title'][:40]:40}  areas: {','.join(r['area_ids']) or '-'}  {nearest}")
    if not records:
        click.echo("No proposals yet.")


@commands.command("settings")
@with_appcontext
def settings_command():
    """Print every setting (DIALOGKARTA_*) with its current value (secrets masked) and what it does."""
    from flask import current_app

    from ..settings import described

    for variable, value, help_text in described(current_app.config):
        click.echo(f"{variable} = {value}\n    {help_text}")
