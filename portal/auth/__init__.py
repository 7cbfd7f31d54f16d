"""Citizen sign-in (OpenID Connect, or Adgangsplatformen's OAuth 2) and the server-side session.

Public API: `portal.auth.citizen_session` (current_citizen, remember_patron, remembered_patron,
session_patrons, NOT_LOOKED_UP) and `portal.auth.sessions` (regenerate_session, destroy_session).
"""

from flask import Flask

from portal.config import Settings


def init_app(app: Flask) -> None:
    """Register the session interface, the OIDC and Adgangsplatformen clients and the login/logout routes."""
    from portal.auth import adgangsplatformen, oidc, sessions, single_logout, views

    settings: Settings = app.config["PORTAL_SETTINGS"]
    sessions.init_sessions(app, settings.session_lifetime)
    oidc.init_oidc(app, settings)
    adgangsplatformen.init_adgangsplatformen(app, settings)
    single_logout.init_single_logout(app)
    app.register_blueprint(views.bp)
