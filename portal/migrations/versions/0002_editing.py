"""editing: drafts, history, scheduled cut-off dates, optimistic version

Revision ID: 0002_editing
Revises: 0001_libraries
Create Date: 2025-02-01

Libraries stored before this migration get a first revision (action "load") holding their
current settings, so the history starts with what citizens saw and a restore can go back to it.
The code here is frozen on purpose: it must not change when the application's code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_editing"
down_revision = "0001_libraries"
branch_labels = None
depends_on = None

_LIBRARY_ID = "libraries.id"
_NEW_COLUMNS = ("version", "cutoff_published_at", "source_hash")


def upgrade() -> None:
    # Columns are added, never altered: on SQLite an alter recreates `libraries`, and dropping
    # the old table would cascade-delete every library's texts.
    op.add_column("libraries", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("libraries", sa.Column("cutoff_published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("libraries", sa.Column("source_hash", sa.String(64), nullable=True))
    _create_tables()
    _record_baselines()


def _library_fk(table: str) -> sa.Column[int]:
    return sa.Column(
        "library_id",
        sa.Integer(),
        sa.ForeignKey(_LIBRARY_ID, name=f"fk_{table}_library_id", ondelete="CASCADE"),
        nullable=False,
    )


def _create_tables() -> None:
    op.create_table(
        "library_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _library_fk("library_drafts"),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("library_id", name="uq_library_drafts_library_id"),
    )
    op.create_table(
        "library_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _library_fk("library_revisions"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.UniqueConstraint("library_id", "number", name="uq_library_revisions_library_id_number"),
    )
    op.create_table(
        "scheduled_cutoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _library_fk("scheduled_cutoffs"),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("cutoff_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("library_id", "effective_from", name="uq_scheduled_cutoffs_library_id_effective_from"),
    )


_libraries = sa.table(
    "libraries",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("agency_id", sa.String()),
    sa.column("cutoff_date", sa.Date()),
    sa.column("kodelinje", sa.String()),
    sa.column("payment_overview_url", sa.String()),
    sa.column("fbs_username_env", sa.String()),
    sa.column("fbs_password_env", sa.String()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_texts = sa.table(
    "library_texts",
    sa.column("library_id", sa.Integer()),
    sa.column("language", sa.String()),
    sa.column("key", sa.String()),
    sa.column("value", sa.Text()),
)
_revisions = sa.table(
    "library_revisions",
    sa.column("library_id", sa.Integer()),
    sa.column("number", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("created_by", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("changes", sa.JSON()),
    sa.column("snapshot", sa.JSON()),
)
_PLAIN = ("name", "kodelinje", "payment_overview_url", "agency_id", "fbs_username_env", "fbs_password_env")


def _record_baselines() -> None:
    conn = op.get_bind()
    texts: dict[int, dict[str, str]] = {}
    for text in conn.execute(sa.select(_texts)).mappings():
        texts.setdefault(text["library_id"], {})[f"text.{text['language']}.{text['key']}"] = text["value"]
    for library in conn.execute(sa.select(_libraries)).mappings().all():
        snapshot = {name: library[name] for name in _PLAIN if library[name] is not None}
        snapshot["cutoff_date"] = library["cutoff_date"].isoformat()
        snapshot.update(texts.get(library["id"], {}))
        conn.execute(
            sa.insert(_revisions).values(
                library_id=library["id"],
                number=1,
                action="load",
                created_by="migration 0002",
                created_at=library["updated_at"],
                snapshot=snapshot,
                changes=[[name, None, value] for name, value in sorted(snapshot.items())],
            )
        )


def downgrade() -> None:
    op.drop_table("scheduled_cutoffs")
    op.drop_table("library_revisions")
    op.drop_table("library_drafts")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table rebuild, see upgrade().
    for column in _NEW_COLUMNS:
        op.execute(f"ALTER TABLE libraries DROP COLUMN {column}")
