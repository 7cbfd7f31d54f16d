"""The anonymous tally of FBS flags that disagree with a library's cut-off date (issue 9).

When a citizen's page shows a fee whose `payable_by_client` flag contradicts the cut-off date,
the portal notes only *that* it happened: the library, the first day of the fee's creation month,
and the direction. No person, patron id, fee id or amount is ever written — `record` takes the
mismatches but keeps nothing of them beyond month and direction, so the table cannot be tied
back to anyone. The editor area reads it with `summary` to suggest a cut-off date.

Directions:

- ``handed_over_early``: the fee was created *before* the cut-off date, yet FBS has handed it
  over (not payable here) — FBS's effective date is earlier than the library's.
- ``payable_late``: the fee was created on or after the cut-off date, yet FBS still takes
  payment for it — FBS's effective date is later.

Counting: `count` is the number of distinct days (Danish calendar days) on which the portal saw
the disagreement, not the number of fees or page views. A borrower reloading their page, or
one borrower with five such fees in one month, adds nothing on a day it was already seen; the
number grows only as the disagreement keeps turning up over time. Counting people or fees would
need something that identifies them, which this table must not hold; counting page views would
measure how often someone pressed reload. With first and last seen, days-seen tells the editor
whether the disagreement is a one-off or ongoing, which is all they need.

Plain Python, no Flask: the caller passes the session; `record` commits its one small write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import clock
from portal.domain.overview import Destination, Mismatch
from portal.libraries.models import CutoffDisagreementRow, LibraryRow

__all__ = ["Direction", "Summary", "Tally", "database_key", "direction_of", "record", "summary", "written_today"]


class Direction(str, Enum):
    HANDED_OVER_EARLY = "handed_over_early"
    PAYABLE_LATE = "payable_late"


@dataclass(frozen=True)
class Tally:
    """One row of the tally: a creation month, a direction, on how many days it was seen."""

    month: date  # the first day of the fees' creation month
    direction: Direction
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Summary:
    """What the editor needs: the earliest handed-over month and the latest still-payable one."""

    cutoff_date: date
    handed_over_early: Tally | None
    payable_late: Tally | None

    @property
    def suggested_cutoff(self) -> date | None:
        """The first day of the earliest month FBS handed over fees from, if it did so early."""
        return self.handed_over_early.month if self.handed_over_early is not None else None

    def __bool__(self) -> bool:
        return self.handed_over_early is not None or self.payable_late is not None


def direction_of(mismatch: Mismatch) -> Direction:
    """Which way the flag disagrees: the date said "payable here" but FBS handed it over, or vice versa."""
    if mismatch.expected is Destination.PAYABLE_HERE:
        return Direction.HANDED_OVER_EARLY
    return Direction.PAYABLE_LATE


def _keys(mismatches: Iterable[Mismatch]) -> set[tuple[date, Direction]]:
    # The only place a mismatch is read: month and direction leave, nothing else does.
    return {(mismatch.fee.created.replace(day=1), direction_of(mismatch)) for mismatch in mismatches}


def record(session: Session, library: str | int, mismatches: Iterable[Mismatch], seen_at: datetime) -> None:
    """Add one page view's disagreements to the library's tally (by slug or id); then commit.

    Each distinct (month, direction) counts once per Danish calendar day (see the module's
    docstring). Nothing is written when there is nothing to record. Raises on database errors;
    the caller decides that a failed tally must not fail the page.
    """
    day = clock.local(seen_at).date()
    database = database_key(session.get_bind().engine)
    keys = _unwritten(database, library, mismatches, day)
    if not keys:
        return
    library_id = library if isinstance(library, int) else _library_id(session, library)
    if library_id is None:
        return  # a library removed meanwhile: nothing to tally against
    try:
        for month, direction in sorted(keys):
            _count(session, library_id, month, direction, seen_at)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    _WRITTEN_TODAY.add(day, {(database, str(library), month, direction, day) for month, direction in keys})


def database_key(engine: Engine) -> str:
    """Which database a tally goes to, as `written_today` is told (the URL without its password)."""
    return engine.url.render_as_string(hide_password=True)


def written_today(database: str, library: str | int, mismatches: Iterable[Mismatch], seen_at: datetime) -> bool:
    """Whether this process already wrote every disagreement of `mismatches` to `database` today.

    Then `record` would write nothing: a caller can leave out the database session altogether.
    """
    return not _unwritten(database, library, mismatches, clock.local(seen_at).date())


def _unwritten(
    database: str, library: str | int, mismatches: Iterable[Mismatch], day: date
) -> set[tuple[date, Direction]]:
    # What this process already wrote today changes nothing an editor sees (counts and "most
    # recently" are by day): skipped, so a warm page view writes nothing (issue 11).
    return {key for key in _keys(mismatches) if (database, str(library), *key, day) not in _WRITTEN_TODAY.keys}


class _WrittenToday:
    """The (database, library, month, direction, day) this process has written, for the current day only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: date | None = None
        self.keys: frozenset[tuple[str, str, date, Direction, date]] = frozenset()

    def add(self, day: date, keys: set[tuple[str, str, date, Direction, date]]) -> None:
        with self._lock:
            if day != self._day:  # a new day: yesterday's entries can never match again
                self._day, self.keys = day, frozenset()
            self.keys = self.keys | keys


_WRITTEN_TODAY = _WrittenToday()


def _library_id(session: Session, slug: str) -> int | None:
    # An exact match: `lyngby` never finds `lyngby-boern`'s row.
    return session.scalars(select(LibraryRow.id).where(LibraryRow.slug == slug)).one_or_none()


def _count(session: Session, library_id: int, month: date, direction: Direction, seen_at: datetime) -> None:
    row = _row(session, library_id, month, direction)
    if row is None:
        try:
            # A savepoint: when another page view inserted the same row just now, only this insert
            # is undone and the row is counted as an existing one below.
            with session.begin_nested():
                session.add(
                    CutoffDisagreementRow(
                        library_id=library_id,
                        month=month,
                        direction=direction.value,
                        count=1,
                        first_seen=seen_at,
                        last_seen=seen_at,
                    )
                )
            return
        except IntegrityError:
            row = _row(session, library_id, month, direction)
            if row is None:
                raise
    if clock.local(seen_at).date() > clock.local(row.last_seen).date():
        row.count += 1
    row.last_seen = max(row.last_seen, seen_at)
    row.first_seen = min(row.first_seen, seen_at)


def _row(session: Session, library_id: int, month: date, direction: Direction) -> CutoffDisagreementRow | None:
    query = (
        select(CutoffDisagreementRow)
        .where(
            CutoffDisagreementRow.library_id == library_id,
            CutoffDisagreementRow.month == month,
            CutoffDisagreementRow.direction == direction.value,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def summary(session: Session, slug: str, cutoff_date: date) -> Summary:
    """The library's tally as the editor sees it, measured against the cut-off date in force.

    Only rows that still contradict `cutoff_date` count: once the editor moves the date to where
    FBS has it, the old months no longer disagree and the message goes away by itself.
    """
    query = (
        select(CutoffDisagreementRow)
        .join(LibraryRow, LibraryRow.id == CutoffDisagreementRow.library_id)
        .where(LibraryRow.slug == slug)
    )
    tallies = [_tally(row) for row in session.scalars(query)]
    early = [t for t in tallies if t.direction is Direction.HANDED_OVER_EARLY and t.month < cutoff_date]
    # A month contradicts "payable here" when any of its days is on or after the cut-off date.
    late = [t for t in tallies if t.direction is Direction.PAYABLE_LATE and _next_month(t.month) > cutoff_date]
    return Summary(
        cutoff_date=cutoff_date,
        handed_over_early=min(early, key=lambda t: t.month, default=None),
        payable_late=max(late, key=lambda t: t.month, default=None),
    )


def _tally(row: CutoffDisagreementRow) -> Tally:
    return Tally(row.month, Direction(row.direction), row.count, row.first_seen, row.last_seen)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)
