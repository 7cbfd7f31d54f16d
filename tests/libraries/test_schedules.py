"""Scheduled cut-off dates: entered ahead, in force from Danish midnight, with no restart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries.editing import (
    Change,
    NotFound,
    ScheduledCutoff,
    ValidationFailed,
    cancel_scheduled_cutoff,
    history,
    load_state,
    publish,
    save_draft,
    schedule_cutoff,
)
from portal.libraries.repository import get_library, list_libraries
from tests.libraries.conftest import T0
from tests.libraries.editing_support import LYNGBY, edited, seed, state_of

OLD, NEW = date(2021, 6, 15), date(2024, 1, 1)


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


def _schedule(session: Session, effective_from: date, cutoff: date = NEW, slug: str = "lyngby") -> ScheduledCutoff:
    state = schedule_cutoff(session, slug, effective_from, cutoff, "anna", state_of(session, slug).version)
    return next(entry for entry in state.upcoming if entry.effective_from == effective_from)


def test_a_scheduled_date_is_upcoming_and_changes_nothing_yet(seeded: Session) -> None:
    entry = _schedule(seeded, date(2027, 3, 1))
    state = state_of(seeded)
    assert state.upcoming == (ScheduledCutoff(entry.id, date(2027, 3, 1), NEW, "anna", T0),)
    assert state.current_cutoff == state.published.cutoff_date == OLD
    latest = history(seeded, "lyngby")[0]
    assert (latest.action, latest.by, latest.changes) == (
        "schedule",
        "anna",
        (Change("scheduled_cutoff.2027-03-01", None, "2024-01-01"),),
    )


def test_upcoming_dates_are_soonest_first_and_leave_when_in_force(
    seeded: Session, frozen_clock: clock.FrozenClock
) -> None:
    _schedule(seeded, date(2027, 4, 1), date(2025, 1, 1))
    _schedule(seeded, date(2027, 3, 1))
    assert [entry.effective_from for entry in state_of(seeded).upcoming] == [date(2027, 3, 1), date(2027, 4, 1)]
    frozen_clock.move_to(datetime(2027, 3, 1, 0, 0))
    state = state_of(seeded)
    assert [entry.effective_from for entry in state.upcoming] == [date(2027, 4, 1)]
    assert state.current_cutoff == NEW


@pytest.mark.parametrize("effective_from", [date(2027, 1, 10), date(2027, 1, 9), date(2020, 1, 1)])
def test_a_date_must_be_scheduled_after_today(seeded: Session, effective_from: date) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _schedule(seeded, effective_from)
    assert caught.value.codes == {"effective_from": "not_future"}
    assert state_of(seeded).upcoming == () and len(history(seeded, "lyngby")) == 1


def test_the_new_cut_off_date_is_never_after_the_day_it_takes_effect(seeded: Session) -> None:
    # Else from that day the date in force would be in the future, which the main form refuses.
    with pytest.raises(ValidationFailed) as caught:
        _schedule(seeded, date(2027, 3, 1), cutoff=date(2027, 3, 2))
    assert caught.value.codes == {"cutoff_date": "after_start"}
    assert state_of(seeded).upcoming == () and len(history(seeded, "lyngby")) == 1
    # The day itself is the latest it may be.
    assert _schedule(seeded, date(2027, 3, 1), cutoff=date(2027, 3, 1)).cutoff_date == date(2027, 3, 1)


def test_tomorrow_is_the_earliest_day_and_today_may_be_given(seeded: Session) -> None:
    assert _schedule(seeded, date(2027, 1, 11)).effective_from == date(2027, 1, 11)
    with pytest.raises(ValidationFailed):
        schedule_cutoff(
            seeded, "lyngby", date(2027, 2, 1), NEW, "anna", state_of(seeded).version, today=date(2027, 2, 1)
        )


def test_two_dates_for_the_same_day_are_refused(seeded: Session) -> None:
    _schedule(seeded, date(2027, 3, 1))
    with pytest.raises(ValidationFailed) as caught:
        _schedule(seeded, date(2027, 3, 1), date(2025, 1, 1))
    assert caught.value.codes == {"effective_from": "duplicate"}


def test_cancel_removes_an_upcoming_date_and_is_recorded(seeded: Session) -> None:
    entry = _schedule(seeded, date(2027, 3, 1))
    state = cancel_scheduled_cutoff(seeded, "lyngby", entry.id, "bo", state_of(seeded).version)
    assert state.upcoming == ()
    latest = history(seeded, "lyngby")[0]
    assert (latest.action, latest.by, latest.changes) == (
        "unschedule",
        "bo",
        (Change("scheduled_cutoff.2027-03-01", "2024-01-01", None),),
    )


def test_another_librarys_date_cannot_be_cancelled(seeded: Session) -> None:
    theirs = _schedule(seeded, date(2027, 3, 1), slug="rodovre")
    with pytest.raises(NotFound):
        cancel_scheduled_cutoff(seeded, "lyngby", theirs.id, "anna", state_of(seeded).version)
    assert state_of(seeded, "rodovre").upcoming == (theirs,)


def test_a_date_in_force_cannot_be_cancelled(seeded: Session, frozen_clock: clock.FrozenClock) -> None:
    entry = _schedule(seeded, date(2027, 3, 1))
    frozen_clock.move_to(datetime(2027, 3, 1, 8, 0))
    with pytest.raises(ValidationFailed) as caught:
        cancel_scheduled_cutoff(seeded, "lyngby", entry.id, "anna", state_of(seeded).version)
    assert caught.value.codes == {"schedule_id": "not_upcoming"}
    assert state_of(seeded).current_cutoff == NEW


@pytest.mark.parametrize(
    "day",
    [
        date(2027, 3, 1),
        date(2027, 3, 28),  # summer time starts at 02:00 that day
        date(2027, 3, 29),  # the first midnight in summer time (+02:00)
        date(2027, 10, 31),  # winter time starts at 03:00 that day
        date(2027, 11, 1),  # the first midnight in winter time (+01:00)
    ],
)
def test_the_citizen_page_switches_at_copenhagen_midnight_by_itself(
    seeded: Session, make_app: Callable[..., Flask], frozen_clock: clock.FrozenClock, day: date
) -> None:
    _schedule(seeded, day)
    app = make_app()  # started before the switch; never restarted
    frozen_clock.move_to(datetime.combine(day - timedelta(days=1), datetime.max.time().replace(microsecond=0)))
    assert clock.now().strftime("%H:%M:%S") == "23:59:59"
    _assert_cutoff(app, seeded, OLD)
    frozen_clock.advance(timedelta(seconds=1))
    assert (clock.today(), clock.now().strftime("%H:%M:%S")) == (day, "00:00:00")
    _assert_cutoff(app, seeded, NEW)


def _assert_cutoff(app: Flask, session: Session, expected: date) -> None:
    with app.app_context():
        library = get_library("lyngby")
        assert library is not None and library.cutoff_date == expected
        assert {lib.slug: lib.cutoff_date for lib in list_libraries()}["lyngby"] == expected
    assert state_of(session).current_cutoff == expected


def test_a_date_published_after_a_schedule_took_effect_wins_until_the_next_one(
    seeded: Session, frozen_clock: clock.FrozenClock
) -> None:
    _schedule(seeded, date(2027, 3, 1))
    _schedule(seeded, date(2027, 4, 1), date(2025, 1, 1))
    frozen_clock.move_to(datetime(2027, 3, 15, 10, 0))
    state = save_draft(
        seeded,
        "lyngby",
        edited(state_of(seeded).published, {"cutoff_date": "2023-01-01"}),
        "anna",
        state_of(seeded).version,
    )
    revision = publish(seeded, "lyngby", "anna", state.version)
    assert revision.changes == (Change("cutoff_date", "2024-01-01", "2023-01-01"),)
    assert state_of(seeded).current_cutoff == date(2023, 1, 1)
    frozen_clock.move_to(datetime(2027, 4, 1, 0, 0))
    assert state_of(seeded).current_cutoff == date(2025, 1, 1)


def test_a_draft_saved_before_a_switch_does_not_undo_it_when_published_after(
    seeded: Session, frozen_clock: clock.FrozenClock
) -> None:
    _schedule(seeded, date(2027, 2, 1))
    save_draft(seeded, "lyngby", edited(LYNGBY, {"name": "Lyngby Bibliotek"}), "anna", state_of(seeded).version)
    frozen_clock.move_to(datetime(2027, 2, 2, 9, 0))
    state = state_of(seeded)
    assert state.draft is not None and state.draft.cutoff_date == NEW
    revision = publish(seeded, "lyngby", "anna", state.version)
    assert revision.changes == (Change("name", "Lyngby-Taarbæk Bibliotekerne", "Lyngby Bibliotek"),)
    assert state_of(seeded).current_cutoff == NEW


def test_load_state_can_look_at_another_day(seeded: Session) -> None:
    _schedule(seeded, date(2027, 3, 1))
    later = load_state(seeded, "lyngby", today=date(2027, 3, 1))
    assert later is not None and (later.current_cutoff, later.upcoming) == (NEW, ())
    earlier = load_state(seeded, "lyngby", today=date(2027, 2, 28))
    assert earlier is not None and earlier.current_cutoff == OLD
