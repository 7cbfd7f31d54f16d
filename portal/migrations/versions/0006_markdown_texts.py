"""library texts are Markdown: the stored HTML texts converted

Revision ID: 0006_markdown_texts
Revises: 0005_contacts_links_tally
Create Date: 2026-12-02

Editors now write a small Markdown subset instead of HTML (portal.libraries.texts). The texts
stored so far are HTML of the old allowed subset (p, br, strong/b, em/i, a href, ul/ol/li), or
plain text whose blank lines made paragraphs. They are converted in `library_texts` and in the
drafts (their fields and the base they were saved on, so "left as it was" still compares equal).
Revision snapshots were left as recorded; 0007 converts them, so a restore brings back Markdown.

The converter (portal/migrations/html_subset_v1.py) is frozen: it must not change when the
application's code does. The downgrade renders the Markdown back to HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from portal.migrations.html_subset_v1 import html_to_markdown, markdown_to_html

revision = "0006_markdown_texts"
down_revision = "0005_contacts_links_tally"
branch_labels = None
depends_on = None

_texts = sa.table("library_texts", sa.column("id", sa.Integer()), sa.column("value", sa.Text()))
_drafts = sa.table("library_drafts", sa.column("id", sa.Integer()), sa.column("data", sa.JSON()))


def _convert(convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_texts.c.id, _texts.c.value)).all():
        new = convert(row.value)
        if not new:  # nothing left (e.g. only a tag outside the subset): the default text applies
            bind.execute(sa.delete(_texts).where(_texts.c.id == row.id))
        elif new != row.value:
            bind.execute(sa.update(_texts).where(_texts.c.id == row.id).values(value=new))
    for row in bind.execute(sa.select(_drafts.c.id, _drafts.c.data)).all():
        data: dict[str, Any] = row.data
        changed = {
            part: {
                name: new
                for name, value in (data.get(part) or {}).items()
                # An empty text is stored as no text (the default), as the editor stores it.
                if (new := convert(value) if name.startswith("text.") and isinstance(value, str) else value) != ""
            }
            for part in ("fields", "base")
        }
        new_data = {**data, **changed}
        if new_data != data:
            bind.execute(sa.update(_drafts).where(_drafts.c.id == row.id).values(data=new_data))


def upgrade() -> None:
    _convert(html_to_markdown)


def downgrade() -> None:
    _convert(markdown_to_html)
