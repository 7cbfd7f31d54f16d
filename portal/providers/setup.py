"""Wires the shared httpx.Client and the provider cache into the app."""
from flask import Flask

from portal.providers import cache, http


def init_app(app: Flask) -> None:
    """Create the one httpx.Client (with timeouts) and the caching layer.

    Needs `portal.cache.init_app(app)` (the cache itself) to have run or to run
    before the first provider call.
    """
    http.init_app(app)
    cache.init_app(app)
