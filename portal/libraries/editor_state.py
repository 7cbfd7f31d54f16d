"""What the editor area shows of a library: published and draft versions, schedules, history.

Read-only; the changes are in `editing`. See docs/editing-contract.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries.fields import EDITABLE_FIELDS, Change, flatten, with_fields
from portal.libraries.library import Library
from portal.libraries.models import DraftRow, LibraryRow, RevisionRow, ScheduledCutoffRow
from portal.libraries.store import library_query, visible_library

__all__ = [
    "EditorState",
    "NotFound",
    "Revision",
    "ScheduledCutoff",
    "find_draft",
    "find_library",
    "history",
    "load_state",
    "merged_draft",
    "revision_of",
    "version_of",
]


class NotFound(LookupError):
    """No such library, or no such revision or scheduled date of this library."""


@dataclass(frozen=True)
class ScheduledCutoff:
    """From `effective_from` (00:00 Europe/Copenhagen) the cut-off date becomes `cutoff_date`."""

    id: int
    effective_from: date
    cutoff_date: date
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Revision:
    """One recorded change: "publish", "restore", "load", "schedule" or "unschedule"."""

    number: int
    at: datetime
    by: str
    action: str
    changes: tuple[Change, ...]
    restored_from: int | None


@dataclass(frozen=True)
class EditorState:
    """A library as its editors see it; `version` goes back with the next change."""

    published: Library  # what citizens see now (cutoff_date in force today)
    draft: Library | None  # unpublished changes, None when there are none
    draft_by: str | None
    draft_at: datetime | None
    current_cutoff: date  # in force today (Europe/Copenhagen)
    upcoming: tuple[ScheduledCutoff, ...]  # future changes, soonest first
    version: str  # opaque


def load_state(session: Session, slug: str, today: date | None = None) -> EditorState | None:
    """The library's editor state, as of now (or the end of `today`); None for an unknown slug."""
    row = find_library(session, slug)
    if row is None:
        return None
    at = clock.now() if today is None else clock.start_of_day(today + timedelta(days=1)) - timedelta(microseconds=1)
    published = visible_library(row, at)
    draft_row = find_draft(session, row.id)
    upcoming = tuple(_scheduled(entry) for entry in row.scheduled if entry.effective_from > at.date())
    return EditorState(
        published=published,
        draft=merged_draft(published, draft_row.data) if draft_row else None,
        draft_by=draft_row.saved_by if draft_row else None,
        draft_at=clock.local(draft_row.saved_at) if draft_row else None,
        current_cutoff=published.cutoff_date,
        upcoming=upcoming,
        version=version_of(row.version, published.cutoff_date),
    )


def history(session: Session, slug: str) -> list[Revision]:
    """Every recorded change of the library, newest first; NotFound for an unknown slug."""
    row = find_library(session, slug)
    if row is None:
        raise NotFound(f"no library {slug!r}")
    rows = session.scalars(
        select(RevisionRow).where(RevisionRow.library_id == row.id).order_by(RevisionRow.number.desc())
    ).all()
    return [revision_of(revision) for revision in rows]


def version_of(counter: int, cutoff: date) -> str:
    """The opaque version a form carries.

    It includes the cut-off date in force, so a form loaded before a scheduled date took effect
    at midnight is stale afterwards: saving it could otherwise publish the old date again.
    """
    return f"{counter}-{cutoff:%Y%m%d}"


def merged_draft(published: Library, data: dict[str, Any]) -> Library:
    """The draft on top of what is published now.

    A field the editor left as it was (equal to its base) follows the published value, so a
    draft saved before a scheduled date took effect (or before a file load) does not undo it.
    """
    fields, base = data["fields"], data["base"]
    current = flatten(published)
    merged = {
        name: fields.get(name) if fields.get(name) != base.get(name) else current[name] for name in EDITABLE_FIELDS
    }
    return with_fields(published, merged, EDITABLE_FIELDS)


def find_library(session: Session, slug: str) -> LibraryRow | None:
    """The library's row with texts and schedules, freshly read."""
    return session.scalars(library_query().where(LibraryRow.slug == slug)).one_or_none()


def find_draft(session: Session, library_id: int) -> DraftRow | None:
    """The library's draft row, freshly read."""
    query = select(DraftRow).where(DraftRow.library_id == library_id).execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def revision_of(row: RevisionRow) -> Revision:
    """A revision row as the contract's Revision (times in Europe/Copenhagen)."""
    return Revision(
        number=row.number,
        at=clock.local(row.created_at),
        by=row.created_by,
        action=row.action,
        changes=tuple(Change(*change) for change in row.changes),
        restored_from=row.restored_from,
    )


def _scheduled(row: ScheduledCutoffRow) -> ScheduledCutoff:
    return ScheduledCutoff(
        id=row.id,
        effective_from=row.effective_from,
        cutoff_date=row.cutoff_date,
        created_by=row.created_by,
        created_at=clock.local(row.created_at),
    )
