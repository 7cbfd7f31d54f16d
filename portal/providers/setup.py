"""Wires the shared httpx.Client and the provider cache into the app."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Create the one httpx.Client (with timeouts) and the caching layer."""
