"""Database tables of the libraries this deployment serves.

Only the Alembic migrations create these tables; the models are for queries.
Secrets never live here: the FBS credentials are named by environment variable.

`libraries` + `library_texts` hold what citizens see (the published state); the loader and the
editor area both write them, and every change is recorded in `library_revisions`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Dialect, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from portal import clock
from portal.db import Base


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; read back aware on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware ones (portal.clock.now())")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value  # what the DateTime column hands back
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def _now() -> datetime:
    return clock.now()


class LibraryRow(Base):
    """One library (an FBS agency) with its published settings."""

    __tablename__ = "libraries"
    __table_args__ = (UniqueConstraint("slug", name="uq_libraries_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str] = mapped_column(String(16))
    cutoff_date: Mapped[date] = mapped_column(Date)
    kodelinje: Mapped[str | None] = mapped_column(String(64))
    payment_overview_url: Mapped[str | None] = mapped_column(String(500))
    fbs_username_env: Mapped[str | None] = mapped_column(String(100))
    fbs_password_env: Mapped[str | None] = mapped_column(String(100))
    # Card payment (issue 8): the variable holding the library's Nexi secret key, and its terms.
    nexi_secret_key_env: Mapped[str | None] = mapped_column(String(100))
    payment_terms_url: Mapped[str | None] = mapped_column(String(500))
    # Who to ask (issue 9): the library about a fee, the municipality about Mit Betalingsoverblik.
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_url: Mapped[str | None] = mapped_column(String(500))
    municipality_contact: Mapped[str | None] = mapped_column(String(300))
    municipality_contact_url: Mapped[str | None] = mapped_column(String(500))
    # Links the default texts point to (seed 000: "Læs mere", the library's fee rates).
    read_more_url: Mapped[str | None] = mapped_column(String(500))
    fee_rates_url: Mapped[str | None] = mapped_column(String(500))
    # Embedding and sign-in (issue 10): origins one per line; profiles space-separated (None: "mitid");
    # the FBS access mode of Adgangsplatformen borrowers (None: "direct").
    embed_origins: Mapped[str | None] = mapped_column(String(2000))
    sign_in: Mapped[str | None] = mapped_column(String(64))
    fbs_access: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now, onupdate=_now)
    # Bumped by every change (publish, draft, schedule, load): a form carrying an older
    # number is stale, so a second editor cannot silently overwrite the first.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # When `cutoff_date` was last published; scheduled dates that take effect later win.
    # None: stored before schedules existed, so any schedule that took effect wins.
    cutoff_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # sha256 of this library's entry in the libraries file when it was last applied:
    # start-up re-applies an entry only when it changed, so editors' work survives restarts.
    source_hash: Mapped[str | None] = mapped_column(String(64))

    texts: Mapped[list[LibraryTextRow]] = relationship(
        back_populates="library", cascade="all, delete-orphan", order_by="LibraryTextRow.id"
    )
    scheduled: Mapped[list[ScheduledCutoffRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ScheduledCutoffRow.effective_from"
    )


class LibraryTextRow(Base):
    """A library's own wording of one text in one language (overrides the default)."""

    __tablename__ = "library_texts"
    __table_args__ = (UniqueConstraint("library_id", "language", "key", name="uq_library_texts_library_language_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)

    library: Mapped[LibraryRow] = relationship(back_populates="texts")


class DraftRow(Base):
    """A library's unpublished changes (at most one draft per library, shared by its editors).

    `data` = {"fields": the draft's editable fields, "base": the published fields it was made
    from}; a field equal to its base was not touched, so it follows the published value.
    """

    __tablename__ = "library_drafts"
    __table_args__ = (UniqueConstraint("library_id", name="uq_library_drafts_library_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RevisionRow(Base):
    """One recorded change of a library: publish, restore, load, schedule or unschedule.

    `changes` is a list of [field, before, after]; `snapshot` the library's fields after the
    change (sparse: unset fields left out), which a restore brings back.
    """

    __tablename__ = "library_revisions"
    __table_args__ = (UniqueConstraint("library_id", "number", name="uq_library_revisions_library_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … per library
    action: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[list[Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    restored_from: Mapped[int | None] = mapped_column(Integer)


class ScheduledCutoffRow(Base):
    """From `effective_from` (00:00 Europe/Copenhagen) the cut-off date is `cutoff_date`."""

    __tablename__ = "scheduled_cutoffs"
    __table_args__ = (
        UniqueConstraint("library_id", "effective_from", name="uq_scheduled_cutoffs_library_id_effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    effective_from: Mapped[date] = mapped_column(Date)
    cutoff_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CutoffDisagreementRow(Base):
    """How often FBS's flag disagreed with the library's cut-off date, per creation month and direction.

    Anonymous on purpose: no person, no patron id, no fee id (see migration 0005).
    """

    __tablename__ = "cutoff_disagreements"
    __table_args__ = (
        UniqueConstraint("library_id", "month", "direction", name="uq_cutoff_disagreements_library_id_month_direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
