"""Anne pays Lyngby fees by card in a real Chromium: the portal, Nexi's hosted page, FBS.

Each test has a stack of its own (fresh simulators, database and queue), with card payment and
the worker embedded in the portal, as in `make run`: nothing is advanced by the test. Whatever
the browser shows, the test then counts at the simulators what really happened: charges at
Nexi, registrations in FBS.

Anne's fees payable here: 501 (30,00 kr.), 502 (249,50 kr.), 503 (15,25 kr.), 504 (20,00 kr.).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.devtools import nexi_sim
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser

PAYABLE = (501, 502, 503, 504)
# The order page's script asks for news with a growing pause; finishing can take a few rounds.
SETTLED = 60_000
MASKED_PAN = "492500******0004"  # the simulator's test card
HOSTED_PAGE = re.compile(r"/hpp/[0-9a-f]+$")


@pytest.fixture
def card_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path, card_payment=True)
    yield stack
    stack.stop()


def fee_box(page: Page, fee_id: int):  # type: ignore[no-untyped-def]
    return page.locator(f"input[type='checkbox'][name='fee'][value='{fee_id}']")


def start_payment(page: Page, stack: Stack, leave_out: tuple[int, ...] = ()) -> None:
    """On Anne's overview: untick `leave_out`, press "Betal med kort", land on the hosted payment page."""
    page.goto(f"{stack.url}/lyngby/")
    for fee_id in PAYABLE:
        expect(fee_box(page, fee_id)).to_be_checked()
    for fee_id in leave_out:
        fee_box(page, fee_id).uncheck()
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.get_by_role("button", name="Betal med kort").click()
    try:
        expect(page).to_have_url(HOSTED_PAGE)
    except AssertionError as exc:
        # The usual cause: the page's policy does not let the form's redirect go to the payment window.
        raise AssertionError(f"the hosted payment page did not open; the browser said: {blocked}") from exc
    expect(page.get_by_role("heading", level=1)).to_have_text("Nexi Checkout (simulator)")


def the_payment(stack: Stack) -> nexi_sim.Payment:
    """The one payment the simulator holds (a second reservation would be a bug)."""
    with stack.nexi_state.lock:
        payments = list(stack.nexi_state.payments.values())
    assert len(payments) == 1, [p.payment_id for p in payments]
    return payments[0]


def order_id_of(payment: nexi_sim.Payment) -> str:
    reference = payment.order["reference"]
    assert isinstance(reference, str)
    return reference


def registered_by(stack: Stack, order_id: str) -> list[int]:
    """The fees FBS registered as paid by `order_id`."""
    with stack.fbs_state.lock:
        return sorted(fee for fee, (paid_by, _day) in stack.fbs_state.paid_by.items() if paid_by == order_id)


def order_state(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("[data-order-state]")


def assert_no_violations(page: Page) -> None:
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_pay_by_card_end_to_end(page: Page, card_stack: Stack) -> None:
    # 502 is left out: only the three others are reserved, registered and charged.
    card_stack.fbs_payment_gate.close()
    sign_in(page, card_stack, "Anne Andersen")
    start_payment(page, card_stack, leave_out=(502,))
    page.get_by_role("button", name="Betal med kort").click()

    # Back on the portal while FBS has not answered yet: received, being registered.
    expect(page).to_have_url(re.compile(r"/lyngby/betaling/GP-[^/]+/"))
    card_stack.fbs_payment_gate.wait_until_held()
    expect(page.get_by_text("Betalingen er modtaget og bliver registreret")).to_be_visible(timeout=SETTLED)
    assert_no_violations(page)
    card_stack.fbs_payment_gate.open()

    # Then paid, without the citizen doing anything: the page follows the order by itself.
    expect(order_state(page)).to_have_attribute("data-order-state", "completed", timeout=SETTLED)
    payment = the_payment(card_stack)
    order_id = order_id_of(payment)
    expect(page.get_by_text("Betalingen er registreret")).to_be_visible()
    expect(page.get_by_role("heading", name="Kvittering")).to_be_visible()
    expect(page.locator("[data-order-id]")).to_have_text(order_id)
    expect(page.locator("[data-charged]")).to_have_text("65,25\u00a0kr.")
    expect(page.locator("[data-masked-pan]")).to_have_text(MASKED_PAN)
    expect(page.locator("tbody tr[data-fee-id]")).to_have_count(3)
    expect(page.locator("tr[data-fee-id='502']")).to_have_count(0)
    assert_no_violations(page)
    page.goto(f"{card_stack.url}/lyngby/betaling/{order_id}/?lang=en")
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    assert_no_violations(page)
    page.goto(f"{card_stack.url}/lyngby/betaling/{order_id}/?lang=da")

    # At the simulators: one reservation, one charge of exactly the three fees, FBS took those three.
    assert len(payment.charges) == 1
    assert payment.charged == payment.reserved == 6525
    assert registered_by(card_stack, order_id) == [501, 503, 504]

    # The overview: the paid fees cannot be paid again; 502 still can.
    page.get_by_role("link", name="Tilbage til dine mellemværender").click()
    for fee_id in (501, 503, 504):
        expect(fee_box(page, fee_id)).to_have_count(0)
    expect(fee_box(page, 502)).to_be_checked()
    expect(page.locator(f"[data-recent-orders] [data-order-id='{order_id}']")).to_contain_text("65,25")


def test_mobilepay_without_coming_back(page: Page, card_stack: Stack) -> None:
    sign_in(page, card_stack, "Anne Andersen")
    start_payment(page, card_stack)
    # FBS waits at the gate, so the overview below is seen while the payment is under way.
    card_stack.fbs_payment_gate.close()
    page.get_by_role("button", name="Betal med MobilePay (vend ikke tilbage)").click()
    expect(page.get_by_text("Du kan lukke dette vindue.")).to_be_visible()

    # She never returns from the wallet: only the webhook tells the portal, and the worker goes on.
    card_stack.fbs_payment_gate.wait_until_held()
    order_id = order_id_of(the_payment(card_stack))
    # Later she opens the overview: the payment is under way, its fees cannot be paid twice.
    page.goto(f"{card_stack.url}/lyngby/")
    expect(page.locator("[data-live-orders]")).to_contain_text(order_id)
    for fee_id in PAYABLE:
        expect(fee_box(page, fee_id)).to_have_count(0)
    card_stack.fbs_payment_gate.open()
    page.locator(f"[data-live-orders] a[href$='/lyngby/betaling/{order_id}/']").click()
    expect(order_state(page)).to_have_attribute("data-order-state", "completed", timeout=SETTLED)
    expect(page.get_by_role("heading", name="Kvittering")).to_be_visible()
    expect(page.locator("[data-order-id]")).to_have_text(order_id)
    expect(page.locator("[data-charged]")).to_have_text("314,75\u00a0kr.")
    expect(page.get_by_text("MobilePay", exact=True)).to_be_visible()

    payment = the_payment(card_stack)
    assert len(payment.charges) == 1
    assert payment.charged == payment.reserved == 31475
    assert registered_by(card_stack, order_id) == list(PAYABLE)
    # Nothing is left to pay by card: the overview shows the fees as paid and offers none of them.
    page.goto(f"{card_stack.url}/lyngby/")
    for fee_id in PAYABLE:
        expect(page.locator(f"section[aria-labelledby='recently-paid'] tr[data-fee-id='{fee_id}']")).to_be_visible()
        expect(fee_box(page, fee_id)).to_have_count(0)
    expect(page.get_by_role("button", name="Betal med kort")).to_have_count(0)


def test_cancel_on_the_hosted_page(page: Page, card_stack: Stack) -> None:
    sign_in(page, card_stack, "Anne Andersen")
    start_payment(page, card_stack)
    page.get_by_role("button", name="Annuller").click()
    expect(page).to_have_url(re.compile(r"/lyngby/betaling/GP-[^/]+/"))
    expect(order_state(page)).to_have_attribute("data-order-state", "abandoned", timeout=SETTLED)
    expect(page.get_by_role("main")).to_contain_text(re.compile("annuller", re.IGNORECASE))
    assert_no_violations(page)

    payment = the_payment(card_stack)
    assert payment.reserved == payment.charged == 0 and payment.charges == []
    assert registered_by(card_stack, order_id_of(payment)) == []
    # The fees are payable again, all chosen as before.
    page.get_by_role("link", name="Tilbage til dine mellemværender").click()
    for fee_id in PAYABLE:
        expect(fee_box(page, fee_id)).to_be_checked()
    assert_no_violations(page)


def test_fee_paid_at_the_counter_meanwhile(page: Page, card_stack: Stack) -> None:
    """FBS refuses a fee paid elsewhere after the payment started: it is not charged, Anne is told."""
    sign_in(page, card_stack, "Anne Andersen")
    start_payment(page, card_stack, leave_out=(501, 503, 504))
    with card_stack.fbs_state.lock:
        card_stack.fbs_state.paid_by[502] = ("paid-at-the-counter", "2026-01-05")
    page.get_by_role("button", name="Betal med kort").click()
    expect(order_state(page)).to_have_attribute("data-order-state", "cancelled", timeout=SETTLED)
    expect(page.get_by_text("Betalingen blev ikke gennemført")).to_be_visible()
    assert_no_violations(page)

    payment = the_payment(card_stack)
    assert payment.charges == [] and payment.cancelled == payment.reserved == 24950
    assert registered_by(card_stack, order_id_of(payment)) == []


def test_a_fee_in_a_live_payment_cannot_go_into_another(page: Page, card_stack: Stack) -> None:
    """A second tab still showing every fee: its "Betal med kort" is refused, not a second reservation."""
    sign_in(page, card_stack, "Anne Andersen")
    other = page.context.new_page()
    other.goto(f"{card_stack.url}/lyngby/")
    start_payment(page, card_stack, leave_out=(502,))
    other.get_by_role("button", name="Betal med kort").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Betaling med kort")
    expect(other.get_by_text("Betalingen kunne ikke startes")).to_be_visible()
    assert_no_violations(other)
    the_payment(card_stack)  # still exactly one


def test_the_payment_form_is_accessible(page: Page, card_stack: Stack) -> None:
    sign_in(page, card_stack, "Anne Andersen")
    expect(page.get_by_role("button", name="Betal med kort")).to_be_visible()
    assert_no_violations(page)
    page.goto(f"{card_stack.url}/lyngby/?lang=en")
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()
    assert_no_violations(page)


def test_rodovre_offers_no_card_payment(page: Page, card_stack: Stack) -> None:
    """The same portal, a library without card payment: Anne's fees there have no form."""
    sign_in(page, card_stack, "Anne Andersen", slug="rodovre")
    expect(page.locator("[data-total='all']")).to_be_visible()
    expect(page.get_by_role("button", name="Betal med kort")).to_have_count(0)
    expect(page.locator("input[name='fee']")).to_have_count(0)
