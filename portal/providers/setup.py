"""Wires the upstreams (one httpx.Client, FBS sessions, the caching layer) into the Flask app.

At start-up it also checks that PORTAL_FBS_ADAPTER_BASE_URL is set when a library reads FBS
through DBC's adapter (`fbs_access = "dbc_adapter"`), and opens the FBS session of every library
(its own client login, or the deployment's) in a background thread, so that the first borrower
of a library does not wait for the login's round trip. A failed early login is only logged: the
first request logs in itself, as it would have anyway.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from portal import kvstore
from portal.providers.upstreams import Upstreams
from portal.signals import citizen_logged_out

EXTENSION_KEY = "portal.upstreams"


def init_app(app: Flask) -> Upstreams:
    """Build the app's Upstreams on its key-value store; cached entries go at a citizen's logout.

    Needs `portal.kvstore.init_app(app)` to have run.
    """
    settings = app.config["PORTAL_SETTINGS"]
    if not settings.fbs_adapter_base_url:
        _check_no_adapter_library(app)
    upstreams = Upstreams(settings, kvstore.backend(app))
    app.extensions[EXTENSION_KEY] = upstreams
    # close() is idempotent, so an earlier close does no harm at exit.
    atexit.register(upstreams.close)
    # A module-level function: blinker keeps it (weakly, but the module lives), and
    # connecting it again for another app is a no-op.
    citizen_logged_out.connect(_on_citizen_logged_out)
    _open_fbs_sessions_early(app, upstreams)
    return upstreams


def _open_fbs_sessions_early(app: Flask, upstreams: Upstreams) -> None:
    """Log in to FBS for every stored library in a background thread (one login per agency and user)."""
    from portal.libraries.repository import stored_libraries
    from portal.providers.errors import UpstreamError

    if "portal.db" not in app.extensions:
        return  # an app without a database (the provider layer's own tests) serves no library
    with app.extensions["portal.db"]() as session:
        libraries = stored_libraries(session)
    logins = []
    # Every library, an adapter one too: its MitID borrowers are read directly.
    for library in libraries:
        try:
            logins.append((library.agency_id, upstreams.fbs_login(library.login_variables())))
        except UpstreamError:
            continue  # checked at start-up already; the request says what is missing
    if logins:
        # A daemon: a process that stops does not wait for a slow FBS.
        threading.Thread(
            target=upstreams.open_fbs_sessions, args=(logins,), name="portal-fbs-login", daemon=True
        ).start()


def _check_no_adapter_library(app: Flask) -> None:
    """Stop start-up, naming the library, when one reads FBS through DBC's adapter and it has no address."""
    from portal.libraries.library import FBS_DBC_ADAPTER
    from portal.libraries.repository import stored_libraries

    if "portal.db" not in app.extensions:
        return  # an app without a database (the provider layer's own tests) serves no library
    with app.extensions["portal.db"]() as session:
        libraries = stored_libraries(session)
    for library in libraries:
        if library.fbs_access == FBS_DBC_ADAPTER:
            raise SystemExit(
                f"gebyrportal: configuration error: PORTAL_FBS_ADAPTER_BASE_URL: required, library "
                f'{library.slug} reads FBS through DBC\'s adapter (fbs_access = "dbc_adapter")'
            )


def upstreams() -> Upstreams:
    """The current app's upstreams (needs an app context)."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def _on_citizen_logged_out(sender: Flask, patrons: Mapping[str, int] | None = None, **_extra: Any) -> None:
    # `patrons` holds only the libraries where the citizen is a borrower (session_patrons).
    sender.extensions[EXTENSION_KEY].forget_patrons(patrons or {})
