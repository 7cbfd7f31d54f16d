"""portal.clock: Copenhagen's date and time, and frozen time for the cut-off date tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal import clock


def test_now_is_aware_and_in_copenhagen() -> None:
    moment = clock.now()
    assert moment.tzinfo is clock.TIMEZONE
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


def test_today_is_the_date_in_copenhagen_not_in_utc() -> None:
    with clock.frozen(datetime(2027, 6, 30, 22, 30, tzinfo=UTC)):  # 00:30 on 1 July in Denmark
        assert clock.today() == date(2027, 7, 1)
        assert clock.now().hour == 0


def test_frozen_accepts_naive_copenhagen_wall_time() -> None:
    with clock.frozen(datetime(2027, 2, 28, 23, 59, 59)):
        assert clock.now() == datetime(2027, 2, 28, 22, 59, 59, tzinfo=UTC)


def test_frozen_restores_the_real_clock_even_after_an_error() -> None:
    with pytest.raises(RuntimeError):
        with clock.frozen(datetime(2000, 1, 1, tzinfo=clock.TIMEZONE)):
            raise RuntimeError
    assert clock.today().year > 2000


def test_frozen_blocks_nest() -> None:
    with clock.frozen(datetime(2027, 1, 1, 12)):
        with clock.frozen(datetime(2028, 1, 1, 12)):
            assert clock.today() == date(2028, 1, 1)
        assert clock.today() == date(2027, 1, 1)


def test_move_to_and_advance() -> None:
    with clock.frozen(datetime(2027, 2, 28, 23, 59, 59)) as frozen:
        frozen.advance(timedelta(seconds=1))
        assert (clock.today(), clock.now().hour) == (date(2027, 3, 1), 0)
        frozen.move_to(datetime(2027, 5, 1, 8, tzinfo=clock.TIMEZONE))
        assert clock.now() == datetime(2027, 5, 1, 6, tzinfo=UTC)


def test_advance_counts_real_time_across_the_dst_change() -> None:
    # Clocks in Denmark jump from 02:00 to 03:00 on 28 March 2027: one real hour after 01:30 is 03:30.
    with clock.frozen(datetime(2027, 3, 28, 1, 30)) as frozen:
        frozen.advance(timedelta(hours=1))
        assert (clock.now().hour, clock.now().minute) == (3, 30)
        assert clock.now().utcoffset() == timedelta(hours=2)


def test_start_of_day_is_midnight_in_copenhagen() -> None:
    assert clock.start_of_day(date(2027, 7, 1)) == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
    assert clock.local(datetime(2027, 6, 30, 22, 0, tzinfo=UTC)).hour == 0
