"""Editors change a library: drafts, publishing, restoring, scheduled cut-off dates.

The storage side of docs/editing-contract.md; plain Python, no Flask. Every change names the
`version` its form was loaded with and is refused with EditConflict when anything changed since,
so two editors never silently overwrite each other. Every published change is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.domain.digits import ascii_digits
from portal.libraries.edit_input import (
    ValidationFailed,
    check_card_payment_terms,
    check_stored_characters,
    form_values,
    parse_form,
)
from portal.libraries.editor_state import (
    EditorState,
    NotFound,
    Revision,
    ScheduledCutoff,
    find_draft,
    find_library,
    history,
    load_state,
    merged_draft,
    revision_of,
    version_of,
)
from portal.libraries.fields import CUTOFF_DATE, EDITABLE_FIELDS, Change, Fields, flatten, sparse, with_fields
from portal.libraries.models import DraftRow, LibraryRow, RevisionRow, ScheduledCutoffRow
from portal.libraries.store import publish_library, record_revision, visible_library

__all__ = [
    "Change",
    "EditConflict",
    "EditorState",
    "NotFound",
    "Revision",
    "ScheduledCutoff",
    "ValidationFailed",
    "cancel_scheduled_cutoff",
    "discard_draft",
    "form_values",
    "history",
    "live_revisions",
    "load_state",
    "publish",
    "restore",
    "save_draft",
    "schedule_cutoff",
]


class EditConflict(Exception):
    """Someone published or saved since the form was loaded; nothing was changed."""

    def __init__(self, current_version: str) -> None:
        super().__init__("the library was changed since the form was loaded")
        self.current_version = current_version


def save_draft(session: Session, slug: str, form: Mapping[str, str], editor: str, version: str) -> EditorState:
    """Replace the library's draft with the submitted form (all fields checked first)."""
    fields = parse_form(form)  # ValidationFailed before the database is touched
    with _change(session, slug, version) as row:
        current = visible_library(row, clock.now())
        _refuse_future_cutoff(fields, current.cutoff_date)
        check_card_payment_terms(with_fields(current, fields, EDITABLE_FIELDS))
        base = flatten(current)
        draft = find_draft(session, row.id) or DraftRow(library_id=row.id)
        draft.data = {"fields": sparse(fields), "base": sparse({name: base[name] for name in EDITABLE_FIELDS})}
        draft.saved_by, draft.saved_at = editor, clock.now()
        session.add(draft)
    return _state(session, slug)


def _refuse_future_cutoff(fields: Fields, current: date) -> None:
    """A later cut-off date is scheduled, not saved: publishing would make it the date at once.

    Refused (code "future") rather than kept as a draft with a warning: a draft with a future date
    would be published as today's date by the next editor who publishes anything. The date in
    force is never refused (the libraries file may have set a future one).
    """
    cutoff = fields.get(CUTOFF_DATE)
    today = clock.today()
    if cutoff is not None and cutoff != current.isoformat() and date.fromisoformat(cutoff) > today:
        raise ValidationFailed.one(
            CUTOFF_DATE, "future", f"is after today ({today.isoformat()}); schedule a later cut-off date instead"
        )


def discard_draft(session: Session, slug: str, editor: str, version: str) -> EditorState:
    """Drop the library's draft (if any); the published version is untouched."""
    with _change(session, slug, version) as row:
        draft = find_draft(session, row.id)
        if draft is not None:
            session.delete(draft)
    return _state(session, slug)


def publish(session: Session, slug: str, editor: str, version: str) -> Revision:
    """Make the draft what citizens see, and record it; ValidationFailed("draft") without one.

    ValidationFailed naming the fields ("characters") when the draft holds characters that cannot
    be stored (saved before that rule existed); nothing changes and the draft is kept.
    """
    with _change(session, slug, version) as row:
        draft = find_draft(session, row.id)
        if draft is None:
            raise ValidationFailed.one("draft", "no_draft", "there is no draft to publish")
        current = visible_library(row, clock.now())
        published = merged_draft(current, draft.data)
        check_stored_characters(flatten(published))  # before the database refuses them (NUL on PostgreSQL)
        check_card_payment_terms(published)  # the file may have named a Nexi key since the draft was saved
        revision = publish_library(session, row, published, before=flatten(current), action="publish", by=editor)
        session.delete(draft)
        session.flush()
        return revision_of(revision)


def restore(session: Session, slug: str, number: int, editor: str, version: str) -> Revision:
    """Publish again what revision `number` published (its editable fields); recorded as "restore".

    A draft is kept: it is someone's unpublished work. NotFound for an unknown revision;
    ValidationFailed naming the fields when it holds characters that cannot be stored.
    """
    with _change(session, slug, version) as row:
        source = session.scalars(
            select(RevisionRow).where(RevisionRow.library_id == row.id, RevisionRow.number == number)
        ).one_or_none()
        if source is None:
            raise NotFound(f"library {slug!r} has no revision {number}")
        current = visible_library(row, clock.now())
        restored = with_fields(current, source.snapshot, EDITABLE_FIELDS)
        if _editable(flatten(restored)) == _editable(flatten(current)):
            # Restoring it would publish nothing new, yet be recorded as a change.
            raise ValidationFailed.one("restore", "identical", "this version is what citizens see now")
        check_stored_characters(flatten(restored))  # a version stored before the rule existed
        check_card_payment_terms(restored)  # a version from before the library took card payment
        revision = publish_library(
            session, row, restored, before=flatten(current), action="restore", by=editor, restored_from=number
        )
        session.flush()
        return revision_of(revision)


def live_revisions(session: Session, slug: str) -> frozenset[int]:
    """The numbers of the revisions whose editable fields are what citizens see now (nothing to restore)."""
    row = find_library(session, slug)
    if row is None:
        raise NotFound(f"no library {slug!r}")
    current = visible_library(row, clock.now())
    live = _editable(flatten(current))
    revisions = session.scalars(select(RevisionRow).where(RevisionRow.library_id == row.id)).all()
    return frozenset(
        revision.number
        for revision in revisions
        if _editable(flatten(with_fields(current, revision.snapshot, EDITABLE_FIELDS))) == live
    )


def _editable(fields: Fields) -> dict[str, str | None]:
    return {name: fields.get(name) for name in EDITABLE_FIELDS}


def schedule_cutoff(
    session: Session,
    slug: str,
    effective_from: date,
    cutoff_date: date,
    editor: str,
    version: str,
    today: date | None = None,
) -> EditorState:
    """From `effective_from` (after today) the cut-off date becomes `cutoff_date`, by itself.

    `cutoff_date` may not be after `effective_from`: as on the main form, the date in force is never
    in the future (claims created after it would be said to be in Mit Betalingsoverblik).
    """
    today = today or clock.today()
    if effective_from <= today:
        raise ValidationFailed.one("effective_from", "not_future", f"must be after today ({today.isoformat()})")
    if cutoff_date > effective_from:
        raise ValidationFailed.one(
            "cutoff_date", "after_start", f"is after the day it takes effect ({effective_from.isoformat()})"
        )
    with _change(session, slug, version) as row:
        if any(entry.effective_from == effective_from for entry in row.scheduled):
            raise ValidationFailed.one(
                "effective_from", "duplicate", f"a cut-off date is already scheduled from {effective_from.isoformat()}"
            )
        row.scheduled.append(
            ScheduledCutoffRow(
                effective_from=effective_from, cutoff_date=cutoff_date, created_by=editor, created_at=clock.now()
            )
        )
        _record_schedule(
            session, row, editor, "schedule", Change(_schedule_field(effective_from), None, cutoff_date.isoformat())
        )
    return _state(session, slug, today)


def cancel_scheduled_cutoff(session: Session, slug: str, schedule_id: int, editor: str, version: str) -> EditorState:
    """Cancel an upcoming scheduled date; one already in force cannot be cancelled (publish instead)."""
    with _change(session, slug, version) as row:
        entry = next((entry for entry in row.scheduled if entry.id == schedule_id), None)
        if entry is None:  # also when the id belongs to another library
            raise NotFound(f"library {slug!r} has no scheduled cut-off date {schedule_id}")
        if entry.effective_from <= clock.today():
            raise ValidationFailed.one(
                "schedule_id", "not_upcoming", "already in force; publish a new cut-off date instead"
            )
        row.scheduled.remove(entry)  # delete-orphan
        _record_schedule(
            session,
            row,
            editor,
            "unschedule",
            Change(_schedule_field(entry.effective_from), entry.cutoff_date.isoformat(), None),
        )
    return _state(session, slug)


@contextmanager
def _change(session: Session, slug: str, version: str) -> Iterator[LibraryRow]:
    """One change of the library at `version`, in one transaction: commit, or roll back on error."""
    try:
        yield _claim(session, slug, version)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _claim(session: Session, slug: str, version: str) -> LibraryRow:
    """Bump the version if it is still `version`, else EditConflict (NotFound for no library).

    Compare-and-set in one UPDATE, the transaction's first write: on PostgreSQL it locks the
    row and a concurrent editor's UPDATE waits and then finds the new version; on SQLite the
    write lock serialises changes the same way.
    """
    counter, _, _ = version.partition("-")
    # At most 18 digits: a longer number would overflow SQL's BIGINT in the query (a 500, not a conflict).
    expected = int(counter) if ascii_digits(counter, most=18) else -1
    table = cast(Table, LibraryRow.__table__)
    bump = update(table).where(table.c.slug == slug, table.c.version == expected).values(version=table.c.version + 1)
    # A Core UPDATE answers with a cursor result, which knows how many rows it changed.
    claimed = cast("CursorResult[Any]", session.execute(bump)).rowcount == 1
    row = find_library(session, slug)
    if row is None:
        raise NotFound(f"no library {slug!r}")
    now_visible = visible_library(row, clock.now()).cutoff_date
    # After a successful claim the row shows the bumped number; the form must match the one before.
    if not claimed or version_of(row.version - 1, now_visible) != version:
        session.rollback()
        current = find_library(session, slug)
        assert current is not None
        raise EditConflict(version_of(current.version, visible_library(current, clock.now()).cutoff_date))
    return row


def _schedule_field(effective_from: date) -> str:
    # History names a schedule by its day, e.g. "scheduled_cutoff.2027-03-01".
    return f"scheduled_cutoff.{effective_from.isoformat()}"


def _record_schedule(session: Session, row: LibraryRow, editor: str, action: str, change: Change) -> None:
    # What citizens see now is unchanged (the date is in the future): the snapshot is the current state.
    record_revision(
        session, row, action=action, by=editor, changes=(change,), snapshot=flatten(visible_library(row, clock.now()))
    )


def _state(session: Session, slug: str, today: date | None = None) -> EditorState:
    state = load_state(session, slug, today)
    assert state is not None  # just changed in this session; libraries are never deleted here
    return state
