"""The portal as an OpenID Connect relying party (authlib's Flask client).

authlib checks state, sends the PKCE verifier and validates the ID token
(signature via JWKS, iss, aud, nonce, expiry); portal.auth.oidc_flow maps every way that
can fail onto a `LoginRefused`; this module reads the CPR number from the configured claim.
"""

from __future__ import annotations

from authlib.integrations.flask_client import FlaskOAuth2App
from flask import Flask, current_app

from portal.auth import oidc_flow
from portal.auth.citizen_session import Citizen
from portal.auth.failures import LoginRefused, Refusal
from portal.config import Settings
from portal.domain.cpr import normalise_cpr

CLIENT_NAME = "oidc"
_EXTENSION = "portal.oidc"


def init_oidc(app: Flask, settings: Settings) -> None:
    oidc_flow.register_client(
        app,
        _EXTENSION,
        CLIENT_NAME,
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        scope=settings.oidc_scope,
        timeout=settings.http_timeout,
    )


def oidc_client() -> FlaskOAuth2App:
    client: FlaskOAuth2App = current_app.extensions[_EXTENSION].create_client(CLIENT_NAME)
    return client


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def start_login(redirect_uri: str) -> tuple[str, str]:
    """(IdP authorization URL, state); state, PKCE verifier and nonce go into the session."""
    return oidc_flow.start_login(oidc_client(), _settings().oidc_issuer, redirect_uri)


def forget_login(state: str) -> None:
    """Drop the state data of a login the IdP answered with an error."""
    oidc_flow.forget_login(oidc_client(), state)


def finish_login() -> Citizen:
    """Complete the login of this callback request, or raise LoginRefused."""
    settings = _settings()
    cpr_claim = settings.oidc_cpr_claim
    token, claims, extra = oidc_flow.authorize(oidc_client(), settings.oidc_client_id, cpr_claim)
    cpr = normalise_cpr(claims.get(cpr_claim, extra.get(cpr_claim)))
    if cpr is None:
        raise LoginRefused(Refusal.NO_CPR, f"claim {cpr_claim!r} missing or malformed")
    # The ID token goes back to the IdP as id_token_hint in a logout URL, which lands in browser
    # history and access logs: keep it only when it does not carry the CPR number.
    hint = None if cpr_claim in claims else token["id_token"]
    return Citizen(
        sub=claims["sub"],
        name=claims.get("name") or extra.get("name") or "",
        cpr=cpr,
        id_token=hint,
        issuer=claims["iss"],
    )


def logout_url(citizen: Citizen, post_logout_redirect_uri: str) -> str | None:
    """The IdP's end-session URL for RP-initiated logout, or None when it has none."""
    return oidc_flow.logout_url(oidc_client(), _settings().oidc_client_id, citizen.id_token, post_logout_redirect_uri)
