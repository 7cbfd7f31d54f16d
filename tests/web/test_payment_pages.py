"""The citizen's card payment pages through Flask's test client, against the FBS and Nexi simulators.

The payment world (tests/payments/conftest.py): Lyngby takes card payment, Rødovre does not; Anne
(patron 1001 at Lyngby) has fees 501–504 payable here. The worker does not run: a test moves an
order on with `world.advance`, so each page is looked at in exactly the state the test set up.
The deep fault cases (crashes, concurrency, webhooks out of order) are in tests/payments.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.libraries import defaults
from portal.libraries.library import Library
from portal.payments import checkout, store
from portal.payments.models import PaymentOrderRow
from portal.payments.states import State
from portal.web.libraries import page_texts
from tests.payments.conftest import ANNE, PAYABLE, TERMS_URL, World
from tests.support.login import http_login
from tests.support.stack import Stack

BENT = 1002  # another borrower at Lyngby, with fees 521 and 522 payable here
ANNE_IN_RODOVRE = 2001
CARD_PROMISE = "direkte her på siden"
CARD_PROMISE_EN = "right here on this page"
NBSP = "\xa0"


def sign_in(world: World, patron_id: int = ANNE) -> tuple[FlaskClient, str]:
    """A test client signed in as the patron (as the login would leave the session); and its CSRF token."""
    client = world.app.test_client()
    token = secrets.token_urlsafe(32)
    cpr, sub, patrons = {
        ANNE: ("0101901111", "demo-anne", {LYNGBY: ANNE, RODOVRE: ANNE_IN_RODOVRE}),
        BENT: ("0202852222", "demo-bent", {LYNGBY: BENT}),
    }[patron_id]
    with client.session_transaction() as session:
        session["citizen"] = {"sub": sub, "name": "Test", "cpr": cpr, "id_token": None, "issuer": "http://idp"}
        session["patrons"] = patrons
        session["csrf"] = token
    return client, token


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def pay(client: FlaskClient, token: str | None, fees: tuple[int, ...] | list[str] = PAYABLE) -> Any:
    data: dict[str, Any] = {"fee": [str(fee) for fee in fees]}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/lyngby/betaling/", data=data)


def order_count(world: World) -> int:
    with world.rt.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PaymentOrderRow)) or 0)


def order_path(order_id: str, slug: str = "lyngby") -> str:
    return f"/{slug}/betaling/{order_id}/"


def checkboxes(html: str) -> dict[int, int]:
    """{fee id: øre} of the card form's checkboxes."""
    found = re.findall(r'name="fee" value="(\d+)"[^>]*data-amount-ore="(\d+)"', html)
    return {int(fee): int(ore) for fee, ore in found}


def card_total(html: str) -> str:
    match = re.search(r"<strong[^>]*data-card-total[^>]*>([^<]*)</strong>", html)
    assert match, "no total"
    return match[1]


def paid_at_counter(world: World, fee_id: int, patron_id: int = ANNE) -> None:
    """FBS now lists the fee as paid, by no order of ours (staff took it at the counter)."""
    with world.fbs.lock:
        fee = next(fee for fee in world.fbs.fees[patron_id] if fee["feeId"] == fee_id)
        fee["paidDate"] = "2026-01-02"


def move(world: World, order_id: str, from_state: State, to_state: State, **fields: Any) -> None:
    """Put an order in a state the machine reaches only after many failures (setting up a page)."""
    with world.rt.sessions() as session:
        change = store.Change(fields, None, "set by the test", "test")
        assert store.transition(session, order_id, from_state, to_state, change)


def pay_and_advance(world: World, order_id: str) -> State | None:
    """The citizen pays at the hosted page; once Nexi's webhooks made the step due, the machine runs it."""
    world.pay_at_nexi(order_id)
    world.nexi.wait_for_webhooks_sent()
    return world.advance(order_id)


def paid_order(world: World, fee_ids: tuple[int, ...] = PAYABLE) -> str:
    started = world.start(fee_ids)
    assert pay_and_advance(world, started.order_id) is State.COMPLETED
    return started.order_id


# -- the form in "Betales her" -----------------------------------------------------------------


def test_the_form_lists_exactly_the_payable_fees_with_their_sum(world: World) -> None:
    client, token = sign_in(world)
    html = page(client, "/lyngby/")
    assert checkboxes(html) == {501: 3000, 502: 24950, 503: 1525, 504: 2000}
    # All chosen by default; the server's sum is the total of them all.
    assert html.count('name="fee"') == 4 and html.count(" checked>") == 4
    assert "Alle gebyrer er valgt." in html
    assert card_total(html) == f"314,75{NBSP}kr."
    assert 'data-total-ore="31475"' in html
    # Each label: FBS's own (Danish) reason, marked so, the day it was created and the amount.
    assert (
        '<label class="form-label" for="pay-fee-501"><span lang="da">Gebyr (for sent)</span>, '
        f'<time datetime="2021-03-02">02.03.2021</time>: <span class="nowrap">30,00{NBSP}kr.</span></label>'
    ) in html
    assert f'href="{TERMS_URL}"' in html
    assert html.count("data-card-submit") == 1 and "Betal med kort</button>" in html
    assert f'name="csrf_token" value="{token}"' in html
    # The script that updates the total is an external file; the page has no inline script.
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html and re.search(r"\son[a-z]+=", html) is None


def test_fees_in_a_live_payment_are_shown_but_not_selectable(world: World) -> None:
    live = world.start((501, 502))
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    assert checkboxes(html) == {503: 1525, 504: 2000}
    assert card_total(html) == f"35,25{NBSP}kr."
    assert "Alle gebyrer, der ikke allerede er i en betaling, er valgt." in html  # not "all the fees"
    for fee_id in (501, 502):
        held = re.search(rf'<li class="card-payment-held" data-held-fee-id="{fee_id}">(.*?)</li>', html, re.S)
        assert held and "I en betaling, der er ved at blive behandlet" in held[1]
        assert order_path(live.order_id) in held[1]
    # The notice of the unfinished payment, with a link to it.
    assert "Du har en kortbetaling, der ikke er afsluttet" in html
    assert f'data-live-orders><li><a href="{order_path(live.order_id)}"' in html


def test_all_fees_held_leaves_no_form_only_the_notice(world: World) -> None:
    live = world.start()
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    assert "data-card-payment" not in html and checkboxes(html) == {}
    assert "Alle gebyrer, der kan betales med kort, er i en betaling" in html
    assert order_path(live.order_id) in html


def test_recent_finished_orders_link_to_their_receipt(world: World) -> None:
    order_id = paid_order(world, (501,))
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    recent = re.search(r"<div class=\"card-payment-recent\" data-recent-orders>(.*?)</div>", html, re.S)
    assert recent, "no list of recent payments"
    assert f'href="{order_path(order_id)}"' in recent[1]
    assert f"betalt 30,00{NBSP}kr." in recent[1]
    # The paid fee is no longer offered; the others are.
    assert set(checkboxes(html)) == {502, 503, 504}


def test_with_nothing_left_to_pay_here_the_receipt_stays_in_reach(world: World) -> None:
    order_id = paid_order(world)  # everything Anne could pay here
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    assert 'id="payable-here"' not in html  # nothing to pay here any more …
    assert '<h2 id="card-payments">Kortbetalinger</h2>' in html  # … but the payment and its receipt are listed
    recent = re.search(r"<div class=\"card-payment-recent\" data-recent-orders>(.*?)</div>", html, re.S)
    assert recent and f'href="{order_path(order_id)}"' in recent[1]


def test_an_unfinished_payment_stays_in_reach_when_fbs_lists_its_fees_as_paid(world: World) -> None:
    live = world.start()
    for fee_id in PAYABLE:  # FBS registered them; the card is not charged yet
        paid_at_counter(world, fee_id)
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    assert 'id="payable-here"' not in html
    assert f'data-live-orders><li><a href="{order_path(live.order_id)}"' in html


def test_without_any_card_payment_there_is_no_card_payments_section(world: World) -> None:
    for fee_id in PAYABLE:
        paid_at_counter(world, fee_id)
    client, _token = sign_in(world)
    assert 'id="card-payments"' not in page(client, "/lyngby/")


# -- starting a payment -------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "wrong-token"])
def test_a_post_without_the_right_csrf_token_is_refused(world: World, sent: str | None) -> None:
    client, token = sign_in(world)
    refused = pay(client, sent)
    assert refused.status_code == 400
    # Most often a page from before a new sign-in: it says so, and leads back to the overview.
    text = refused.get_data(as_text=True)
    assert "Siden, du betalte fra, var forældet" in text and 'href="/lyngby/">Tilbage til dine' in text
    assert order_count(world) == 0 and world.nexi.created_requests == []
    # The very same request with the session's token goes through.
    accepted = pay(client, token)
    assert accepted.status_code == 303
    assert accepted.headers["Location"].startswith(world.rt.settings.nexi_base_url or "-")
    assert order_count(world) == 1 and len(world.nexi.created_requests) == 1


def test_a_signed_out_post_starts_nothing(world: World) -> None:
    response = world.app.test_client().post("/lyngby/betaling/", data={"fee": "501", "csrf_token": "x"})
    assert response.status_code == 303 and response.headers["Location"] == "/lyngby/"
    assert order_count(world) == 0


@pytest.mark.parametrize(
    ("fees", "why"),
    [
        ((521,), "another borrower's fee"),
        ((501, 521), "one of them another borrower's"),
        ((505,), "handed over to the municipality"),
        ((999999,), "no such fee"),
    ],
)
def test_fees_that_are_not_the_citizens_to_pay_here_are_refused(world: World, fees: tuple[int, ...], why: str) -> None:
    client, token = sign_in(world)
    response = pay(client, token, fees)
    assert response.status_code == 409, why
    html = response.get_data(as_text=True)
    assert "Nogle af gebyrerne er blevet betalt eller ændret i mellemtiden" in html
    assert 'href="/lyngby/"' in html
    assert order_count(world) == 0 and world.nexi.created_requests == []


def test_a_fee_paid_meanwhile_is_refused(world: World) -> None:
    client, token = sign_in(world)
    assert 501 in checkboxes(page(client, "/lyngby/"))
    paid_at_counter(world, 501)  # after the page was shown, before "Betal med kort"
    response = pay(client, token, (501, 502))
    assert response.status_code == 409
    assert "betalt eller ændret i mellemtiden" in response.get_data(as_text=True)
    assert order_count(world) == 0 and world.nexi.created_requests == []


# "²" and "①" are digits to str.isdigit() but not to int(): they were a 500. "５０４" int() reads as 504.
@pytest.mark.parametrize("fees", [[], ["abc"], ["-1"], ["²"], ["①"], ["５０１"], ["1234567890123"]])
def test_no_fee_or_a_malformed_one_is_refused(world: World, fees: list[str]) -> None:
    client, token = sign_in(world)
    response = pay(client, token, fees)
    assert response.status_code == 400
    if not fees:
        assert "Vælg mindst ét gebyr" in response.get_data(as_text=True)
    assert order_count(world) == 0


def test_a_double_post_gets_the_same_hosted_page_and_one_payment(world: World) -> None:
    client, token = sign_in(world)
    first, second = pay(client, token), pay(client, token)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(world.nexi.created_requests) == 1 and order_count(world) == 1
    # A second tab of the same citizen: the same checkout again.
    other_tab, _ = sign_in(world)
    with other_tab.session_transaction() as session:
        session["csrf"] = token
    assert pay(other_tab, token).headers["Location"] == first.headers["Location"]
    assert len(world.nexi.created_requests) == 1


def test_other_fees_while_a_payment_holds_some_are_refused_with_a_link(world: World) -> None:
    client, token = sign_in(world)
    live = pay(client, token, (501, 502))
    assert live.status_code == 303
    response = pay(client, token, (502, 503))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "allerede med i en betaling, der ikke er afsluttet" in html
    (order_id,) = [row.order_id for row in checkout.live_orders(world.rt, world.library, world.owner())]
    assert f'href="{order_path(order_id)}"' in html
    assert len(world.nexi.created_requests) == 1


# -- whose order it is ------------------------------------------------------------------------


def test_another_citizens_order_is_not_found(world: World) -> None:
    bents = world.start((521,), patron_id=BENT)
    bents_payment = world.order(bents.order_id).nexi_payment_id
    client, _token = sign_in(world)
    for path in (
        order_path(bents.order_id),
        order_path(bents.order_id) + f"?paymentid={bents_payment}",
        order_path(bents.order_id) + "status",
        order_path(bents.order_id) + "annuller",
        order_path("nosuchorder"),
    ):
        assert client.get(path).status_code == 404, path
    assert world.order(bents.order_id).cancel_requested is False
    assert world.enqueued == []
    # Bent sees his own; a signed-out visitor sees nothing.
    bent, _ = sign_in(world, BENT)
    assert bent.get(order_path(bents.order_id)).status_code == 200
    # Signed out (say, the session ended while paying): to the overview, which signs in; nothing shown.
    signed_out = world.app.test_client().get(order_path(bents.order_id))
    assert (signed_out.status_code, signed_out.headers["Location"]) == (303, "/lyngby/")
    assert bents.order_id not in signed_out.get_data(as_text=True)


def test_the_return_url_with_another_citizens_payment_id_touches_only_ones_own_order(world: World) -> None:
    bents = world.start((521,), patron_id=BENT)
    annes = world.start((501,))
    notes_before = _notes(world, bents.order_id)
    client, _token = sign_in(world)
    html = page(client, order_path(annes.order_id) + f"?paymentid={world.order(bents.order_id).nexi_payment_id}")
    assert f"data-order-id>{annes.order_id}<" in html and bents.order_id not in html
    assert world.enqueued == [annes.order_id]
    assert _notes(world, bents.order_id) == notes_before


def test_an_order_is_not_found_under_another_library(world: World) -> None:
    annes = world.start((501,))
    client, _token = sign_in(world)
    assert client.get("/rodovre/").status_code == 200  # Anne is a borrower at Rødovre too, now looked up
    assert client.get(order_path(annes.order_id, "rodovre")).status_code == 404


def _notes(world: World, order_id: str) -> list[str]:
    with world.rt.sessions() as session:
        return [event.note for event in store.history(session, order_id)]


# -- the order page: every ending -----------------------------------------------------------------


def test_back_from_the_payment_window_received_and_being_registered(world: World) -> None:
    started = world.start()
    world.nexi.hold_webhooks()  # the return is the only news (as when the webhooks are late)
    world.pay_at_nexi(started.order_id)
    payment_id = world.order(started.order_id).nexi_payment_id
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id) + f"?paymentid={payment_id}")
    assert "Betalingen er modtaget og bliver registreret" in html
    assert f'data-poll-url="{order_path(started.order_id)}status"' in html
    # Without JavaScript: a link that shows the news, keeping the return's query.
    assert f'href="{order_path(started.order_id)}?paymentid={payment_id}" data-refresh' in html
    assert world.enqueued == [started.order_id]  # the worker is asked to look now
    status = client.get(order_path(started.order_id) + "status")
    assert status.get_json() == {"state": "checkout_open", "finished": False}
    assert status.headers["Cache-Control"] == "no-store"


def test_the_language_switch_on_the_return_page_keeps_the_return(world: World) -> None:
    started = world.start()
    world.nexi.hold_webhooks()
    world.pay_at_nexi(started.order_id)
    payment_id = world.order(started.order_id).nexi_payment_id
    client, _token = sign_in(world)
    path = order_path(started.order_id)
    html = page(client, f"{path}?paymentid={payment_id}&endpoint=citizen.index&x=1")
    # The page's own query parameter is kept; any other is not.
    assert f'href="{path}?paymentid={payment_id}&amp;lang=en"' in html
    english = page(client, f"{path}?paymentid={payment_id}&lang=en")
    assert "The payment is received and is being registered" in english and "Go to the payment window" not in english
    # Without the return, the switch adds nothing.
    assert f'href="{path}?lang=en"' in page(client, path)


def test_paid_shows_the_printable_receipt(world: World) -> None:
    order_id = paid_order(world)
    client, _token = sign_in(world)
    html = page(client, order_path(order_id))
    assert "Betalingen er registreret" in html and "Kvittering" in html
    assert f"data-order-id>{order_id}<" in html
    assert "data-masked-pan>492500******0004<" in html
    assert f"data-charged>314,75{NBSP}kr.<" in html
    assert html.count('data-result="paid"') == 4
    assert "Lyngby-Taarbæk Bibliotekerne" in html
    assert "data-print hidden" in html  # shown by the script, which prints
    assert "data-poll-url" not in html and "data-refresh" not in html
    status = client.get(order_path(order_id) + "status").get_json()
    assert status == {"state": "completed", "finished": True}


def test_a_payment_made_without_a_card_is_not_called_a_card_payment(world: World) -> None:
    started = world.start((501,))
    world.pay_at_nexi(started.order_id, "MobilePay")
    world.nexi.wait_for_webhooks_sent()
    assert world.advance(started.order_id) is State.COMPLETED
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "<h1>Betaling</h1>" in html and "<title>Betaling GP-" in html
    card = page(client, order_path(paid_order(world, (502,))))
    assert "<h1>Betaling med kort</h1>" in card and "<title>Betaling med kort GP-" in card


def test_partly_paid_names_the_fees_not_charged(world: World) -> None:
    started = world.start()
    paid_at_counter(world, 501)  # between the click and FBS's registration
    assert pay_and_advance(world, started.order_id) is State.COMPLETED
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "En del af betalingen er registreret" in html
    not_charged = re.search(r"<ul class=\"alert-text\" data-fee-list>(.*?)</ul>", html, re.S)
    assert not_charged and 'data-fee-id="501"' in not_charged[1] and "Gebyr (for sent)" in not_charged[1]
    assert "502" not in not_charged[1]
    assert "Ikke trukket: allerede betalt på anden måde" in html
    assert f"data-charged>284,75{NBSP}kr.<" in html
    assert world.charged_ore(started.order_id) == 28475


def test_refused_by_fbs_because_paid_elsewhere_charges_nothing_and_says_so(world: World) -> None:
    started = world.start((501, 503))
    for fee_id in (501, 503):
        paid_at_counter(world, fee_id)
    assert pay_and_advance(world, started.order_id) is State.CANCELLED
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "Betalingen blev ikke gennemført" in html
    assert "havde allerede disse gebyrer som betalt på anden måde" in html
    listed = re.search(r"data-fee-list>(.*?)</ul>", html, re.S)
    assert listed and "Gebyr (for sent)" in listed[1] and "Gebyr (fjernlån)" in listed[1]
    assert f"data-charged>0,00{NBSP}kr.<" in html
    assert world.charges(started.order_id) == 0


def test_cancelled_by_the_citizen_charges_nothing_and_the_fees_are_payable_again(world: World) -> None:
    client, token = sign_in(world)
    pay(client, token, (501, 502))
    (row,) = checkout.live_orders(world.rt, world.library, world.owner())
    cancelled = client.get(order_path(row.order_id) + "annuller")
    assert cancelled.status_code == 303 and cancelled.headers["Location"] == order_path(row.order_id)
    html = page(client, order_path(row.order_id))
    assert "Betalingen bliver annulleret" in html and "data-poll-url" in html
    assert world.advance(row.order_id) is State.ABANDONED
    html = page(client, order_path(row.order_id))
    assert "Du annullerede betalingen" in html and "Der er ikke trukket noget" in html
    assert "data-poll-url" not in html
    assert set(checkboxes(page(client, "/lyngby/"))) == set(PAYABLE)


def test_a_payment_window_closed_without_cancelling_can_be_cancelled_on_the_order_page(world: World) -> None:
    client, token = sign_in(world)
    pay(client, token, (501, 502))
    (row,) = checkout.live_orders(world.rt, world.library, world.owner())
    html = page(client, order_path(row.order_id))
    assert "Betalingen er ikke afsluttet endnu" in html
    action = f'action="{order_path(row.order_id)}annuller"'
    assert action in html and f'name="csrf_token" value="{token}"' in html
    # Without the session's token nothing is cancelled, and the page says so.
    refused = client.post(order_path(row.order_id) + "annuller", data={"csrf_token": "stale"})
    assert refused.status_code == 400 and "Intet blev annulleret" in refused.get_data(as_text=True)
    assert not world.order(row.order_id).cancel_requested
    # The same request with the token: the checkout ends and the fees are payable again.
    cancelled = client.post(order_path(row.order_id) + "annuller", data={"csrf_token": token})
    assert cancelled.status_code == 303 and cancelled.headers["Location"] == order_path(row.order_id)
    assert world.order(row.order_id).cancel_requested
    assert action not in page(client, order_path(row.order_id))  # being cancelled: no second button
    assert world.advance(row.order_id) is State.ABANDONED
    assert set(checkboxes(page(client, "/lyngby/"))) == set(PAYABLE)


def test_money_reserved_before_the_cancel_is_still_registered_and_charged(world: World) -> None:
    client, token = sign_in(world)
    pay(client, token, (501,))
    (row,) = checkout.live_orders(world.rt, world.library, world.owner())
    world.nexi.hold_webhooks()
    world.pay_at_nexi(row.order_id)  # paid in the other window, then "cancel" pressed here
    client.post(order_path(row.order_id) + "annuller", data={"csrf_token": token})
    assert world.advance(row.order_id) is State.COMPLETED


def test_another_citizens_order_cannot_be_cancelled(world: World) -> None:
    started = world.start((501,))
    bent, token = sign_in(world, BENT)
    assert bent.post(order_path(started.order_id) + "annuller", data={"csrf_token": token}).status_code == 404
    assert not world.order(started.order_id).cancel_requested


def test_an_expired_checkout_says_nothing_was_charged(world: World) -> None:
    started = world.start((501,))
    move(world, started.order_id, State.CHECKOUT_OPEN, State.ABANDONED, outcome="checkout_expired")
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "Betalingsvinduet blev lukket" in html and "der er ikke trukket noget" in html


def test_an_unfinished_checkout_links_back_to_the_payment_window(world: World) -> None:
    started = world.start((501,))
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "Betalingen er ikke afsluttet endnu" in html
    assert f'href="{started.redirect_url}"' in html


def test_needs_review_says_what_happens_next_and_whom_to_contact(world: World) -> None:
    started = world.start((501,))
    world.pay_at_nexi(started.order_id)
    move(world, started.order_id, State.CHECKOUT_OPEN, State.NEEDS_REVIEW, review_reason="test")
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "Biblioteket ser på din betaling" in html
    assert "Personalet på Lyngby-Taarbæk Bibliotekerne" in html
    assert f"kontakt Lyngby-Taarbæk Bibliotekerne og oplys ordrenummeret {started.order_id}" in html
    assert 'href="/lyngby/"' in html
    assert "Bliver tjekket af biblioteket" in html
    # Nothing will change by itself: no polling.
    assert "data-poll-url" not in html
    # The overview still holds the fee: it cannot go into a second payment.
    assert 501 not in checkboxes(page(client, "/lyngby/"))


def test_resolved_by_staff_says_so(world: World) -> None:
    started = world.start((501,))
    move(world, started.order_id, State.CHECKOUT_OPEN, State.NEEDS_REVIEW, review_reason="test")
    move(world, started.order_id, State.NEEDS_REVIEW, State.RESOLVED)
    client, _token = sign_in(world)
    html = page(client, order_path(started.order_id))
    assert "Biblioteket har behandlet din betaling" in html and started.order_id in html


def test_the_order_page_speaks_english_too(world: World) -> None:
    order_id = paid_order(world, (503,))
    client, _token = sign_in(world)
    html = page(client, order_path(order_id) + "?lang=en")
    assert "The payment is registered" in html and f"DKK{NBSP}15.25" in html


# -- texts follow the configuration -----------------------------------------------------------------


def test_a_library_with_card_payment_promises_it(world: World) -> None:
    client, _token = sign_in(world)
    html = page(client, "/lyngby/")
    assert "kan betales med betalingskort direkte her på siden" in html  # intro and "Betales her"
    assert html.count(CARD_PROMISE) == 2


def test_a_library_without_card_payment_shows_no_card_form_or_promise(world: World) -> None:
    client, _token = sign_in(world)
    html = page(client, "/rodovre/")
    assert "Betales her" in html  # Anne has fees payable here at Rødovre too
    assert "data-card-payment" not in html and "Betal med kort" not in html
    assert CARD_PROMISE not in html and "her med det samme" not in html
    assert "kodelinjen" in html  # the ways that exist stay
    # A payment cannot be started there either.
    _client, token = sign_in(world)
    response = _client.post("/rodovre/betaling/", data={"fee": "501", "csrf_token": token})
    assert response.status_code == 404
    assert world.nexi.created_requests == []


def test_the_blocked_card_banner_offers_card_payment_where_there_is_one(world: World) -> None:
    client, _token = sign_in(world, BENT)
    html = page(client, "/lyngby/")
    banner = re.search(r"Dit lånerkort er spærret.*?</div>\s*</div>", html, re.S)
    assert banner, "no banner"
    assert f"Du kan betale 710,00{NBSP}kr. her med det samme med betalingskort." in banner[0]
    assert "Du kan også betale i (net)banken med kodelinjen nedenfor." in banner[0]


def test_without_card_payment_the_banner_keeps_to_the_code_line(client: httpx.Client, stack: Stack) -> None:
    # The demo stack configures no card payment at all.
    html = http_login(client, stack.url, "demo-bent").text
    assert "Dit lånerkort er spærret" in html
    assert "i (net)banken med kodelinjen nedenfor" in html
    assert "her med det samme med betalingskort" not in html and CARD_PROMISE not in html
    assert "data-card-payment" not in html


# -- the webhook route (basic answers; tests/payments covers the faults) ------------------------------


def _event(payment_id: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "event": "payment.checkout.completed",
        "timestamp": "2026-01-01T12:00:00+01:00",
        "merchantId": "100000000",
        "data": {"paymentId": payment_id},
    }


def test_the_webhook_route_answers(world: World) -> None:
    started = world.start((501,))
    row = world.order(started.order_id)
    assert row.nexi_payment_id is not None
    client = world.app.test_client()
    path = checkout.WEBHOOK_PATH
    assert client.post(path, data=b"not json").status_code == 400
    assert client.post(path, json={"event": "x"}).status_code == 400
    # Nested deeper than Python's parser goes (it raises RecursionError, not ValueError): a 400, never a 500.
    assert client.post(path, data=b'{"data":' * 5000 + b"1" + b"}" * 5000).status_code == 400
    assert client.post(path, json=_event(uuid.uuid4().hex), headers={"Authorization": "x"}).status_code == 200
    assert client.post(path, json=_event(row.nexi_payment_id)).status_code == 401
    assert client.post(path, json=_event(row.nexi_payment_id), headers={"Authorization": "wrong"}).status_code == 401
    assert world.enqueued == []
    good = client.post(path, json=_event(row.nexi_payment_id), headers={"Authorization": row.webhook_token})
    assert good.status_code == 200
    assert world.enqueued == [started.order_id]
    assert client.get(path).status_code == 405


# -- which wording a page gets: the library's own, else the default that fits -------------------------


def test_page_texts_keep_a_librarys_own_wording_whatever_the_configuration() -> None:
    own = "Betal ved skranken."
    library = Library(
        "x", "X", "DK-000000", date(2021, 6, 15), texts={"da": {defaults.PAYABLE_HERE_TEXT: own}}, kodelinje=None
    )
    for card_payment in (True, False):
        texts = page_texts(library, "da", card_payment=card_payment)
        assert texts[defaults.PAYABLE_HERE_TEXT] == own
        # The library has no code line: the default without it.
        default = defaults.default_text(defaults.INTRO, "da", card_payment=card_payment, code_line=False)
        assert texts[defaults.INTRO] == default
    # English has no own wording: the default that fits.
    assert CARD_PROMISE_EN in page_texts(library, "en", card_payment=True)[defaults.PAYABLE_HERE_TEXT]
    assert CARD_PROMISE_EN not in page_texts(library, "en", card_payment=False)[defaults.PAYABLE_HERE_TEXT]


def test_a_librarys_own_card_promise_is_its_own_business() -> None:
    # A library may word its texts as it likes; the portal changes nothing it wrote.
    library = Library(
        "x", "X", "DK-000000", date(2021, 6, 15), texts={"da": {defaults.INTRO: "Betal med kort hos os."}}
    )
    assert page_texts(library, "da", card_payment=False)[defaults.INTRO] == "Betal med kort hos os."


def test_a_not_found_order_page_says_whom_to_ask_at_the_library(world: World) -> None:
    client, _token = sign_in(world)
    response = client.get(order_path("nosuchorder"))
    assert response.status_code == 404
    assert "45 97 35 00" in response.get_data(as_text=True)  # Lyngby's phone, from the libraries file
    assert "45 97 35 00" not in client.get("/nosuchlibrary/").get_data(as_text=True)
