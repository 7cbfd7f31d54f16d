"""Citizen sign-in (OpenID Connect) and the server-side session."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the session interface, the OIDC client and the login/logout routes."""
