"""Server-rendered pages without a browser: status codes, headers, languages, no-JS reading."""

from __future__ import annotations

import copy
import re

import httpx
import pytest

from portal.kvstore import store
from tests.support.login import http_login
from tests.support.stack import Stack


def test_signed_out_page_invites_sign_in(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/lyngby/")
    assert response.status_code == 200
    assert 'href="/lyngby/login"' in response.text
    assert "kr." not in response.text


@pytest.mark.parametrize("path", ["/lyngby/", "/", "/nope/"])
def test_security_headers(client: httpx.Client, stack: Stack, path: str) -> None:
    response = client.get(stack.url + path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_no_inline_scripts_or_styles(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    html = client.get(f"{stack.url}/lyngby/").text
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html and "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None


def test_personal_page_is_no_store_and_readable_without_js(client: httpx.Client, stack: Stack) -> None:
    page = http_login(client, stack.url, "demo-anne")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "469,75\xa0kr." in page.text or "469,75 kr." in page.text
    assert "+73&lt; +86836084&lt;" in page.text


def test_unknown_library_is_404(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/atlantis/")
    assert response.status_code == 404
    assert "Siden findes ikke" in response.text


def test_english_formats_amounts_and_dates(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    page = client.get(f"{stack.url}/lyngby/?lang=en")
    assert "DKK\xa0469.75" in page.text
    assert "15 June 2021" in page.text
    # The switch is remembered.
    assert "DKK\xa0469.75" in client.get(f"{stack.url}/lyngby/").text


@pytest.mark.parametrize("path", ["/favicon.ico", "/Atlantis/", "/LYNGBYX/", "/-x-/", "/L%C3%B8ngby/"])
def test_what_cannot_be_a_slug_is_a_plain_404(client: httpx.Client, stack: Stack, path: str) -> None:
    response = client.get(stack.url + path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "moved"),
    [
        ("/Lyngby/", "/lyngby/"),
        ("/LYNGBY/?lang=en", "/lyngby/?lang=en"),
        ("/Lyngby/embed/summary", "/lyngby/embed/summary"),
    ],
)
def test_a_librarys_address_in_capitals_leads_to_the_library(
    client: httpx.Client, stack: Stack, path: str, moved: str
) -> None:
    # Typed from a leaflet or a letter: the library's page, not "page not found".
    response = client.get(stack.url + path)
    assert response.status_code == 308 and response.headers["location"] == moved
    assert client.get(stack.url + moved).status_code == 200
    assert client.post(stack.url + "/Lyngby/logout").status_code == 404  # a form post is never redirected


def test_an_implausible_fbs_amount_shows_no_figures(client: httpx.Client, stack: Stack) -> None:
    """FBS says Anne owes 10^20 kr. on fee 501: the "we can't show your debts" page, no amount at all."""
    anne_fees = "fbs:DK-717300:1001:fees"
    plausible = copy.deepcopy(stack.fbs_state.fees[1001])
    with stack.fbs_state.lock:
        stack.fbs_state.fees[1001][0]["amount"] = 10**20  # a JSON number in the answer
    try:
        with stack.app.app_context():
            # Fetched again, not served from an earlier test's cache, nor its page (portal.services.stale).
            store.delete_many(anne_fees, "snapshot:DK-717300:1001")
        page = http_login(client, stack.url, "demo-anne")
    finally:
        with stack.fbs_state.lock:
            stack.fbs_state.fees[1001] = plausible
    assert page.status_code == 503
    assert "Vi kan ikke vise dine mellemværender lige nu" in page.text
    assert "kr." not in page.text and "100000000000000000000" not in page.text and "1E+20" not in page.text
    # The same request with FBS's own amount shows Anne's debts: the amount was the cause.
    with stack.app.app_context():
        store.delete_many(anne_fees)
    page = client.get(f"{stack.url}/lyngby/")
    assert page.status_code == 200
    assert "469,75\xa0kr." in page.text or "469,75 kr." in page.text
