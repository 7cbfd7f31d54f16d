"""revision snapshots are Markdown too: a restore brings back text, not tags

Revision ID: 0007_markdown_snapshots
Revises: 0006_markdown_texts
Create Date: 2026-12-02

0006 converted the live texts and the drafts to Markdown but kept the revision snapshots as
recorded. A restore publishes a snapshot again, so restoring a version from before 0006 would
have put HTML on the citizen page, where Markdown shows its tags as text. Snapshot texts that
hold an HTML tag are converted with 0006's frozen converter; those without one are left alone:
they are either Markdown recorded since 0006 (which editors cannot save with a tag) or plain
text, which reads the same either way. The `changes` column stays as recorded: it is what the
history shows happened, and nothing is ever published from it.

The downgrade renders every snapshot text back to HTML, as 0006's downgrade does the live texts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from portal.migrations.html_subset_v1 import html_to_markdown, looks_like_html, markdown_to_html

revision = "0007_markdown_snapshots"
down_revision = "0006_markdown_texts"
branch_labels = None
depends_on = None

_revisions = sa.table("library_revisions", sa.column("id", sa.Integer()), sa.column("snapshot", sa.JSON()))


def _converted(snapshot: dict[str, Any], convert: Callable[[str], str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in snapshot.items():
        if name.startswith("text.") and isinstance(value, str):
            value = convert(value)
            if not value:  # nothing left that is text: the snapshot is sparse, the default applies
                continue
        out[name] = value
    return out


def _convert(convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_revisions.c.id, _revisions.c.snapshot)).all():
        snapshot: dict[str, Any] = row.snapshot or {}
        new = _converted(snapshot, convert)
        if new != snapshot:
            bind.execute(sa.update(_revisions).where(_revisions.c.id == row.id).values(snapshot=new))


def _upgrade_text(value: str) -> str:
    return html_to_markdown(value) if looks_like_html(value) else value


def upgrade() -> None:
    _convert(_upgrade_text)


def downgrade() -> None:
    _convert(markdown_to_html)
