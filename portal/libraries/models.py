"""Database tables of the libraries this deployment serves.

Only the Alembic migrations create these tables; the models are for queries.
Secrets never live here: the FBS credentials are named by environment variable.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base


def _now() -> datetime:
    return datetime.now(timezone.utc)


class LibraryRow(Base):
    """One library (an FBS agency) with its settings."""

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)

    texts: Mapped[list["LibraryTextRow"]] = relationship(
        back_populates="library", cascade="all, delete-orphan", order_by="LibraryTextRow.id")


class LibraryTextRow(Base):
    """A library's own wording of one text in one language (overrides the default)."""

    __tablename__ = "library_texts"
    __table_args__ = (UniqueConstraint("library_id", "language", "key",
                                       name="uq_library_texts_library_language_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)

    library: Mapped[LibraryRow] = relationship(back_populates="texts")
