"""Database tables of card payments. Only the Alembic migration 0004 creates them.

- `payment_orders`: one row per order. `next_attempt_at` is the outbox: the transaction that
  changes an order's state also writes when its next step is due, so a crash between a commit
  and the queue never loses a step (the reconciler picks up whatever is due).
  `lease_owner`/`lease_until` keep two workers off one order at once.
- `payment_order_fees`: the fees live orders hold, one row per (agency, fee): the primary key
  is what stops one fee going into two payments, whichever process or tab asks.
- `payment_events`: the order's history, for staff. Never personal data.
- `payment_webhooks`: the inbox; the event id is the key, so a re-posted event is seen once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.libraries.models import UtcDateTime

_ORDER_FK = "payment_orders.order_id"


class PaymentOrderRow(Base):
    __tablename__ = "payment_orders"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    library_slug: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[str] = mapped_column(String(16))
    patron_id: Mapped[int | None] = mapped_column(Integer)  # cleared when the order is finished
    # DBC's adapter only: the borrower's user token, encrypted (payments/order_token.py); cleared once
    # FBS has answered, and when the order is finished.
    fbs_token: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash of agency + patron id
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{fee_id, name, amount_ore}]
    total_ore: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    nexi_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    hosted_page_url: Mapped[str | None] = mapped_column(String(500))
    webhook_token: Mapped[str] = mapped_column(String(32))
    charge_key: Mapped[str] = mapped_column(String(64))
    charge_id: Mapped[str | None] = mapped_column(String(64))
    fbs_answers: Mapped[dict[str, str] | None] = mapped_column(JSON)  # fee id -> FBS's status
    charge_ore: Mapped[int | None] = mapped_column(Integer)
    release_ore: Mapped[int | None] = mapped_column(Integer)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    masked_pan: Mapped[str | None] = mapped_column(String(32))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # The same reason as a code with its facts (portal.payments.reasons), worded for staff at display.
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_by: Mapped[str | None] = mapped_column(String(300))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class PaymentOrderFeeRow(Base):
    __tablename__ = "payment_order_fees"

    agency_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    fee_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    order_id: Mapped[str] = mapped_column(ForeignKey(_ORDER_FK, ondelete="CASCADE"), index=True)


class PaymentEventRow(Base):
    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey(_ORDER_FK, ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)


class PaymentWebhookRow(Base):
    __tablename__ = "payment_webhooks"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey(_ORDER_FK, ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
