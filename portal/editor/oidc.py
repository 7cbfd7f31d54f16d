"""The editor area as an OpenID Connect relying party of the organisation's IdP.

A client of its own (PORTAL_EDITOR_OIDC_*), separate from the citizens' MitID client, with
the same rigour: PKCE S256, state and nonce kept in the session by authlib, the ID token
validated (signature, iss, aud, nonce, expiry). Failures map onto the citizens' `LoginRefused`
through the same translation (portal.auth.oidc), so both sign-ins refuse alike.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app, session

from portal.auth.failures import LoginRefused, Refusal
from portal.auth.oidc import _translated_errors, _userinfo
from portal.config import Settings
from portal.editor.identity import Editor, libraries_claim

log = logging.getLogger(__name__)

# authlib keeps a login under way in the session as `_state_<name>_<state>`; the name keeps
# it apart from a citizen's login in the same browser.
CLIENT_NAME = "editor"
_EXTENSION = "portal.editor_oidc"


def init_editor_oidc(app: Flask, settings: Settings) -> None:
    """Register the editor client (its own registry; the citizens' is portal.auth.oidc's)."""
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=settings.editor_oidc_client_id,
        client_secret=settings.editor_oidc_client_secret,
        server_metadata_url=f"{settings.editor_oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.editor_oidc_scope, "code_challenge_method": "S256",
                       "default_timeout": settings.http_timeout},
    )
    app.extensions[_EXTENSION] = oauth


def editor_client() -> FlaskOAuth2App:
    return current_app.extensions[_EXTENSION].create_client(CLIENT_NAME)


def _settings() -> Settings:
    return current_app.config["PORTAL_SETTINGS"]


def start_login(redirect_uri: str) -> tuple[str, str]:
    """(IdP authorization URL, state); state, PKCE verifier and nonce go into the session."""
    client = editor_client()
    with _translated_errors():
        _check_issuer(client.load_server_metadata())
        created = client.create_authorization_url(redirect_uri, nonce=secrets.token_urlsafe(24))
    client.save_authorize_data(redirect_uri=redirect_uri, **created)
    return created["url"], created["state"]


def forget_login(state: str) -> None:
    """Drop the state data of a login the IdP answered with an error."""
    editor_client().framework.clear_state_data(session, state)


def finish_login() -> Editor:
    """Complete the editor's login of this callback request, or raise LoginRefused."""
    client = editor_client()
    claim = _settings().editor_libraries_claim
    with _translated_errors():
        token = client.authorize_access_token(claims_options=_claims_options(client))
        claims = token.get("userinfo")
        if "id_token" not in token or not claims:
            raise LoginRefused(Refusal.TOKEN_INVALID, "no validated ID token in the token response")
        # Like the CPR claim: from the ID token, else from userinfo (checked to be the same person).
        extra = {} if claim in claims else _userinfo(client, token, claims["sub"])
    administrator, libraries = libraries_claim(claims.get(claim, extra.get(claim)))
    return Editor(sub=claims["sub"], name=claims.get("name") or extra.get("name") or "",
                  issuer=claims["iss"], administrator=administrator, libraries=libraries,
                  csrf_token=secrets.token_urlsafe(32), id_token=token["id_token"])


def logout_url(editor: Editor, post_logout_redirect_uri: str) -> str | None:
    """The IdP's end-session URL for RP-initiated logout, or None when it has none."""
    try:
        metadata = editor_client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("no editor IdP logout: discovery failed (%s)", type(exc).__name__)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = [("post_logout_redirect_uri", post_logout_redirect_uri),
              ("client_id", _settings().editor_oidc_client_id)]
    if editor.id_token:
        params.insert(0, ("id_token_hint", editor.id_token))
    return add_params_to_uri(endpoint, params)


def _claims_options(client: FlaskOAuth2App) -> dict[str, Any]:
    issuer = client.load_server_metadata()["issuer"]
    # Explicit aud check: a token the IdP issued to the citizens' client must not sign in an editor.
    return {"iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [_settings().editor_oidc_client_id]},
            "sub": {"essential": True}}


def _check_issuer(metadata: dict[str, Any]) -> None:
    # OpenID Discovery: the document must name the issuer it was fetched for.
    found = str(metadata.get("issuer", "")).rstrip("/")
    if found != _settings().editor_oidc_issuer:
        raise LoginRefused(Refusal.UNREACHABLE, f"discovery names issuer {found!r}")
