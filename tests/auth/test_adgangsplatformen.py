"""Sign-in with Adgangsplatformen, end to end over real HTTP: browser (httpx) → portal → simulator → portal.

The portal runs its production code path against the Adgangsplatformen simulator
(portal.devtools.adgangsplatformen) in the live stack; Lyngby offers both profiles, Rødovre MitID only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from portal.auth.single_logout import token_hash
from portal.kvstore import store
from tests.auth.helpers import COOKIE, LANGUAGE_COOKIE
from tests.support.stack import AP_CLIENT_ID, Stack, start_stack
from tests.support.waiting import wait_for_background

ANNE, EVA, DENNIS = "ap-anne-5f3a", "ap-eva-9c21", "ap-dennis-77e0"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("ap"), adgangsplatformen=True)
    yield running
    running.stop()


@pytest.fixture
def browser(stack: Stack) -> Iterator[httpx.Client]:
    client = httpx.Client(timeout=10, cookies={LANGUAGE_COOKIE: "en"})
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _clean_simulator(stack: Stack) -> Iterator[None]:
    assert stack.ap_state is not None
    client = stack.ap_state.clients[AP_CLIENT_ID]
    yield
    stack.ap_state.single_logouts.clear()
    stack.ap_state.clients[AP_CLIENT_ID] = client


def authorize_url(browser: httpx.Client, stack: Stack, slug: str = "lyngby", **params: str) -> str:
    start = browser.get(f"{stack.url}/{slug}/login", params={"profile": "adgangsplatformen", **params})
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert stack.ap_url is not None and location.startswith(f"{stack.ap_url}/oauth/authorize?")
    return location


def choose(browser: httpx.Client, url: str, user: str | None) -> str:
    """Pick `user` on the simulator's page (None: cancel); the simulator's redirect back to the portal."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields = {name: unescape(value) for name, value in fields.items()}
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text)[1])  # type: ignore[index]
    answer = browser.post(urljoin(url, action), data={**fields, **({"user": user} if user else {"cancel": "1"})})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def callback(browser: httpx.Client, stack: Stack, user: str | None, slug: str = "lyngby") -> str:
    return choose(browser, authorize_url(browser, stack, slug), user)


def sign_in(browser: httpx.Client, stack: Stack, user: str, slug: str = "lyngby") -> httpx.Response:
    """A whole sign-in; the portal's answer to the callback (not followed), once its prefetch has ended."""
    answer = browser.get(callback(browser, stack, user, slug))
    wait_for_background()
    return answer


def stored(stack: Stack, browser: httpx.Client) -> dict[str, Any] | None:
    session_id = browser.cookies.get(COOKIE)
    if session_id is None:
        return None
    with stack.app.app_context():
        entry = stack.app.session_interface.read(session_id)  # type: ignore[attr-defined]
    return entry.data if entry else None


def citizen(stack: Stack, browser: httpx.Client) -> dict[str, Any] | None:
    data = stored(stack, browser)
    return data.get("citizen") if data else None


def reason(response: httpx.Response) -> str | None:
    found = re.search(r'data-reason="([a-z_]+)"', response.text)
    return found[1] if found else None


def assert_refused(stack: Stack, browser: httpx.Client, response: httpx.Response, why: str, status: int) -> None:
    assert (response.status_code, reason(response)) == (status, why), response.text
    assert "Traceback" not in response.text
    assert citizen(stack, browser) is None


def test_authorize_request_fixes_the_library_and_carries_no_pkce(browser: httpx.Client, stack: Stack) -> None:
    params = parse_qs(urlsplit(authorize_url(browser, stack)).query)
    assert params["agency"] == ["717300"]  # Lyngby's DK-717300, as DBC numbers agencies
    assert params["response_type"] == ["code"] and params["client_id"] == [AP_CLIENT_ID]
    assert params["redirect_uri"] == [f"{stack.url}/auth/adgangsplatformen/callback"]
    assert "code_challenge" not in params and "nonce" not in params and params["state"][0]


def test_borrower_with_cpr_number_signs_in(browser: httpx.Client, stack: Stack) -> None:
    answer = sign_in(browser, stack, ANNE)
    assert answer.status_code == 302 and answer.headers["location"] == "/lyngby/"
    who = citizen(stack, browser)
    assert who is not None
    assert (who["profile"], who["cpr"], who["sub"]) == ("adgangsplatformen", "0101901111", ANNE)
    assert who["agency_users"] == {"DK-717300": "0101901111", "DK-717500": "0101901111"}
    assert stack.ap_state is not None and who["access_token"] in stack.ap_state.tokens_of(ANNE)
    # Found in FBS by the CPR number (Lyngby reads FBS directly): her overview.
    page = browser.get(f"{stack.url}/lyngby/")
    assert page.status_code == 200 and "data-total=" in page.text


def test_card_and_pin_borrower_signs_in_without_cpr_number(browser: httpx.Client, stack: Stack) -> None:
    answer = sign_in(browser, stack, EVA)
    assert answer.status_code == 302, answer.text
    who = citizen(stack, browser)
    assert who is not None
    assert (who["profile"], who["cpr"], who["id_token"]) == ("adgangsplatformen", None, None)
    assert who["agency_users"] == {"DK-717300": "3847100005"}
    assert who["access_token"]


def test_the_token_is_never_in_a_cookie_or_the_log(
    browser: httpx.Client, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in(browser, stack, EVA)
    who = citizen(stack, browser)
    assert who is not None
    token = who["access_token"]
    assert all(token not in value for value in browser.cookies.values())
    assert token not in caplog.text
    with stack.app.app_context():
        # The single-logout index is keyed by the token's hash, never the token.
        assert store.get(f"adgangsplatformen:session:{token_hash(token)}") == browser.cookies.get(COOKIE)
        assert store.get(f"adgangsplatformen:session:{token}") is None


def test_forged_state_is_refused(browser: httpx.Client, stack: Stack) -> None:
    url = callback(browser, stack, EVA)
    forged = re.sub(r"state=[^&]+", "state=forged", url)
    assert_refused(stack, browser, browser.get(forged), "state", 400)


def test_callback_cannot_be_replayed(browser: httpx.Client, stack: Stack) -> None:
    url = callback(browser, stack, EVA)
    assert browser.get(url).status_code == 302
    browser.post(f"{stack.url}/lyngby/logout")
    assert_refused(stack, browser, browser.get(url), "state", 400)


def test_state_of_a_mitid_login_is_no_adgangsplatformen_callback(browser: httpx.Client, stack: Stack) -> None:
    mitid = browser.get(f"{stack.url}/lyngby/login", params={"profile": "mitid"})
    assert mitid.status_code == 302 and mitid.headers["location"].startswith(stack.idp.url)
    state = parse_qs(urlsplit(mitid.headers["location"]).query)["state"][0]
    answer = browser.get(f"{stack.url}/auth/adgangsplatformen/callback", params={"state": state, "code": "x"})
    assert_refused(stack, browser, answer, "state", 400)


def test_cancelled_login(browser: httpx.Client, stack: Stack) -> None:
    url = callback(browser, stack, None)
    assert "error=access_denied" in url
    assert_refused(stack, browser, browser.get(url), "cancelled", 400)


def test_borrower_not_registered_at_the_library_gets_a_clear_page(browser: httpx.Client, stack: Stack) -> None:
    answer = sign_in(browser, stack, DENNIS)
    assert_refused(stack, browser, answer, "unknown_agency", 403)
    assert "You are not registered at this library" in answer.text
    assert 'href="/lyngby/"' in answer.text  # back to the library's page, not the same login again


def test_token_refused_for_a_wrong_client_secret(browser: httpx.Client, stack: Stack) -> None:
    assert stack.ap_state is not None
    url = callback(browser, stack, EVA)
    client = stack.ap_state.clients[AP_CLIENT_ID]
    stack.ap_state.clients[AP_CLIENT_ID] = replace(client, client_secret="another-secret")
    assert_refused(stack, browser, browser.get(url), "token_refused", 502)


@pytest.mark.parametrize(("status", "why", "code"), [(500, "unreachable", 503), (None, "token_invalid", 502)])
def test_userinfo_failure_is_refused(
    browser: httpx.Client, stack: Stack, status: int | None, why: str, code: int
) -> None:
    assert stack.ap_state is not None
    url = callback(browser, stack, EVA)
    stack.ap_state.fail_next("userinfo", status)
    assert_refused(stack, browser, browser.get(url), why, code)


def test_profile_the_library_does_not_offer_is_no_page(browser: httpx.Client, stack: Stack) -> None:
    assert browser.get(f"{stack.url}/rodovre/login", params={"profile": "adgangsplatformen"}).status_code == 404
    assert browser.get(f"{stack.url}/lyngby/login", params={"profile": "nemid"}).status_code == 404
    # Rødovre offers MitID only: its plain login is MitID's, as before.
    plain = browser.get(f"{stack.url}/rodovre/login")
    assert plain.status_code == 302 and plain.headers["location"].startswith(stack.idp.url)


def test_signed_out_page_offers_both_profiles(browser: httpx.Client, stack: Stack) -> None:
    page = browser.get(f"{stack.url}/lyngby/").text
    assert 'href="/lyngby/login?profile=mitid"' in page
    assert 'href="/lyngby/login?profile=adgangsplatformen"' in page
    assert "without a Danish CPR number" in page
    assert "profile=adgangsplatformen" not in browser.get(f"{stack.url}/rodovre/").text


def test_the_embedded_page_offers_both_profiles_too(browser: httpx.Client, stack: Stack) -> None:
    # Children and card-only borrowers sign in from the library's website as well as on the portal.
    page = browser.get(f"{stack.url}/lyngby/embed").text
    links = re.findall(r'<a [^>]*href="([^"]*)" target="_top" data-embed-sign-in>\s*([^<]*)</a>', page)
    assert [(html.unescape(href), text.strip()) for href, text in links] == [
        ("/lyngby/login?profile=mitid", "Sign in with MitID"),
        ("/lyngby/login?profile=adgangsplatformen", "Sign in with library card and PIN"),
    ]
    rodovre = browser.get(f"{stack.url}/rodovre/embed").text  # MitID only: one button, as before
    assert "profile=adgangsplatformen" not in rodovre and rodovre.count("data-embed-sign-in") == 1


def single_logout(stack: Stack, token: str | None = None, client: httpx.Client | None = None) -> httpx.Response:
    url = f"{stack.url}/auth/adgangsplatformen/single-logout"
    if client is not None:
        return client.get(url)
    return httpx.post(url, data={"access_token": token} if token else {})


def assert_single_logout_answer(stack: Stack, answer: httpx.Response) -> None:
    assert answer.status_code == 200
    assert answer.json() == {"statusCode": 200}
    policy = answer.headers["content-security-policy"]
    assert f"frame-ancestors {stack.ap_url}" in policy
    assert "'none'" in policy and "frame-ancestors 'none'" not in policy


def test_single_logout_with_the_token_ends_that_session(browser: httpx.Client, stack: Stack) -> None:
    sign_in(browser, stack, EVA)
    who = citizen(stack, browser)
    assert who is not None
    assert "data-total" in browser.get(f"{stack.url}/lyngby/").text or citizen(stack, browser) is not None
    assert_single_logout_answer(stack, single_logout(stack, who["access_token"]))
    assert stored(stack, browser) is None  # the entry is gone at once, not at the next request
    page = browser.get(f"{stack.url}/lyngby/")
    assert page.status_code == 200 and "profile=adgangsplatformen" in page.text  # the signed-out page


def test_single_logout_by_the_browser_cookie(browser: httpx.Client, stack: Stack) -> None:
    sign_in(browser, stack, EVA)
    assert_single_logout_answer(stack, single_logout(stack, client=browser))
    assert citizen(stack, browser) is None


def test_single_logout_reaches_a_session_whose_index_is_lost(browser: httpx.Client, stack: Stack) -> None:
    sign_in(browser, stack, EVA)
    who = citizen(stack, browser)
    assert who is not None
    with stack.app.app_context():
        store.delete(f"adgangsplatformen:session:{token_hash(who['access_token'])}")
    single_logout(stack, who["access_token"])
    assert citizen(stack, browser) is not None  # not found by the index ...
    browser.get(f"{stack.url}/lyngby/")
    assert citizen(stack, browser) is None  # ... but signed out at its next request


def test_single_logout_answers_200_for_an_unknown_token(stack: Stack) -> None:
    assert_single_logout_answer(stack, single_logout(stack, "no-such-token"))
    assert_single_logout_answer(stack, single_logout(stack))


def test_logout_elsewhere_ends_the_portal_session_through_the_simulator(browser: httpx.Client, stack: Stack) -> None:
    """The borrower logs out of Adgangsplatformen on another site: DBC calls the portal's single logout."""
    assert stack.ap_state is not None
    sign_in(browser, stack, ANNE)
    who = citizen(stack, browser)
    assert who is not None
    cms = httpx.get(f"{stack.ap_url}/logout/", params={"access_token": who["access_token"], "singlelogout": "true"})
    assert cms.status_code == 200
    # One call per token of Anne's single sign-on (earlier tests signed her in too), each answered 200.
    assert stack.ap_state.single_logouts
    assert {(client, status, body.strip()) for client, status, body in stack.ap_state.single_logouts} == {
        (AP_CLIENT_ID, 200, '{"statusCode":200}')
    }
    assert stored(stack, browser) is None


def test_portal_logout_goes_round_adgangsplatformen(browser: httpx.Client, stack: Stack) -> None:
    assert stack.ap_state is not None
    sign_in(browser, stack, EVA)
    who = citizen(stack, browser)
    assert who is not None
    token = who["access_token"]
    leaving = browser.post(f"{stack.url}/lyngby/logout")
    assert leaving.status_code == 200 and citizen(stack, browser) is None
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', leaving.text)
    assert refresh is not None
    logout_url = unescape(refresh[1])
    parts = urlsplit(logout_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{stack.ap_url}/logout/"
    assert parse_qs(parts.query) == {
        "access_token": [token],
        "singlelogout": ["true"],
        "redirect_uri": [f"{stack.url}/auth/adgangsplatformen/logged-out"],
    }
    assert f'href="{logout_url}"'.replace("&", "&amp;") in leaving.text  # the button, without the refresh
    back = browser.get(logout_url)
    assert back.status_code == 302 and back.headers["location"].startswith(
        f"{stack.url}/auth/adgangsplatformen/logged-out?"
    )
    home = browser.get(back.headers["location"])
    assert home.status_code == 302 and home.headers["location"] == "/lyngby/"
    assert stack.ap_state.tokens_of(EVA) == {}  # DBC's single sign-on ended with it


def test_mitid_citizen_logout_is_unchanged(browser: httpx.Client, stack: Stack) -> None:
    from tests.support.login import http_login

    http_login(browser, stack.url, "demo-anne")
    out = browser.post(f"{stack.url}/lyngby/logout")
    assert out.status_code == 302 and out.headers["location"].startswith(stack.idp.url)


def test_another_site_cannot_sign_out_by_the_cookie(browser: httpx.Client, stack: Stack) -> None:
    """With a cross-site cookie any site's image would carry it: only DBC's page (or the portal's site) may."""
    sign_in(browser, stack, EVA)
    url = f"{stack.url}/auth/adgangsplatformen/single-logout"
    evil = browser.get(url, headers={"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/page"})
    assert_single_logout_answer(stack, evil)
    assert citizen(stack, browser) is not None
    from_dbc = browser.get(url, headers={"Sec-Fetch-Site": "cross-site", "Referer": f"{stack.ap_url}/logout/"})
    assert_single_logout_answer(stack, from_dbc)
    assert citizen(stack, browser) is None
