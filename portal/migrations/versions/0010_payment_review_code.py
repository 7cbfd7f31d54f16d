"""payment_orders: why an order waits for review, as a code with its facts

Revision ID: 0010_payment_review_code
Revises: 0009_payment_order_fbs_token
Create Date: 2026-12-04

One nullable JSON column, `review`: `{"code", "params", "cause"}` (portal/payments/reasons.py), so
the review pages word the reason in the editor's language. `review_reason` keeps the English
sentence; orders from before this have only that, and the pages show it as it is. Added, never
altered, as in 0005. The code here is frozen on purpose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_payment_review_code"
down_revision = "0009_payment_order_fbs_token"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_orders", sa.Column("review", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE payment_orders DROP COLUMN review")
