"""The database: one SQLAlchemy engine per app, a session per request, Alembic migrations.

Beside the engine, a read engine on the same database for the few one-statement reads a warm
page makes outside the request's session (make_read_engine).

Migrations in portal/migrations are applied at start-up, so `make run` and a
fresh deployment always run on the current schema.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every model."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys and its folder created."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an SQL error or SQLAlchemy's own logging never writes a bound value (a
    # patron id, a text an editor typed) into the log.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args=_connect_args(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_read_engine(engine: Engine) -> Engine:
    """An engine beside `engine` for one-statement reads outside any transaction (the warm view's stamp).

    Autocommit, so each statement sees what is committed and leaves no transaction behind: the
    pool takes a connection back without a rollback (reset_on_return=None). No pre-ping: that is
    a second round trip on every checkout; a reader that meets a dropped connection reads again
    on a new one instead (portal.libraries.cache.StampReader). Its own pool, so these settings
    never reach the ORM's connections; at most one connection per thread that reads at once, as
    none is held beyond its statement. Disposed together with `engine`.

    An in-memory SQLite database exists only on its own engine's connections: `engine` itself then.
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine
    reader = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        hide_parameters=True,
        connect_args=_connect_args(engine.url),
    )
    if reader.dialect.name == "sqlite":
        event.listen(reader, "connect", _sqlite_pragmas)
    event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader


# libpq waits for a connection as long as the network lets it (minutes, for a host that is gone):
# every worker thread would wait with it. A few seconds, then the page answers 503 (web/errors.py);
# `?connect_timeout=` in PORTAL_DATABASE_URL sets another.
POSTGRES_CONNECT_TIMEOUT = 3


def _connect_args(url: str | URL) -> dict[str, object]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


# Any constant works; it only has to be the same in every process of one deployment.
_PG_STARTUP_LOCK = 0x6762_7970  # "gbyp"


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Serialise start-up work (migrations, loading the libraries file) across processes.

    gunicorn starts its workers at once; without this two of them race to create the
    same tables on a fresh database. SQLite: a lock file beside the database;
    PostgreSQL: a session advisory lock. Other databases: no lock.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.startup-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_STARTUP_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_STARTUP_LOCK})
                conn.commit()
    else:
        yield


def migrate(engine: Engine, target: str, *, down: bool = False) -> None:
    """Run the Alembic migrations of portal/migrations up (or down) to `target` on `engine`."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def upgrade(engine: Engine) -> None:
    """Apply all Alembic migrations to `engine` (idempotent)."""
    migrate(engine, "head")


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    engine = make_engine(settings.database_url)
    with startup_lock(engine):
        upgrade(engine)
    app.extensions["portal.db.engine"] = engine
    app.extensions["portal.db.read_engine"] = make_read_engine(engine)
    app.extensions["portal.db"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine (the one its sessions use)."""
    bound: Engine = current_app.extensions["portal.db.engine"]
    return bound


def session() -> Session:
    """The request's (or app context's) database session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["portal.db"]()
    db_session: Session = g.db_session
    return db_session


def release() -> None:
    """End the request's database transaction and give its connection back to the pool.

    For a view that is done with the database before it waits on upstreams: a connection held
    through a slow FBS answer is one every other page of the portal has to do without. The
    session stays usable; a later query opens a new transaction.
    """
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.close()


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
