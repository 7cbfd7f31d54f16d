"""Libraries served by this deployment: settings, texts, the TOML loader."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the `libraries` CLI and load PORTAL_LIBRARIES_FILE at start-up.

    Start-up applies only the libraries whose entry changed since it was last applied, so a
    restart never undoes what editors published. A bad file stops start-up with one line naming
    file, library and key.
    """
    from portal.libraries.cli import libraries_cli

    app.cli.add_command(libraries_cli)
    path = app.config["PORTAL_SETTINGS"].libraries_file
    if path is not None:
        _load_at_startup(app, path)


def _load_at_startup(app: Flask, path: Path) -> None:
    from portal.libraries.sync import sync_libraries_file
    from portal.libraries.toml_loader import LibraryFileError

    from portal.db import startup_lock

    # A session of our own: start-up runs outside any request; one process at a time.
    with startup_lock(app.extensions["portal.db.engine"]), app.extensions["portal.db"]() as session:
        try:
            report = sync_libraries_file(session, path, only_changed=True)
        except LibraryFileError as exc:
            raise SystemExit(f"gebyrportal: libraries file error: {exc}") from None
    log.info("libraries loaded from %s: %s", path, report.summary())
