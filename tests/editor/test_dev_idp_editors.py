"""The dev IdP's demo editors: only an editor client signs them in, with the libraries claim."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from portal.devtools.demo import DEV_EDITOR_CLIENT_ID
from portal.devtools.idp import DevIdp, portal_editor_dev_client
from tests.auth.helpers import query
from tests.auth.test_dev_idp import Flow, verified_claims
from tests.editor.helpers import EDITOR_CALLBACK, EDITOR_CLIENT_ID, EDITOR_CLIENT_SECRET


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def editor_flow(idp: DevIdp, http: httpx.Client) -> Flow:
    return Flow(idp, http, client_id=EDITOR_CLIENT_ID, redirect_uri=EDITOR_CALLBACK)


@pytest.mark.parametrize(
    "sub,claim,payments",
    [
        ("editor-lone", ["lyngby"], ["lyngby"]),
        ("editor-rasmus", ["rodovre"], []),
        ("editor-ada", "*", "*"),
        ("editor-bente", [], ["lyngby"]),
        ("editor-niels", [], []),
    ],
)
def test_editor_tokens_carry_the_libraries_and_payments_claims(
    idp: DevIdp, http: httpx.Client, sub: str, claim: object, payments: object
) -> None:
    flow = editor_flow(idp, http)
    answer = flow.token(
        flow.code(sub=sub), client=(EDITOR_CLIENT_ID, EDITOR_CLIENT_SECRET), redirect_uri=EDITOR_CALLBACK
    )
    tokens = answer.json()
    claims = verified_claims(idp, http, tokens["id_token"])
    assert claims["aud"] == EDITOR_CLIENT_ID and claims["sub"] == sub
    assert claims["gebyrportal_libraries"] == claim
    assert claims["gebyrportal_payments"] == payments
    assert "cpr" not in claims and "acr" not in claims  # an editor is not a MitID citizen
    info = http.get(f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json()["gebyrportal_libraries"] == claim
    assert info.json()["gebyrportal_payments"] == payments


def test_the_editor_client_lists_editors_and_the_citizen_client_citizens(idp: DevIdp, http: httpx.Client) -> None:
    editors = http.get(f"{idp.issuer}/authorize", params=editor_flow(idp, http).params).text
    citizens = http.get(f"{idp.issuer}/authorize", params=Flow(idp, http).params).text
    pick = r'<button type="submit" name="sub" value="([^"]+)">'
    assert re.findall(pick, editors) == ["editor-lone", "editor-rasmus", "editor-ada", "editor-bente", "editor-niels"]
    assert "Log ind som Lone Lyngby — redaktør og betalinger for Lyngby" in editors
    assert "Log ind som Ada Admin — administrator for alle biblioteker" in editors
    assert len(re.findall(pick, citizens)) == 6 and "editor-" not in citizens


@pytest.mark.parametrize("client", ["editor", "citizen"])
def test_a_person_of_the_other_kind_is_denied(idp: DevIdp, http: httpx.Client, client: str) -> None:
    flow, sub = (editor_flow(idp, http), "demo-anne") if client == "editor" else (Flow(idp, http), "editor-ada")
    answer = flow.authorize(sub=sub)
    assert answer.status_code == 302 and query(answer.headers["location"])["error"] == "access_denied"


def test_portal_editor_dev_client_fits_make_run() -> None:
    client = portal_editor_dev_client()
    assert client.client_id == DEV_EDITOR_CLIENT_ID and client.people == "editors"
    assert client.check_redirect_uri("http://127.0.0.1:5000/editor/callback")
    assert client.allows_post_logout_redirect("http://127.0.0.1:5000/editor/")
    assert not client.allows_post_logout_redirect("http://127.0.0.1:5000/lyngby/")
