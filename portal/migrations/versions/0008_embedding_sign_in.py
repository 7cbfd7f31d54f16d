"""libraries: the sites that may embed the page, the sign-in profiles, the FBS access mode

Revision ID: 0008_embedding_sign_in
Revises: 0007_markdown_snapshots
Create Date: 2026-12-02

Nullable columns on `libraries` (issue 10): `embed_origins` (origins, one per line), `sign_in`
(space-separated profiles; NULL is "mitid", what every library had) and `fbs_access` (NULL is
"direct"). Added, never altered, as in 0005. The code here is frozen on purpose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_embedding_sign_in"
down_revision = "0007_markdown_snapshots"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (("embed_origins", 2000), ("sign_in", 64), ("fbs_access", 16))


def upgrade() -> None:
    for name, length in _NEW_COLUMNS:
        op.add_column("libraries", sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    for name, _length in _NEW_COLUMNS:
        op.execute(f"ALTER TABLE libraries DROP COLUMN {name}")
