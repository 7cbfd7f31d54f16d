"""The one httpx.Client of the app: shared connection pool, explicit timeouts.

Every provider client gets this client passed in, so timeouts and pooling are
decided in one place and tests can hand a client of their own to a provider.
"""
from __future__ import annotations

import atexit

import httpx
from flask import Flask, current_app

from portal.config import Settings

EXTENSION_KEY = "portal.http"
USER_AGENT = "gebyrportal"


def make_timeout(seconds: float) -> httpx.Timeout:
    """Connect and read (and write/pool) limits of `seconds` each.

    Spelled out per phase, because httpx's default (5 s) would otherwise silently
    apply wherever someone forgets one.
    """
    return httpx.Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)


def create_http_client(settings: Settings) -> httpx.Client:
    """A client for upstream calls with the timeouts from `settings.http_timeout`."""
    return httpx.Client(
        timeout=make_timeout(settings.http_timeout),
        # Upstream APIs never redirect legitimately; following one could leak
        # the X-Session header to another host.
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def init_app(app: Flask) -> httpx.Client:
    """Create the app's client, store it in `app.extensions`, close it at exit."""
    client = create_http_client(app.config["PORTAL_SETTINGS"])
    app.extensions[EXTENSION_KEY] = client
    # close() is idempotent, so an earlier close_http() does no harm here.
    atexit.register(client.close)
    return client


def close_http(app: Flask) -> None:
    """Close the app's client now (tests, or an orderly shutdown before exit)."""
    client = app.extensions.get(EXTENSION_KEY)
    if client is not None:
        client.close()


def get_http() -> httpx.Client:
    """The current app's shared client (needs an app context)."""
    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("portal.providers.setup.init_app(app) has not been called") from None
