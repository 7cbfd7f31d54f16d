"""libraries and their texts

Revision ID: 0001_libraries
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_libraries"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("agency_id", sa.String(16), nullable=False),
        sa.Column("cutoff_date", sa.Date(), nullable=False),
        sa.Column("kodelinje", sa.String(64), nullable=True),
        sa.Column("payment_overview_url", sa.String(500), nullable=True),
        sa.Column("fbs_username_env", sa.String(100), nullable=True),
        sa.Column("fbs_password_env", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("slug", name="uq_libraries_slug"),
    )
    op.create_table(
        "library_texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "library_id",
            sa.Integer(),
            sa.ForeignKey("libraries.id", name="fk_library_texts_library_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.UniqueConstraint("library_id", "language", "key", name="uq_library_texts_library_language_key"),
    )


def downgrade() -> None:
    op.drop_table("library_texts")
    op.drop_table("libraries")
