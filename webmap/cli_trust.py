"""CLI commands for durability and personal data: backup, restore, check, erase, purge-contacts.

Each is a thin wrapper over ``layers.maintenance`` or ``layers.privacy`` that echoes one line.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..layers import maintenance, photo_backup, photos, privacy
from . import db

commands = click.Group(help="Commands registered on the dialogkarta group.")


def purge_expired_contacts() -> int:
    """Delete contact details past ``CONTACT_RETENTION_DAYS`` after closing, or ``CONTACT_MAX_RETENTION_DAYS``
    after submission; return the count."""
    config = current_app.config
    with db.transaction() as conn:
        return privacy.purge_contacts(conn, config["CONTACT_RETENTION_DAYS"], max_days=config["CONTACT_MAX_RETENTION_DAYS"])


@commands.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--no-photos", is_flag=True, help="Leave out the photo files (by default copied to FILE.photos/).")
@with_appcontext
def backup_command(file, no_photos):
    """Write a consistent copy of the live store to FILE (SQLite backup API, or pg_dump) and its photos to FILE.photos/."""
    try:
        result = maintenance.backup(db.engine(), file)
    except maintenance.MaintenanceError as error:
        raise click.ClickException(str(error)) from None
    count = "" if result["proposals"] is None else f" ({result['proposals']} proposals)"
    click.echo(f"Backup written to {result['path']}{count}.")
    if not no_photos:
        folder = photo_backup.folder_for(file)
        with db.reading() as conn:  # after the store: a photo added meanwhile is one the backup does not name
            copied = photo_backup.back_up(conn, current_app.config["PHOTO_DIR"], folder)
        click.echo(f"Photos copied to {folder}: {copied.written} written, {copied.present} already there.")
        if copied.missing:
            click.echo(
                f"Warning: {len(copied.missing)} photo file(s) the store names are missing from PHOTO_DIR: "
                + ", ".join(copied.missing[:5]),
                err=True,
            )
    extra = maintenance.store_schema_problems(db.engine())
    if extra:  # copied as it is (evidence), but `restore` will refuse it: say so now
        click.echo(
            "Warning: the live store holds objects its schema does not declare, so `restore` will refuse "
            "this backup: " + " ".join(extra) + " Run `dialogkarta check`.",
            err=True,
        )


@commands.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the store's content.")
@with_appcontext
def restore_command(file, yes):
    """Replace the store's content with the backup FILE, after checking it."""
    problems = maintenance.check_file(file) if db.engine().url.get_backend_name() == "sqlite" else []
    if problems:
        raise click.ClickException("Refusing to restore: " + " ".join(problems))
    if not yes:
        click.confirm(
            f"Replace every proposal in {db.engine().url.render_as_string(hide_password=True)} with the content of {file}?",
            abort=True,
        )
    photos_folder = photo_backup.folder_for(file)
    if photos_folder.is_dir():  # the photos first: a restored store never names a file the folder lacks
        try:
            copied = photo_backup.restore(photos_folder, current_app.config["PHOTO_DIR"])
        except photo_backup.PhotoBackupError as error:
            raise click.ClickException(f"Refusing to restore: {error}") from None
        click.echo(f"Photos from {photos_folder}: {copied.written} written, {copied.present} already there.")
    try:
        result = maintenance.restore(db.engine(), file, db.registry().locality, float(current_app.config["PUBLIC_GRID_M"] or 0))
    except maintenance.MaintenanceError as error:
        raise click.ClickException(str(error)) from None
    count = "" if result["proposals"] is None else f" ({result['proposals']} proposals)"
    click.echo(f"Restored from {result['path']}{count}.")


@commands.command("check")
@click.option(
    "--repair", is_flag=True, help="Delete rows of proposals that no longer exist and recompute every proposal's joins."
)
@with_appcontext
def check_command(repair):
    """Check the live store: integrity (SQLite), nothing beyond the declared schema, and consistency."""
    engine = db.engine()
    problems = []
    if engine.url.get_backend_name() == "sqlite":
        result = maintenance.integrity(engine)
        if result != ["ok"]:
            problems.append("Integrity check failed: " + "; ".join(result[:10]))
    extra = maintenance.store_schema_problems(engine)
    if extra:
        problems += extra + [
            "Repair: find out who added these, then drop them (e.g. DROP TRIGGER name) "
            "or restore a trusted backup; `check --repair` never drops them."
        ]
    if repair:
        with db.transaction() as conn:
            done = maintenance.repair(conn, db.registry())
        deleted = ", ".join(f"{n} {table}" for table, n in done["deleted"].items()) or "nothing"
        click.echo(f"Repaired: deleted {deleted}; recomputed joins for {done['rejoined']} proposals.")
    with db.reading() as conn:
        problems += [str(p) for p in maintenance.consistency_problems(conn, db.registry())]
    if problems:
        raise click.ClickException("\n".join(problems))
    integrity = "Integrity check: ok. " if engine.url.get_backend_name() == "sqlite" else ""
    click.echo(f"{integrity}Schema: nothing beyond the declared one. Consistency: ok.")


@commands.command("erase")
@click.option("--email", help="Delete the contact details (name, e-mail) left with this address.")
@click.option("--support-token", help="Delete the supports given from the browser holding this token.")
@with_appcontext
def erase_command(email, support_token):
    """Erase a person's contact data and supports; their proposals stay, anonymous."""
    if not email and not support_token:
        raise click.UsageError("Give --email ADDRESS, --support-token TOKEN or both.")
    with db.transaction() as conn:
        deleted = privacy.erase(conn, email=email, support_token=support_token)
    click.echo(
        f"Erased {deleted['contacts']} contact record(s), {deleted['supports']} support(s) and {deleted['flags']} flag(s)."
    )


@commands.command("purge-contacts")
@click.option(
    "--days", type=click.IntRange(min=0), default=None, help="Retention in days after closing (default: CONTACT_RETENTION_DAYS)."
)
@with_appcontext
def purge_contacts_command(days):
    """Delete contact details of proposals closed (done/declined) more than the retention period ago."""
    if days is None:
        count = purge_expired_contacts()
        days = current_app.config["CONTACT_RETENTION_DAYS"]
    else:
        with db.transaction() as conn:
            count = privacy.purge_contacts(conn, days)
    click.echo(f"Deleted contact details of {count} closed proposal(s) (retention {days} days).")


@commands.command("sweep-photos")
@click.option("--dry-run", is_flag=True, help="List the orphan files without deleting them.")
@with_appcontext
def sweep_photos_command(dry_run):
    """Delete photo files no pending or published photo names (left by a crash or a rejection), older than an hour."""
    folder = current_app.config["PHOTO_DIR"]
    with db.reading() as conn:
        if dry_run:
            orphans = photos.orphan_files(conn, folder)
            deleted = 0
        else:
            orphans, deleted = [], photos.sweep_orphans(conn, folder)
    for path in orphans:
        click.echo(str(path))
    click.echo(
        f"{len(orphans)} orphan photo file(s) in {folder}."
        if dry_run
        else f"Deleted {deleted} orphan photo file(s) from {folder}."
    )
