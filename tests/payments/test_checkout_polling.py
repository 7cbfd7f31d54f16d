"""An open checkout through gateway trouble: it keeps polling, and ends or goes to staff only when it must.

The checkout is the one state that waits on the citizen, so gateway errors there must not use
up the retries meant for money already reserved: it keeps its poll schedule until the checkout
has ended and the gateway stayed unreachable for a day.
"""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.payments.machine import CHECKOUT_LIFETIME, GATEWAY_PATIENCE, POLL_DELAYS
from portal.payments.reasons import Code
from portal.payments.states import Outcome, State
from tests.payments.conftest import World


def test_gateway_errors_keep_an_open_checkout_on_its_poll_schedule(world: World) -> None:
    order_id = world.start().order_id
    with clock.frozen(clock.now()) as frozen:
        world.nexi.fail_next(100, status=503)
        for _ in range(10):  # more failures than the retries of any other state allow
            frozen.advance(POLL_DELAYS[-1])
            assert world.advance(order_id) is State.CHECKOUT_OPEN
            due = world.order(order_id).next_attempt_at
            assert due is not None and due - clock.now() <= POLL_DELAYS[-1]
        world.nexi.reset_faults()
        world.pay_at_nexi(order_id)
        frozen.advance(POLL_DELAYS[-1])
        assert world.advance(order_id) is State.COMPLETED
    assert world.charges(order_id) == 1


def test_a_gateway_unreachable_a_day_after_the_checkout_ended_sends_it_to_staff(world: World) -> None:
    order_id = world.start().order_id
    with clock.frozen(clock.now()) as frozen:
        world.nexi.fail_next(1000, status=503)
        frozen.advance(CHECKOUT_LIFETIME + GATEWAY_PATIENCE - timedelta(minutes=1))
        assert world.advance(order_id) is State.CHECKOUT_OPEN
        frozen.advance(POLL_DELAYS[-1])
        assert world.advance(order_id) is State.NEEDS_REVIEW
    reason = world.review(order_id)
    assert reason.code is Code.GATEWAY_SILENT
    assert reason.cause is not None and reason.cause.code is Code.UPSTREAM_FAILED
    assert reason.cause.params["provider"] == "nexi"
    assert world.open_reservation_ore(order_id) == 0
    assert world.registrations(order_id) == []


def test_a_payment_the_gateway_does_not_know_ends_once_the_citizen_left_it(world: World) -> None:
    started = world.start()
    order = world.order(started.order_id)
    assert order.nexi_payment_id is not None
    with world.nexi.lock:
        del world.nexi.payments[order.nexi_payment_id]  # e.g. the demo's simulator restarted
    with clock.frozen(clock.now()) as frozen:
        frozen.advance(POLL_DELAYS[0])
        assert world.advance(started.order_id) is State.CHECKOUT_OPEN  # still open: it may yet appear
        frozen.advance(CHECKOUT_LIFETIME)
        assert world.advance(started.order_id) is State.ABANDONED
    assert world.order(started.order_id).outcome == Outcome.CHECKOUT_EXPIRED
    assert world.registrations(started.order_id) == []
    # The fees are free for a new payment.
    assert world.state(world.start().order_id) is State.CHECKOUT_OPEN
