"""A browser for auth tests: the portal through Flask's test client, IdPs over real HTTP."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.auth.sessions import KEY_PREFIX, ServerSessionInterface
from portal.devtools.idp import IdpClient
from portal.kvstore import store
from tests.support.settings import TEST_CLIENT_URL
from tests.support.waiting import wait_for_background

COOKIE = "gebyrportal_session"
LANGUAGE_COOKIE = "gebyrportal_lang"
PORTAL_URL = TEST_CLIENT_URL  # https: the portal under test sets Secure cookies
CALLBACK = f"{PORTAL_URL}/auth/callback"
CLIENT_ID = "gebyrportal-test"
CLIENT_SECRET = "gebyrportal-test-secret"


def portal_client(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> IdpClient:
    """The portal under test as the dev IdP knows it."""
    return IdpClient(client_id, secret, [CALLBACK], [f"{PORTAL_URL}/lyngby/"])


class Browser:
    """Follows redirects between the portal (test client) and an IdP (httpx), like a browser."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.portal: FlaskClient = app.test_client()
        # English pages, so tests can read the (English) source strings.
        self.portal.set_cookie(LANGUAGE_COOKIE, "en")
        self.http = httpx.Client(timeout=5)

    def close(self) -> None:
        self.http.close()

    # --- portal -------------------------------------------------------------
    def get(self, url: str) -> TestResponse:
        """GET a portal URL (absolute http://localhost/... or a path)."""
        parts = urlsplit(url)
        return self.portal.get(urlunsplit(("", "", parts.path, parts.query, "")))

    def post(self, path: str) -> TestResponse:
        return self.portal.post(path)

    def start_login(self, slug: str = "lyngby") -> str:
        """The IdP authorization URL the portal redirects to."""
        response = self.get(f"/{slug}/login")
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    # --- IdP ----------------------------------------------------------------
    def choose(self, authorize_url: str, data: dict[str, str]) -> str:
        """Submit the IdP's sign-in form with `data`; returns where the IdP redirects (the callback)."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text
        action = re.search(r'<form[^>]*\baction="([^"]*)"', page.text)
        target = urljoin(authorize_url, action[1].replace("&amp;", "&")) if action else authorize_url
        answer = self.http.post(target, data=data)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def login(self, sub: str = "demo-anne", slug: str = "lyngby") -> TestResponse:
        """A whole login; returns the portal's answer to the callback, once the sign-in's prefetch has ended."""
        answer = self.get(self.choose(self.start_login(slug), {"sub": sub}))
        wait_for_background()
        return answer

    # --- the server-side session -------------------------------------------
    def session_id(self) -> str | None:
        cookie = self.portal.get_cookie(COOKIE)
        return cookie.value if cookie is not None else None

    def sessions(self) -> ServerSessionInterface:
        interface = self.app.session_interface
        assert isinstance(interface, ServerSessionInterface)
        return interface

    def stored(self, session_id: str | None = None) -> dict[str, Any] | None:
        """The session data the portal keeps for the cookie's id, decrypted (None: no readable entry)."""
        session_id = session_id or self.session_id()
        if session_id is None:
            return None
        with self.app.app_context():
            entry = self.sessions().read(session_id)
        return entry.data if entry else None

    def stored_data(self, session_id: str | None = None) -> dict[str, Any]:
        """`stored()`, which must find an entry."""
        data = self.stored(session_id)
        assert data is not None, "no session entry"
        return data

    def raw_entry(self, session_id: str | None = None) -> Any:
        """The entry as the store holds it (encrypted), for the cookie's id or `session_id`."""
        with self.app.app_context():
            return store.get(KEY_PREFIX + str(session_id or self.session_id()))

    def put_raw_entry(self, value: Any, session_id: str | None = None) -> None:
        """Overwrite the stored entry with `value`, as someone with write access to the store could."""
        with self.app.app_context():
            store.set(KEY_PREFIX + str(session_id or self.session_id()), value, timeout=600)

    def edit_session(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the server-side session data, as an attacker with the store and the app's key could."""
        session_id = str(self.session_id())
        with self.app.app_context():
            entry = self.sessions().read(session_id)
            assert entry is not None
            change(entry.data)
            self.sessions().write(session_id, entry.data, entry.at)

    def login_state(self, state: str) -> dict[str, Any]:
        """authlib's record of a login under way: code_verifier, nonce, redirect_uri."""
        recorded: dict[str, Any] = self.stored_data()[f"_state_oidc_{state}"]["data"]
        return recorded


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    params = {**query(url), **changes}
    kept = {k: v for k, v in params.items() if v is not None}
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (to look at what an IdP put in it)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def refusal(response: TestResponse) -> str | None:
    """The reason on the portal's 'login failed' page."""
    found = re.search(r'data-reason="([a-z_]+)"', response.get_data(as_text=True))
    return found[1] if found else None
