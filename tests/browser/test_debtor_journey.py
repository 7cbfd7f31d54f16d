"""Anne reads the Mit Betalingsoverblik side of her debts in a real Chromium: reminder fee,
payment awaiting registration, fee not yet visible there, recently paid — and axe finds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from portal.kvstore import store
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.support.stack import Stack

pytestmark = pytest.mark.browser


def section(page: Page, heading_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"section[aria-labelledby='{heading_id}']")


@pytest.fixture
def fresh(stack: Stack) -> Iterator[Stack]:
    """Nothing cached from earlier tests, so the simulators' faults are really met."""
    with stack.app.app_context():
        store.clear()
    yield stack
    stack.debtor_state.reset_faults()


def test_anne_sees_the_debtor_systems_side(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen")
    over = section(page, "handed-over")
    expect(over.get_by_role("columnheader", name="Status i Mit Betalingsoverblik")).to_be_visible()
    # The reminder fee the library never sees, right under the fee it was added to, and counted.
    reminder = over.locator("tr[data-claim-id='LTK-2021-0505-R1']")
    expect(reminder).to_contain_text("Rykkergebyr")
    expect(reminder).to_contain_text("Lagt på af kommunen til: Gebyr (for sent) fra 15.06.2021")
    expect(reminder).to_contain_text("65,00 kr.")
    expect(over.locator("tbody tr").nth(2)).to_have_attribute("data-claim-id", "LTK-2021-0505-R1")
    expect(over.locator("tr[data-fee-id='505']")).to_contain_text("Rykker sendt")
    # Paid yesterday in Mit Betalingsoverblik, not yet registered in FBS: visible, not counted.
    awaiting = over.locator("tr[data-fee-id='506']")
    expect(awaiting).to_contain_text("Betalt – afventer registrering (op til 72 timer)")
    expect(awaiting).to_contain_text("399,00 kr.")
    expect(awaiting).to_contain_text("ikke med i totalen")
    # Handed over in FBS, not yet a claim in the debtor system.
    expect(over.locator("tr[data-fee-id='507']")).to_contain_text(
        "Endnu ikke synlig i Mit Betalingsoverblik (normalt næste dag)"
    )
    expect(over.locator("tfoot")).to_contain_text("155,00 kr.")
    expect(page.locator("[data-total='handed-over']")).to_have_text("155,00 kr.")
    # The reminder fee paid together with 506 is listed as recently paid, in no total.
    paid = section(page, "recently-paid")
    expect(paid.get_by_role("heading", name="Betalt for nylig")).to_be_visible()
    expect(paid.locator("tbody tr")).to_have_count(1)
    expect(paid.locator("tr[data-claim-id='LTK-2023-0506-R1']")).to_contain_text("65,00 kr.")
    expect(page.get_by_role("alert").filter(has_text="Mit Betalingsoverblik kunne ikke")).to_have_count(0)
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_in_english_without_axe_violations(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen")
    page.get_by_role("link", name="English").click()
    over = section(page, "handed-over")
    expect(over.locator("tr[data-fee-id='506']")).to_contain_text("Paid – awaiting registration (up to 72 hours)")
    expect(section(page, "recently-paid").get_by_role("heading", name="Recently paid")).to_be_visible()
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_recently_paid_at_the_library(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne Andersen", slug="rodovre")
    paid = section(page, "recently-paid")
    expect(paid.locator("tr[data-fee-id='603']")).to_contain_text("25,00 kr.")
    expect(page.locator("[data-total='all']")).to_have_text("80,00 kr.")
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_debtor_down_shows_fbs_figures_with_a_note(page: Page, fresh: Stack) -> None:
    fresh.debtor_state.fail_next(50)
    sign_in(page, fresh, "Anne Andersen")
    note = page.get_by_role("alert").filter(has_text="Status fra Mit Betalingsoverblik kunne ikke hentes")
    expect(note).to_be_visible()
    expect(page.locator("[data-total='all']")).to_have_text("803,75 kr.")
    over = section(page, "handed-over")
    expect(over.locator("tbody tr")).to_have_count(3)
    expect(over.get_by_role("columnheader", name="Status i Mit Betalingsoverblik")).to_have_count(0)
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
