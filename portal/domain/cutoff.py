"""Which cut-off date (skæringsdato) is in force at a given moment.

A library has one published cut-off date, set at the moment it was published, and may have
scheduled ones ("from 1 March 2027 the cut-off date is 1 January 2024"), each taking effect at
00:00 Danish time on its day. Nothing runs at midnight: the date in force is computed whenever it
is read, so the citizen page follows a schedule by itself.

Rule: of the published date and the scheduled dates that have taken effect, the one that took
effect last wins. So a schedule overrides an earlier publish, and an editor who publishes a date
after a schedule took effect overrides that schedule (until the next one takes effect).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from portal.clock import start_of_day

__all__ = ["ScheduledDate", "effective_cutoff", "takes_effect_at"]


@dataclass(frozen=True)
class ScheduledDate:
    """From `effective_from` (00:00 Europe/Copenhagen) the cut-off date is `cutoff_date`."""

    effective_from: date
    cutoff_date: date


def takes_effect_at(effective_from: date) -> datetime:
    """The moment a date scheduled for `effective_from` takes effect: that day's Danish midnight."""
    return start_of_day(effective_from)


def effective_cutoff(
    published: date, published_at: datetime | None, scheduled: Iterable[ScheduledDate], at: datetime
) -> date:
    """The cut-off date in force at the aware moment `at`.

    `published_at` None means "published before any schedule existed" (libraries stored before
    schedules were possible), so every schedule that has taken effect beats it. The published date
    is a candidate even if `published_at` is after `at`: it is the only published value we know.
    On a tie (a publish at exactly a schedule's midnight) the publish wins: it was a person's act.
    """
    best_date, best_at = published, published_at
    for entry in scheduled:
        starts = takes_effect_at(entry.effective_from)
        if starts > at:
            continue
        if best_at is None or starts > best_at:
            best_date, best_at = entry.cutoff_date, starts
    return best_date
