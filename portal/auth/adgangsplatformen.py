"""The portal as a client of Adgangsplatformen (DBC's login.bib.dk): plain OAuth 2, no OpenID Connect.

No discovery, no ID token, no PKCE: authlib keeps and checks `state` (in the server-side session)
and sends the client secret in the token request's body (client_secret_post). Who signed in comes
from `<base>/userinfo` with the user token as Bearer: `{"attributes": {cpr?, agencies, uniqueId, …}}`.
The authorize request fixes the library with `agency=<its DBC agency number>`.

Agency ids: the portal names libraries by ISIL ("DK-717300", as FBS does); Adgangsplatformen by the
six-digit agency number ("717300"). `dbc_agency` and `isil` translate; `Citizen.agency_users` is
keyed by ISIL, like `Library.agency_id`.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app, session

from portal.auth import oidc_flow
from portal.auth.citizen_session import ADGANGSPLATFORMEN, Citizen
from portal.auth.failures import LoginRefused, Refusal
from portal.config import Settings
from portal.domain.cpr import normalise_cpr

log = logging.getLogger(__name__)

CLIENT_NAME = "adgangsplatformen"
_EXTENSION = "portal.adgangsplatformen"
_SIX_DIGITS = re.compile(r"\d{6}")
_ISIL = re.compile(r"DK-(\d{6})")


def dbc_agency(agency_id: str) -> str:
    """The agency number Adgangsplatformen knows ("DK-717300" -> "717300"); other forms as they are."""
    found = _ISIL.fullmatch(agency_id.strip())
    return found[1] if found else agency_id.strip()


def isil(agency_id: str) -> str:
    """The portal's (FBS's) form of an agency id ("717300" -> "DK-717300"); other forms as they are."""
    value = agency_id.strip()
    return f"DK-{value}" if _SIX_DIGITS.fullmatch(value) else value


def configured(settings: Settings) -> bool:
    return bool(settings.adgangsplatformen_client_id and settings.adgangsplatformen_client_secret)


def init_adgangsplatformen(app: Flask, settings: Settings) -> None:
    """Register the authlib client (only when the portal has a client at Adgangsplatformen)."""
    if not configured(settings):
        return
    base = settings.adgangsplatformen_url
    # A registry of its own per app, like the OIDC clients: tests build many apps.
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=settings.adgangsplatformen_client_id,
        client_secret=settings.adgangsplatformen_client_secret,
        authorize_url=f"{base}/oauth/authorize",
        access_token_url=f"{base}/oauth/token",
        client_kwargs={"token_endpoint_auth_method": "client_secret_post", "default_timeout": settings.http_timeout},
    )
    app.extensions[_EXTENSION] = oauth


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def _client() -> FlaskOAuth2App:
    oauth = current_app.extensions.get(_EXTENSION)
    if oauth is None:
        # A library offers the profile but the client is missing: start-up refuses that, so
        # this is only reached by a library added at runtime. Said plainly in the log.
        raise LoginRefused(Refusal.UNREACHABLE, "no Adgangsplatformen client configured")
    client: FlaskOAuth2App = oauth.create_client(CLIENT_NAME)
    return client


def start_login(redirect_uri: str, agency_id: str) -> tuple[str, str]:
    """(Adgangsplatformen's authorization URL for the library's agency, state); state goes into the session."""
    client = _client()
    with oidc_flow.translated_errors():
        created = client.create_authorization_url(redirect_uri, agency=dbc_agency(agency_id))
    client.save_authorize_data(redirect_uri=redirect_uri, **created)
    return created["url"], created["state"]


def forget_login(state: str) -> None:
    """Drop the state data of a login Adgangsplatformen answered with an error."""
    oauth = current_app.extensions.get(_EXTENSION)
    if oauth is not None:
        oauth.create_client(CLIENT_NAME).framework.clear_state_data(session, state)


def finish_login(agency_id: str) -> Citizen:
    """Complete this callback's login at the library with `agency_id`, or raise LoginRefused."""
    client = _client()
    with oidc_flow.translated_errors():
        token = client.authorize_access_token()
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise LoginRefused(Refusal.TOKEN_INVALID, "no access_token in the token response")
        answer = client.get(f"{_settings().adgangsplatformen_url}/userinfo", token=token)
        answer.raise_for_status()
        body = answer.json()
    attributes = body.get("attributes") if isinstance(body, dict) else None
    if not isinstance(attributes, dict):
        raise LoginRefused(Refusal.TOKEN_INVALID, "userinfo without attributes")
    return citizen_from_attributes(attributes, access_token, agency_id, _settings().adgangsplatformen_url)


def citizen_from_attributes(attributes: dict[str, Any], access_token: str, agency_id: str, issuer: str) -> Citizen:
    """The Citizen of Adgangsplatformen's attributes, or LoginRefused (never a CPR number in the detail)."""
    agency_users = _agency_users(attributes.get("agencies"))
    if agency_id not in agency_users:
        raise LoginRefused(Refusal.UNKNOWN_AGENCY, f"not registered at agency {agency_id}")
    unique_id = attributes.get("uniqueId")
    if not isinstance(unique_id, str) or not unique_id.strip():
        raise LoginRefused(Refusal.TOKEN_INVALID, "userinfo without uniqueId")
    # Absent for card + PIN logins (children, substitute CPR numbers): the borrower is then known
    # by the agency's userId. A malformed one is treated as absent, never guessed at.
    raw_cpr = attributes.get("cpr")
    cpr = normalise_cpr(raw_cpr) if isinstance(raw_cpr, str) else None
    if raw_cpr not in (None, "") and cpr is None:
        log.warning("Adgangsplatformen sent a malformed cpr attribute; signing in without it")
    name = attributes.get("name")
    return Citizen(
        sub=unique_id.strip(),
        name=name.strip() if isinstance(name, str) else "",
        cpr=cpr,
        id_token=None,
        issuer=issuer,
        profile=ADGANGSPLATFORMEN,
        access_token=access_token,
        agency_users=agency_users,
    )


def _agency_users(agencies: object) -> dict[str, str]:
    """`agencies: [{agencyId, userId, userIdType}]` -> {ISIL: userId}; odd entries are left out."""
    users: dict[str, str] = {}
    if not isinstance(agencies, list):
        return users
    for entry in agencies:
        if not isinstance(entry, dict):
            continue
        agency, user = entry.get("agencyId"), entry.get("userId")
        if isinstance(agency, str) and agency.strip() and isinstance(user, str) and user.strip():
            users.setdefault(isil(agency), user.strip())
    return users


def logout_url(citizen: Citizen, redirect_uri: str) -> str | None:
    """Adgangsplatformen's logout for `citizen` (ends DBC's single sign-on, and with it the other
    clients' sessions), back to `redirect_uri`; None without a token."""
    if not citizen.access_token:
        return None
    query = urlencode({"access_token": citizen.access_token, "singlelogout": "true", "redirect_uri": redirect_uri})
    return f"{_settings().adgangsplatformen_url}/logout/?{query}"
