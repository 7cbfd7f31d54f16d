"""Fixtures for the libraries tests: the same storage tests on SQLite and on PostgreSQL.

`database_url` is parametrized over both back-ends; PostgreSQL is a throw-away cluster started
once per test session (tests/support/postgres_server.py) with a fresh database per test. Set
PORTAL_TEST_POSTGRES_URL to use an existing server instead (its user must be allowed to CREATE DATABASE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import portal.db
from portal import clock, create_app
from portal.clock import FrozenClock
from portal.db import make_engine, upgrade
from tests.support.postgres_server import fresh_database
from tests.support.postgres_server import postgres_server as support_postgres_server
from tests.support.settings import test_settings

# A Sunday noon in Copenhagen: "today" in the editing tests unless a test moves the clock.
T0 = datetime(2027, 1, 10, 12, 0, tzinfo=clock.TIMEZONE)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server to create test databases on (tests/support/postgres_server.py)."""
    with support_postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each back-end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/portal.db"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each back-end."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def new_session(engine: Engine) -> Iterator[Callable[[], Session]]:
    """Opens sessions configured like the app's (one per simulated editor or request)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    opened: list[Session] = []

    def make() -> Session:
        opened.append(factory())
        return opened[-1]

    yield make
    for session in opened:
        session.close()


@pytest.fixture
def session(new_session: Callable[[], Session]) -> Session:
    return new_session()


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    """The clock frozen at T0; tests move it with .move_to() / .advance()."""
    with clock.frozen(T0) as frozen:
        yield frozen


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[..., Path]:
    """Write TOML text to a file in tmp_path and return its path."""

    def write(text: str, name: str = "libraries.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """A portal on `database_url`; optionally with PORTAL_LIBRARIES_FILE and more variables. Each call = a restart."""
    engines: list[Engine] = []

    def recording_make_engine(url: str) -> Engine:
        engines.append(make_engine(url))
        return engines[-1]

    # Every engine an app creates (also one whose start-up fails) is closed before the
    # database is dropped; psycopg warns about connections garbage-collected while open.
    monkeypatch.setattr(portal.db, "make_engine", recording_make_engine)

    def make(libraries_file: Path | None = None, **variables: str) -> Flask:
        env = {"PORTAL_DATABASE_URL": database_url, **variables}
        if libraries_file is not None:
            env["PORTAL_LIBRARIES_FILE"] = str(libraries_file)
        return create_app(test_settings(**env))

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()
