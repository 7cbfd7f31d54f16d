"""Card payments' store on a real PostgreSQL: the compare-and-set, the lease, the inbox and the fee hold.

SQLite serialises every writer, so there the races below cannot even happen; PostgreSQL runs
them truly at once (READ COMMITTED, row locks), as two gunicorn workers or two worker processes
would. Each race starts its parties at one barrier and checks that exactly one of them won.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from portal.domain.payment import OrderLine, OrderSnapshot
from portal.payments import checkout, store
from portal.payments.models import PaymentOrderRow
from portal.payments.states import State
from tests.payments.conftest import ANNE, PAYABLE, World, history_notes, inbox, post_webhook, webhook_body
from tests.scaleout.races import PARTIES, at_once


def paid_at_nexi(world: World) -> str:
    started = world.start()
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    return started.order_id


def order_count(world: World) -> int:
    with world.rt.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PaymentOrderRow)) or 0)


def test_the_database_is_postgresql(world: World) -> None:
    # Guards every test below: a fixture falling back to SQLite would make them prove nothing.
    assert world.app.extensions["portal.db.engine"].dialect.name == "postgresql"


def test_a_card_payment_goes_through_on_postgresql(world: World) -> None:
    order_id = paid_at_nexi(world)
    assert world.enqueued == [order_id, order_id]  # Nexi's two webhooks each asked for a step
    assert world.advance(order_id) is State.COMPLETED
    assert world.charges(order_id) == 1
    assert world.registrations(order_id) == sorted(PAYABLE)
    row = world.order(order_id)
    assert row.patron_id is None and row.finished_at is not None  # nothing personal kept


def test_two_workers_cannot_take_one_order_at_once(world: World) -> None:
    order_id = world.start().order_id

    def claim(i: int) -> bool:
        with world.rt.sessions() as session:
            return store.claim(session, order_id, f"worker-{i}")

    results = at_once(claim)
    assert sorted(results, key=str) == [False] * (PARTIES - 1) + [True], results
    winner = f"worker-{results.index(True)}"
    assert world.order(order_id).lease_owner == winner


def test_of_concurrent_transitions_from_one_state_exactly_one_wins(world: World) -> None:
    order_id = world.start().order_id

    def cancel(i: int) -> bool:
        with world.rt.sessions() as session:
            change = store.Change({}, None, f"party {i}", "test")
            return store.transition(session, order_id, State.CHECKOUT_OPEN, State.CANCELLING, change)

    results = at_once(cancel)
    assert results.count(True) == 1, results
    assert results.count(False) == PARTIES - 1, results
    # One history line for the one move that happened.
    assert [note for note in history_notes(world, order_id) if note.startswith("party ")] == [
        f"party {results.index(True)}"
    ]


def test_concurrent_advances_register_and_charge_once(world: World) -> None:
    order_id = paid_at_nexi(world)
    results = at_once(lambda i: world.advance(order_id, f"party-{i}"))
    assert all(not isinstance(result, BaseException) for result in results), results
    assert world.state(order_id) is State.COMPLETED
    assert world.charges(order_id) == 1
    assert world.charged_ore(order_id) == world.order(order_id).total_ore
    assert world.registrations(order_id) == sorted(PAYABLE)
    assert world.fbs.call_count("payment") == 1


def test_a_webhook_posted_again_at_the_same_moment_is_taken_once(world: World) -> None:
    order_id = world.start().order_id
    row = world.order(order_id)
    assert row.nexi_payment_id is not None
    body = webhook_body(row.nexi_payment_id, event_id=uuid.uuid4().hex)
    answers = at_once(lambda _i: post_webhook(world, body, row.webhook_token))
    assert answers == [200] * PARTIES  # a repeat is answered 200, or Nexi would post it again
    assert inbox(world, order_id) == [body["id"]]
    assert history_notes(world, order_id).count(f"webhook {body['event']}") == 1
    assert world.enqueued == [order_id]  # one step asked for, by the one delivery that counted


def test_two_orders_for_the_same_fee_cannot_both_hold_it(world: World) -> None:
    library = world.library
    owner = world.owner()
    orders = [
        OrderSnapshot(f"order-{i}-{uuid.uuid4().hex[:8]}", (OrderLine(501, "Gebyr", 3000),)) for i in range(PARTIES)
    ]

    def insert(i: int) -> str:
        with world.rt.sessions() as session:
            row = store.insert_order(
                session,
                order=orders[i],
                library_slug=library.slug,
                agency_id=library.agency_id,
                patron_id=ANNE,
                owner=owner,
                source="test",
            )
            return row.order_id

    results = at_once(insert)
    won = [result for result in results if isinstance(result, str)]
    lost = [result for result in results if isinstance(result, store.FeesHeld)]
    assert len(won) == 1 and len(lost) == PARTIES - 1, results
    # Each loser learns which order holds the fee (the page links to it), and nothing of its own was written.
    assert {held.order_id for held in lost} == {won[0]}
    assert order_count(world) == 1


def test_a_double_click_at_the_same_moment_opens_one_checkout(world: World) -> None:
    results = at_once(lambda _i: world.start(), parties=2)
    started = [result for result in results if isinstance(result, checkout.Started)]
    held = [result for result in results if isinstance(result, store.FeesHeld)]
    assert len(started) + len(held) == 2, results
    # One order and one payment at Nexi; the other click got that checkout back, or (still being
    # opened) a refusal naming it.
    assert order_count(world) == 1
    assert world.nexi.call_count("create") == 1
    order_ids = {result.order_id for result in started} | {result.order_id for result in held}
    assert len(order_ids) == 1 and None not in order_ids
