"""The editor area as an OpenID Connect relying party of the organisation's IdP.

A client of its own (PORTAL_EDITOR_OIDC_*), separate from the citizens' MitID client, with
the same rigour: PKCE S256, state and nonce kept in the session by authlib, the ID token
validated (signature, iss, aud, nonce, expiry). The steps are the citizens' own
(portal.auth.oidc_flow), so both sign-ins refuse alike.
"""

from __future__ import annotations

import secrets

from authlib.integrations.flask_client import FlaskOAuth2App
from flask import Flask, current_app

from portal.auth import oidc_flow
from portal.config import Settings
from portal.editor.identity import Editor, libraries_claim, payments_claim

# authlib keeps a login under way in the session as `_state_<name>_<state>`; the name keeps
# it apart from a citizen's login in the same browser.
CLIENT_NAME = "editor"
_EXTENSION = "portal.editor_oidc"


def init_editor_oidc(app: Flask, settings: Settings) -> None:
    """Register the editor client (its own registry; the citizens' is portal.auth.oidc's)."""
    oidc_flow.register_client(
        app,
        _EXTENSION,
        CLIENT_NAME,
        issuer=_issuer(settings),
        client_id=settings.editor_oidc_client_id,
        client_secret=settings.editor_oidc_client_secret,
        scope=settings.editor_oidc_scope,
        timeout=settings.http_timeout,
    )


def editor_client() -> FlaskOAuth2App:
    client: FlaskOAuth2App = current_app.extensions[_EXTENSION].create_client(CLIENT_NAME)
    return client


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def _issuer(settings: Settings) -> str:
    # Never None here: without an editor issuer the editor area is not registered at all.
    return settings.editor_oidc_issuer or ""


def start_login(redirect_uri: str) -> tuple[str, str]:
    """(IdP authorization URL, state); state, PKCE verifier and nonce go into the session."""
    return oidc_flow.start_login(editor_client(), _issuer(_settings()), redirect_uri)


def forget_login(state: str) -> None:
    """Drop the state data of a login the IdP answered with an error."""
    oidc_flow.forget_login(editor_client(), state)


def finish_login() -> Editor:
    """Complete the editor's login of this callback request, or raise LoginRefused."""
    settings = _settings()
    claim = settings.editor_libraries_claim
    token, claims, extra = oidc_flow.authorize(editor_client(), settings.editor_oidc_client_id, claim)
    administrator, libraries = libraries_claim(claims.get(claim, extra.get(claim)))
    # Looked up where the libraries claim was (ID token, else userinfo); missing grants nothing.
    payments = settings.editor_payments_claim
    all_payments, payment_libraries = payments_claim(claims.get(payments, extra.get(payments)))
    return Editor(
        sub=claims["sub"],
        name=claims.get("name") or extra.get("name") or "",
        issuer=claims["iss"],
        administrator=administrator,
        libraries=libraries,
        csrf_token=secrets.token_urlsafe(32),
        id_token=token["id_token"],
        all_payments=all_payments,
        payment_libraries=payment_libraries,
    )


def logout_url(editor: Editor, post_logout_redirect_uri: str) -> str | None:
    """The IdP's end-session URL for RP-initiated logout, or None when it has none."""
    return oidc_flow.logout_url(
        editor_client(),
        _settings().editor_oidc_client_id,
        editor.id_token,
        post_logout_redirect_uri,
        idp_label="editor IdP",
    )
