"""library contacts and links; the anonymous tally of FBS flags that disagree with the cut-off date

Revision ID: 0005_contacts_links_tally
Revises: 0004_card_payments
Create Date: 2026-12-01

Nullable columns on `libraries` (who to ask, and the links seed 000's texts point to), and
`cutoff_disagreements`: per library, creation month and direction, a count. No person, no patron
id, no fee id: only what tells an editor that FBS hands over fees from another date than theirs.
The code here is frozen on purpose: it must not change when the application's code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_contacts_links_tally"
down_revision = "0004_card_payments"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("contact_phone", 40),
    ("contact_email", 200),
    ("contact_url", 500),
    ("municipality_contact", 300),
    ("municipality_contact_url", 500),
    ("read_more_url", 500),
    ("fee_rates_url", 500),
)


def upgrade() -> None:
    # Columns are added, never altered: on SQLite an alter recreates `libraries`, and dropping
    # the old table would cascade-delete every library's texts.
    for name, length in _NEW_COLUMNS:
        op.add_column("libraries", sa.Column(name, sa.String(length), nullable=True))
    op.create_table(
        "cutoff_disagreements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "library_id",
            sa.Integer(),
            sa.ForeignKey("libraries.id", name="fk_cutoff_disagreements_library_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("month", sa.Date(), nullable=False),  # the first day of the fees' creation month
        sa.Column("direction", sa.String(20), nullable=False),  # "handed_over_early" or "payable_late"
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "library_id", "month", "direction", name="uq_cutoff_disagreements_library_id_month_direction"
        ),
    )


def downgrade() -> None:
    op.drop_table("cutoff_disagreements")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table rebuild, see upgrade().
    for name, _length in _NEW_COLUMNS:
        op.execute(f"ALTER TABLE libraries DROP COLUMN {name}")
