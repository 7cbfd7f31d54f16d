"""Libraries served by this deployment: settings, texts, the TOML loader."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from portal.libraries.library import Library

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the `libraries` CLI, load PORTAL_LIBRARIES_FILE, check every library's variables.

    Start-up applies only the libraries whose entry changed since it was last applied, so a
    restart never undoes what editors published. A bad file, or a library naming an FBS
    credentials or Nexi secret key variable that is not set, stops start-up with one line naming it.
    """
    from portal.libraries.cli import libraries_cli

    app.cli.add_command(libraries_cli)
    settings = app.config["PORTAL_SETTINGS"]
    if settings.libraries_file is not None:
        _load_at_startup(app, settings.libraries_file)
    _check_logins(app)


def _load_at_startup(app: Flask, path: Path) -> None:
    from portal.db import startup_lock
    from portal.libraries.sync import sync_libraries_file
    from portal.libraries.toml_loader import LibraryFileError

    environment = app.config["PORTAL_SETTINGS"].environment
    # A session of our own: start-up runs outside any request; one process at a time.
    with startup_lock(app.extensions["portal.db.engine"]), app.extensions["portal.db"]() as session:
        try:
            report = sync_libraries_file(session, path, environment, only_changed=True)
        except LibraryFileError as exc:
            raise SystemExit(f"gebyrportal: libraries file error: {exc}") from None
    log.info("libraries loaded from %s: %s", path, report.summary())


def _check_logins(app: Flask) -> None:
    from portal.libraries.repository import stored_libraries
    from portal.providers.credentials import MissingCredentials, check_logins, check_nexi_keys

    with app.extensions["portal.db"]() as session:
        libraries = stored_libraries(session)
    environment = app.config["PORTAL_SETTINGS"].environment
    try:
        check_logins((library.login_variables() for library in libraries), environment)
        check_nexi_keys((library.nexi_variables() for library in libraries), environment)
    except MissingCredentials as exc:
        raise SystemExit(f"gebyrportal: configuration error: {exc}") from None
    _check_adgangsplatformen(app, libraries)


def _check_adgangsplatformen(app: Flask, libraries: Iterable[Library]) -> None:
    """A library offering sign-in with Adgangsplatformen needs the portal's client there."""
    from portal.libraries.library import ADGANGSPLATFORMEN

    settings = app.config["PORTAL_SETTINGS"]
    offering = [library.slug for library in libraries if library.offers(ADGANGSPLATFORMEN)]
    if offering and not (settings.adgangsplatformen_client_id and settings.adgangsplatformen_client_secret):
        raise SystemExit(
            f"gebyrportal: configuration error: {', '.join(offering)} offer(s) sign-in with Adgangsplatformen: "
            "set PORTAL_ADGANGSPLATFORMEN_CLIENT_ID and PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET "
            "(the portal's client at DBC)"
        )
