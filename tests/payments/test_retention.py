"""Retention: personal data leaves an order when it finishes; finished orders go after the retention; others never."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.domain.payment import OrderLine, OrderSnapshot, new_order_id
from portal.payments import retention, store
from portal.payments.models import PaymentEventRow, PaymentOrderRow
from portal.payments.states import FINISHED, HOLDS_FEES, State
from tests.payments.conftest import ANNE, World

DAYS = 30


def order_in(world: World, state: State, fee_id: int) -> str:
    """An order of one fee moved straight to `state` (the table's rules, not the machine's)."""
    order = OrderSnapshot(new_order_id(), (OrderLine(fee_id, "Gebyr", 1000),))
    with world.rt.sessions() as session:
        store.insert_order(
            session,
            order=order,
            library_slug="lyngby",
            agency_id="DK-717300",
            patron_id=ANNE,
            owner=world.owner(),
            source="test",
        )
        if state is not State.CREATED:
            change = store.Change({}, None, "moved by the test", "test")
            assert store.transition(session, order.order_id, State.CREATED, state, change)
    return order.order_id


def remaining(world: World) -> set[str]:
    with world.rt.sessions() as session:
        return set(session.scalars(select(PaymentOrderRow.order_id)).all())


def test_finishing_clears_the_patron_id_and_frees_the_fees(world: World) -> None:
    order_id = order_in(world, State.COMPLETED, 9001)
    row = world.order(order_id)
    assert row.patron_id is None
    assert row.finished_at is not None
    assert row.owner == world.owner()  # the receipt stays the citizen's
    with world.rt.sessions() as session:
        assert store.held_fees(session, "DK-717300", [9001]) == {}


def test_an_order_in_review_keeps_its_patron_and_its_fees(world: World) -> None:
    order_id = order_in(world, State.NEEDS_REVIEW, 9002)
    assert world.order(order_id).patron_id == ANNE  # staff need to find the borrower
    with world.rt.sessions() as session:
        assert store.held_fees(session, "DK-717300", [9002]) == {9002: order_id}


def test_the_purge_takes_only_finished_orders_past_the_retention(world: World) -> None:
    states = sorted(FINISHED | HOLDS_FEES)
    with clock.frozen(clock.now()) as frozen:
        old = {state: order_in(world, state, 9100 + n) for n, state in enumerate(states)}
        frozen.advance(timedelta(days=DAYS, seconds=1))
        recent = order_in(world, State.COMPLETED, 9200)
        assert retention.purge(world.rt, DAYS) == len(FINISHED)
    kept = remaining(world)
    assert kept == {old[state] for state in HOLDS_FEES} | {recent}
    with world.rt.sessions() as session:
        orphans = session.scalar(
            select(func.count()).select_from(PaymentEventRow).where(PaymentEventRow.order_id.not_in(kept))
        )
    assert orphans == 0  # the history goes with its order


def test_the_purge_keeps_a_finished_order_inside_the_retention(world: World) -> None:
    with clock.frozen(clock.now()) as frozen:
        order_id = order_in(world, State.CANCELLED, 9300)
        frozen.advance(timedelta(days=DAYS) - timedelta(seconds=1))
        assert retention.purge(world.rt, DAYS) == 0
    assert order_id in remaining(world)
