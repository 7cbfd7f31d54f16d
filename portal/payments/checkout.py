"""Starting a card payment, and what the citizen's visits tell the machine.

`start` takes the fees from FBS as they are now (never from the browser or the cache), writes
the order holding them, and opens Nexi's hosted payment page. A second click, a second tab or
the back button asks for the same fees again: it gets the same open checkout back, never a
second reservation. Fees another live order holds cannot go into a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import quote

from sqlalchemy.orm import Session

from portal import clock
from portal.domain import money
from portal.domain.fees import Fee, PaymentStatus
from portal.domain.payment import OrderSnapshot, new_order_id, snapshot_order
from portal.libraries.library import Library
from portal.payments import store
from portal.payments.machine import POLL_DELAYS
from portal.payments.models import PaymentOrderRow
from portal.payments.runtime import PaymentRuntime, PaymentsUnavailable
from portal.payments.states import FINISHED, HOLDS_FEES, Outcome, State
from portal.providers.errors import UpstreamError
from portal.providers.nexi import NexiCheckout, NexiClient, NexiItem, NexiOrder, NexiWebhook

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/betaling/nexi-webhook"
# What Nexi tells us about; the machine re-reads the payment, so the events only say "look now".
EVENTS = (
    "payment.reservation.created.v2",
    "payment.checkout.completed",
    "payment.charge.created.v2",
    "payment.charge.failed",
    "payment.cancel.created",
)


class CheckoutFailed(Exception):
    """The gateway would not open a checkout; nothing is reserved and the fees are free again."""


@dataclass(frozen=True)
class Started:
    order_id: str
    redirect_url: str  # the hosted payment page


def order_url(base_url: str, slug: str, order_id: str) -> str:
    """The order's page: Nexi's returnUrl, and where the citizen follows the payment."""
    return f"{base_url}/{quote(slug)}/betaling/{quote(order_id)}/"


def start(
    rt: PaymentRuntime,
    library: Library,
    patron_id: int,
    owner: str,
    chosen: Collection[int],
    *,
    adapter_token: str | None = None,
) -> Started:
    """Open a checkout for the `chosen` fees. Raises NotPayable, store.FeesHeld, CheckoutFailed, UpstreamError.

    `adapter_token`: the borrower's Adgangsplatformen token where FBS is read through DBC's
    adapter for them (`services.debts.uses_adapter`), else None (direct mode). The order keeps
    it, encrypted, for the worker's registration in FBS (`payments.order_token`).
    """
    if not rt.offers_card_payment(library):
        raise PaymentsUnavailable(library.slug)
    nexi = rt.nexi(library)
    fees = rt.order_fbs(library, adapter_token).get_fees(patron_id)
    order = snapshot_order(new_order_id(), fees, chosen)
    with rt.sessions() as session:
        try:
            row = store.insert_order(
                session,
                order=order,
                library_slug=library.slug,
                agency_id=library.agency_id,
                patron_id=patron_id,
                owner=owner,
                source="citizen",
                fbs_token=rt.order_tokens.seal(adapter_token) if adapter_token else None,
            )
        except store.FeesHeld as held:
            return _existing(session, held.order_id, owner, order)
        base = rt.settings.base_url
        try:
            created = nexi.create_payment(
                _nexi_order(order),
                NexiCheckout(
                    return_url=order_url(base, library.slug, order.order_id),
                    cancel_url=order_url(base, library.slug, order.order_id) + "annuller",
                    terms_url=library.payment_terms_url or "",
                ),
                [NexiWebhook(event, base + WEBHOOK_PATH, row.webhook_token) for event in EVENTS],
            )
        except UpstreamError as exc:
            _fail(session, order.order_id, f"the gateway would not open a checkout: {exc.message}")
            raise CheckoutFailed(str(exc)) from None
        opened = store.transition(
            session,
            order.order_id,
            State.CREATED,
            State.CHECKOUT_OPEN,
            store.Change(
                {"nexi_payment_id": created.payment_id, "hosted_page_url": created.hosted_payment_page_url},
                clock.now() + POLL_DELAYS[0],
                "checkout opened",
                "citizen",
            ),
        )
    if not opened:
        # The reconciler gave the order up while the gateway was slow to answer: money reserved on
        # this page would belong to no order, so the page is closed and the citizen never sees it.
        _close_unseen(nexi, created.payment_id)
        raise CheckoutFailed("the order was given up while its checkout was being opened")
    return Started(order.order_id, created.hosted_payment_page_url)


def _close_unseen(nexi: NexiClient, payment_id: str) -> None:
    try:
        nexi.terminate(payment_id)
    except UpstreamError as exc:  # nobody has the page's address: nothing can be reserved on it
        log.warning("could not terminate a checkout nobody was sent to: %s", exc.message)


def _nexi_order(order: OrderSnapshot) -> NexiOrder:
    items = tuple(
        NexiItem(str(line.fee_id), line.name[:128] or str(line.fee_id), line.amount_ore) for line in order.lines
    )
    return NexiOrder.of_items(order.order_id, items)


def _existing(session: Session, order_id: str | None, owner: str, wanted: OrderSnapshot) -> Started:
    """The same fees asked for again: back to their open checkout. Anything else: refused."""
    row = store.get_order(session, order_id) if order_id else None
    if row is None or row.owner != owner:
        raise store.FeesHeld(None)  # someone else's order: not named
    same = sorted(int(line["fee_id"]) for line in row.lines) == sorted(wanted.fee_ids)
    if same and row.state == State.CHECKOUT_OPEN and row.hosted_page_url and not row.cancel_requested:
        store.note(session, row.order_id, "citizen", "the same fees asked for again: the open checkout reused")
        return Started(row.order_id, row.hosted_page_url)
    raise store.FeesHeld(row.order_id)


def _fail(session: Session, order_id: str, why: str) -> None:
    store.transition(
        session,
        order_id,
        State.CREATED,
        State.CREATE_FAILED,
        store.Change({"outcome": Outcome.CREATE_FAILED.value}, None, why, "citizen"),
    )


def owned_order(rt: PaymentRuntime, order_id: str, owner: str, slug: str) -> PaymentOrderRow | None:
    """The order if it is this citizen's at this library; None otherwise (the same answer as no order)."""
    with rt.sessions() as session:
        row = store.get_order(session, order_id)
    if row is None or row.owner != owner or row.library_slug != slug:
        return None
    return row


def returned(rt: PaymentRuntime, row: PaymentOrderRow) -> None:
    """The citizen is back from the hosted page: look at the payment now rather than at the next poll."""
    if row.state == State.CHECKOUT_OPEN:
        with rt.sessions() as session:
            store.note(session, row.order_id, "return", "the citizen came back from the checkout", due_now=True)
        rt.enqueue(row.order_id)


def cancel_requested(rt: PaymentRuntime, row: PaymentOrderRow) -> None:
    """The citizen cancelled at the hosted page: end the checkout once the gateway confirms nothing is held."""
    if row.state not in (State.CHECKOUT_OPEN, State.CREATED):
        return
    with rt.sessions() as session:
        store.request_cancel(session, row.order_id)
        store.note(session, row.order_id, "citizen", "the citizen cancelled the checkout", due_now=True)
    rt.enqueue(row.order_id)


def live_orders(rt: PaymentRuntime, library: Library, owner: str) -> list[PaymentOrderRow]:
    """The citizen's orders at the library that still hold fees, newest first."""
    return citizen_orders(rt, library, owner)[0]


def citizen_orders(
    rt: PaymentRuntime, library: Library, owner: str
) -> tuple[list[PaymentOrderRow], list[PaymentOrderRow]]:
    """(live, recent): the citizen's orders that still hold fees, and those finished in the last 30 days.

    One read for both: the overview shows both lists on every view.
    """
    with rt.sessions() as session:
        rows = store.orders_of(session, library.slug, owner)
    since = clock.now() - RECENT
    live = [row for row in rows if State(row.state) in HOLDS_FEES]
    recent = [
        row
        for row in rows
        if State(row.state) in _LISTED_FINISHED and row.finished_at is not None and row.finished_at >= since
    ]
    return live, recent


# -- read-only views of orders, for the citizen's pages ------------------------------------------

RECENT = timedelta(days=30)
# Finished orders worth a receipt or an explanation in the overview: the card was involved. A checkout
# that never opened or was left without a reservation (CREATE_FAILED, ABANDONED) charged nothing.
_LISTED_FINISHED = frozenset({State.COMPLETED, State.CANCELLED, State.RESOLVED})


class FeeResult(StrEnum):
    """What became of one fee of an order, as the receipt tells it."""

    PAID = "paid"  # FBS registered it for this order, and it was charged
    PAID_ELSEWHERE = "paid_elsewhere"  # FBS had it paid by another payment meanwhile: not charged
    REFUSED = "refused"  # FBS would not take it here (handed over, changed): not charged
    NOT_CHARGED = "not_charged"  # the order ended without charging it
    PENDING = "pending"  # the order is not finished
    WITH_STAFF = "with_staff"  # the order went to review: staff decide, and tell


@dataclass(frozen=True)
class FeeLine:
    fee_id: int
    name: str
    amount_ore: int
    result: FeeResult


def fee_lines(row: PaymentOrderRow) -> list[FeeLine]:
    """The order's fees with what became of each (charged only if FBS registered it for this order)."""
    answers = row.fbs_answers or {}
    state = State(row.state)
    lines = []
    for line in row.lines:
        answer = answers.get(str(line["fee_id"]))
        if state in (State.NEEDS_REVIEW, State.RESOLVED):
            result = FeeResult.WITH_STAFF
        elif state not in FINISHED:
            result = FeeResult.PENDING
        elif answer == PaymentStatus.REGISTERED.value and state == State.COMPLETED:
            result = FeeResult.PAID
        elif answer == PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER.value:
            result = FeeResult.PAID_ELSEWHERE
        elif answer is not None and answer != PaymentStatus.REGISTERED.value:
            result = FeeResult.REFUSED
        else:
            result = FeeResult.NOT_CHARGED
        lines.append(FeeLine(int(line["fee_id"]), str(line["name"]), int(line["amount_ore"]), result))
    return lines


def payable_by_card(fee: Fee | None) -> bool:
    """Whether the overview may offer `fee` for card payment (FBS re-checks it when the payment starts)."""
    if fee is None or fee.is_paid or not fee.payable_by_client or fee.amount <= 0:
        return False
    try:
        money.as_ore(fee.amount)
    except ValueError:  # a fraction of an øre: no card gateway can charge it exactly
        return False
    return True
