"""payment_orders: the borrower's DBC adapter token, encrypted, until FBS has registered the payment

Revision ID: 0009_payment_order_fbs_token
Revises: 0008_embedding_sign_in
Create Date: 2026-12-02

One nullable column (issue 10): `fbs_token`, set only for an order whose library reads FBS through
DBC's adapter, cleared once FBS has answered (portal/payments/order_token.py). Added, never
altered, as in 0005. The code here is frozen on purpose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_payment_order_fbs_token"
down_revision = "0008_embedding_sign_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_orders", sa.Column("fbs_token", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE payment_orders DROP COLUMN fbs_token")
