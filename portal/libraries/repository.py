"""Reading libraries as citizens see them, and writing the libraries file's content.

Reads apply scheduled cut-off dates at the current moment (portal.clock), so a page switches to
a scheduled date at midnight by itself, with no restart and no job running.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal import clock, db
from portal.libraries.cache import CachedLibrary, current_stamp, library_cache, row_window, stamp_of
from portal.libraries.fields import flatten
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow
from portal.libraries.store import library_query, publish_library, visible_library

__all__ = [
    "UpsertReport",
    "entry_hash",
    "get_library",
    "list_libraries",
    "stored_libraries",
    "upsert_libraries",
]


@dataclass
class UpsertReport:
    """Slugs of the libraries an upsert created, changed, found as they were, or kept."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Entry not changed in the file since it was last applied: left as editors made it.
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """'created: a; updated: b; unchanged: c; kept: d' (empty parts left out)."""
        parts = [
            f"{label}: {', '.join(slugs)}"
            for label, slugs in (
                ("created", self.created),
                ("updated", self.updated),
                ("unchanged", self.unchanged),
                ("kept (entry unchanged since last load)", self.kept),
            )
            if slugs
        ]
        return "; ".join(parts) or "no libraries"


def get_library(slug: str) -> Library | None:
    """The library with `slug` as citizens see it now (cut-off date in force), or None.

    One cheap statement when the app has read this library before and nothing changed since
    (portal.libraries.cache); the full read otherwise. Not for use inside a write transaction
    that may roll back (the editing functions read rows themselves): the stamp is read on a
    connection of its own, so it sees only what is committed.
    """
    now = clock.now()
    stamp = current_stamp(slug)
    if stamp is None:
        return None
    cache = library_cache()
    cached = cache.get(slug, stamp, now)
    if cached is not None:
        return cached
    row = db.session().scalars(library_query().where(LibraryRow.slug == slug)).one_or_none()
    if row is None:  # deleted in between
        return None
    library = visible_library(row, now)
    # Stored under the stamp read with the row itself: if a publish landed between the two reads,
    # or between the row's statement and its texts', the next request's stamp differs and reads again.
    valid_from, valid_until = row_window(row, now)
    cache.put(slug, CachedLibrary(stamp_of(row), valid_from, valid_until, library))
    return library


def list_libraries() -> list[Library]:
    """All libraries as citizens see them now, by name."""
    rows = db.session().scalars(library_query().order_by(LibraryRow.name, LibraryRow.slug)).all()
    now = clock.now()
    return [visible_library(row, now) for row in rows]


def stored_libraries(session: Session) -> list[Library]:
    """Every library in the database as citizens see it now (start-up checks, no request needed)."""
    now = clock.now()
    return [visible_library(row, now) for row in session.scalars(library_query()).all()]


def entry_hash(library: Library) -> str:
    """A fingerprint of a library's entry in the libraries file (every field, slug included)."""
    canonical = json.dumps({"slug": library.slug, **flatten(library)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upsert_libraries(
    session: Session, libraries: list[Library], *, by: str = "loader", only_changed: bool = False
) -> UpsertReport:
    """Create or update `libraries` by slug in one transaction (all or nothing).

    A library's stored texts become exactly the ones given, so a text taken out of the file goes
    back to the default. Libraries not given are left alone. Each change is a revision (action
    "load", by `by`). With `only_changed`, a library whose entry is unchanged since it was last
    applied is kept as it is — the editors' published changes survive a restart.
    """
    slugs = [library.slug for library in libraries]
    if len(set(slugs)) != len(slugs):
        raise ValueError("duplicate slugs in one upsert")
    report = UpsertReport()
    try:
        # FOR UPDATE (PostgreSQL): a concurrent editor or a second worker starting up waits,
        # then sees our version and hash.
        query = library_query().where(LibraryRow.slug.in_(slugs)).with_for_update()
        existing = {row.slug: row for row in session.scalars(query).all()}
        for library in libraries:
            _upsert_one(session, existing.get(library.slug), library, report, by, only_changed)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _upsert_one(
    session: Session, row: LibraryRow | None, library: Library, report: UpsertReport, by: str, only_changed: bool
) -> None:
    fingerprint = entry_hash(library)
    if row is None:
        row = LibraryRow(slug=library.slug, source_hash=fingerprint)
        session.add(row)
        publish_library(session, row, library, before={}, action="load", by=by)
        report.created.append(library.slug)
        return
    if only_changed and row.source_hash == fingerprint:
        report.kept.append(library.slug)
        return
    row.source_hash = fingerprint
    # Compared with what citizens see, so a file that differs only from a schedule now in force
    # still counts as a change (the file's date is published again).
    current = visible_library(row, clock.now())
    if current == library:
        report.unchanged.append(library.slug)
        return
    row.version = row.version + 1  # a form loaded before this load is now stale
    publish_library(session, row, library, before=flatten(current), action="load", by=by)
    report.updated.append(library.slug)
