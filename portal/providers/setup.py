"""Wires the upstreams (one httpx.Client, FBS sessions, the caching layer) into the Flask app."""

from __future__ import annotations

import atexit
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
    upstreams = Upstreams(app.config["PORTAL_SETTINGS"], kvstore.backend(app))
    app.extensions[EXTENSION_KEY] = upstreams
    # close() is idempotent, so an earlier close does no harm at exit.
    atexit.register(upstreams.close)
    # A module-level function: blinker keeps it (weakly, but the module lives), and
    # connecting it again for another app is a no-op.
    citizen_logged_out.connect(_on_citizen_logged_out)
    return upstreams


def upstreams() -> Upstreams:
    """The current app's upstreams (needs an app context)."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def _on_citizen_logged_out(sender: Flask, patrons: Mapping[str, int] | None = None, **_extra: Any) -> None:
    # `patrons` holds only the libraries where the citizen is a borrower (session_patrons).
    sender.extensions[EXTENSION_KEY].forget_patrons(patrons or {})
