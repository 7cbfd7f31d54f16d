"""The portal's clock: the current moment and date in Europe/Copenhagen, and time travel for tests.

Everything that depends on "now" (cut-off dates scheduled for a day, timestamps of published
changes) asks this module, never `datetime.now()` or `date.today()` directly: the libraries are
Danish, so a day starts at midnight Danish time whatever the server's time zone is, and tests can
freeze the clock instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["TIMEZONE", "FrozenClock", "frozen", "local", "now", "start_of_day", "today"]

TIMEZONE = ZoneInfo("Europe/Copenhagen")

# A module global rather than a context variable: a browser test's live server answers in
# another thread, and it must see the frozen time too.
_frozen_at: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware, in Europe/Copenhagen (frozen in tests)."""
    if _frozen_at is not None:
        return _frozen_at
    return datetime.now(TIMEZONE)


def today() -> date:
    """Today's date in Europe/Copenhagen."""
    return now().date()


def local(moment: datetime) -> datetime:
    """`moment` (aware) expressed in Europe/Copenhagen; a naive one is read as Copenhagen time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=TIMEZONE)
    return moment.astimezone(TIMEZONE)


def start_of_day(day: date) -> datetime:
    """00:00 in Europe/Copenhagen on `day` (Danish clocks change at 02:00/03:00, so it always exists)."""
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


class FrozenClock:
    """The handle `frozen()` yields: move the frozen clock without leaving the block."""

    def move_to(self, moment: datetime) -> None:
        """Freeze at `moment` instead (aware, or naive Copenhagen wall time)."""
        global _frozen_at
        _frozen_at = local(moment)

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta` of real elapsed time (via UTC, so DST changes count right)."""
        current = now().astimezone(UTC)
        self.move_to(current + delta)


@contextmanager
def frozen(moment: datetime) -> Iterator[FrozenClock]:
    """Freeze now()/today() at `moment` inside the block (tests only; blocks may nest).

    A naive `moment` is Copenhagen wall time, e.g. `frozen(datetime(2027, 2, 28, 23, 59, 59))`.
    """
    global _frozen_at
    previous = _frozen_at
    clock = FrozenClock()
    clock.move_to(moment)
    try:
        yield clock
    finally:
        _frozen_at = previous
