"""Every way a login must be refused: a clear page with a non-200 status, no citizen, no traceback."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from werkzeug.test import TestResponse

from portal.devtools.idp import DevIdp
from portal.devtools.idp.grants import IdToken, UserInfo
from tests.auth.helpers import Browser, query, refusal, with_query


def assert_refused(visitor: Browser, response: TestResponse, reason: str, status: int) -> None:
    page = response.get_data(as_text=True)
    assert (response.status_code, refusal(response)) == (status, reason), page
    assert 'class="alert alert-error" role="alert"' in page
    # Try again; after a login without a CPR number, the library's page (the same login again
    # would only fail the same way).
    retry = 'href="/lyngby/"' if reason == "no_cpr" else 'href="/lyngby/login"'
    assert retry in page or 'href="/"' in page
    assert 'class="icon-svg alert-icon"' in page
    assert "Traceback" not in page
    assert "citizen" not in (visitor.stored() or {})


def callback_for(visitor: Browser, sub: str = "demo-anne") -> tuple[str, str]:
    """(the IdP's redirect back to the portal, its state) — not yet followed."""
    url = visitor.choose(visitor.start_login(), {"sub": sub})
    return url, query(url)["state"]


def test_wrong_state_is_refused(visitor: Browser) -> None:
    url, _ = callback_for(visitor)
    response = visitor.get(with_query(url, state="forged-" + secrets.token_urlsafe(8)))
    assert_refused(visitor, response, "state", 400)


def test_missing_state_is_refused(visitor: Browser) -> None:
    url, _ = callback_for(visitor)
    assert_refused(visitor, visitor.get(with_query(url, state=None)), "state", 400)


def test_callback_from_another_browser_is_refused(visitor: Browser, portal: Flask) -> None:
    url, _ = callback_for(visitor)
    stranger = Browser(portal)  # a login link sent to someone else (login CSRF)
    assert_refused(stranger, stranger.get(url), "state", 400)
    stranger.close()


def test_used_callback_cannot_be_replayed(visitor: Browser) -> None:
    url, _ = callback_for(visitor)
    assert visitor.get(url).status_code == 302
    visitor.post("/lyngby/logout")
    assert_refused(visitor, visitor.get(url), "state", 400)


def test_replayed_code_is_refused_by_the_idp(visitor: Browser) -> None:
    first, first_state = callback_for(visitor)
    first_login = dict(visitor.login_state(first_state))
    assert visitor.get(first).status_code == 302
    visitor.post("/lyngby/logout")
    # A new login, but the old (already redeemed) code smuggled into its callback,
    # with the old verifier and nonce, so only the code's single use can stop it.
    second, second_state = callback_for(visitor)
    visitor.edit_session(
        lambda data: data[f"_state_oidc_{second_state}"]["data"].update(
            code_verifier=first_login["code_verifier"], nonce=first_login["nonce"]
        )
    )
    response = visitor.get(with_query(second, code=query(first)["code"]))
    assert_refused(visitor, response, "token_refused", 502)


def test_wrong_pkce_verifier_is_refused(visitor: Browser) -> None:
    url, state = callback_for(visitor)
    visitor.edit_session(
        lambda data: data[f"_state_oidc_{state}"]["data"].update(code_verifier=secrets.token_urlsafe(48))
    )
    assert_refused(visitor, visitor.get(url), "token_refused", 502)


def test_wrong_nonce_is_refused(visitor: Browser) -> None:
    url, state = callback_for(visitor)
    visitor.edit_session(lambda data: data[f"_state_oidc_{state}"]["data"].update(nonce="not-the-nonce"))
    assert_refused(visitor, visitor.get(url), "token_invalid", 502)


def _other_audience(self: IdToken, client: Any) -> dict[str, Any]:
    return {"iss": self.state.issuer, "aud": "another-portal"}


def _other_issuer(self: IdToken, client: Any) -> dict[str, Any]:
    return {"iss": "http://127.0.0.1:9", "aud": client.client_id}


def _expired(self: IdToken, client: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": self.state.issuer, "aud": client.client_id, "iat": now - 7200, "exp": now - 3600}


def _foreign_key(self: IdToken, client: Any) -> RSAKey:
    # Same key id as the IdP's published key, but not its key: the signature cannot verify.
    kid = self.state.key.kid
    assert kid is not None  # the IdP's key is generated with auto_kid
    return RSAKey.generate_key(2048, parameters={"kid": kid})


@pytest.mark.parametrize(
    "method,forgery",
    [
        ("get_client_claims", _other_audience),
        ("get_client_claims", _other_issuer),
        ("get_client_claims", _expired),
        ("resolve_client_private_key", _foreign_key),
    ],
    ids=["another-audience", "another-issuer", "expired", "bad-signature"],
)
def test_forged_id_token_is_refused(
    visitor: Browser, monkeypatch: pytest.MonkeyPatch, method: str, forgery: Callable[..., Any]
) -> None:
    # The IdP is made to issue an ID token that is right in every way but one.
    monkeypatch.setattr(IdToken, method, forgery)
    url, _ = callback_for(visitor)
    assert_refused(visitor, visitor.get(url), "token_invalid", 502)


def test_token_response_without_id_token_is_refused(visitor: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IdToken, "process_token", lambda self, grant, response: response[1])
    url, _ = callback_for(visitor)
    assert_refused(visitor, visitor.get(url), "token_invalid", 502)


def test_userinfo_about_someone_else_is_refused(
    make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        UserInfo, "generate_user_info", lambda self, user, scope: {"sub": "demo-bent", "cpr": "0202852222"}
    )
    visitor = Browser(make_portal(start_idp(cpr_in_id_token=False).issuer))
    url, _ = callback_for(visitor)
    assert_refused(visitor, visitor.get(url), "token_invalid", 502)
    visitor.close()


def test_idp_unreachable_at_login_start(make_portal: Callable[..., Flask]) -> None:
    visitor = Browser(make_portal("http://127.0.0.1:9"))
    response = visitor.get("/lyngby/login")
    assert_refused(visitor, response, "unreachable", 503)
    assert visitor.session_id() is None
    visitor.close()


def test_idp_gone_before_the_callback(visitor: Browser, idp: DevIdp) -> None:
    url, _ = callback_for(visitor)
    idp.shutdown()
    assert_refused(visitor, visitor.get(url), "unreachable", 503)


def test_discovery_for_another_issuer_is_refused(make_portal: Callable[..., Flask], idp: DevIdp) -> None:
    # Same server, but the portal was told another issuer than the one the IdP names.
    visitor = Browser(make_portal(idp.issuer.replace("127.0.0.1", "localhost")))
    assert_refused(visitor, visitor.get("/lyngby/login"), "unreachable", 503)
    visitor.close()


def test_user_cancelled_at_the_idp(visitor: Browser) -> None:
    url = visitor.choose(visitor.start_login(), {"cancel": "1"})
    assert query(url)["error"] == "access_denied"
    response = visitor.get(url)
    assert_refused(visitor, response, "cancelled", 400)
    assert "The login was cancelled" in response.get_data(as_text=True)


def test_other_idp_error(visitor: Browser) -> None:
    url, state = callback_for(visitor)
    response = visitor.get(
        with_query(url, code=None, error="server_error", error_description="<script>alert(1)</script>")
    )
    assert_refused(visitor, response, "idp_error", 502)
    assert "<script>alert" not in response.get_data(as_text=True)


def test_login_without_cpr_has_its_own_message(visitor: Browser) -> None:
    response = visitor.login("demo-frede")
    assert_refused(visitor, response, "no_cpr", 403)
    page = response.get_data(as_text=True)
    assert "Your login did not include a CPR number" in page
    assert 'href="/lyngby/login"' not in page  # no loop back into the same failure
    assert "Back to the library&#39;s page" in page or "Back to the library's page" in page


def test_login_data_gone_from_the_session(visitor: Browser) -> None:
    # e.g. the session expired while the citizen was at the IdP
    url, state = callback_for(visitor)
    visitor.edit_session(lambda data: data.pop(f"_state_oidc_{state}"))
    assert_refused(visitor, visitor.get(url), "state", 400)
