"""`flask --app portal libraries load FILE` and `flask --app portal libraries list`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal import db
from portal.libraries.repository import list_libraries
from portal.libraries.sync import sync_libraries_file
from portal.libraries.toml_loader import LibraryFileError

libraries_cli = AppGroup("libraries", help="The libraries this deployment serves.")


@libraries_cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def load_command(file: Path) -> None:
    """Create or update the libraries in FILE (TOML); all or nothing, always applied."""
    try:
        environment = current_app.config["PORTAL_SETTINGS"].environment
        report = sync_libraries_file(db.session(), file, environment)
    except LibraryFileError as exc:
        raise click.ClickException(str(exc)) from None
    for label, slugs in (("created", report.created), ("updated", report.updated), ("unchanged", report.unchanged)):
        for slug in slugs:
            click.echo(f"{label}: {slug}")


@libraries_cli.command("list")
def list_command() -> None:
    """Show every library: slug, agency, cut-off date, name."""
    libraries = list_libraries()
    if not libraries:
        click.echo("no libraries")
    for library in libraries:
        click.echo(f"{library.slug}\t{library.agency_id}\t{library.cutoff_date.isoformat()}\t{library.name}")
