"""A borrower signs in through the dev IdP and reads their debts, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.browser


def section(page: Page, heading_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"section[aria-labelledby='{heading_id}']")


def test_anne_sees_both_sections_totals_and_kodelinje(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen")
    here = section(page, "payable-here")
    over = section(page, "handed-over")
    expect(here.get_by_role("heading", level=2)).to_contain_text("Betales her")
    expect(here.locator("[data-kodelinje]")).to_contain_text("+73< +86836084<")
    # Fees created before 15 June 2021 that FBS still holds; 249,50 and 15,25 carry øre.
    expect(here.locator("tbody tr")).to_have_count(4)
    expect(here.locator("tfoot")).to_contain_text("314,75 kr.")
    # Handed over: the fee created exactly on the cut-off date is here, and so is the
    # one whose flag disagrees with its date (the flag wins, nothing is dropped); with
    # them the reminder fee the municipality added. 506 is paid in Mit Betalingsoverblik
    # and awaits registration in FBS: shown, not counted (see test_debtor_journey.py).
    expect(over.locator("tbody tr")).to_have_count(4)
    expect(over.locator("tr[data-fee-id='505']")).to_contain_text("15.06.2021")
    expect(over.locator("tr[data-fee-id='507']")).to_be_visible()
    expect(over.locator("tfoot")).to_contain_text("155,00 kr.")
    expect(page.locator("[data-total='all']")).to_have_text("469,75 kr.")
    expect(over.get_by_role("link", name="Gå til Mit Betalingsoverblik")).to_have_attribute(
        "href", "https://www.ltk.dk/"
    )
    # The texts follow the cut-off date, written out in Danish.
    expect(here).to_contain_text("før 15. juni 2021")
    expect(over).to_contain_text("fra og med 15. juni 2021")
    expect(page.get_by_text("72 timer").first).to_be_visible()
    # A fee without materials and a fee without a due date are shown, not dropped.
    expect(here.locator("tr[data-fee-id='503']")).to_contain_text("Ingen forfaldsdato")
    expect(here.locator("tr[data-fee-id='503']")).to_contain_text("Ingen materialer angivet")
    # The paid fee (508) is not in the list at all.
    expect(page.locator("tr[data-fee-id='508']")).to_have_count(0)


def test_switch_to_english(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your debts to the library")
    expect(page.locator("[data-total='all']")).to_have_text("DKK\u00a0469.75")
    expect(section(page, "payable-here")).to_contain_text("before 15 June 2021")
    # The choice sticks when the borrower comes back without ?lang=.
    page.goto(f"{stack.url}/lyngby/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_borrower_without_debts(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Clara Christensen")
    expect(page.get_by_text("Du har ingen mellemværender")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_count(0)


def test_blocked_borrower_is_told_why_and_how_much(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Bent Berg")
    alert = page.get_by_role("alert").filter(has_text="spærret")
    expect(alert).to_contain_text("710,00 kr.")


def test_not_a_borrower(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Dennis Dahl")
    expect(page.get_by_text("Du er ikke oprettet som låner hos Lyngby-Taarbæk Bibliotekerne")).to_be_visible()


def test_fbs_down_shows_no_figures(page: Page, stack: Stack) -> None:
    # FBS fails from before sign-in, so nothing of Eva's is cached to fall back on.
    stack.fbs_state.fail_next(50)
    try:
        sign_in(page, stack, "Eva Eriksen")
        response = page.reload()
    finally:
        stack.fbs_state.reset_faults()
    assert response is not None and response.status == 503
    expect(page.get_by_text("Vi kan ikke vise dine mellemværender lige nu")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_count(0)
    expect(page.get_by_text("kr.")).to_have_count(0)
    # Once FBS is back, the same page shows her debts.
    page.reload()
    expect(page.locator("[data-total='all']")).to_have_text("75,75 kr.")


def test_sign_out(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen")
    page.get_by_role("button", name="Log ud").click()
    page.goto(f"{stack.url}/lyngby/")
    expect(page.get_by_role("link", name="Log ind")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_count(0)
