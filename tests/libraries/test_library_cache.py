"""get_library keeps libraries in process memory, and still sees every change at once.

Two apps on one database stand for two gunicorn workers: each has its own cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session

from portal import clock, db
from portal.libraries.cache import in_force_window, library_cache
from portal.libraries.editing import publish, save_draft, schedule_cutoff
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow
from portal.libraries.repository import get_library
from tests.libraries.editing_support import LYNGBY, edited, seed, state_of

NEW = date(2024, 1, 1)


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


def _library(app: Flask, slug: str = "lyngby") -> Library:
    """What a request of `app` sees (a fresh app context, like a request)."""
    with app.app_context():
        library = get_library(slug)
    assert library is not None
    return library


STAMP_READ = "stamp read"


@contextmanager
def _counting(app: Flask) -> Iterator[list[str]]:
    """The SQL statements `app` sends inside the block.

    The stamp goes straight to the driver on the read engine, past SQLAlchemy's statement events:
    it counts as one statement per connection it takes (one each, tests/libraries/test_stamp_read.py).
    """
    engine: Engine = app.extensions["portal.db.engine"]
    reader: Engine = app.extensions["portal.db.read_engine"]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def stamp(*_args: Any) -> None:
        statements.append(STAMP_READ)

    event.listen(engine, "before_cursor_execute", record)
    event.listen(reader, "checkout", stamp)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(reader, "checkout", stamp)


def _publish_name(session: Session, name: str) -> None:
    state = save_draft(session, "lyngby", edited(LYNGBY, {"name": name}), "anna", state_of(session).version)
    publish(session, "lyngby", "anna", state.version)


def test_a_publish_in_one_app_is_seen_by_another_on_its_next_request(
    seeded: Session, make_app: Callable[..., Flask]
) -> None:
    first, second = make_app(), make_app()
    assert _library(second).name == LYNGBY.name  # now cached in the second app
    with first.app_context():
        _publish_name(db.session(), "Lyngby Bibliotek")
    assert _library(second).name == "Lyngby Bibliotek"
    assert _library(first).name == "Lyngby Bibliotek"


def test_a_warm_view_reads_the_library_with_one_statement(seeded: Session, make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with _counting(app) as cold:
        _library(app)
    with _counting(app) as warm:
        again = _library(app)
    assert len(cold) == 4 and cold[0] == STAMP_READ  # the stamp, the row, its texts, its scheduled dates
    assert warm == [STAMP_READ]
    assert again == _library(app) and again.name == LYNGBY.name


def test_a_text_change_is_seen_and_read_fully_again(seeded: Session, make_app: Callable[..., Flask]) -> None:
    app = make_app()
    _library(app)
    state = save_draft(
        seeded, "lyngby", edited(LYNGBY, {"text.da.intro": "Ny tekst"}), "anna", state_of(seeded).version
    )
    publish(seeded, "lyngby", "anna", state.version)
    with _counting(app) as statements:
        library = _library(app)
    assert library.text("intro", "da") == "Ny tekst"
    assert len(statements) == 4


def test_a_scheduled_date_taking_effect_is_seen_without_a_publish(
    seeded: Session, make_app: Callable[..., Flask], frozen_clock: clock.FrozenClock
) -> None:
    app = make_app()
    state = state_of(seeded)
    schedule_cutoff(seeded, "lyngby", date(2027, 3, 1), NEW, "anna", state.version)
    frozen_clock.move_to(datetime(2027, 2, 28, 23, 59, 59))
    assert _library(app).cutoff_date == LYNGBY.cutoff_date
    assert _library(app).cutoff_date == LYNGBY.cutoff_date  # cached, still before midnight
    frozen_clock.advance(timedelta(seconds=1))
    assert _library(app).cutoff_date == NEW
    # The clock going back (tests move it) is outside the window too.
    frozen_clock.move_to(datetime(2027, 2, 1, 12, 0))
    assert _library(app).cutoff_date == LYNGBY.cutoff_date


def test_a_row_changed_without_a_version_bump_is_still_seen(seeded: Session, make_app: Callable[..., Flask]) -> None:
    """updated_at is part of the stamp: a write that forgets the version is not missed."""
    app = make_app()
    _library(app)
    seeded.execute(
        update(LibraryRow)
        .where(LibraryRow.slug == "lyngby")
        .values(name="Direkte", updated_at=clock.now() + timedelta(seconds=1))
    )
    seeded.commit()
    assert _library(app).name == "Direkte"


def test_an_unknown_slug_is_none_and_not_stored(seeded: Session, make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        assert get_library("nowhere") is None
    assert "nowhere" not in library_cache(app)._entries


def test_the_window_is_between_the_scheduled_moments_around_now() -> None:
    starts = [clock.start_of_day(date(2027, 3, 1)), clock.start_of_day(date(2027, 4, 1))]
    at = datetime(2027, 3, 15, 12, 0, tzinfo=clock.TIMEZONE)
    assert in_force_window(starts, at) == (starts[0], starts[1])
    assert in_force_window(starts, starts[0]) == (starts[0], starts[1])  # in force from its midnight
    assert in_force_window(iter(starts), at) == (starts[0], starts[1])  # any iterable, read once
    assert in_force_window([], at) == (None, None)
