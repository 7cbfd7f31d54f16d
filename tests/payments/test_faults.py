"""Fault injection: the real state machine against the FBS and Nexi simulators, one case per test.

Numbered as the failure scenarios in payments-details.md, section 5:

1. crash after FBS registered, before the state was saved: test_1_crash_after_fbs_registration
2. crash or timeout after the charge was sent: test_2_crash_after_the_charge,
   test_2_timeout_after_the_charge
3. the same webhook twice: test_3_duplicate_webhooks_sequentially, test_3_same_webhook_concurrently
4. checkout.completed, reservation.created.v2 and the return at once: test_4_webhooks_and_return_at_once
5. webhook before return, return before webhook, no webhook: test_5_webhook_before_return,
   test_5_return_before_webhook, test_5_no_webhook_at_all
6. wrong or missing Authorization, unknown payment id: test_6_webhook_refused_without_the_order_secret,
   test_6_unknown_payment_id, test_6_not_a_nexi_event
7. reserved amount, currency or reference not the snapshot's: test_7_reservation_not_the_order
8. every fee paid elsewhere meanwhile: test_8_all_fees_paid_elsewhere
9. mixed or unknown FBS answers: test_9_mixed_fbs_answers, test_9_unknown_fbs_statuses,
   test_9_fbs_answer_about_another_order
10. FBS 5xx, 401 or timeout, then recovery; retries used up: test_10_fbs_down_then_back,
    test_10_fbs_rejects_the_session, test_10_fbs_timeout_after_registering, test_10_fbs_retries_used_up
11. the fee list changed meanwhile: test_11_fee_changed_before_registration,
    test_11_one_fee_of_several_changed
12. charge refused (1010, 1029/402, payment.charge.failed): test_12_charge_refused,
    test_12_charge_failed_webhook
13. charged already by staff (1008/1001): test_13_staff_charged_the_order,
    test_13_staff_charged_another_amount, test_13_staff_charged_before_fbs
14. payment.cancel.created after FBS registration: test_14_cancelled_at_the_gateway_after_fbs,
    test_14_cancel_webhook_lost, test_14_cancelled_at_the_gateway_before_fbs
15. abandoned checkout: test_15_cancelled_at_the_hosted_page, test_15_tab_closed,
    test_15_cancelled_after_paying_in_another_tab
16. double "Pay", second checkout for the same fees: test_16_double_pay, test_16_overlapping_checkout,
    test_16_concurrent_pay_clicks
17. create payment fails or times out: test_17_create_payment_fails, test_17_create_payment_times_out,
    test_17_create_answers_after_the_order_was_given_up
18. GET answers 429: test_18_rate_limited_retrieve
19. reconciler and webhook worker at once: test_19_reconciler_and_workers_at_once,
    test_19_a_slow_worker_loses_the_compare_and_set, test_19_transition_is_compare_and_set
20. rounding (0.29 kr.): test_20_exact_ore
21. return URL with another citizen's payment: test_21_another_citizens_order
22. purge keeps review and unfinished orders: test_22_purge_keeps_unfinished_orders
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from portal import clock
from portal.libraries.models import LibraryRow
from portal.payments import checkout, machine, retention, store
from portal.payments.reasons import Code, Reason
from portal.payments.states import Outcome, State
from portal.providers.errors import UpstreamTimeout
from portal.providers.fbs import FbsClient
from portal.providers.nexi import NexiClient
from tests.payments.conftest import (
    AMOUNTS,
    ANNE,
    PAYABLE,
    World,
    change_fee,
    fail_nexi_once,
    history_notes,
    inbox,
    nexi_api,
    pay_at_counter,
    post_webhook,
    total_ore,
    webhook_body,
)

TOTAL = total_ore()
FBS_PAY = "payment"  # the FBS simulator's name of its registration endpoint


class Crash(BaseException):
    """The worker's process dies: nothing in the portal catches a BaseException that is not an Exception."""


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """Time stands still unless the test moves it: backoff and leases run out only when told."""
    with clock.frozen(clock.now()) as frozen_clock:
        yield frozen_clock


# -- helpers ----------------------------------------------------------------------------------


def paid(world: World, fee_ids: tuple[int, ...] = PAYABLE) -> str:
    """An order whose citizen completed the hosted page, every webhook delivered; not yet advanced."""
    order_id = world.start(fee_ids).order_id
    world.pay_at_nexi(order_id)
    world.nexi.wait_for_webhooks_sent()
    return order_id


def stuck_in_registered(world: World, fee_ids: tuple[int, ...] = PAYABLE) -> str:
    """An order FBS registered whose first charge attempt failed (a 500): REGISTERED, backing off."""
    order_id = paid(world, fee_ids)
    fail_nexi_once(world, "charge")
    assert world.advance(order_id) is State.REGISTERED
    assert world.charges(order_id) == 0
    return order_id


def crash_on_saving(monkeypatch: pytest.MonkeyPatch, target: State) -> None:
    """The first transition to `target` dies with the process, after the upstream call it follows.

    A dead process releases no lease either: the order stays claimed until the lease runs out.
    """
    transition, release_claim = store.transition, store.release_claim
    dying: list[str] = []

    def crashing_transition(session: Any, order_id: str, from_state: State, to_state: State, change: Any) -> bool:
        if to_state is target and not dying:
            dying.append(order_id)
            raise Crash(f"died before saving {target}")
        return transition(session, order_id, from_state, to_state, change)

    def dead_release(session: Any, order_id: str, worker: str) -> None:
        if dying and dying[0] == order_id and len(dying) == 1:
            dying.append("released nothing")
            return
        release_claim(session, order_id, worker)

    monkeypatch.setattr(store, "transition", crashing_transition)
    monkeypatch.setattr(store, "release_claim", dead_release)


def lose_answer_once(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
    """The upstream does the call, but its answer never reaches us (a read timeout), once."""
    real = getattr(cls, name)
    lost: list[bool] = []

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = real(self, *args, **kwargs)
        if not lost:
            lost.append(True)
            raise UpstreamTimeout("test", f"{name}: no answer in time")
        return result

    monkeypatch.setattr(cls, name, call)


def together(*actions: Callable[[], object]) -> list[BaseException]:
    """Run the actions in threads released at the same moment; the exceptions they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except BaseException as exc:  # collected for the test to assert on
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def drain(world: World) -> None:
    """Be the worker: advance every order the portal asked to have advanced."""
    while world.enqueued:
        world.advance(world.enqueued.pop(0), "worker")


def assert_paid_in_full(world: World, order_id: str, fee_ids: tuple[int, ...] = PAYABLE) -> None:
    assert world.state(order_id) is State.COMPLETED
    assert world.order(order_id).outcome == Outcome.PAID
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == total_ore(fee_ids)
    assert world.registrations(order_id) == sorted(fee_ids)
    assert world.open_reservation_ore(order_id) == 0


def assert_untouched_review(world: World, order_id: str) -> None:
    """In review with the card not charged and the reservation not released: staff decide."""
    assert world.state(order_id) is State.NEEDS_REVIEW
    assert world.charges(order_id) == 0
    assert world.open_reservation_ore(order_id) == TOTAL


# -- 1, 2: crashes and lost answers ---------------------------------------------------------


def test_1_crash_after_fbs_registration(
    world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = paid(world)
    crash_on_saving(monkeypatch, State.REGISTERED)
    with pytest.raises(Crash):
        world.advance(order_id)
    assert world.state(order_id) is State.RESERVED
    assert world.registrations(order_id) == sorted(PAYABLE)  # FBS has it; the portal does not know
    # The dead worker's lease holds everybody off until it runs out.
    assert machine.reconcile(world.rt) == 0
    assert world.advance(order_id) is State.RESERVED
    assert world.fbs.call_count(FBS_PAY) == 1
    frozen.advance(store.LEASE + timedelta(seconds=1))
    assert machine.reconcile(world.rt) == 1
    # FBS answers the repeated registration for the same order id as before: paid by us.
    assert world.fbs.call_count(FBS_PAY) == 2
    assert list(world.fbs.payments) == [order_id]
    assert_paid_in_full(world, order_id)


def test_2_crash_after_the_charge(world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    order_id = paid(world)
    crash_on_saving(monkeypatch, State.COMPLETED)
    with pytest.raises(Crash):
        world.advance(order_id)
    assert world.state(order_id) is State.REGISTERED
    assert world.charges(order_id) == 1
    frozen.advance(store.LEASE + timedelta(seconds=1))
    assert machine.reconcile(world.rt) == 1
    # The retry sent the same Idempotency-Key and got the first charge back, not a second one.
    assert world.nexi.call_count("charge") == 2
    assert_paid_in_full(world, order_id)
    assert world.order(order_id).charge_id == world.payment(order_id).charges[0]["chargeId"]


def test_2_timeout_after_the_charge(world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    order_id = paid(world)
    lose_answer_once(monkeypatch, NexiClient, "charge")
    assert world.advance(order_id) is State.REGISTERED
    assert world.charges(order_id) == 1  # Nexi did charge
    assert world.order(order_id).attempts == 1
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert world.nexi.call_count("charge") == 2
    assert_paid_in_full(world, order_id)


# -- 3, 4, 5: webhooks, returns, their order and absence ----------------------------------------


def test_3_duplicate_webhooks_sequentially(world: World) -> None:
    world.nexi.duplicate_webhooks = True
    order_id = paid(world)
    deliveries = world.nexi.deliveries
    assert [delivery.status for delivery in deliveries] == [200] * 4
    assert len(inbox(world, order_id)) == 2  # two events, each delivered twice
    assert world.advance(order_id) is State.COMPLETED
    world.nexi.wait_for_webhooks_sent()  # charge.created, twice
    for delivery in list(world.nexi.deliveries):  # and every event once more, later
        assert post_webhook(world, delivery.body, delivery.authorization) == 200
    assert len(inbox(world, order_id)) == 3
    drain(world)
    assert world.fbs.call_count(FBS_PAY) == 1
    assert_paid_in_full(world, order_id)


def test_3_same_webhook_concurrently(world: World) -> None:
    world.nexi.hold_webhooks()  # Nexi's own deliveries never arrive: the test posts them
    order_id = world.start().order_id
    world.pay_at_nexi(order_id)
    row = world.order(order_id)
    assert row.nexi_payment_id is not None
    body = webhook_body(row.nexi_payment_id)
    statuses: list[int] = []
    errors = together(*[lambda: statuses.append(post_webhook(world, body, row.webhook_token))] * 6)
    assert errors == []
    assert statuses == [200] * 6
    assert inbox(world, order_id) == [body["id"]]
    errors = together(*[lambda: world.advance(order_id)] * 4)
    assert errors == []
    drain(world)
    assert world.fbs.call_count(FBS_PAY) == 1
    assert_paid_in_full(world, order_id)


def test_4_webhooks_and_return_at_once(world: World) -> None:
    world.nexi.hold_webhooks()
    order_id = world.start().order_id
    world.pay_at_nexi(order_id)
    row = world.order(order_id)

    def webhooks_arrive() -> None:
        world.nexi.release_webhooks()
        world.nexi.wait_for_webhooks_sent()

    errors = together(
        webhooks_arrive,
        lambda: checkout.returned(world.rt, row),
        lambda: world.advance(order_id, "return"),
        lambda: world.advance(order_id, "webhook"),
        lambda: world.advance(order_id, "worker"),
    )
    assert errors == []
    drain(world)
    world.nexi.wait_for_webhooks_sent()  # charge.created, whoever charged
    drain(world)
    assert len(inbox(world, order_id)) == 3  # reservation.created, checkout.completed, charge.created
    assert world.fbs.call_count(FBS_PAY) == 1
    assert_paid_in_full(world, order_id)


def test_5_webhook_before_return(world: World) -> None:
    order_id = paid(world)
    assert world.enqueued == [order_id, order_id]  # each webhook asks the worker to advance
    drain(world)
    assert world.state(order_id) is State.COMPLETED
    world.nexi.wait_for_webhooks_sent()  # charge.created
    drain(world)
    checkout.returned(world.rt, world.order(order_id))  # the citizen comes back late
    assert world.enqueued == []  # a finished order is not advanced again
    assert_paid_in_full(world, order_id)


def test_5_return_before_webhook(world: World) -> None:
    world.nexi.hold_webhooks()
    order_id = world.start().order_id
    world.pay_at_nexi(order_id)
    checkout.returned(world.rt, world.order(order_id))
    assert world.enqueued == [order_id]
    drain(world)
    assert world.state(order_id) is State.COMPLETED
    world.nexi.release_webhooks()
    world.nexi.wait_for_webhooks_sent()
    assert [delivery.status for delivery in world.nexi.deliveries] == [200] * 3
    drain(world)
    assert world.fbs.call_count(FBS_PAY) == 1
    assert_paid_in_full(world, order_id)


def test_5_no_webhook_at_all(world: World, frozen: clock.FrozenClock) -> None:
    world.nexi.hold_webhooks()  # never released: lost, and a MobilePay citizen who never returns
    order_id = world.start().order_id
    world.pay_at_nexi(order_id, "MobilePay")
    assert machine.reconcile(world.rt) == 0  # the first look at the gateway is not due yet
    frozen.advance(machine.POLL_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert_paid_in_full(world, order_id)
    assert world.order(order_id).payment_method == "MobilePay"


# -- 6: webhook authentication ----------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "wrong-secret", "a" * 32])
def test_6_webhook_refused_without_the_order_secret(world: World, authorization: str | None) -> None:
    world.nexi.hold_webhooks()
    order_id = world.start().order_id
    world.pay_at_nexi(order_id)
    before = world.order(order_id)
    notes = history_notes(world, order_id)
    assert before.nexi_payment_id is not None
    assert post_webhook(world, webhook_body(before.nexi_payment_id), authorization) == 401
    after = world.order(order_id)
    assert inbox(world, order_id) == []
    assert history_notes(world, order_id) == notes
    assert (after.state, after.next_attempt_at) == (State.CHECKOUT_OPEN, before.next_attempt_at)
    assert world.enqueued == []


def test_6_another_orders_secret_is_refused(world: World) -> None:
    world.nexi.hold_webhooks()
    first = world.start((501,)).order_id
    second = world.start((502,)).order_id
    world.pay_at_nexi(first)
    payment_id = world.order(first).nexi_payment_id
    assert payment_id is not None
    assert post_webhook(world, webhook_body(payment_id), world.order(second).webhook_token) == 401
    assert inbox(world, first) == inbox(world, second) == []
    assert world.state(first) is State.CHECKOUT_OPEN


def test_6_unknown_payment_id(world: World) -> None:
    world.nexi.hold_webhooks()
    order_id = world.start().order_id
    world.pay_at_nexi(order_id)
    token = world.order(order_id).webhook_token
    notes = history_notes(world, order_id)
    # 200, so that Nexi stops re-posting an event we will never act on.
    assert post_webhook(world, webhook_body("0" * 32), token) == 200
    assert inbox(world, order_id) == []
    assert history_notes(world, order_id) == notes
    assert world.state(order_id) is State.CHECKOUT_OPEN
    assert world.enqueued == []


@pytest.mark.parametrize(
    "body",
    [{}, {"id": "1", "event": "payment.checkout.completed"}, {"id": 1, "event": "x", "data": {"paymentId": "p"}}],
)
def test_6_not_a_nexi_event(world: World, body: dict[str, Any]) -> None:
    assert post_webhook(world, body, "whatever") == 400
    assert world.enqueued == []


# -- 7, 8, 9, 11: what the gateway and FBS answer -----------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda payment: setattr(payment, "reserved", payment.reserved - 1), id="amount"),
        pytest.param(lambda payment: payment.order.update(currency="EUR"), id="currency"),
        pytest.param(lambda payment: payment.order.update(reference="GP-someone-else"), id="reference"),
    ],
)
def test_7_reservation_not_the_order(world: World, tamper: Callable[[Any], None]) -> None:
    order_id = paid(world)
    payment = world.payment(order_id)
    with world.nexi.lock:
        tamper(payment)
        held = payment.reserved
    assert world.advance(order_id) is State.CANCELLED
    row = world.order(order_id)
    assert row.outcome == Outcome.AMOUNT_MISMATCH
    assert world.fbs.call_count(FBS_PAY) == 0  # FBS never hears of a reservation that is not ours
    assert world.charges(order_id) == 0
    assert world.registrations(order_id) == []
    assert world.payment(order_id).cancelled == held
    assert world.open_reservation_ore(order_id) == 0


@pytest.mark.parametrize("elsewhere", ["counter", "another order"])
def test_8_all_fees_paid_elsewhere(world: World, elsewhere: str) -> None:
    order_id = paid(world)
    for fee_id in PAYABLE:
        if elsewhere == "counter":
            pay_at_counter(world, fee_id)
        else:  # a second tab's order, or the app, got FBS first
            world.fbs.paid_by[fee_id] = ("GP-other-tab", "2026-01-02")
    assert world.advance(order_id) is State.CANCELLED
    row = world.order(order_id)
    assert row.outcome == Outcome.REFUSED_BY_FBS
    assert row.fbs_answers == {str(fee_id): "paymentRegisteredByDifferentOrderId" for fee_id in PAYABLE}
    assert world.charges(order_id) == 0
    assert world.registrations(order_id) == []
    assert world.open_reservation_ore(order_id) == 0
    assert world.payment(order_id).cancelled == TOTAL


def test_9_mixed_fbs_answers(world: World) -> None:
    order_id = paid(world)
    pay_at_counter(world, 502)
    assert world.advance(order_id) is State.COMPLETED
    row = world.order(order_id)
    assert row.outcome == Outcome.PARTLY_PAID
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == TOTAL - AMOUNTS[502]
    assert world.registrations(order_id) == [501, 503, 504]
    assert world.payment(order_id).cancelled == AMOUNTS[502]
    assert world.open_reservation_ore(order_id) == 0


def test_9_unknown_fbs_statuses(world: World) -> None:
    order_id = paid(world)
    # FBS's answer for this order id, ready before the portal asks (FBS repeats its first answer):
    # one fee registered, one with a status FBS does not document, one left out, one refused.
    world.fbs.payments[order_id] = [
        {"orderId": order_id, "feeId": 501, "paymentStatus": "paymentRegistered", "confirmationId": "C-501"},
        {"orderId": order_id, "feeId": 502, "paymentStatus": "paymentPendingApproval"},
        {"orderId": order_id, "feeId": 504, "paymentStatus": "paymentNotAllowedByClient"},
    ]
    world.fbs.paid_by[501] = (order_id, "2026-01-02")
    assert world.advance(order_id) is State.COMPLETED
    row = world.order(order_id)
    assert row.fbs_answers == {
        "501": "paymentRegistered",
        "502": "unknown",
        "503": "unknown",
        "504": "paymentNotAllowedByClient",
    }
    assert row.outcome == Outcome.PARTLY_PAID
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == AMOUNTS[501]
    assert world.registrations(order_id) == [501]
    assert world.open_reservation_ore(order_id) == 0


def test_9_fbs_answer_about_another_order(world: World) -> None:
    order_id = paid(world)
    world.fbs.payments[order_id] = [
        {"orderId": "GP-not-ours", "feeId": fee_id, "paymentStatus": "paymentRegistered"} for fee_id in PAYABLE
    ]
    # An answer that is not about our order is not trusted: no charge, try again later.
    assert world.advance(order_id) is State.RESERVED
    assert world.order(order_id).attempts == 1
    assert world.charges(order_id) == 0
    assert world.open_reservation_ore(order_id) == TOTAL


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amount": 35}, id="amount changed"),
        pytest.param({"payableByClient": False}, id="handed over"),
        pytest.param(None, id="deleted"),
    ],
)
def test_11_fee_changed_before_registration(world: World, change: dict[str, Any] | None) -> None:
    order_id = paid(world, (501,))
    if change is None:
        with world.fbs.lock:
            world.fbs.fees[ANNE] = [fee for fee in world.fbs.fees[ANNE] if fee["feeId"] != 501]
    else:
        change_fee(world, 501, **change)
    assert world.advance(order_id) is State.CANCELLED
    row = world.order(order_id)
    assert row.outcome == Outcome.REFUSED_BY_FBS
    assert row.fbs_answers == {"501": machine.CHANGED}
    assert world.fbs.call_count(FBS_PAY) == 0  # nothing left to register
    assert world.charges(order_id) == 0
    assert world.registrations(order_id) == []
    assert world.open_reservation_ore(order_id) == 0


def test_11_one_fee_of_several_changed(world: World) -> None:
    order_id = paid(world)
    change_fee(world, 503, amount=99)
    assert world.advance(order_id) is State.COMPLETED
    assert world.order(order_id).fbs_answers == {
        "501": "paymentRegistered",
        "502": "paymentRegistered",
        "503": machine.CHANGED,
        "504": "paymentRegistered",
    }
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == TOTAL - AMOUNTS[503]
    assert world.registrations(order_id) == [501, 502, 504]
    assert world.open_reservation_ore(order_id) == 0


# -- 10: FBS down, then back -------------------------------------------------------------------


def test_10_fbs_down_then_back(world: World, frozen: clock.FrozenClock) -> None:
    order_id = paid(world)
    world.fbs.fail_next(2, status=503, endpoint=FBS_PAY)
    assert world.advance(order_id) is State.RESERVED
    assert world.order(order_id).attempts == 1
    # Backoff: nothing is tried again before the delay is up, however often asked.
    assert world.advance(order_id) is State.RESERVED
    frozen.advance(machine.RETRY_DELAYS[0] - timedelta(seconds=1))
    assert machine.reconcile(world.rt) == 0
    assert world.fbs.call_count(FBS_PAY) == 1
    frozen.advance(timedelta(seconds=1))
    assert machine.reconcile(world.rt) == 1
    assert world.order(order_id).attempts == 2
    assert world.fbs.call_count(FBS_PAY) == 2
    frozen.advance(machine.RETRY_DELAYS[1])
    assert machine.reconcile(world.rt) == 1
    assert world.fbs.call_count(FBS_PAY) == 3
    assert list(world.fbs.payments) == [order_id]  # the same order id all along
    assert_paid_in_full(world, order_id)


def test_10_fbs_rejects_the_session(world: World, frozen: clock.FrozenClock) -> None:
    order_id = paid(world)
    # 401 even after a fresh login: FBS is broken, not just our session timed out.
    world.fbs.fail_next(2, status=401, endpoint=FBS_PAY)
    assert world.advance(order_id) is State.RESERVED
    assert world.charges(order_id) == 0
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert_paid_in_full(world, order_id)


def test_10_fbs_timeout_after_registering(
    world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = paid(world)
    lose_answer_once(monkeypatch, FbsClient, "register_payment")
    assert world.advance(order_id) is State.RESERVED
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert world.charges(order_id) == 0
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert_paid_in_full(world, order_id)


def test_10_fbs_retries_used_up(world: World, frozen: clock.FrozenClock) -> None:
    order_id = paid(world)
    world.fbs.fail_next(100, status=500, endpoint=FBS_PAY)
    assert world.advance(order_id) is State.RESERVED
    for delay in machine.RETRY_DELAYS:
        frozen.advance(delay)
        assert machine.reconcile(world.rt) == 1
    assert world.fbs.call_count(FBS_PAY) == len(machine.RETRY_DELAYS) + 1
    assert_untouched_review(world, order_id)
    reason = world.review(order_id)
    assert reason.code is Code.GAVE_UP and reason.params == {"attempts": len(machine.RETRY_DELAYS) + 1}
    assert reason.cause is not None and reason.cause.code is Code.UPSTREAM_FAILED
    assert reason.cause.params["provider"] == "fbs"
    assert world.registrations(order_id) == []
    frozen.advance(timedelta(days=2))
    assert machine.reconcile(world.rt) == 0  # review is for staff: no more attempts
    assert world.fbs.call_count(FBS_PAY) == len(machine.RETRY_DELAYS) + 1


# -- 12, 13, 14: the charge and the reservation at the gateway -------------------------------------


@pytest.mark.parametrize("refusal", ["reservation_expired", "hard_decline"])
def test_12_charge_refused(world: World, refusal: str) -> None:
    order_id = paid(world)
    setattr(world.nexi, refusal, True)
    assert world.advance(order_id) is State.NEEDS_REVIEW
    assert world.registrations(order_id) == sorted(PAYABLE)  # FBS has them paid: staff must decide
    assert_untouched_review(world, order_id)
    assert world.review(order_id).code is Code.CHARGE_REFUSED
    assert world.nexi.call_count("charge") == 1
    assert world.nexi.call_count("cancel") == 0


def test_12_charge_failed_webhook(world: World, frozen: clock.FrozenClock) -> None:
    order_id = stuck_in_registered(world)
    world.nexi.hard_decline = True
    row = world.order(order_id)
    assert row.nexi_payment_id is not None
    assert post_webhook(world, webhook_body(row.nexi_payment_id, "payment.charge.failed"), row.webhook_token) == 200
    # The event only says "look again"; the backoff still holds.
    assert world.advance(order_id) is State.REGISTERED
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert_untouched_review(world, order_id)


def test_13_staff_charged_the_order(world: World, frozen: clock.FrozenClock) -> None:
    order_id = stuck_in_registered(world)
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/charges", {"amount": TOTAL}).status_code == 201
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1  # 1008 already charged, and GET shows exactly our amount
    assert_paid_in_full(world, order_id)
    assert world.order(order_id).charge_id is None


def test_13_staff_charged_another_amount(world: World, frozen: clock.FrozenClock) -> None:
    order_id = stuck_in_registered(world)
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/charges", {"amount": 1000}).status_code == 201
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1  # 1001 over-charge; GET shows 1000, not ours
    assert world.state(order_id) is State.NEEDS_REVIEW
    reason = world.review(order_id)
    assert reason.code is Code.CHARGE_DIFFERS
    assert (reason.params["charged_ore"], reason.params["charge_ore"]) == (1000, world.order(order_id).charge_ore)
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == 1000
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert world.open_reservation_ore(order_id) == TOTAL - 1000


@pytest.mark.parametrize("amount", [TOTAL, 1000])
@pytest.mark.parametrize("when", ["checkout open", "fbs down"])
def test_13_staff_charged_before_fbs(world: World, frozen: clock.FrozenClock, amount: int, when: str) -> None:
    order_id = paid(world)
    if when == "fbs down":
        world.fbs.fail_next(1, status=500, endpoint=FBS_PAY)
        assert world.advance(order_id) is State.RESERVED
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/charges", {"amount": amount}).status_code == 201
    frozen.advance(machine.RETRY_DELAYS[0])
    assert world.advance(order_id) is State.NEEDS_REVIEW
    # Seen by the checkout step (a charge) or by the registration step (less held than reserved).
    expected = (
        Reason(Code.CHARGED_BEFORE_FBS, {"charged_ore": amount})
        if when == "checkout open"
        else Reason(Code.RESERVATION_CHANGED, {"held_ore": TOTAL - amount, "total_ore": TOTAL})
    )
    assert world.review(order_id) == expected
    # Money taken for fees FBS was never told of: staff decide; nothing released, nothing registered.
    assert world.fbs.call_count(FBS_PAY) == (1 if when == "fbs down" else 0)
    assert world.registrations(order_id) == []
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == amount
    assert world.open_reservation_ore(order_id) == TOTAL - amount


def test_14_cancelled_at_the_gateway_after_fbs(world: World, frozen: clock.FrozenClock) -> None:
    order_id = stuck_in_registered(world)
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/cancels", {"amount": TOTAL}).status_code == 204
    world.nexi.wait_for_webhooks_sent()
    assert world.state(order_id) is State.NEEDS_REVIEW
    assert world.review(order_id).code is Code.CANCELLED_AFTER_REGISTERED
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 0
    drain(world)
    assert world.state(order_id) is State.NEEDS_REVIEW
    assert world.charges(order_id) == 0
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert world.open_reservation_ore(order_id) == 0


def test_14_cancel_webhook_lost(world: World, frozen: clock.FrozenClock) -> None:
    order_id = stuck_in_registered(world)
    world.nexi.hold_webhooks()
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/cancels", {"amount": TOTAL}).status_code == 204
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1  # the charge is refused; GET shows nothing charged
    assert world.state(order_id) is State.NEEDS_REVIEW
    reason = world.review(order_id)
    assert reason.code is Code.CHARGE_DIFFERS and reason.params["charged_ore"] == 0
    assert world.charges(order_id) == 0
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert world.open_reservation_ore(order_id) == 0


def test_14_cancelled_at_the_gateway_before_fbs(world: World, frozen: clock.FrozenClock) -> None:
    order_id = paid(world)
    world.fbs.fail_next(1, status=500, endpoint=FBS_PAY)
    assert world.advance(order_id) is State.RESERVED
    payment_id = world.payment(order_id).payment_id
    assert nexi_api(world, "POST", f"/v1/payments/{payment_id}/cancels", {"amount": TOTAL}).status_code == 204
    world.nexi.wait_for_webhooks_sent()
    frozen.advance(machine.RETRY_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert world.state(order_id) is State.CANCELLED
    assert world.fbs.call_count(FBS_PAY) == 1  # only the failed attempt
    assert world.registrations(order_id) == []
    assert world.charges(order_id) == 0
    assert world.open_reservation_ore(order_id) == 0


# -- 15, 16, 17: checkouts that go nowhere or twice -----------------------------------------------


def test_15_cancelled_at_the_hosted_page(world: World) -> None:
    order_id = world.start().order_id
    checkout.cancel_requested(world.rt, world.order(order_id))
    assert world.enqueued == [order_id]
    drain(world)
    row = world.order(order_id)
    assert (row.state, row.outcome) == (State.ABANDONED, Outcome.CANCELLED_BY_CITIZEN)
    assert row.patron_id is None
    assert world.nexi.call_count("terminate") == 1
    assert world.fbs.call_count(FBS_PAY) == 0
    # The fees are free for a new payment, and the old page cannot reserve any more.
    world.pay_at_nexi(order_id)
    assert world.payment(order_id).reserved == 0
    again = world.start().order_id
    assert again != order_id
    assert world.state(again) is State.CHECKOUT_OPEN


def test_15_tab_closed(world: World, frozen: clock.FrozenClock) -> None:
    order_id = world.start().order_id
    for delay in machine.POLL_DELAYS[:2]:  # polls find nothing reserved
        frozen.advance(delay)
        assert machine.reconcile(world.rt) == 1
        assert world.state(order_id) is State.CHECKOUT_OPEN
    frozen.advance(machine.CHECKOUT_LIFETIME)
    assert machine.reconcile(world.rt) == 1
    row = world.order(order_id)
    assert (row.state, row.outcome) == (State.ABANDONED, Outcome.CHECKOUT_EXPIRED)
    assert world.fbs.call_count(FBS_PAY) == 0
    assert world.nexi.call_count("charge") == 0
    assert world.start().order_id != order_id


def test_15_cancelled_after_paying_in_another_tab(world: World) -> None:
    order_id = paid(world)
    checkout.cancel_requested(world.rt, world.order(order_id))
    drain(world)
    # What the gateway holds wins over the cancel link: the card holds the money, so the order goes on.
    assert_paid_in_full(world, order_id)
    assert world.nexi.call_count("terminate") == 0


def test_16_double_pay(world: World) -> None:
    first = world.start()
    second = world.start()
    assert second == first
    assert world.nexi.call_count("create") == 1


def test_16_overlapping_checkout(world: World) -> None:
    first = world.start((501, 502)).order_id
    with pytest.raises(store.FeesHeld) as refused:
        world.start((502, 503))
    assert refused.value.order_id == first
    assert world.nexi.call_count("create") == 1
    assert world.start((503, 504)).order_id != first  # fees no live order holds are fine


def test_16_concurrent_pay_clicks(world: World) -> None:
    started: list[checkout.Started] = []
    errors = together(*[lambda: started.append(world.start())] * 4)
    assert all(isinstance(error, store.FeesHeld) for error in errors)
    assert len(started) + len(errors) == 4
    assert len({s.order_id for s in started}) == 1
    assert world.nexi.call_count("create") == 1


def test_17_create_payment_fails(world: World) -> None:
    world.nexi.fail_next(1, status=502)
    with pytest.raises(checkout.CheckoutFailed):
        world.start()
    assert len(world.nexi.payments) == 0
    assert world.fbs.call_count(FBS_PAY) == 0
    assert world.start().order_id  # the fees are free again


def test_17_create_payment_times_out(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    lose_answer_once(monkeypatch, NexiClient, "create_payment")
    with pytest.raises(checkout.CheckoutFailed):
        world.start()
    # Nexi made the payment; we never learnt its id, nor did the citizen see its page.
    [orphan] = world.nexi.payments.values()
    world.nexi.reserve(orphan, "Visa")
    world.nexi.wait_for_webhooks_sent()
    assert [delivery.status for delivery in world.nexi.deliveries] == [200, 200]
    assert world.enqueued == []
    assert world.fbs.call_count(FBS_PAY) == 0
    assert world.nexi.call_count("charge") == 0
    assert world.start().order_id  # the fees are free again


def test_17_create_answers_after_the_order_was_given_up(
    world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = NexiClient.create_payment

    def slow_create(self: NexiClient, *args: Any) -> Any:
        created = real(self, *args)
        # Meanwhile the reconciler finds the order still CREATED after the grace, and gives it up.
        frozen.advance(machine.CREATE_GRACE)
        assert machine.reconcile(world.rt) == 1
        return created

    monkeypatch.setattr(NexiClient, "create_payment", slow_create)
    with pytest.raises(checkout.CheckoutFailed):
        world.start()
    [payment] = world.nexi.payments.values()
    assert payment.terminated is not None  # nobody can reserve money on a page no order follows
    [row] = [world.order(order_id) for order_id in [payment.order["reference"]]]
    assert (row.state, row.outcome) == (State.CREATE_FAILED, Outcome.CREATE_FAILED)
    assert row.nexi_payment_id is None
    monkeypatch.setattr(NexiClient, "create_payment", real)
    assert world.start().order_id != row.order_id  # the fees are free again


# -- 18, 19, 20, 21, 22 -----------------------------------------------------------------------------


def test_18_rate_limited_retrieve(world: World, frozen: clock.FrozenClock) -> None:
    order_id = paid(world)
    world.nexi.retrieval_limit = 0
    assert world.advance(order_id) is State.CHECKOUT_OPEN
    row = world.order(order_id)
    assert row.attempts == 1
    # An open checkout backs off on its poll schedule (tests/payments/test_checkout_polling.py).
    assert row.next_attempt_at == clock.now() + machine.POLL_DELAYS[0]
    assert world.advance(order_id) is State.CHECKOUT_OPEN
    assert machine.reconcile(world.rt) == 0
    assert world.nexi.call_count("retrieve") == 1  # backed off: no second GET
    world.nexi.retrieval_limit = 30
    frozen.advance(machine.POLL_DELAYS[0])
    assert machine.reconcile(world.rt) == 1
    assert_paid_in_full(world, order_id)


def test_19_reconciler_and_workers_at_once(world: World) -> None:
    order_id = paid(world)
    delivery = world.nexi.deliveries[0]
    errors = together(
        lambda: machine.reconcile(world.rt),
        lambda: machine.reconcile(world.rt),
        lambda: world.advance(order_id, "worker"),
        lambda: world.advance(order_id, "worker"),
        lambda: post_webhook(world, delivery.body, delivery.authorization),
        lambda: checkout.returned(world.rt, world.order(order_id)),
    )
    assert errors == []
    world.nexi.wait_for_webhooks_sent()
    drain(world)
    assert world.fbs.call_count(FBS_PAY) == 1
    assert world.nexi.call_count("charge") == 1
    assert_paid_in_full(world, order_id)


def test_19_a_slow_worker_loses_the_compare_and_set(
    world: World, frozen: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = paid(world)
    real = FbsClient.register_payment
    overtaken: list[State | None] = []
    stalled: list[bool] = []

    def slow_register(self: FbsClient, *args: Any) -> Any:
        answer = real(self, *args)
        if not stalled:
            stalled.append(True)
            # This worker stalls past its lease; the reconciler takes the order and finishes it.
            frozen.advance(store.LEASE + timedelta(seconds=1))
            overtaken.append(world.advance(order_id, "reconciler"))
        return answer

    monkeypatch.setattr(FbsClient, "register_payment", slow_register)
    assert world.advance(order_id, "slow") is State.COMPLETED
    assert overtaken == [State.COMPLETED]
    assert world.fbs.call_count(FBS_PAY) == 2
    assert_paid_in_full(world, order_id)
    # The stalled worker's late move from RESERVED found the order elsewhere and changed nothing.
    with world.rt.sessions() as session:
        moves = [(event.from_state, event.to_state) for event in store.history(session, order_id) if event.to_state]
    assert moves == [
        (None, State.CREATED),
        (State.CREATED, State.CHECKOUT_OPEN),
        (State.CHECKOUT_OPEN, State.RESERVED),
        (State.RESERVED, State.REGISTERED),
        (State.REGISTERED, State.COMPLETED),
    ]


def test_19_transition_is_compare_and_set(world: World) -> None:
    order_id = world.start().order_id
    change = store.Change({}, None, "test", "test")
    with world.rt.sessions() as first, world.rt.sessions() as second:
        assert store.transition(first, order_id, State.CHECKOUT_OPEN, State.ABANDONED, change)
        # The second read CHECKOUT_OPEN too, before the first moved it: its move must fail.
        assert not store.transition(second, order_id, State.CHECKOUT_OPEN, State.RESERVED, change)
    assert world.state(order_id) is State.ABANDONED


def test_20_exact_ore(world: World) -> None:
    # Kroner as FBS sends them (JSON numbers); 0.1 + 0.2 in floats is not 0.3.
    change_fee(world, 501, amount=0.29)
    change_fee(world, 502, amount=0.1)
    change_fee(world, 503, amount=0.2)
    order_id = paid(world, (501, 502, 503))
    order = world.nexi.created_requests[-1]["order"]
    assert {item["reference"]: item["grossTotalAmount"] for item in order["items"]} == {"501": 29, "502": 10, "503": 20}
    assert order["amount"] == sum(item["grossTotalAmount"] for item in order["items"]) == 59
    assert world.order(order_id).total_ore == 59
    assert world.advance(order_id) is State.COMPLETED
    assert world.charged_ore(order_id) == 59
    assert world.charges(order_id) == 1


def test_21_another_citizens_order(world: World) -> None:
    order_id = world.start().order_id
    others = world.owner(1002)
    assert checkout.owned_order(world.rt, order_id, others, "lyngby") is None
    assert checkout.owned_order(world.rt, order_id, world.owner(), "rodovre") is None
    assert checkout.owned_order(world.rt, "GP-" + "0" * 24, world.owner(), "lyngby") is None
    own = checkout.owned_order(world.rt, order_id, world.owner(), "lyngby")
    assert own is not None and own.order_id == order_id


def test_22_purge_keeps_unfinished_orders(world: World, frozen: clock.FrozenClock) -> None:
    done = paid(world, (501,))
    assert world.advance(done) is State.COMPLETED
    world.nexi.hard_decline = True
    review = paid(world, (502,))
    assert world.advance(review) is State.NEEDS_REVIEW
    world.nexi.hard_decline = False
    open_checkout = world.start((503,)).order_id
    frozen.advance(timedelta(days=30))
    recent = world.start((504,)).order_id
    checkout.cancel_requested(world.rt, world.order(recent))
    drain(world)
    assert world.state(recent) is State.ABANDONED
    frozen.advance(timedelta(days=1))
    assert retention.purge(world.rt, 30) == 1
    with world.rt.sessions() as session:
        assert store.get_order(session, done) is None
        assert store.history(session, done) == []
        kept = {order_id: store.get_order(session, order_id) for order_id in (review, open_checkout, recent)}
        states = {order_id: State(row.state) if row else None for order_id, row in kept.items()}
    assert states == {review: State.NEEDS_REVIEW, open_checkout: State.CHECKOUT_OPEN, recent: State.ABANDONED}


def test_an_order_of_a_library_no_longer_served_goes_to_staff(world: World) -> None:
    order_id = paid(world)
    with world.rt.sessions() as session:
        session.execute(delete(LibraryRow).where(LibraryRow.slug == world.library.slug))
        session.commit()
    assert world.advance(order_id) is State.NEEDS_REVIEW
    assert world.review(order_id) == Reason(Code.LIBRARY_REMOVED)
    assert world.charges(order_id) == 0 and world.open_reservation_ore(order_id) == TOTAL
