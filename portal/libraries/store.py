"""Rows to `Library` and back, and the one way published settings are written.

The loader and the editor area both publish through `publish_library`, so every change of what
citizens see bumps the library's version and is recorded in its history, whoever made it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.domain.cutoff import ScheduledDate, effective_cutoff
from portal.libraries.fields import CONTACT_FIELDS, Change, Fields, diff, flatten, join_values, sparse, split_values
from portal.libraries.library import FBS_DIRECT, MITID, Library
from portal.libraries.models import LibraryRow, LibraryTextRow, RevisionRow

__all__ = [
    "library_query",
    "next_revision_number",
    "publish_library",
    "record_revision",
    "stored_library",
    "visible_library",
]

_FIELDS = (
    "name",
    "agency_id",
    "cutoff_date",
    "kodelinje",
    "payment_overview_url",
    "fbs_username_env",
    "fbs_password_env",
    "nexi_secret_key_env",
    "payment_terms_url",
    *CONTACT_FIELDS,
)


def library_query() -> Select[LibraryRow]:
    """Libraries with their texts and scheduled dates, freshly read (not a stale identity map)."""
    return (
        select(LibraryRow)
        .options(selectinload(LibraryRow.texts), selectinload(LibraryRow.scheduled))
        .execution_options(populate_existing=True)
    )


def stored_library(row: LibraryRow) -> Library:
    """The library as stored, with the published cut-off date (schedules not applied)."""
    texts: dict[str, dict[str, str]] = {}
    for text_row in row.texts:
        texts.setdefault(text_row.language, {})[text_row.key] = text_row.value
    return Library(
        slug=row.slug,
        **{name: getattr(row, name) for name in _FIELDS},
        embed_origins=split_values(row.embed_origins),
        sign_in=split_values(row.sign_in) or (MITID,),
        fbs_access=row.fbs_access or FBS_DIRECT,
        texts=texts,
    )


def visible_library(row: LibraryRow, at: datetime) -> Library:
    """The library as citizens see it at `at`: with the cut-off date in force then."""
    scheduled = [ScheduledDate(entry.effective_from, entry.cutoff_date) for entry in row.scheduled]
    cutoff = effective_cutoff(row.cutoff_date, row.cutoff_published_at, scheduled, at)
    return replace(stored_library(row), cutoff_date=cutoff)


def publish_library(
    session: Session,
    row: LibraryRow,
    library: Library,
    *,
    before: Fields,
    action: str,
    by: str,
    restored_from: int | None = None,
) -> RevisionRow:
    """Make `library` what citizens see and record the change from `before`; the caller commits.

    `before` is what citizens saw (flatten(visible_library(...)), or {} for a new library). The
    caller has already bumped or locked the row's version (see editing / repository).
    """
    now = clock.now()
    _copy(library, row)
    # The date published now is the date in force now: it beats schedules that already took effect.
    row.cutoff_published_at = now
    row.updated_at = now  # the ORM bumps it only when a column changed; texts live elsewhere
    return record_revision(
        session,
        row,
        action=action,
        by=by,
        changes=diff(before, flatten(library)),
        snapshot=flatten(library),
        restored_from=restored_from,
    )


def record_revision(
    session: Session,
    row: LibraryRow,
    *,
    action: str,
    by: str,
    changes: tuple[Change, ...],
    snapshot: Fields,
    restored_from: int | None = None,
) -> RevisionRow:
    """Add the next numbered revision of `row` (flushes, so a new row has its id)."""
    session.flush()
    revision = RevisionRow(
        library_id=row.id,
        number=next_revision_number(session, row.id),
        action=action,
        created_by=by,
        created_at=clock.now(),
        restored_from=restored_from,
        changes=[[change.field, change.before, change.after] for change in changes],
        snapshot=sparse(snapshot),
    )
    session.add(revision)
    return revision


def next_revision_number(session: Session, library_id: int) -> int:
    """1 + the highest revision number of the library (the caller holds the library's lock)."""
    highest = session.scalar(select(func.max(RevisionRow.number)).where(RevisionRow.library_id == library_id))
    return (highest or 0) + 1


def _copy(library: Library, row: LibraryRow) -> None:
    for name in _FIELDS:
        setattr(row, name, getattr(library, name))
    row.embed_origins = join_values(library.embed_origins, "\n")
    row.sign_in = None if library.sign_in == (MITID,) else join_values(library.sign_in, " ")
    row.fbs_access = None if library.fbs_access == FBS_DIRECT else library.fbs_access
    wanted = {(lang, key): value for lang, texts in library.texts.items() for key, value in texts.items()}
    kept = []
    for text_row in row.texts:
        value = wanted.pop((text_row.language, text_row.key), None)
        if value is not None:
            text_row.value = value
            kept.append(text_row)
    # Rows not kept are deleted (delete-orphan); updating in place keeps the unique key valid.
    row.texts = kept + [
        LibraryTextRow(language=lang, key=key, value=value) for (lang, key), value in sorted(wanted.items())
    ]
