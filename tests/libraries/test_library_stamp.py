"""The warm view's one statement about its library: a stamp read on a connection of its own.

Issue 11: through the ORM session the stamp cost a warm view about 0.9 ms of CPU (a Session made,
a transaction begun and ended, the result adapted to the ORM); it is now one statement given
straight to the driver on the app's read engine (test_stamp_read.py pins that path). These tests
pin what that must not change.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, g
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries.cache import current_stamp, read_stamp, stamp_of
from portal.libraries.models import LibraryRow
from portal.libraries.repository import get_library
from tests.libraries.editing_support import seed


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


def test_the_stamp_equals_the_rows_own(seeded: Session, make_app: Callable[..., Flask]) -> None:
    """Typed like the model's columns, so a cached entry (stored under `stamp_of(row)`) is found again."""
    app = make_app()
    row = seeded.query(LibraryRow).filter_by(slug="lyngby").one()
    with app.app_context():
        assert current_stamp("lyngby") == stamp_of(row)
        assert current_stamp("nowhere") is None


def test_a_warm_read_opens_no_orm_session(seeded: Session, make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        assert get_library("lyngby") is not None
    with app.app_context():
        assert get_library("lyngby") is not None
        assert "db_session" not in g  # nothing for the view to give back before it waits on FBS


def assert_sees_only_committed(seeded: Session, engine: Engine) -> None:
    """A stamp read on `engine` misses another transaction's write until it is committed."""
    before = read_stamp(engine, "lyngby")
    assert before is not None
    seeded.execute(update(LibraryRow).where(LibraryRow.slug == "lyngby").values(version=LibraryRow.version + 1))
    assert read_stamp(engine, "lyngby") == before  # another transaction's uncommitted write
    seeded.commit()
    after = read_stamp(engine, "lyngby")
    assert after is not None and after[1] == before[1] + 1


def test_the_stamp_sees_only_what_is_committed(seeded: Session, make_app: Callable[..., Flask]) -> None:
    assert_sees_only_committed(seeded, make_app().extensions["portal.db.engine"])
