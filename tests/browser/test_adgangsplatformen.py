"""Adgangsplatformen in Chromium: the sign-in choice, a card + PIN borrower's page, signing out round DBC.

The stack runs the Adgangsplatformen simulator; Lyngby offers MitID and Adgangsplatformen. In
English (`?lang=en` sets the language cookie): the Danish wordings are merged by the lead later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import violations
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser
CARD_BUTTON = "Sign in with library card and PIN"


@pytest.fixture(scope="module")
def ap_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("ap-browser"), adgangsplatformen=True)
    yield running
    running.stop()


def sign_in_with_card(page: Page, stack: Stack, name: str) -> None:
    page.goto(f"{stack.url}/lyngby/?lang=en")
    page.get_by_role("link", name=CARD_BUTTON).click()
    assert stack.ap_url is not None
    expect(page).to_have_url(re.compile(re.escape(f"{stack.ap_url}/oauth/authorize?")))
    page.get_by_role("button", name=re.compile(f"^Log ind som {name}")).click()


def test_signed_out_page_offers_both_profiles(page: Page, ap_stack: Stack) -> None:
    page.goto(f"{ap_stack.url}/lyngby/?lang=en")
    expect(page.get_by_role("link", name="Sign in with MitID")).to_be_visible()
    expect(page.get_by_role("link", name=CARD_BUTTON)).to_have_attribute("target", "_top")
    expect(page.get_by_text("without a Danish CPR number")).to_be_visible()
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_borrower_of_another_library_gets_a_clear_page(page: Page, ap_stack: Stack) -> None:
    sign_in_with_card(page, ap_stack, "Dennis Dahl")
    expect(page.get_by_role("alert")).to_contain_text("You are not registered at this library")
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_sign_out_goes_round_adgangsplatformen(page: Page, ap_stack: Stack) -> None:
    """Anne (CPR number through DBC) signs in, then out: the portal, then DBC, then back to the library page."""
    sign_in_with_card(page, ap_stack, "Anne Andersen")
    expect(page).to_have_url(f"{ap_stack.url}/lyngby/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert ap_stack.ap_state is not None and ap_stack.ap_state.tokens_of("ap-anne-5f3a")
    page.get_by_role("button", name="Sign out").click()
    # The leaving page goes on by itself to DBC's logout, which sends the browser back.
    expect(page).to_have_url(f"{ap_stack.url}/lyngby/")
    expect(page.get_by_role("link", name=CARD_BUTTON)).to_be_visible()
    assert ap_stack.ap_state.tokens_of("ap-anne-5f3a") == {}


@pytest.fixture(scope="module")
def adapter_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A card + PIN borrower's FBS figures come through DBC's FBS adapter (helper-adapter's stack flag).
    running = start_stack(tmp_path_factory.mktemp("ap-adapter"), adgangsplatformen=True, fbs_adapter=True)
    yield running
    running.stop()


def test_card_and_pin_borrower_sees_the_plain_no_cpr_note(page: Page, adapter_stack: Stack) -> None:
    sign_in_with_card(page, adapter_stack, "Eva Eriksen")
    expect(page).to_have_url(f"{adapter_stack.url}/lyngby/")
    note = page.locator("[data-debtor-status='no_cpr']")
    expect(note).to_be_visible()
    expect(page.get_by_text("giro card (indbetalingskort)")).to_be_visible()
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{adapter_stack.url}/lyngby/")
    expect(page.get_by_role("link", name=CARD_BUTTON)).to_be_visible()
