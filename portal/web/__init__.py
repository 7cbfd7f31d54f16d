"""Citizen-facing pages and the JSON API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register blueprints, error pages and the security headers."""
    # Imported here: other web-facing packages import portal.web.urls without the views.
    from portal.web import api, citizen, embed, errors, limits, payments, security

    app.register_blueprint(citizen.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(embed.bp)
    errors.init_app(app)
    limits.init_limits(app, app.config["PORTAL_SETTINGS"])
    security.init_app(app)
