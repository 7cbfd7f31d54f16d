"""The payment state machine: the one step each state needs, run by whoever gets there first.

The webhook, the citizen's return and the reconciler all end in `advance(order_id)`. It takes
the order's lease (one worker at a time), does the step of the state it finds, and moves the
order on with a compare-and-set; it repeats while the next step is due at once. Any step may
be cut short by a crash at any point and run again: every upstream write it makes is
idempotent — FBS's registration per our order id, Nexi's charge per our stored
Idempotency-Key, a cancel (1019 "already cancelled" counts as done).

The rules (`portal.domain.payment`): act on a reservation only when it is exactly the order's;
register in FBS first; charge only the fees FBS registered for this order; release the rest.
When a step keeps failing, retries back off (RETRY_DELAYS) and the order then goes to review
with the reservation untouched: staff decide, with the history in front of them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from portal import clock
from portal.domain import money
from portal.domain.fees import Fee
from portal.domain.payment import Reservation, reservation_problems, settle
from portal.libraries.library import Library
from portal.payments import reasons, store
from portal.payments.models import PaymentOrderRow
from portal.payments.reasons import Code, Reason
from portal.payments.runtime import OrderFbs, PaymentRuntime, PaymentsUnavailable
from portal.payments.states import ACTIVE, Outcome, State
from portal.providers.errors import UpstreamError
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.providers.nexi import (
    NexiAlreadyCharged,
    NexiOverCharge,
    NexiPaymentNotFound,
    NexiRequestRefused,
    NexiReservationExpired,
)

log = logging.getLogger(__name__)

# After a failed step: try again after each of these, then send the order to review.
RETRY_DELAYS = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360, 1440))
# An open checkout with no webhook yet: look at the gateway after each of these (a lost webhook,
# a MobilePay user who never returns), and end it CHECKOUT_LIFETIME after it opened.
POLL_DELAYS = tuple(timedelta(minutes=m) for m in (2, 5, 10, 15, 30))
CHECKOUT_LIFETIME = timedelta(hours=1)
GATEWAY_PATIENCE = timedelta(days=1)
# A CREATED order older than this lost the request that was opening its checkout.
CREATE_GRACE = timedelta(minutes=2)
MAX_STEPS = 8
CHANGED = "changed"  # a fee FBS lists differently now (gone, other amount, no longer payable here)


@dataclass
class _Step:
    rt: PaymentRuntime
    session: Session
    row: PaymentOrderRow
    library: Library
    source: str

    @property
    def state(self) -> State:
        return State(self.row.state)

    def move(self, to: State, note: str, *, due: datetime | None = None, **fields: Any) -> bool:
        change = store.Change(fields=fields, next_attempt_at=due, note=note, source=self.source)
        moved = store.transition(self.session, self.row.order_id, self.state, to, change)
        if moved and to is State.NEEDS_REVIEW:
            log.warning("payment order=%s library=%s needs review: %s", self.row.order_id, self.library.slug, note)
        return moved

    def now(self, to: State, note: str, **fields: Any) -> bool:
        """Move on, with the next step due at once."""
        return self.move(to, note, due=clock.now(), **fields)

    def review(self, why: Reason) -> bool:
        return self.move(State.NEEDS_REVIEW, why.english(), **store.review_fields(why))

    def retry(self, why: Reason) -> bool:
        """Stay in the state and try again later; after the last delay, review."""
        attempt = self.row.attempts + 1
        if self.state is State.CHECKOUT_OPEN:
            return self._retry_checkout(why, attempt)
        if attempt > len(RETRY_DELAYS):
            return self.review(reasons.gave_up(why, attempt))
        due = clock.now() + RETRY_DELAYS[attempt - 1]
        return self.move(
            self.state,
            f"{why.english()}; attempt {attempt} failed, next at {due.isoformat(timespec='seconds')}",
            due=due,
            attempts=attempt,
        )

    def _retry_checkout(self, why: Reason, attempt: int) -> bool:
        # An open checkout keeps its poll schedule through errors (polls and failures share the
        # count); only when the gateway could not be asked for a day after the checkout ended do
        # staff have to find out whether money is held.
        if clock.now() >= self.row.created_at + CHECKOUT_LIFETIME + GATEWAY_PATIENCE:
            return self.review(reasons.gateway_silent(why))
        due = clock.now() + POLL_DELAYS[min(attempt, len(POLL_DELAYS)) - 1]
        return self.move(
            self.state,
            f"{why.english()}; will look again at {due.isoformat(timespec='seconds')}",
            due=due,
            attempts=attempt,
        )


def advance(rt: PaymentRuntime, order_id: str, source: str = "worker") -> State | None:
    """Do the order's due steps, one after the other; its state after (None: no such order)."""
    worker = f"{source}-{secrets.token_hex(6)}"
    with rt.sessions() as session:
        for _ in range(MAX_STEPS):
            if not store.claim(session, order_id, worker):
                break  # another worker has it; it will see the step through
            try:
                row = store.get_order(session, order_id)
                if row is None:
                    return None
                if not _due(row):
                    return State(row.state)
                _run_step(rt, session, row, source)
            finally:
                store.release_claim(session, order_id, worker)
        row = store.get_order(session, order_id)
        return State(row.state) if row is not None else None


def _due(row: PaymentOrderRow) -> bool:
    return State(row.state) in ACTIVE and row.next_attempt_at is not None and row.next_attempt_at <= clock.now()


def _run_step(rt: PaymentRuntime, session: Session, row: PaymentOrderRow, source: str) -> None:
    session.commit()  # no transaction stays open while the upstreams take their time
    library = rt.library(session, row.library_slug)
    session.commit()
    if library is None:
        fields = store.review_fields(Reason(Code.LIBRARY_REMOVED))
        change = store.Change(fields, None, "the library is no longer served", source)
        store.transition(session, row.order_id, State(row.state), State.NEEDS_REVIEW, change)
        return
    step = _Step(rt, session, row, library, source)
    try:
        _STEPS[step.state](step)
    except PaymentsUnavailable:
        step.retry(Reason(Code.PAYMENTS_UNCONFIGURED))
    except UpstreamError as exc:
        step.retry(reasons.upstream_failed(exc.provider, exc.message))
    except Exception:  # a bug must not lose the order: it stays where it was, retried, then reviewed
        log.exception("payment order=%s: step %s failed unexpectedly", row.order_id, row.state)
        step.retry(Reason(Code.UNEXPECTED_ERROR))


# -- the steps ---------------------------------------------------------------------------------


def _created(step: _Step) -> None:
    # The request that wrote the order opens its checkout; here only when that request died.
    row = step.row
    if clock.now() < row.created_at + CREATE_GRACE:
        step.move(State.CREATED, "checkout still being opened", due=row.created_at + CREATE_GRACE)
        return
    step.move(State.CREATE_FAILED, "the checkout was never opened", outcome=Outcome.CREATE_FAILED.value)


def _checkout_open(step: _Step) -> None:
    row = step.row
    nexi = step.rt.nexi(step.library)
    assert row.nexi_payment_id is not None
    expired = clock.now() >= row.created_at + CHECKOUT_LIFETIME
    try:
        payment = nexi.retrieve(row.nexi_payment_id)
    except NexiPaymentNotFound:
        # A payment the gateway does not know cannot hold money (e.g. a simulator restarted);
        # still, wait for the checkout to end unless the citizen left it.
        if not (row.cancel_requested or expired):
            raise
        step.move(
            State.ABANDONED, "the gateway does not know the payment: nothing is held", outcome=_abandoned(row).value
        )
        return
    held = payment.reserved_ore - payment.cancelled_ore
    if payment.reserved_ore:
        if payment.charged_ore:
            # Charged at the gateway (by staff) before FBS was asked: releasing the rest and ending
            # the order would hide money taken for fees FBS does not know are paid.
            step.review(Reason(Code.CHARGED_BEFORE_FBS, {"charged_ore": payment.charged_ore}))
            return
        reservation = Reservation(held - payment.charged_ore, payment.currency, payment.reference)
        problems = reservation_problems(store.snapshot_of(row), reservation)
        if problems:
            step.now(
                State.CANCELLING,
                "; ".join(problems),
                outcome=Outcome.AMOUNT_MISMATCH.value,
                release_ore=max(held - payment.charged_ore, 0),
            )
            return
        step.now(
            State.RESERVED,
            f"reserved {payment.reserved_ore} øre",
            payment_method=payment.payment_method,
            masked_pan=payment.masked_pan,
        )
        return
    if payment.terminated:
        step.move(State.ABANDONED, "the checkout was ended at the gateway", outcome=_abandoned(row).value)
        return
    if row.cancel_requested or expired:
        nexi.terminate(row.nexi_payment_id)
        step.move(State.ABANDONED, "checkout ended: nothing was reserved", outcome=_abandoned(row).value)
        return
    polls = row.attempts + 1
    due = clock.now() + POLL_DELAYS[min(polls, len(POLL_DELAYS)) - 1]
    step.move(
        State.CHECKOUT_OPEN, "nothing reserved yet", due=min(due, row.created_at + CHECKOUT_LIFETIME), attempts=polls
    )


def _abandoned(row: PaymentOrderRow) -> Outcome:
    return Outcome.CANCELLED_BY_CITIZEN if row.cancel_requested else Outcome.CHECKOUT_EXPIRED


def _reserved(step: _Step) -> None:
    row = step.row
    nexi = step.rt.nexi(step.library)
    assert row.nexi_payment_id is not None and row.patron_id is not None
    # Still exactly reserved? Staff may have cancelled in the gateway's portal meanwhile, and FBS
    # must never record as paid what the card no longer holds.
    payment = nexi.retrieve(row.nexi_payment_id)
    held = payment.reserved_ore - payment.cancelled_ore - payment.charged_ore
    if held != row.total_ore:
        if held <= 0 and not payment.charged_ore:
            step.move(
                State.CANCELLED,
                "the reservation was released at the gateway before FBS was asked",
                outcome=Outcome.AMOUNT_MISMATCH.value,
            )
        else:
            step.review(Reason(Code.RESERVATION_CHANGED, {"held_ore": held, "total_ore": row.total_ore}))
        return
    fbs = _order_fbs(step)
    if fbs is None:
        return
    snapshot = store.snapshot_of(row)
    try:
        unchanged = _unchanged_fees(snapshot.lines, fbs.get_fees(row.patron_id))
        confirmations = fbs.register_payment(row.patron_id, row.order_id, unchanged) if unchanged else {}
    except FbsTokenRejected as exc:
        # No retry can help: the token will not come back to life, and the citizen is gone.
        step.review(Reason(Code.TOKEN_EXPIRED, {"message": exc.message}))
        return
    settlement = settle(snapshot, confirmations)
    answers = {
        str(line.fee_id): confirmations[line.fee_id].status.value if line.fee_id in confirmations else CHANGED
        for line in snapshot.lines
    }
    step.rt.upstreams.cache.forget_patron(row.agency_id, row.patron_id)  # the overview must see FBS anew
    summary = ", ".join(f"{fee}: {status}" for fee, status in answers.items())
    if settlement.charges_nothing:
        step.now(
            State.CANCELLING,
            f"FBS registered none: {summary}",
            outcome=Outcome.REFUSED_BY_FBS.value,
            fbs_answers=answers,
            release_ore=row.total_ore,
            charge_ore=0,
            fbs_token=None,  # FBS has answered: the token is needed no more
        )
        return
    step.now(
        State.REGISTERED,
        f"FBS answered {summary}",
        fbs_answers=answers,
        charge_ore=settlement.charge_ore,
        release_ore=settlement.release_ore,
        fbs_token=None,
    )


def _order_fbs(step: _Step) -> OrderFbs | None:
    """FBS for the order, the way it was read when the order was made; None: sent to review.

    An order made through DBC's adapter keeps the borrower's token (sealed); one without a token
    was made in direct mode.
    """
    sealed = step.row.fbs_token
    if sealed is None:
        return step.rt.order_fbs(step.library, None)
    token = step.rt.order_tokens.open(sealed)
    if token is None:
        step.review(Reason(Code.TOKEN_UNREADABLE))
        return None
    return step.rt.order_fbs(step.library, token)


def _unchanged_fees(lines: Any, fees: list[Fee]) -> list[int]:
    """The order's fees FBS still lists as they were: same amount, and paid or still payable here.

    A paid one stays in: it may be paid by this very order (a crash after FBS answered), and
    FBS's answer for our order id tells which.
    """
    listed = {fee.fee_id: fee for fee in fees}
    return [
        line.fee_id
        for line in lines
        if (fee := listed.get(line.fee_id)) is not None
        and money.as_ore(fee.amount) == line.amount_ore
        and (fee.is_paid or fee.payable_by_client)
    ]


def _registered(step: _Step) -> None:
    row = step.row
    nexi = step.rt.nexi(step.library)
    assert row.nexi_payment_id is not None and row.charge_ore
    try:
        charge_id: str | None = nexi.charge(row.nexi_payment_id, row.charge_ore, row.charge_key)
    except (NexiAlreadyCharged, NexiOverCharge) as exc:
        payment = nexi.retrieve(row.nexi_payment_id)
        if payment.charged_ore != row.charge_ore:
            facts: dict[str, str | int] = {
                "message": exc.message,
                "charged_ore": payment.charged_ore,
                "charge_ore": row.charge_ore,
            }
            step.review(Reason(Code.CHARGE_DIFFERS, facts))
            return
        charge_id = None  # charged already (by an earlier attempt or by staff): exactly our amount
    except (NexiRequestRefused, NexiPaymentNotFound) as exc:
        # FBS has the fees as paid; the card was not charged. Staff must charge or reopen the fees.
        step.review(Reason(Code.CHARGE_REFUSED, {"message": exc.message}))
        return
    note = f"charged {row.charge_ore} øre"
    if row.release_ore:
        step.now(State.CHARGED, note, charge_id=charge_id)
        return
    step.move(State.COMPLETED, note, charge_id=charge_id, outcome=Outcome.PAID.value)


def _charged(step: _Step) -> None:
    _release(step, step.row.release_ore or 0, Outcome.PARTLY_PAID, State.COMPLETED)


def _cancelling(step: _Step) -> None:
    outcome = Outcome(step.row.outcome) if step.row.outcome else Outcome.REFUSED_BY_FBS
    _release(step, step.row.release_ore or step.row.total_ore, outcome, State.CANCELLED)


def _release(step: _Step, amount_ore: int, outcome: Outcome, to: State) -> None:
    row = step.row
    assert row.nexi_payment_id is not None
    if amount_ore > 0:
        try:
            step.rt.nexi(step.library).cancel(row.nexi_payment_id, amount_ore)
        except NexiReservationExpired:
            pass  # an expired reservation holds nothing any more
        except (NexiRequestRefused, NexiPaymentNotFound) as exc:
            step.review(Reason(Code.RELEASE_REFUSED, {"amount_ore": amount_ore, "message": exc.message}))
            return
    step.move(to, f"released {amount_ore} øre", outcome=outcome.value)


_STEPS: dict[State, Callable[[_Step], None]] = {
    State.CREATED: _created,
    State.CHECKOUT_OPEN: _checkout_open,
    State.RESERVED: _reserved,
    State.REGISTERED: _registered,
    State.CHARGED: _charged,
    State.CANCELLING: _cancelling,
}
assert set(_STEPS) == ACTIVE, "every active state needs a step"


def reconcile(rt: PaymentRuntime) -> int:
    """Advance every order whose step is due (lost webhooks, crashed workers, retries); how many."""
    with rt.sessions() as session:
        due = store.due_orders(session)
    for order_id in due:
        advance(rt, order_id, "reconciler")
    return len(due)
