"""Reading and moving payment orders in the database; every move is a compare-and-set.

`transition` changes an order's state only if it is still in the state the caller read
(`UPDATE … WHERE state = :from`): of two workers, webhooks or tabs acting on one order, exactly
one wins and the other learns it lost. The same UPDATE writes when the next step is due (the
outbox) and the transaction adds the history line, so state, next step and history never
disagree. `claim` is a lease: one worker at a time does an order's step; a crashed worker's
lease runs out and the reconciler takes over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import clock
from portal.domain.payment import OrderLine, OrderSnapshot
from portal.payments.models import PaymentEventRow, PaymentOrderFeeRow, PaymentOrderRow, PaymentWebhookRow
from portal.payments.reasons import Reason
from portal.payments.states import FINISHED, HOLDS_FEES, State

LEASE = timedelta(minutes=2)  # longer than any one step's upstream calls can take


class FeesHeld(Exception):
    """Some of the fees are in another live order already (`order_id`: which, when the caller may know)."""

    def __init__(self, order_id: str | None) -> None:
        super().__init__("fees already in a live payment")
        self.order_id = order_id


@dataclass(frozen=True)
class Change:
    """What a transition writes besides the state (None: leave as is, unless listed in `clear`)."""

    fields: dict[str, Any]
    next_attempt_at: datetime | None
    note: str
    source: str


def review_fields(why: Reason) -> dict[str, Any]:
    """The columns a move to review writes: the reason's code for the pages, its sentence for the rest."""
    return {"review_reason": why.english(), "review": why.stored()}


def owner_of(secret: str, agency_id: str, patron_id: int) -> str:
    """Who an order belongs to, as a keyed hash: checkable at every visit, kept after the patron id goes."""
    message = f"{agency_id}:{patron_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def snapshot_of(row: PaymentOrderRow) -> OrderSnapshot:
    return OrderSnapshot(
        row.order_id,
        tuple(OrderLine(int(line["fee_id"]), str(line["name"]), int(line["amount_ore"])) for line in row.lines),
    )


def insert_order(
    session: Session,
    *,
    order: OrderSnapshot,
    library_slug: str,
    agency_id: str,
    patron_id: int,
    owner: str,
    source: str,
    fbs_token: str | None = None,
) -> PaymentOrderRow:
    """Write a new CREATED order holding its fees, and commit. Raises FeesHeld (nothing written)."""
    now = clock.now()
    row = PaymentOrderRow(
        order_id=order.order_id,
        library_slug=library_slug,
        agency_id=agency_id,
        patron_id=patron_id,
        fbs_token=fbs_token,  # sealed by the caller (payments.order_token)
        owner=owner,
        lines=[{"fee_id": line.fee_id, "name": line.name, "amount_ore": line.amount_ore} for line in order.lines],
        total_ore=order.total_ore,
        state=State.CREATED.value,
        # 32 letters and digits: what Nexi accepts as a webhook's authorization.
        webhook_token=secrets.token_hex(16),
        # Made once, before the first charge attempt, and reused by every retry.
        charge_key=secrets.token_hex(16),
        attempts=0,
        next_attempt_at=now + timedelta(minutes=2),  # a request that dies mid-checkout is cleaned up
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()  # the order before the fees that point at it (no ORM relationship orders them)
    session.add_all(
        PaymentOrderFeeRow(agency_id=agency_id, fee_id=fee_id, order_id=order.order_id) for fee_id in order.fee_ids
    )
    session.add(
        _event(
            order.order_id, source, None, State.CREATED, f"order of {len(order.lines)} fee(s), {order.total_ore} øre"
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise FeesHeld(holder_of(session, agency_id, order.fee_ids)) from None
    return row


def holder_of(session: Session, agency_id: str, fee_ids: Iterable[int]) -> str | None:
    """The live order holding any of the fees, if one does."""
    query = select(PaymentOrderFeeRow.order_id).where(
        PaymentOrderFeeRow.agency_id == agency_id, PaymentOrderFeeRow.fee_id.in_(list(fee_ids))
    )
    return session.scalars(query.limit(1)).first()


def held_fees(session: Session, agency_id: str, patron_fee_ids: Iterable[int]) -> dict[int, str]:
    """{fee id: order id} of the given fees that a live order holds."""
    query = select(PaymentOrderFeeRow.fee_id, PaymentOrderFeeRow.order_id).where(
        PaymentOrderFeeRow.agency_id == agency_id, PaymentOrderFeeRow.fee_id.in_(list(patron_fee_ids))
    )
    return dict(session.execute(query).all())


def get_order(session: Session, order_id: str) -> PaymentOrderRow | None:
    session.expire_all()  # always the committed truth, never what this session read before
    return session.get(PaymentOrderRow, order_id)


def order_by_payment(session: Session, payment_id: str) -> PaymentOrderRow | None:
    return session.scalars(select(PaymentOrderRow).where(PaymentOrderRow.nexi_payment_id == payment_id)).first()


def orders_of(session: Session, library_slug: str, owner: str, limit: int = 20) -> Sequence[PaymentOrderRow]:
    """The owner's orders at the library, newest first."""
    query = (
        select(PaymentOrderRow)
        .where(PaymentOrderRow.library_slug == library_slug, PaymentOrderRow.owner == owner)
        .order_by(PaymentOrderRow.created_at.desc(), PaymentOrderRow.order_id)
        .limit(limit)
    )
    return session.scalars(query).all()


def due_orders(session: Session, limit: int = 100) -> list[str]:
    """Ids of orders whose next step is due and that no worker holds."""
    now = clock.now()
    query = (
        select(PaymentOrderRow.order_id)
        .where(
            PaymentOrderRow.next_attempt_at <= now,
            PaymentOrderRow.state.in_([state.value for state in HOLDS_FEES]),
            or_(PaymentOrderRow.lease_until.is_(None), PaymentOrderRow.lease_until < now),
        )
        .order_by(PaymentOrderRow.next_attempt_at)
        .limit(limit)
    )
    return list(session.scalars(query).all())


def claim(session: Session, order_id: str, worker: str) -> bool:
    """Take the order's lease for `worker`; False when another worker holds it."""
    now = clock.now()
    result = session.execute(
        update(PaymentOrderRow)
        .where(
            PaymentOrderRow.order_id == order_id,
            or_(
                PaymentOrderRow.lease_until.is_(None),
                PaymentOrderRow.lease_until < now,
                PaymentOrderRow.lease_owner == worker,
            ),
        )
        .values(lease_owner=worker, lease_until=now + LEASE)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_claim(session: Session, order_id: str, worker: str) -> None:
    session.execute(
        update(PaymentOrderRow)
        .where(PaymentOrderRow.order_id == order_id, PaymentOrderRow.lease_owner == worker)
        .values(lease_owner=None, lease_until=None)
    )
    session.commit()


def transition(session: Session, order_id: str, from_state: State, to_state: State, change: Change) -> bool:
    """Move the order from `from_state` to `to_state` with `change`, and commit; False if it was not there."""
    now = clock.now()
    values: dict[str, Any] = {**change.fields, "state": to_state.value, "updated_at": now}
    values["next_attempt_at"] = None if to_state in FINISHED else change.next_attempt_at
    if to_state != from_state:
        values.setdefault("attempts", 0)
    if to_state in FINISHED:
        # Nothing personal stays once the order is done: the owner hash still shows the receipt.
        values.update(patron_id=None, fbs_token=None, finished_at=now)
    elif to_state is State.NEEDS_REVIEW:
        # The machine stops here; staff act in FBS themselves, never with the borrower's token.
        values["fbs_token"] = None
    result = session.execute(
        update(PaymentOrderRow)
        .where(PaymentOrderRow.order_id == order_id, PaymentOrderRow.state == from_state.value)
        .values(**values)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    if to_state not in HOLDS_FEES:
        session.execute(delete(PaymentOrderFeeRow).where(PaymentOrderFeeRow.order_id == order_id))
    session.add(_event(order_id, change.source, from_state, to_state, change.note))
    session.commit()
    return True


def request_cancel(session: Session, order_id: str) -> None:
    """The citizen cancelled at the hosted page: the checkout step ends it once nothing is held."""
    session.execute(update(PaymentOrderRow).where(PaymentOrderRow.order_id == order_id).values(cancel_requested=True))
    session.commit()


def note(session: Session, order_id: str, source: str, text: str, *, due_now: bool = False) -> None:
    """Add a history line without a state change; `due_now`: the order's next step is due at once."""
    row = session.get(PaymentOrderRow, order_id)
    if row is None:
        return
    if due_now and row.state == State.CHECKOUT_OPEN:
        session.execute(
            update(PaymentOrderRow).where(PaymentOrderRow.order_id == order_id).values(next_attempt_at=clock.now())
        )
    session.add(_event(order_id, source, None, None, text))
    session.commit()


def record_webhook(session: Session, event_id: str, order_id: str, event: str) -> bool:
    """Put the event in the inbox, make the order's next step due, commit; False for a repeat."""
    session.add(PaymentWebhookRow(event_id=event_id, order_id=order_id, event=event, received_at=clock.now()))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    row = session.get(PaymentOrderRow, order_id)
    # Only a checkout waits on the gateway; any other step is due already, or backing off.
    if row is not None and row.state == State.CHECKOUT_OPEN:
        row.next_attempt_at = clock.now()
    session.add(_event(order_id, "webhook", None, None, f"webhook {event}"))
    session.commit()
    return True


def history(session: Session, order_id: str) -> Sequence[PaymentEventRow]:
    query = select(PaymentEventRow).where(PaymentEventRow.order_id == order_id).order_by(PaymentEventRow.id)
    return session.scalars(query).all()


def _event(order_id: str, source: str, from_state: State | None, to_state: State | None, text: str) -> PaymentEventRow:
    return PaymentEventRow(
        order_id=order_id,
        at=clock.now(),
        source=source,
        from_state=from_state.value if from_state else None,
        to_state=to_state.value if to_state else None,
        note=text,
    )
