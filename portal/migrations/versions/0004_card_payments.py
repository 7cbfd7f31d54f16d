"""card payments: orders, the fees they hold, their history, the webhook inbox

Revision ID: 0004_card_payments
Revises: 0003_card_payment_settings
Create Date: 2026-12-01

New tables only. The code here is frozen on purpose: it must not change when the
application's code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_card_payments"
down_revision = "0003_card_payment_settings"
branch_labels = None
depends_on = None

_ORDER_FK = "payment_orders.order_id"


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _order_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "order_id",
        sa.String(40),
        sa.ForeignKey(_ORDER_FK, name=f"fk_{table}_order_id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "payment_orders",
        sa.Column("order_id", sa.String(40), primary_key=True),
        sa.Column("library_slug", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.String(16), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_ore", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("nexi_payment_id", sa.String(64), nullable=True),
        sa.Column("hosted_page_url", sa.String(500), nullable=True),
        sa.Column("webhook_token", sa.String(32), nullable=False),
        sa.Column("charge_key", sa.String(64), nullable=False),
        sa.Column("charge_id", sa.String(64), nullable=True),
        sa.Column("fbs_answers", sa.JSON(), nullable=True),
        sa.Column("charge_ore", sa.Integer(), nullable=True),
        sa.Column("release_ore", sa.Integer(), nullable=True),
        sa.Column("payment_method", sa.String(32), nullable=True),
        sa.Column("masked_pan", sa.String(32), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _when("next_attempt_at"),
        sa.Column("lease_owner", sa.String(40), nullable=True),
        _when("lease_until"),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(300), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("finished_at"),
        sa.UniqueConstraint("nexi_payment_id", name="uq_payment_orders_nexi_payment_id"),
    )
    for column in ("library_slug", "owner", "state", "next_attempt_at", "finished_at"):
        op.create_index(f"ix_payment_orders_{column}", "payment_orders", [column])
    op.create_table(
        "payment_order_fees",
        sa.Column("agency_id", sa.String(16), primary_key=True),
        sa.Column("fee_id", sa.Integer(), primary_key=True, autoincrement=False),
        _order_fk("payment_order_fees"),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _order_fk("payment_events"),
        _when("at", nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_table(
        "payment_webhooks",
        sa.Column("event_id", sa.String(64), primary_key=True),
        _order_fk("payment_webhooks"),
        sa.Column("event", sa.String(64), nullable=False),
        _when("received_at", nullable=False),
    )
    for table in ("payment_order_fees", "payment_events", "payment_webhooks"):
        op.create_index(f"ix_{table}_order_id", table, ["order_id"])


def downgrade() -> None:
    for table in ("payment_webhooks", "payment_events", "payment_order_fees", "payment_orders"):
        op.drop_table(table)
