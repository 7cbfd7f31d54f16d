"""The dev IdP on its own, over real HTTP: what it issues and everything it refuses."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from portal.devtools.demo import DEV_OIDC_CLIENT_ID
from portal.devtools.idp import NSIS_SUBSTANTIAL, DevIdp, IdpClient, portal_dev_client, prefix_rule
from tests.auth.helpers import CALLBACK, CLIENT_ID, CLIENT_SECRET, PORTAL_URL, portal_client, query

OTHER_ID, OTHER_SECRET, OTHER_CALLBACK = "other-rp", "other-secret", "http://other.example/cb"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class Flow:
    """One authorization-code flow driven by hand, so each parameter can be broken."""

    def __init__(
        self, idp: DevIdp, http: httpx.Client, client_id: str = CLIENT_ID, redirect_uri: str = CALLBACK
    ) -> None:
        self.idp, self.http = idp, http
        self.verifier, challenge = pkce()
        self.nonce = secrets.token_urlsafe(16)
        self.params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": "st-1",
            "nonce": self.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }

    def authorize(self, sub: str = "demo-anne", **changes: str | None) -> httpx.Response:
        params = {k: v for k, v in {**self.params, **changes}.items() if v is not None}
        return self.http.post(f"{self.idp.issuer}/authorize", params=params, data={"sub": sub})

    def code(self, sub: str = "demo-anne", **changes: str | None) -> str:
        answer = self.authorize(sub, **changes)
        assert answer.status_code == 302, answer.text
        return query(answer.headers["location"])["code"]

    def token(
        self,
        code: str,
        *,
        verifier: str | None = None,
        auth: str = "basic",
        client: tuple[str, str] = (CLIENT_ID, CLIENT_SECRET),
        redirect_uri: str = CALLBACK,
    ) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier or self.verifier,
        }
        if auth == "post":
            form.update(client_id=client[0], client_secret=client[1])
            return self.http.post(f"{self.idp.issuer}/token", data=form)
        return self.http.post(f"{self.idp.issuer}/token", data=form, auth=client)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def two_clients_idp(start_idp: Callable[..., DevIdp]) -> DevIdp:
    return start_idp([portal_client(), IdpClient(OTHER_ID, OTHER_SECRET, [OTHER_CALLBACK])])


def verified_claims(idp: DevIdp, http: httpx.Client, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(http.get(f"{idp.issuer}/jwks").json())
    return dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)


def assert_redirected_error(answer: httpx.Response, error: str = "invalid_request") -> None:
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    assert query(location)["error"] == error and "code" not in query(location)


# --- what it serves -----------------------------------------------------------


def test_discovery(idp: DevIdp, http: httpx.Client) -> None:
    doc = http.get(f"{idp.issuer}/.well-known/openid-configuration").json()
    assert doc["issuer"] == idp.issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/end_session"),
    ]:
        assert doc[name] == idp.issuer + path
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_code_flow_issues_signed_id_token_and_userinfo(idp: DevIdp, http: httpx.Client, auth: str) -> None:
    flow = Flow(idp, http)
    answer = flow.token(flow.code(), auth=auth)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()

    claims = verified_claims(idp, http, tokens["id_token"])
    assert claims["iss"] == idp.issuer and claims["aud"] == CLIENT_ID
    assert claims["nonce"] == flow.nonce and claims["exp"] > time.time()
    assert (claims["sub"], claims["name"], claims["cpr"]) == ("demo-anne", "Anne Andersen", "0101901111")
    assert claims["acr"] == NSIS_SUBSTANTIAL

    info = http.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json() == {"sub": "demo-anne", "name": "Anne Andersen", "cpr": "0101901111", "acr": NSIS_SUBSTANTIAL}


def test_citizen_without_cpr_gets_no_cpr_claim(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    tokens = flow.token(flow.code(sub="demo-frede")).json()
    assert "cpr" not in verified_claims(idp, http, tokens["id_token"])
    info = http.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and "cpr" not in info.json()


def test_cpr_claim_name_and_userinfo_only(start_idp: Callable[..., DevIdp], http: httpx.Client) -> None:
    idp = start_idp(cpr_claim="personnummer", cpr_in_id_token=False)
    flow = Flow(idp, http)
    tokens = flow.token(flow.code()).json()
    claims = verified_claims(idp, http, tokens["id_token"])
    assert "personnummer" not in claims and "cpr" not in claims
    info = http.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json()["personnummer"] == "0101901111" and "cpr" not in info.json()


def test_authorize_page_lists_the_demo_citizens_accessibly(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    page = http.get(f"{idp.issuer}/authorize", params=flow.params)
    html = page.text
    assert page.status_code == 200
    assert '<html lang="da">' in html and "<h1>" in html and "<h2" in html
    assert "<script" not in html
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none' covers it
    buttons = re.findall(r'<button type="submit" name="sub" value="([^"]+)">([^<]+)</button>', html)
    assert (
        "demo-anne",
        "Log ind som Anne Andersen — Gebyrer begge steder: betales her og i Mit Betalingsoverblik",
    ) in buttons
    assert len(buttons) == 6


# --- what it refuses at the authorization endpoint ------------------------------


def test_missing_code_challenge_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    assert_redirected_error(Flow(idp, http).authorize(code_challenge=None, code_challenge_method=None))


def test_plain_pkce_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    assert_redirected_error(flow.authorize(code_challenge=flow.verifier, code_challenge_method="plain"))


def test_challenge_without_method_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    # RFC 7636 would default to "plain"; the dev IdP accepts S256 only.
    assert_redirected_error(Flow(idp, http).authorize(code_challenge_method=None))


def test_missing_nonce_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    assert_redirected_error(Flow(idp, http).authorize(nonce=None))


def test_reused_nonce_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    flow.code()
    assert_redirected_error(flow.authorize())


def test_non_openid_request_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    assert_redirected_error(Flow(idp, http).authorize(scope="profile"), "invalid_scope")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/auth/callback",
        CALLBACK + "/",  # exact match: no trailing slash tolerance
        CALLBACK + "?next=x",
        f"{PORTAL_URL}:80/auth/callback",
    ],
)
def test_unknown_redirect_uri_is_refused_without_redirect(idp: DevIdp, http: httpx.Client, redirect_uri: str) -> None:
    for answer in (
        http.get(f"{idp.issuer}/authorize", params=Flow(idp, http, redirect_uri=redirect_uri).params),
        Flow(idp, http, redirect_uri=redirect_uri).authorize(),
    ):
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "Login kan ikke gennemføres" in answer.text


def test_missing_redirect_uri_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    answer = Flow(idp, http).authorize(redirect_uri=None)
    assert answer.status_code == 400 and "location" not in answer.headers


def test_unknown_client_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    answer = Flow(idp, http, client_id="nobody").authorize()
    assert answer.status_code == 400 and "location" not in answer.headers


def test_cancel_reports_access_denied(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    params = {k: v for k, v in flow.params.items() if v is not None}
    answer = http.post(f"{idp.issuer}/authorize", params=params, data={"cancel": "1"})
    assert_redirected_error(answer, "access_denied")
    assert query(answer.headers["location"])["state"] == "st-1"


# --- what it refuses at the token endpoint ----------------------------------------


def test_code_is_single_use(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    code = flow.code()
    assert flow.token(code).status_code == 200
    second = flow.token(code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_wrong_verifier_is_refused_and_burns_the_code(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    code = flow.code()
    wrong = flow.token(code, verifier=pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert flow.token(code).status_code == 400  # the right verifier comes too late


def test_missing_verifier_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    code = flow.code()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    answer = http.post(f"{idp.issuer}/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_code_expires(start_idp: Callable[..., DevIdp], http: httpx.Client) -> None:
    idp = start_idp(code_lifetime=1)
    flow = Flow(idp, http)
    code = flow.code()
    time.sleep(1.1)
    assert flow.token(code).json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(idp, http)
    answer = flow.token(flow.code(), client=(CLIENT_ID, "wrong"))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_code_of_another_client_is_refused(two_clients_idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(two_clients_idp, http, client_id=OTHER_ID, redirect_uri=OTHER_CALLBACK)
    code = flow.code()
    answer = flow.token(code, client=(CLIENT_ID, CLIENT_SECRET), redirect_uri=OTHER_CALLBACK)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(two_clients_idp: DevIdp, http: httpx.Client) -> None:
    flow = Flow(two_clients_idp, http)
    answer = flow.token(flow.code(), redirect_uri=OTHER_CALLBACK)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_userinfo_needs_a_valid_token(idp: DevIdp, http: httpx.Client) -> None:
    assert http.get(f"{idp.issuer}/userinfo").status_code == 401
    assert http.get(f"{idp.issuer}/userinfo", headers={"Authorization": "Bearer nope"}).status_code == 401


# --- end session ------------------------------------------------------------------


def logged_in_tokens(idp: DevIdp, http: httpx.Client) -> dict[str, str]:
    flow = Flow(idp, http)
    tokens: dict[str, str] = flow.token(flow.code()).json()
    return tokens


def test_end_session_redirects_to_a_registered_uri_and_revokes(idp: DevIdp, http: httpx.Client) -> None:
    tokens = logged_in_tokens(idp, http)
    answer = http.get(
        f"{idp.issuer}/end_session",
        params={
            "id_token_hint": tokens["id_token"],
            "client_id": CLIENT_ID,
            "post_logout_redirect_uri": f"{PORTAL_URL}/lyngby/",
        },
    )
    assert answer.status_code == 302 and answer.headers["location"] == f"{PORTAL_URL}/lyngby/"
    info = http.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401


def test_end_session_refuses_an_unregistered_uri(idp: DevIdp, http: httpx.Client) -> None:
    tokens = logged_in_tokens(idp, http)
    answer = http.get(
        f"{idp.issuer}/end_session",
        params={
            "id_token_hint": tokens["id_token"],
            "client_id": CLIENT_ID,
            "post_logout_redirect_uri": "http://evil.example/",
        },
    )
    assert answer.status_code == 400 and "location" not in answer.headers


def test_end_session_refuses_a_forged_id_token(idp: DevIdp, http: httpx.Client) -> None:
    tokens = logged_in_tokens(idp, http)
    header, payload, signature = tokens["id_token"].split(".")
    answer = http.get(
        f"{idp.issuer}/end_session",
        params={
            "id_token_hint": f"{header}.{payload}.{signature[::-1]}",
            "client_id": CLIENT_ID,
            "post_logout_redirect_uri": f"{PORTAL_URL}/lyngby/",
        },
    )
    assert answer.status_code == 400 and "location" not in answer.headers


def test_end_session_without_redirect_shows_a_page(idp: DevIdp, http: httpx.Client) -> None:
    answer = http.get(f"{idp.issuer}/end_session")
    assert answer.status_code == 200 and "Du er logget ud" in answer.text


def test_prefix_rule_for_post_logout_uris(start_idp: Callable[..., DevIdp], http: httpx.Client) -> None:
    client = IdpClient(CLIENT_ID, CLIENT_SECRET, [CALLBACK], prefix_rule("http://127.0.0.1:5000/"))
    assert client.allows_post_logout_redirect("http://127.0.0.1:5000/rodovre/")
    assert not client.allows_post_logout_redirect("http://127.0.0.1:50000/")
    assert not client.allows_post_logout_redirect("http://127.0.0.1:5000.evil.example/")
    with pytest.raises(ValueError):
        prefix_rule("http://127.0.0.1:5000")
    idp = start_idp([client])
    tokens = logged_in_tokens(idp, http)
    answer = http.get(
        f"{idp.issuer}/end_session",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:5000/lyngby/"},
    )
    assert answer.status_code == 302 and answer.headers["location"] == "http://127.0.0.1:5000/lyngby/"


def test_portal_dev_client_fits_make_run() -> None:
    client = portal_dev_client()
    assert client.client_id == DEV_OIDC_CLIENT_ID
    assert client.check_redirect_uri("http://127.0.0.1:5000/auth/callback")
    assert not client.check_redirect_uri("http://localhost:5000/auth/callback")
    assert client.allows_post_logout_redirect("http://127.0.0.1:5000/rodovre/")
