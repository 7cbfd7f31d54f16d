"""effective_cutoff: whichever of the published and the scheduled dates took effect last wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.clock import TIMEZONE
from portal.domain.cutoff import ScheduledDate, effective_cutoff, takes_effect_at

PUBLISHED = date(2021, 6, 15)
PUBLISHED_AT = datetime(2027, 1, 10, 12, 0, tzinfo=TIMEZONE)
MARCH = ScheduledDate(date(2027, 3, 1), date(2024, 1, 1))
APRIL = ScheduledDate(date(2027, 4, 1), date(2025, 1, 1))


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=TIMEZONE)


def test_without_schedules_the_published_date_holds() -> None:
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [], _at(2030, 1, 1)) == PUBLISHED


def test_a_schedule_not_yet_in_force_does_not_count() -> None:
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [MARCH], _at(2027, 2, 28, 23, 59, 59)) == PUBLISHED


def test_a_schedule_takes_effect_at_copenhagen_midnight_exactly() -> None:
    just_before = _at(2027, 3, 1) - timedelta(microseconds=1)
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [MARCH], just_before) == PUBLISHED
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [MARCH], _at(2027, 3, 1)) == MARCH.cutoff_date


def test_the_later_of_two_schedules_in_force_wins_whatever_their_order() -> None:
    at = _at(2027, 4, 2)
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [MARCH, APRIL], at) == APRIL.cutoff_date
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [APRIL, MARCH], at) == APRIL.cutoff_date
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [APRIL, MARCH], _at(2027, 3, 15)) == MARCH.cutoff_date


def test_a_publish_after_a_schedule_took_effect_wins_until_the_next_schedule() -> None:
    published_at = _at(2027, 3, 15, 9, 30)
    assert effective_cutoff(PUBLISHED, published_at, [MARCH, APRIL], _at(2027, 3, 20)) == PUBLISHED
    assert effective_cutoff(PUBLISHED, published_at, [MARCH, APRIL], _at(2027, 4, 1)) == APRIL.cutoff_date


def test_unknown_publish_time_loses_to_any_schedule_in_force() -> None:
    assert effective_cutoff(PUBLISHED, None, [MARCH], _at(2027, 3, 1)) == MARCH.cutoff_date
    assert effective_cutoff(PUBLISHED, None, [MARCH], _at(2027, 2, 1)) == PUBLISHED


def test_a_publish_at_the_very_moment_a_schedule_starts_wins() -> None:
    assert effective_cutoff(PUBLISHED, _at(2027, 3, 1), [MARCH], _at(2027, 3, 2)) == PUBLISHED


def test_the_moment_is_compared_as_an_instant_not_as_wall_time() -> None:
    # 23:30 UTC on 28 February is 00:30 on 1 March in Copenhagen: the schedule is in force.
    at = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
    assert effective_cutoff(PUBLISHED, PUBLISHED_AT, [MARCH], at) == MARCH.cutoff_date


@pytest.mark.parametrize(
    ("day", "utc_offset_hours"),
    [
        (date(2027, 3, 27), 1),  # the last midnight of winter time
        (date(2027, 3, 28), 1),  # clocks go forward at 02:00 that day: midnight is still +01:00
        (date(2027, 3, 29), 2),  # the first midnight of summer time
        (date(2027, 10, 31), 2),  # clocks go back at 03:00 that day: midnight is still +02:00
        (date(2027, 11, 1), 1),  # the first midnight of winter time again
    ],
)
def test_takes_effect_at_is_danish_midnight_across_dst_changes(day: date, utc_offset_hours: int) -> None:
    starts = takes_effect_at(day)
    assert (starts.date(), starts.hour, starts.minute) == (day, 0, 0)
    assert starts.utcoffset() == timedelta(hours=utc_offset_hours)
    utc_previous_evening = datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=utc_offset_hours)
    assert starts == utc_previous_evening


_days = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
_moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(TIMEZONE))


@given(
    published_at=st.none() | _moments,
    at=_moments,
    schedules=st.lists(st.tuples(_days, _days), unique_by=lambda pair: pair[0], max_size=6),
)
def test_matches_the_plain_reading_of_the_rule(
    published_at: datetime | None, at: datetime, schedules: list[tuple[date, date]]
) -> None:
    """Reference: line up everything in force at `at` by when it took effect; take the last."""
    entries = [ScheduledDate(start, cutoff) for start, cutoff in schedules]
    never = datetime(1900, 1, 1, tzinfo=UTC)
    events = [(published_at or never, 1, PUBLISHED)]  # 1: the publish wins a tie
    events += [
        (takes_effect_at(entry.effective_from), 0, entry.cutoff_date)
        for entry in entries
        if takes_effect_at(entry.effective_from) <= at
    ]
    assert effective_cutoff(PUBLISHED, published_at, entries, at) == max(events)[2]
