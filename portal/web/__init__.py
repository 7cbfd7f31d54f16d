"""Citizen-facing pages and the JSON API."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register blueprints, error pages and the security headers."""
