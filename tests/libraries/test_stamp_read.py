"""The stamp read as the warm view makes it: straight to the driver, on the autocommit read engine.

Issue: a Core connection on the app's engine cost the warm view some 0.25 ms of CPU for one
statement (a pre-ping, a transaction begun and rolled back, SQLAlchemy's steps around the driver
call). These tests pin what the cheaper path must still do: one statement and nothing around it,
committed data only, no connection held or left in a transaction, a dropped connection survived,
errors raised as SQLAlchemy raises them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from portal import clock
from portal.db import make_engine, make_read_engine
from portal.libraries.cache import read_stamp, stamp_of
from portal.libraries.models import LibraryRow
from portal.libraries.repository import get_library
from tests.libraries.editing_support import seed
from tests.libraries.test_library_stamp import assert_sees_only_committed


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


@pytest.fixture
def reader(engine: Engine) -> Engine:
    """The read engine beside `engine` (disposed with it)."""
    return make_read_engine(engine)


def _queue_pool(engine: Engine) -> QueuePool:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool


def _sent_to_sqlite(engine: Engine, slug: str) -> list[str]:
    """The statements SQLite itself is given by a `read_stamp` on a connection `engine` pooled before."""
    sent: list[str] = []

    def trace(dbapi_conn: Any, *_args: Any) -> None:
        dbapi_conn.set_trace_callback(sent.append)

    engine.dispose()  # every connection from now on is traced
    event.listen(engine, "connect", trace)
    try:
        read_stamp(engine, slug)  # a new connection, pooled; a ping is for a pooled one only
        sent.clear()
        read_stamp(engine, slug)
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()
    return sent


def test_the_read_engines_stamp_equals_the_rows_own(seeded: Session, reader: Engine) -> None:
    row = seeded.query(LibraryRow).filter_by(slug="lyngby").one()
    assert reader is not seeded.get_bind()
    assert read_stamp(reader, "lyngby") == stamp_of(row)
    assert read_stamp(reader, "nowhere") is None


def test_a_stamp_read_gives_sqlite_one_statement_and_nothing_around_it(
    seeded: Session, engine: Engine, reader: Engine
) -> None:
    """No pre-ping before it, no transaction around it (the app's own engine pings first)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's statement trace; on PostgreSQL see the idle-in-transaction test")
    sent = _sent_to_sqlite(reader, "lyngby")
    assert len(sent) == 1 and "FROM libraries" in sent[0]
    pinged = _sent_to_sqlite(engine, "lyngby")
    assert len(pinged) == 2 and pinged[1] == sent[0]


def test_a_stamp_read_leaves_no_postgresql_transaction_open(seeded: Session, engine: Engine, reader: Engine) -> None:
    """Autocommit is what makes giving the connection back without a rollback safe."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's view of its sessions")
    no_reset = create_engine(engine.url, pool_reset_on_return=None)
    try:
        assert _state_after_a_read(engine, reader) == "idle"
        assert _state_after_a_read(engine, no_reset) == "idle in transaction"  # what autocommit spares
    finally:
        no_reset.dispose()


def _state_after_a_read(engine: Engine, reading: Engine) -> str:
    read_stamp(reading, "lyngby")
    assert _queue_pool(reading).checkedin() == 1
    pid = _backend_pid(reading)
    with engine.connect() as conn:
        state: str = conn.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one()
    return state


def _backend_pid(engine: Engine) -> int:
    """The server process behind the one pooled connection of `engine`."""
    raw = engine.raw_connection()
    try:
        pid: int = raw.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    finally:
        raw.close()
    return pid


def test_the_read_engine_sees_only_what_is_committed(seeded: Session, reader: Engine) -> None:
    assert_sees_only_committed(seeded, reader)


def test_a_connection_the_database_dropped_is_replaced_and_the_read_made_again(
    seeded: Session, engine: Engine, reader: Engine
) -> None:
    """No pre-ping on the read engine: a database restart is met by the read itself."""
    expected = read_stamp(reader, "lyngby")
    connects: list[object] = []
    event.listen(reader, "connect", lambda *_args: connects.append(object()))
    _drop_the_pooled_connection(engine, reader)
    assert read_stamp(reader, "lyngby") == expected
    assert len(connects) == 1  # the dead one was left behind


def _drop_the_pooled_connection(engine: Engine, reader: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pid = _backend_pid(reader)
        with engine.connect() as conn:
            # The timeout (ms) waits until the server process is gone.
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
        return
    raw = reader.raw_connection()
    raw.dbapi_connection.close()  # type: ignore[union-attr]
    raw.close()  # back into the pool, dead


def test_another_error_is_raised_as_sqlalchemy_raises_it_without_the_slug(database_url: str) -> None:
    """An empty database (no libraries table): not a dropped connection, so not read again."""
    engine = make_engine(database_url)
    reader = make_read_engine(engine)
    try:
        with pytest.raises(DBAPIError) as raised:
            read_stamp(reader, "secret-slug")
        assert not raised.value.connection_invalidated
        assert "libraries" in str(raised.value) and "secret-slug" not in str(raised.value)
        assert _queue_pool(reader).checkedout() == 0
    finally:
        engine.dispose()


def test_the_read_engine_is_disposed_with_the_engine(seeded: Session, engine: Engine, reader: Engine) -> None:
    read_stamp(reader, "lyngby")
    assert _queue_pool(reader).checkedin() == 1
    engine.dispose()
    assert _queue_pool(reader).checkedin() == 0


def test_an_in_memory_database_is_read_on_its_own_engine(database_url: str) -> None:
    """Another engine would open another, empty, in-memory database."""
    memory = make_engine("sqlite:///:memory:")
    engine = make_engine(database_url)
    try:
        assert make_read_engine(memory) is memory
        assert make_read_engine(engine) is not engine
    finally:
        memory.dispose()
        engine.dispose()


def test_a_warm_view_holds_no_connection_after_its_stamp(seeded: Session, make_app: Callable[..., Flask]) -> None:
    app = make_app()
    reading = app.extensions["portal.db.read_engine"]
    for _ in range(2):  # cold, then warm
        with app.app_context():
            assert get_library("lyngby") is not None
            assert _queue_pool(reading).checkedout() == 0
    assert _queue_pool(reading).checkedin() == 1
