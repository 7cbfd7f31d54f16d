"""The OpenID Connect relying-party steps shared by the citizens' and the editors' sign-in.

Both clients must refuse alike, so the issuer and audience checks, the userinfo check and the
translation of authlib/requests/joserfc errors into `LoginRefused` live here once. Callers pass
their own authlib client and the settings that differ (issuer, client id, claim).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import Flask, session
from joserfc.errors import JoseError

from portal.auth.failures import LoginRefused, Refusal

log = logging.getLogger(__name__)


def register_client(
    app: Flask,
    extension: str,
    name: str,
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    scope: str,
    timeout: float,
) -> None:
    """Register one authlib client in an OAuth registry of its own, kept in app.extensions."""
    # One registry per client and app: tests build many apps against different IdPs.
    oauth = OAuth(app)
    oauth.register(
        name,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256", "default_timeout": timeout},
    )
    app.extensions[extension] = oauth


def start_login(client: FlaskOAuth2App, issuer: str, redirect_uri: str) -> tuple[str, str]:
    """(IdP authorization URL, state); state, PKCE verifier and nonce go into the session."""
    with translated_errors():
        check_issuer(client.load_server_metadata(), issuer)
        created = client.create_authorization_url(redirect_uri, nonce=secrets.token_urlsafe(24))
    client.save_authorize_data(redirect_uri=redirect_uri, **created)
    return created["url"], created["state"]


def forget_login(client: FlaskOAuth2App, state: str) -> None:
    """Drop the state data of a login the IdP answered with an error."""
    client.framework.clear_state_data(session, state)


class Authorized(NamedTuple):
    token: dict[str, Any]
    claims: dict[str, Any]  # the validated ID token's claims
    extra: dict[str, Any]  # userinfo, fetched only when the ID token lacks the wanted claim


def authorize(client: FlaskOAuth2App, client_id: str, wanted_claim: str) -> Authorized:
    """Exchange this callback's code for a validated ID token, or raise LoginRefused."""
    with translated_errors():
        token = client.authorize_access_token(claims_options=claims_options(client, client_id))
        claims = token.get("userinfo")
        if "id_token" not in token or not claims:
            raise LoginRefused(Refusal.TOKEN_INVALID, "no validated ID token in the token response")
        # The claim comes from the ID token, else from userinfo (checked to be the same person).
        extra = {} if wanted_claim in claims else userinfo(client, token, claims["sub"])
    return Authorized(token, claims, extra)


def logout_url(
    client: FlaskOAuth2App, client_id: str, id_token: str | None, post_logout_redirect_uri: str, idp_label: str = "IdP"
) -> str | None:
    """The IdP's end-session URL for RP-initiated logout, or None when it has none."""
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("no %s logout: discovery failed (%s)", idp_label, type(exc).__name__)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = [("post_logout_redirect_uri", post_logout_redirect_uri), ("client_id", client_id)]
    if id_token:
        params.insert(0, ("id_token_hint", id_token))
    return add_params_to_uri(endpoint, params)


def claims_options(client: FlaskOAuth2App, client_id: str) -> dict[str, Any]:
    issuer = client.load_server_metadata()["issuer"]
    # Explicit aud check: authlib alone would only notice a foreign audience via azp, and a
    # token the IdP issued to the other client (citizen vs editor) must not sign in here.
    return {
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [client_id]},
        "sub": {"essential": True},
    }


def check_issuer(metadata: dict[str, Any], issuer: str) -> None:
    # OpenID Discovery: the document must name the issuer it was fetched for.
    found = str(metadata.get("issuer", "")).rstrip("/")
    if found != issuer:
        raise LoginRefused(Refusal.UNREACHABLE, f"discovery names issuer {found!r}")


def userinfo(client: FlaskOAuth2App, token: dict[str, Any], sub: str) -> dict[str, Any]:
    info = dict(client.userinfo(token=token))
    # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
    if info.get("sub") != sub:
        raise LoginRefused(Refusal.TOKEN_INVALID, "userinfo sub differs from the ID token")
    return info


@contextmanager
def translated_errors() -> Iterator[None]:
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
