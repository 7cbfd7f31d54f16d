"""Reading and writing libraries in the database, as `Library` objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from portal import db
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow, LibraryTextRow

_FIELDS = ("name", "agency_id", "cutoff_date", "kodelinje", "payment_overview_url",
           "fbs_username_env", "fbs_password_env")


@dataclass
class UpsertReport:
    """Slugs of the libraries an upsert created, changed, or found as they were."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """'created: a; updated: b; unchanged: c' (empty parts left out)."""
        parts = [f"{label}: {', '.join(slugs)}" for label, slugs in
                 (("created", self.created), ("updated", self.updated), ("unchanged", self.unchanged))
                 if slugs]
        return "; ".join(parts) or "no libraries"


def get_library(slug: str) -> Library | None:
    """The library with `slug`, or None (uses the request's session)."""
    row = db.session().scalars(_query().where(LibraryRow.slug == slug)).one_or_none()
    return _to_library(row) if row is not None else None


def list_libraries() -> list[Library]:
    """All libraries, by name."""
    rows = db.session().scalars(_query().order_by(LibraryRow.name, LibraryRow.slug)).all()
    return [_to_library(row) for row in rows]


def upsert_libraries(session: Session, libraries: list[Library]) -> UpsertReport:
    """Create or update `libraries` by slug in one transaction (all or nothing).

    A library's stored texts become exactly the ones given, so a text taken out
    of the file goes back to the default. Libraries not given are left alone.
    """
    slugs = [library.slug for library in libraries]
    if len(set(slugs)) != len(slugs):
        raise ValueError("duplicate slugs in one upsert")
    report = UpsertReport()
    try:
        existing = {row.slug: row for row in
                    session.scalars(_query().where(LibraryRow.slug.in_(slugs))).all()}
        for library in libraries:
            _upsert_one(session, existing.get(library.slug), library, report)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _upsert_one(session: Session, row: LibraryRow | None, library: Library,
                report: UpsertReport) -> None:
    if row is None:
        row = LibraryRow(slug=library.slug)
        _copy(library, row)
        session.add(row)
        report.created.append(library.slug)
    elif _to_library(row) == library:
        report.unchanged.append(library.slug)
    else:
        _copy(library, row)
        # The ORM only bumps updated_at when a column changed; texts live in another table.
        row.updated_at = datetime.now(timezone.utc)
        report.updated.append(library.slug)


def _copy(library: Library, row: LibraryRow) -> None:
    for name in _FIELDS:
        setattr(row, name, getattr(library, name))
    wanted = {(lang, key): value for lang, texts in library.texts.items() for key, value in texts.items()}
    kept = []
    for text_row in row.texts:
        value = wanted.pop((text_row.language, text_row.key), None)
        if value is not None:
            text_row.value = value
            kept.append(text_row)
    # Rows not kept are deleted (delete-orphan); updating in place keeps the unique key valid.
    row.texts = kept + [LibraryTextRow(language=lang, key=key, value=value)
                        for (lang, key), value in sorted(wanted.items())]


def _query() -> Select[tuple[LibraryRow]]:
    # Texts in the same round trip: every page needs them.
    return select(LibraryRow).options(selectinload(LibraryRow.texts))


def _to_library(row: LibraryRow) -> Library:
    texts: dict[str, dict[str, str]] = {}
    for text_row in row.texts:
        texts.setdefault(text_row.language, {})[text_row.key] = text_row.value
    return Library(slug=row.slug, **{name: getattr(row, name) for name in _FIELDS}, texts=texts)
