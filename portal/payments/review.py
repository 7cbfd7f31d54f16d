"""Staff review of a library's card payment orders: the list, one order's report, resolving.

Plain Python (no Flask): the editor area's views call it with a database session. An order that
reached NEEDS_REVIEW waits for a person: staff check in FBS who paid each fee, charge or cancel
the reservation in the Nexi portal, and then mark the order resolved here with a note saying
what they did. Resolving is a compare-and-set like every other move, so two staff members (or
two tabs) cannot both resolve one order, and the second is told it was already done.

Everything here is scoped to one library: an order of another library is treated as missing,
so a URL with a foreign order id reveals nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.payments import reasons, store
from portal.payments.models import PaymentEventRow, PaymentOrderRow
from portal.payments.reasons import Reason
from portal.payments.states import State

MAX_NOTE_LENGTH = 2000  # enough for what was done and where; the note is shown on the report
RECENT_LIMIT = 50  # the recent list is an overview, not an archive
REVIEW_LIMIT = 500  # far more than ever wait at once; keeps one page bounded
_RESOLVED_BY_LENGTH = 300  # the column's size (PaymentOrderRow.resolved_by)
SOURCE = "staff"  # the history's source of a staff member's action


class ResolveRefused(Exception):
    """Resolving was refused and nothing changed; `code` says why (see the subclasses)."""

    code = "refused"


class NoteMissing(ResolveRefused):
    code = "note_missing"


class NoteTooLong(ResolveRefused):
    code = "note_too_long"


class OrderNotFound(ResolveRefused):
    """No such order at this library (another library's order counts as none)."""

    code = "not_found"


class NotInReview(ResolveRefused):
    """The order is not (or no longer) waiting for review: resolved already, or never sent there."""

    code = "not_in_review"

    def __init__(self, state: State, resolved_by: str | None) -> None:
        super().__init__(f"order is {state.value}")
        self.state = state
        self.resolved_by = resolved_by


@dataclass(frozen=True)
class OrderSummary:
    """One line of the library's list of orders."""

    order_id: str
    state: State
    outcome: str | None
    total_ore: int
    fee_count: int
    attempts: int
    review_reason: str | None  # the English sentence; all an order from before reason codes has
    review: Reason | None  # the same, as a code the pages word for staff
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderList:
    """What waits for staff, and the latest of the rest (optionally of one state)."""

    needs_review: tuple[OrderSummary, ...]
    recent: tuple[OrderSummary, ...]
    state: State | None  # the filter of `recent`; None: every state but NEEDS_REVIEW


@dataclass(frozen=True)
class FeeLine:
    fee_id: int
    name: str
    amount_ore: int
    fbs_answer: str | None  # None: FBS has not answered for this fee (yet)


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    source: str
    from_state: str | None
    to_state: str | None
    note: str


@dataclass(frozen=True)
class OrderReport:
    """Everything staff need to settle one order by hand, and nothing personal beyond that."""

    order_id: str
    library_slug: str
    state: State
    outcome: str | None
    nexi_payment_id: str | None
    charge_id: str | None
    fees: tuple[FeeLine, ...]
    total_ore: int
    charge_ore: int | None
    release_ore: int | None
    attempts: int
    review_reason: str | None  # the English sentence; all an order from before reason codes has
    review: Reason | None  # the same, as a code the pages word for staff
    # Shown so staff can find the patron in FBS; store.transition clears it once the order is done.
    patron_id: int | None
    resolved_by: str | None
    resolution_note: str | None
    created_at: datetime
    finished_at: datetime | None
    history: tuple[HistoryLine, ...]

    @property
    def needs_review(self) -> bool:
        return self.state is State.NEEDS_REVIEW


def parse_state(value: str | None) -> State | None:
    """The list's state filter from a query string; anything unknown means no filter."""
    try:
        return State(value) if value else None
    except ValueError:
        return None


def list_orders(session: Session, library_slug: str, state: State | None = None) -> OrderList:
    """The library's orders waiting for review (oldest first: they have waited longest), then recent ones."""
    waiting = _orders(session, library_slug, State.NEEDS_REVIEW, REVIEW_LIMIT, oldest_first=True)
    recent: Sequence[PaymentOrderRow]
    if state is State.NEEDS_REVIEW:
        recent = ()  # already listed in full above
    else:
        recent = _orders(session, library_slug, state, RECENT_LIMIT, oldest_first=False)
    return OrderList(tuple(map(_summary, waiting)), tuple(map(_summary, recent)), state)


def load_report(session: Session, library_slug: str, order_id: str) -> OrderReport | None:
    """One order of the library with its whole history; None for a missing or foreign order."""
    row = _order_of(session, library_slug, order_id)
    if row is None:
        return None
    return _report(row, store.history(session, order_id))


def resolve(session: Session, library_slug: str, order_id: str, by: str, note: str) -> OrderReport:
    """Mark a NEEDS_REVIEW order resolved with staff's note of what they did; raises ResolveRefused."""
    row = _order_of(session, library_slug, order_id)
    if row is None:
        raise OrderNotFound(order_id)
    if row.state != State.NEEDS_REVIEW:
        # Before the note: an order no longer waiting shows no note field to put a message next to.
        raise NotInReview(State(row.state), row.resolved_by)
    text = check_note(note)
    change = store.Change(
        {"resolved_by": by[:_RESOLVED_BY_LENGTH], "resolution_note": text},
        None,
        # The history never holds personal data: who and what are on the order row instead.
        "marked resolved by staff",
        SOURCE,
    )
    if not store.transition(session, order_id, State.NEEDS_REVIEW, State.RESOLVED, change):
        # Someone else resolved it between our read and our write: theirs stands.
        current = _order_of(session, library_slug, order_id)
        raise NotInReview(State(current.state) if current else State.RESOLVED, current.resolved_by if current else None)
    report = load_report(session, library_slug, order_id)
    assert report is not None  # resolved orders are kept (retention never purges them at once)
    return report


def check_note(note: str) -> str:
    """The note as stored (surrounding whitespace dropped); raises NoteMissing or NoteTooLong."""
    text = note.strip()
    if not text:
        raise NoteMissing()
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteTooLong()
    return text


def _orders(
    session: Session, library_slug: str, state: State | None, limit: int, *, oldest_first: bool
) -> Sequence[PaymentOrderRow]:
    query = select(PaymentOrderRow).where(PaymentOrderRow.library_slug == library_slug)
    if state is None:
        query = query.where(PaymentOrderRow.state != State.NEEDS_REVIEW.value)
    else:
        query = query.where(PaymentOrderRow.state == state.value)
    order = PaymentOrderRow.updated_at if oldest_first else PaymentOrderRow.created_at.desc()
    return session.scalars(query.order_by(order, PaymentOrderRow.order_id).limit(limit)).all()


def _order_of(session: Session, library_slug: str, order_id: str) -> PaymentOrderRow | None:
    row = store.get_order(session, order_id)
    return row if row is not None and row.library_slug == library_slug else None


def _summary(row: PaymentOrderRow) -> OrderSummary:
    return OrderSummary(
        order_id=row.order_id,
        state=State(row.state),
        outcome=row.outcome,
        total_ore=row.total_ore,
        fee_count=len(row.lines),
        attempts=row.attempts,
        review_reason=row.review_reason,
        review=reasons.from_stored(row.review),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _report(row: PaymentOrderRow, events: Sequence[PaymentEventRow]) -> OrderReport:
    answers = row.fbs_answers or {}
    fees = tuple(
        FeeLine(line.fee_id, line.name, line.amount_ore, answers.get(str(line.fee_id)))
        for line in store.snapshot_of(row).lines
    )
    history = tuple(HistoryLine(e.at, e.source, e.from_state, e.to_state, e.note) for e in events)
    return OrderReport(
        order_id=row.order_id,
        library_slug=row.library_slug,
        state=State(row.state),
        outcome=row.outcome,
        nexi_payment_id=row.nexi_payment_id,
        charge_id=row.charge_id,
        fees=fees,
        total_ore=row.total_ore,
        charge_ore=row.charge_ore,
        release_ore=row.release_ore,
        attempts=row.attempts,
        review_reason=row.review_reason,
        review=reasons.from_stored(row.review),
        patron_id=row.patron_id,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
        created_at=row.created_at,
        finished_at=row.finished_at,
        history=history,
    )
