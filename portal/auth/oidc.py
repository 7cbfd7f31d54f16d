"""The portal as an OpenID Connect relying party (authlib's Flask client).

authlib checks state, sends the PKCE verifier and validates the ID token
(signature via JWKS, iss, aud, nonce, expiry); this module maps every way that
can fail onto a `LoginRefused` and reads the CPR number from the configured claim.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import Flask, current_app, session
from joserfc.errors import JoseError

from portal.auth.citizen import Citizen
from portal.auth.cpr import normalise_cpr
from portal.auth.failures import LoginRefused, Refusal
from portal.config import Settings

log = logging.getLogger(__name__)

CLIENT_NAME = "oidc"
_EXTENSION = "portal.oidc"


def init_oidc(app: Flask, settings: Settings) -> None:
    # One OAuth registry per app: tests build many apps against different IdPs.
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256",
                       "default_timeout": settings.http_timeout},
    )
    app.extensions[_EXTENSION] = oauth


def oidc_client() -> FlaskOAuth2App:
    return current_app.extensions[_EXTENSION].create_client(CLIENT_NAME)


def _settings() -> Settings:
    return current_app.config["PORTAL_SETTINGS"]


def start_login(redirect_uri: str) -> tuple[str, str]:
    """(IdP authorization URL, state); state, PKCE verifier and nonce go into the session."""
    client = oidc_client()
    with _translated_errors():
        _check_issuer(client.load_server_metadata())
        created = client.create_authorization_url(redirect_uri, nonce=secrets.token_urlsafe(24))
    client.save_authorize_data(redirect_uri=redirect_uri, **created)
    return created["url"], created["state"]


def forget_login(state: str) -> None:
    """Drop the state data of a login the IdP answered with an error."""
    oidc_client().framework.clear_state_data(session, state)


def finish_login() -> Citizen:
    """Complete the login of this callback request, or raise LoginRefused."""
    client = oidc_client()
    settings = _settings()
    with _translated_errors():
        token = client.authorize_access_token(claims_options=_claims_options(client, settings))
        claims = token.get("userinfo")
        if "id_token" not in token or not claims:
            raise LoginRefused(Refusal.TOKEN_INVALID, "no validated ID token in the token response")
        cpr_claim = settings.oidc_cpr_claim
        extra = {} if cpr_claim in claims else _userinfo(client, token, claims["sub"])
    cpr = normalise_cpr(claims.get(cpr_claim, extra.get(cpr_claim)))
    if cpr is None:
        raise LoginRefused(Refusal.NO_CPR, f"claim {cpr_claim!r} missing or malformed")
    # The ID token goes back to the IdP as id_token_hint in a logout URL, which lands in browser
    # history and access logs: keep it only when it does not carry the CPR number.
    hint = None if cpr_claim in claims else token["id_token"]
    return Citizen(sub=claims["sub"], name=claims.get("name") or extra.get("name") or "",
                   cpr=cpr, id_token=hint, issuer=claims["iss"])


def logout_url(citizen: Citizen, post_logout_redirect_uri: str) -> str | None:
    """The IdP's end-session URL for RP-initiated logout, or None when it has none."""
    try:
        metadata = oidc_client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("no IdP logout: discovery failed (%s)", type(exc).__name__)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = [("post_logout_redirect_uri", post_logout_redirect_uri), ("client_id", _settings().oidc_client_id)]
    if citizen.id_token:
        params.insert(0, ("id_token_hint", citizen.id_token))
    return add_params_to_uri(endpoint, params)


def _claims_options(client: FlaskOAuth2App, settings: Settings) -> dict[str, Any]:
    issuer = client.load_server_metadata()["issuer"]
    # Explicit aud check: authlib alone would only notice a foreign audience via azp.
    return {"iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [settings.oidc_client_id]},
            "sub": {"essential": True}}


def _check_issuer(metadata: dict[str, Any]) -> None:
    # OpenID Discovery: the document must name the issuer it was fetched for.
    found = str(metadata.get("issuer", "")).rstrip("/")
    if found != _settings().oidc_issuer:
        raise LoginRefused(Refusal.UNREACHABLE, f"discovery names issuer {found!r}")


def _userinfo(client: FlaskOAuth2App, token: dict[str, Any], sub: str) -> dict[str, Any]:
    info = dict(client.userinfo(token=token))
    # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
    if info.get("sub") != sub:
        raise LoginRefused(Refusal.TOKEN_INVALID, "userinfo sub differs from the ID token")
    return info


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turns what authlib, requests and joserfc raise into LoginRefused."""
    try:
        yield
    except LoginRefused:
        raise
    except Exception as exc:
        refusal = _refusal_for(exc)
        if refusal is None:
            raise
        raise LoginRefused(refusal, _describe(exc)) from exc


def _refusal_for(exc: BaseException) -> Refusal | None:
    if isinstance(exc, MismatchingStateError):
        return Refusal.STATE
    if isinstance(exc, OAuthError):
        return Refusal.TOKEN_REFUSED
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return Refusal.UNREACHABLE
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return Refusal.UNREACHABLE if status >= 500 else Refusal.TOKEN_INVALID
    if isinstance(exc, (JoseError, requests.RequestException, ValueError)):
        return Refusal.TOKEN_INVALID
    return None


def _describe(exc: BaseException) -> str:
    # Error codes and descriptions only: never the token, the claims or a CPR number.
    if isinstance(exc, (OAuthError, JoseError)):
        return f"{type(exc).__name__}: {exc.error}: {exc.description}"
    return type(exc).__name__
