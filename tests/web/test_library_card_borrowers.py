"""A borrower signed in with library card and PIN (no CPR number): what the page says when FBS
cannot be read for them, never "not a borrower" and never "FBS is down".

- At a library that reads FBS directly (by CPR number), the page asks them to sign in with MitID,
  and that sign-in starts although they are signed in already.
- At a library that reads FBS through DBC's adapter, a token DBC no longer takes asks them to sign
  in again (401), not "try again later".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from portal.kvstore import store
from tests.auth.helpers import LANGUAGE_COOKIE
from tests.auth.test_adgangsplatformen import sign_in
from tests.support.stack import Stack, start_stack

EVA = "ap-eva-9c21"  # card + PIN, a Lyngby borrower (patron 1005)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    client = httpx.Client(timeout=10, cookies={LANGUAGE_COOKIE: "en"})
    yield client
    client.close()


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("card-direct"), adgangsplatformen=True)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("card-adapter"), adgangsplatformen=True, fbs_adapter=True)
    yield running
    running.stop()


def forget(stack: Stack, patron_id: int) -> None:
    """Drop what the sign-in's prefetch cached for a Lyngby patron, so the next read asks FBS."""
    with stack.app.app_context():
        store.delete_many(*(f"fbs:DK-717300:{patron_id}:{what}" for what in ("fees", "patron")))


def forget_eva(stack: Stack) -> None:
    forget(stack, 1005)


def test_direct_mode_asks_a_card_borrower_to_sign_in_with_mitid(direct: Stack, browser: httpx.Client) -> None:
    assert sign_in(browser, direct, EVA).status_code == 302
    page = browser.get(f"{direct.url}/lyngby/")
    assert page.status_code == 200
    assert "Sign in with MitID to see your debts here" in page.text
    assert "not registered" not in page.text and "try again" not in page.text.lower()
    assert "data-total" not in page.text  # no figure at all
    # The button's sign-in starts although a citizen is signed in: another profile was asked for.
    start = browser.get(f"{direct.url}/lyngby/login", params={"profile": "mitid"})
    assert start.status_code == 302 and start.headers["location"].startswith(direct.idp.url)
    # Without an explicit profile, a signed-in citizen is simply sent to the page.
    again = browser.get(f"{direct.url}/lyngby/login")
    assert again.status_code == 302 and again.headers["location"].endswith("/lyngby/")


def test_adapter_mode_shows_a_card_borrowers_debts(adapter: Stack, browser: httpx.Client) -> None:
    assert sign_in(browser, adapter, EVA).status_code == 302
    page = browser.get(f"{adapter.url}/lyngby/")
    assert page.status_code == 200 and 'data-total="all"' in page.text
    assert 'data-debtor-status="no_cpr"' in page.text
    # The municipality was not asked: the figure is the library system's, not all there is.
    assert "According to the library system you owe" in page.text and "In total you owe" not in page.text


def test_adapter_mode_asks_to_sign_in_again_when_dbc_no_longer_takes_the_token(
    adapter: Stack, browser: httpx.Client
) -> None:
    assert sign_in(browser, adapter, EVA).status_code == 302
    assert adapter.ap_state is not None
    assert adapter.ap_state.end_single_sign_on(EVA)  # DBC forgot the token; the portal was not told
    forget_eva(adapter)  # what the sign-in's prefetch cached: the page must ask DBC's adapter again
    page = browser.get(f"{adapter.url}/lyngby/")
    assert page.status_code == 401
    assert "Please sign in again" in page.text and "data-total" not in page.text
    assert "try again in a few minutes" not in page.text
    # Signing out from there works and leads to a fresh sign-in.
    out = browser.post(f"{adapter.url}/lyngby/logout")
    assert out.status_code in (200, 302, 303)
    assert "Sign in with library card and PIN" in browser.get(f"{adapter.url}/lyngby/").text


ANNE_AP = "ap-anne-5f3a"  # Anne through Adgangsplatformen (with CPR), payable fees at Lyngby


@pytest.fixture(scope="module")
def paying(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("card-paying"), card_payment=True, adgangsplatformen=True, fbs_adapter=True
    )
    yield running
    running.stop()


def test_the_json_api_says_sign_in_again_not_unavailable(adapter: Stack, browser: httpx.Client) -> None:
    assert sign_in(browser, adapter, EVA).status_code == 302
    for path in ("overview", "total"):
        assert browser.get(f"{adapter.url}/api/v1/libraries/lyngby/{path}").status_code == 200
    browser.post(f"{adapter.url}/lyngby/logout")
    assert sign_in(browser, adapter, EVA).status_code == 302  # a new token
    assert adapter.ap_state is not None and adapter.ap_state.end_single_sign_on(EVA)
    forget_eva(adapter)
    for path in ("overview", "total"):
        answer = browser.get(f"{adapter.url}/api/v1/libraries/lyngby/{path}")
        assert (answer.status_code, answer.json()["error"]) == (401, "sign_in_again")


def test_a_card_payment_with_a_token_dbc_refuses_asks_to_sign_in_again_and_writes_nothing(
    paying: Stack, browser: httpx.Client
) -> None:
    assert sign_in(browser, paying, ANNE_AP).status_code == 302
    page = browser.get(f"{paying.url}/lyngby/")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    fees = re.findall(r'name="fee" value="(\d+)"', page.text)
    assert token is not None and fees
    assert paying.ap_state is not None and paying.ap_state.end_single_sign_on(ANNE_AP)
    forget(paying, 1001)
    answer = browser.post(f"{paying.url}/lyngby/betaling/", data={"csrf_token": token[1], "fee": fees})
    assert answer.status_code == 401
    assert "Sign out and sign in again to pay" in answer.text
    assert paying.nexi_state.payments == {}  # nothing opened at the gateway


def test_the_json_api_says_mitid_is_needed_in_direct_mode(direct: Stack, browser: httpx.Client) -> None:
    assert sign_in(browser, direct, EVA).status_code == 302
    for path in ("overview", "total"):
        answer = browser.get(f"{direct.url}/api/v1/libraries/lyngby/{path}")
        assert (answer.status_code, answer.json()["error"]) == (409, "mitid_required")
