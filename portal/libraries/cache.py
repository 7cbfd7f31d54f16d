"""Libraries as citizens see them, kept in process memory between requests.

A warm citizen page used to read a library with three statements (the row, its texts, its
scheduled dates) on every request. Now each request asks the database one cheap question —
the row's (id, version, updated_at) — and reuses the `Library` built last time if the answer is
the same. The database stays the one source of truth, so a publish in any worker (or by the
loader of another process) is seen by every worker on its next request; nothing has to reach
the other workers to tell them. Every write of what citizens see bumps `LibraryRow.version`
(editing._claim, repository.upsert_libraries); `updated_at` also changes, which catches a
write that forgets to. A library deleted and created again has a new id.

A scheduled cut-off date takes effect at a midnight without any write, so an entry is also only
good while the clock stays between the scheduled dates around the moment it was built: the
cut-off date in force can only change at one of them (portal.domain.cutoff).

The question is asked the cheapest way that still reads the database every time: straight
through the driver (StampReader) on the app's read engine (portal.db.make_read_engine:
autocommit, no pre-ping, no rollback on return), so it is one round trip with nothing around it,
sees only committed data, and gives its connection back before the view goes on.

The cache lives in `app.extensions`, one per app (each gunicorn worker has its own; tests that
start two apps get two, like two workers). Its size is bounded by the number of libraries: an
unknown slug is answered by the cheap question and never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import Dialect, Engine, PoolProxiedConnection, text
from sqlalchemy.engine.interfaces import DBAPIModule
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine
from werkzeug.local import LocalProxy

from portal.app_state import per_app
from portal.domain.cutoff import takes_effect_at
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow

__all__ = [
    "CachedLibrary",
    "LibraryCache",
    "Stamp",
    "StampReader",
    "current_stamp",
    "in_force_window",
    "library_cache",
    "read_stamp",
    "row_window",
    "stamp_of",
    "stamp_reader",
]

EXTENSION_KEY = "portal.libraries.cache"
READER_KEY = "portal.libraries.stamp_reader"

# (id, version, updated_at) of a libraries row: changes whenever what citizens see can change.
Stamp = tuple[int, int, datetime]


@dataclass(frozen=True)
class CachedLibrary:
    """`library` as built from the row with `stamp`, good for moments in [valid_from, valid_until)."""

    stamp: Stamp
    valid_from: datetime | None  # None: since ever
    valid_until: datetime | None  # None: until the row changes
    library: Library

    def fits(self, stamp: Stamp, at: datetime) -> bool:
        """True if the row is still the one it was built from and `at` lies in its window."""
        return (
            stamp == self.stamp
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_until is None or at < self.valid_until)
        )


# The warm view's one question to the database. Through the ORM session (a Session made, a
# transaction begun and closed, a select's result adapted to the ORM) it cost a warm view some
# 0.9 ms of CPU; a Core connection on the pre-pinged, rolled-back-on-return engine still some
# 0.25 ms, most of it SQLAlchemy's own steps around one driver call (StampReader).
_STAMP_COLUMNS = (LibraryRow.id, LibraryRow.version, LibraryRow.updated_at)
_STAMP = text("SELECT id, version, updated_at FROM libraries WHERE slug = :slug").columns(*_STAMP_COLUMNS)

_Processor = Callable[[Any], Any]


def stamp_of(row: LibraryRow) -> Stamp:
    return (row.id, row.version, row.updated_at)


class StampReader:
    """Reads stamps on `engine` straight through its driver: a pooled connection, one statement.

    The statement is compiled for the dialect once, and each column goes through its model type's
    own result processing for that dialect (an SQLite timestamp is text until then; a PostgreSQL
    one arrives in the session's time zone), so a stamp compares equal to `stamp_of(row)`. Meant
    for an engine from portal.db.make_read_engine: in autocommit there is no transaction to begin
    or end, and its pool does no pre-ping; a connection the database dropped (a restart, an idle
    timeout) is met here instead, and the read is made once more on a new one. Any engine works,
    since its pool ends whatever transaction the statement began before the connection is reused.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect
        compiled = _STAMP.compile(dialect=dialect)
        self._sql = compiled.string
        self._positional = compiled.positional
        self._dbapi_error: type[DBAPIModule.Error] = dialect.loaded_dbapi.Error
        self._processors = tuple(_processor(column.type, dialect) for column in _STAMP_COLUMNS)

    def read(self, slug: str) -> Stamp | None:
        """The committed stamp of the library `slug`, or None when there is none."""
        try:
            return self._read_once(slug)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # After a restart of the database every pooled connection is dead, not just this one.
        self._engine.dispose()
        return self._read_once(slug)

    def _read_once(self, slug: str) -> Stamp | None:
        params: Any = (slug,) if self._positional else {"slug": slug}
        try:
            conn = self._engine.raw_connection()
        except self._dbapi_error as exc:  # the database cannot be reached
            raise self._wrapped(exc, None) from exc
        try:
            cursor = conn.cursor()
            cursor.execute(self._sql, params)
            found = cursor.fetchone()
            cursor.close()
        except self._dbapi_error as exc:
            raise self._wrapped(exc, conn) from exc
        finally:
            conn.close()  # back to the pool at once: nothing is held while the view waits on FBS
        if found is None:
            return None
        to_id, to_version, to_updated_at = self._processors
        return (to_id(found[0]), to_version(found[1]), to_updated_at(found[2]))

    def _wrapped(self, exc: DBAPIModule.Error, conn: PoolProxiedConnection | None) -> BaseException:
        """`exc` as SQLAlchemy raises it elsewhere; a dropped connection is left out of the pool."""
        dialect = self._engine.dialect
        dropped = conn is not None and dialect.is_disconnect(exc, conn.dbapi_connection, None)
        if conn is not None and dropped:
            conn.invalidate(exc)
        return DBAPIError.instance(
            self._sql,
            None,
            exc,
            self._dbapi_error,
            hide_parameters=True,
            connection_invalidated=dropped,
            dialect=dialect,
        )


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> _Processor:
    """What SQLAlchemy does to a value of `column_type` read from `dialect`'s driver."""
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else _as_is


def _as_is(value: Any) -> Any:
    return value


def read_stamp(engine: Engine, slug: str) -> Stamp | None:
    """The committed stamp of the library `slug` on `engine`, or None when there is none.

    On a connection of its own, given back at once: a warm view opens no ORM session for it,
    and so holds no connection while it waits on FBS. It sees only what is committed, which is
    what every other worker sees too.
    """
    return StampReader(engine).read(slug)


def stamp_reader(app: Flask | None = None) -> StampReader:
    """The reader on the read engine of `app` (the current app when None), made on first use."""
    if app is None:
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    return per_app(READER_KEY, StampReader, lambda: StampReader(app.extensions["portal.db.read_engine"]), app)


def current_stamp(slug: str) -> Stamp | None:
    """`read_stamp` on the current app's database (its read engine)."""
    return stamp_reader().read(slug)


def in_force_window(starts: Iterable[datetime], at: datetime) -> tuple[datetime | None, datetime | None]:
    """The scheduled moments just before (or at) and just after `at`: the cut-off is constant between.

    The clock may move backwards (tests freeze and move it), so the window has two ends.
    """
    moments = list(starts)
    before = [start for start in moments if start <= at]
    after = [start for start in moments if start > at]
    return (max(before) if before else None, min(after) if after else None)


def row_window(row: LibraryRow, at: datetime) -> tuple[datetime | None, datetime | None]:
    """`in_force_window` of the row's scheduled dates."""
    return in_force_window((takes_effect_at(entry.effective_from) for entry in row.scheduled), at)


class LibraryCache:
    """slug -> CachedLibrary; thread-safe (a threaded server serves several requests at once)."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedLibrary] = {}
        self._lock = Lock()

    def get(self, slug: str, stamp: Stamp, at: datetime) -> Library | None:
        entry = self._entries.get(slug)
        return entry.library if entry is not None and entry.fits(stamp, at) else None

    def put(self, slug: str, entry: CachedLibrary) -> None:
        with self._lock:
            self._entries[slug] = entry

    def last_known(self, slug: str) -> Library | None:
        """The library as last built, whatever has changed since: for an error page while the
        database cannot be asked (its contact details, its embed policy), never for figures."""
        entry = self._entries.get(slug)
        return entry.library if entry is not None else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def library_cache(app: Flask | None = None) -> LibraryCache:
    """The cache of `app` (the current app when None), made on first use (no start-up step needed)."""
    return per_app(EXTENSION_KEY, LibraryCache, LibraryCache, app)
