"""Libraries served by this deployment: settings, texts, the TOML loader."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `libraries` CLI and load PORTAL_LIBRARIES_FILE at start-up."""
