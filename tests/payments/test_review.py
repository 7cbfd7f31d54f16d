"""Staff review of payment orders (portal.payments.review), on a real database, without Flask requests.

Orders are written with `store.insert_order` and moved with `store.transition`, as the machine
would leave them; no gateway or FBS takes part. `lyngby-boern` shares Lyngby's slug as a prefix:
its orders must never show up at Lyngby.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock, create_app
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.domain.payment import OrderLine, OrderSnapshot, new_order_id
from portal.payments import review, store
from portal.payments.models import PaymentOrderFeeRow
from portal.payments.setup import RUNTIME_KEY
from portal.payments.states import State
from tests.support.settings import test_settings

STAFF = "Lone Lyngby (editor-lone)"
PATRON = 1001
_fee_ids = itertools.count(700)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[Callable[[], Session]]:
    app = create_app(
        test_settings(
            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            PORTAL_LIBRARIES_FILE=str(DEMO_LIBRARIES_FILE),
        )
    )
    yield app.extensions[RUNTIME_KEY].sessions


@pytest.fixture
def session(sessions: Callable[[], Session]) -> Iterator[Session]:
    with sessions() as opened:
        yield opened


def make_order(session: Session, slug: str = "lyngby", to: State = State.NEEDS_REVIEW, **fields: object) -> str:
    lines = (OrderLine(next(_fee_ids), "For sent afleveret", 3000), OrderLine(next(_fee_ids), "Erstatning", 24950))
    order = OrderSnapshot(new_order_id(), lines)
    store.insert_order(
        session, order=order, library_slug=slug, agency_id="DK-717300", patron_id=PATRON, owner="o", source="test"
    )
    if to is not State.CREATED:
        reason = {"review_reason": "charge refused"} if to is State.NEEDS_REVIEW else {}
        change = store.Change({**reason, **fields}, None, f"to {to.value}", "test")
        assert store.transition(session, order.order_id, State.CREATED, to, change)
    return order.order_id


def fingerprint(session: Session, order_id: str) -> tuple[object, ...]:
    row = store.get_order(session, order_id)
    assert row is not None
    return row.state, row.resolved_by, row.resolution_note, row.patron_id, len(store.history(session, order_id))


def test_the_list_puts_orders_waiting_for_review_first_and_keeps_to_the_library(session: Session) -> None:
    with clock.frozen(datetime(2026, 11, 2, 10, 0)) as frozen:
        first = make_order(session)
        frozen.advance(timedelta(hours=1))
        completed = make_order(session, to=State.COMPLETED)
        frozen.advance(timedelta(hours=1))
        second = make_order(session)
        open_checkout = make_order(session, to=State.CHECKOUT_OPEN)
        foreign = make_order(session, "lyngby-boern")
        foreign_done = make_order(session, "lyngby-boern", to=State.COMPLETED)

    listed = review.list_orders(session, "lyngby")

    # The one that has waited longest first.
    assert [order.order_id for order in listed.needs_review] == [first, second]
    assert all(order.review_reason == "charge refused" for order in listed.needs_review)
    # Listed once: the recent orders are those not waiting for review.
    assert {order.order_id for order in listed.recent} == {completed, open_checkout}
    shown = {order.order_id for order in (*listed.needs_review, *listed.recent)}
    assert foreign not in shown and foreign_done not in shown
    assert [order.order_id for order in review.list_orders(session, "lyngby-boern").needs_review] == [foreign]


def test_the_state_filter(session: Session) -> None:
    waiting = make_order(session)
    completed = make_order(session, to=State.COMPLETED)
    make_order(session, to=State.CANCELLED)

    only_completed = review.list_orders(session, "lyngby", State.COMPLETED)
    assert [order.order_id for order in only_completed.recent] == [completed]
    assert [order.order_id for order in only_completed.needs_review] == [waiting]  # always shown
    assert review.list_orders(session, "lyngby", State.NEEDS_REVIEW).recent == ()
    assert review.parse_state("completed") is State.COMPLETED
    assert (
        review.parse_state("nonsense") is None and review.parse_state("") is None and review.parse_state(None) is None
    )


def test_the_report_holds_fees_answers_amounts_and_history(session: Session) -> None:
    order_id = make_order(session)
    row = store.get_order(session, order_id)
    assert row is not None
    fee_ids = [int(line["fee_id"]) for line in row.lines]
    answers = {str(fee_ids[0]): "paymentRegistered", str(fee_ids[1]): "paymentRegisteredByDifferentOrderId"}
    # What the machine writes once FBS has answered (the answers, what to charge and release).
    assert store.transition(
        session,
        order_id,
        State.NEEDS_REVIEW,
        State.NEEDS_REVIEW,
        store.Change({"fbs_answers": answers, "charge_ore": 3000, "release_ore": 24950}, None, "answers", "test"),
    )

    report = review.load_report(session, "lyngby", order_id)

    assert report is not None and report.needs_review
    assert [(fee.fee_id, fee.name, fee.amount_ore, fee.fbs_answer) for fee in report.fees] == [
        (fee_ids[0], "For sent afleveret", 3000, "paymentRegistered"),
        (fee_ids[1], "Erstatning", 24950, "paymentRegisteredByDifferentOrderId"),
    ]
    assert (report.total_ore, report.charge_ore, report.release_ore) == (27950, 3000, 24950)
    assert report.review_reason == "charge refused" and report.patron_id == PATRON
    assert [(line.from_state, line.to_state) for line in report.history] == [
        (None, "created"),
        ("created", "needs_review"),
        ("needs_review", "needs_review"),
    ]


def test_a_foreign_or_unknown_order_has_no_report(session: Session) -> None:
    foreign = make_order(session, "lyngby-boern")
    assert review.load_report(session, "lyngby", foreign) is None
    assert review.load_report(session, "lyngby", "GP-nothing") is None
    with pytest.raises(review.OrderNotFound):
        review.resolve(session, "lyngby", foreign, STAFF, "cancelled in Nexi")
    assert fingerprint(session, foreign)[0] == State.NEEDS_REVIEW


def test_resolving_records_who_and_what_and_clears_the_patron(session: Session) -> None:
    order_id = make_order(session)

    report = review.resolve(session, "lyngby", order_id, STAFF, "  Charged fee 1 in the Nexi portal.  ")

    assert report.state is State.RESOLVED and not report.needs_review
    assert (report.resolved_by, report.resolution_note) == (STAFF, "Charged fee 1 in the Nexi portal.")
    assert report.patron_id is None and report.finished_at is not None
    last = report.history[-1]
    assert (last.source, last.from_state, last.to_state) == ("staff", "needs_review", "resolved")
    # The history stays free of what staff typed (it may name people): that is on the order.
    assert "Nexi" not in last.note and "Lone" not in last.note
    # The fees are free again: the order no longer holds them.
    assert session.scalars(select(PaymentOrderFeeRow).where(PaymentOrderFeeRow.order_id == order_id)).all() == []


def test_a_second_resolve_is_refused_and_changes_nothing(session: Session) -> None:
    order_id = make_order(session)
    review.resolve(session, "lyngby", order_id, STAFF, "Cancelled the reservation")
    before = fingerprint(session, order_id)

    with pytest.raises(review.NotInReview) as refused:
        review.resolve(session, "lyngby", order_id, "Ada Admin (editor-ada)", "Charged it")

    assert refused.value.state is State.RESOLVED and refused.value.resolved_by == STAFF
    assert fingerprint(session, order_id) == before


def test_an_order_not_in_review_cannot_be_resolved(session: Session) -> None:
    order_id = make_order(session, to=State.RESERVED)
    before = fingerprint(session, order_id)
    with pytest.raises(review.NotInReview) as refused:
        review.resolve(session, "lyngby", order_id, STAFF, "done")
    assert refused.value.state is State.RESERVED and refused.value.resolved_by is None
    assert fingerprint(session, order_id) == before


@pytest.mark.parametrize(
    "note,refusal",
    [
        ("", review.NoteMissing),
        ("   \n ", review.NoteMissing),
        ("x" * (review.MAX_NOTE_LENGTH + 1), review.NoteTooLong),
    ],
)
def test_the_note_is_required_and_bounded(session: Session, note: str, refusal: type[review.ResolveRefused]) -> None:
    order_id = make_order(session)
    before = fingerprint(session, order_id)
    with pytest.raises(refusal):
        review.resolve(session, "lyngby", order_id, STAFF, note)
    assert fingerprint(session, order_id) == before
    # The longest note allowed goes through.
    assert review.resolve(session, "lyngby", order_id, STAFF, "y" * review.MAX_NOTE_LENGTH).state is State.RESOLVED


def test_of_two_resolving_at_once_the_first_wins(
    session: Session, sessions: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = make_order(session)
    real_transition = store.transition

    def another_staff_member_first(*args: object, **kwargs: object) -> bool:
        # Between our read and our write, a colleague resolves the order in their own session.
        with sessions() as theirs:
            change = store.Change({"resolved_by": "Bente", "resolution_note": "Cancelled"}, None, "resolved", "staff")
            assert real_transition(theirs, order_id, State.NEEDS_REVIEW, State.RESOLVED, change)
        return real_transition(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "transition", another_staff_member_first)
    with pytest.raises(review.NotInReview) as refused:
        review.resolve(session, "lyngby", order_id, STAFF, "Charged it")
    assert refused.value.resolved_by == "Bente"
    monkeypatch.undo()
    assert fingerprint(session, order_id)[:3] == (State.RESOLVED, "Bente", "Cancelled")
