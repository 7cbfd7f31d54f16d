"""card payment settings: the variable with a library's Nexi secret key, its payment terms

Revision ID: 0003_card_payment_settings
Revises: 0002_editing
Create Date: 2026-12-01

Two nullable columns; libraries stored before keep working without card payment.
The code here is frozen on purpose: it must not change when the application's code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_card_payment_settings"
down_revision = "0002_editing"
branch_labels = None
depends_on = None

_NEW_COLUMNS = ("nexi_secret_key_env", "payment_terms_url")


def upgrade() -> None:
    # Columns are added, never altered: on SQLite an alter recreates `libraries`, and dropping
    # the old table would cascade-delete every library's texts.
    op.add_column("libraries", sa.Column("nexi_secret_key_env", sa.String(100), nullable=True))
    op.add_column("libraries", sa.Column("payment_terms_url", sa.String(500), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table rebuild, see upgrade().
    for column in _NEW_COLUMNS:
        op.execute(f"ALTER TABLE libraries DROP COLUMN {column}")
