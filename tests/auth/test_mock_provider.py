"""The portal's same production code path against a third-party provider (oidc-provider-mock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import oidc_provider_mock
import pytest
from flask import Flask

from tests.auth.helpers import Browser, refusal


@pytest.fixture
def mock_issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        # Its issuer follows the Host header; the portal must use the same name.
        yield f"http://localhost:{server.server_port}"


def test_login_against_oidc_provider_mock(make_portal: Callable[..., Flask], mock_issuer: str) -> None:
    answer = httpx.put(f"{mock_issuer}/users/mock-anne", json={"name": "Anne Mock", "cpr": "010190-1111"})
    assert answer.status_code < 300
    visitor = Browser(make_portal(mock_issuer, PORTAL_OIDC_SCOPE="openid profile"))

    authorize_url = visitor.start_login()
    assert authorize_url.startswith(mock_issuer)
    response = visitor.get(visitor.choose(authorize_url, {"sub": "mock-anne"}))

    assert response.status_code == 302 and response.headers["Location"] == "/lyngby/"
    citizen = visitor.stored_data()["citizen"]
    assert (citizen["sub"], citizen["name"], citizen["cpr"]) == ("mock-anne", "Anne Mock", "0101901111")
    assert citizen["issuer"] == mock_issuer

    logout = visitor.post("/lyngby/logout")
    assert logout.headers["Location"].startswith(f"{mock_issuer}/oauth2/end_session?")
    visitor.close()


def test_mock_user_without_cpr_is_refused(make_portal: Callable[..., Flask], mock_issuer: str) -> None:
    visitor = Browser(make_portal(mock_issuer))
    response = visitor.get(visitor.choose(visitor.start_login(), {"sub": "no-cpr@example.org"}))
    assert (response.status_code, refusal(response)) == (403, "no_cpr")
    visitor.close()
