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

The cache lives in `app.extensions`, one per app (each gunicorn worker has its own; tests that
start two apps get two, like two workers). Its size is bounded by the number of libraries: an
unknown slug is answered by the cheap question and never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from flask import Flask, current_app
from sqlalchemy import Engine, text

from portal.app_state import per_app
from portal.domain.cutoff import takes_effect_at
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow

__all__ = [
    "CachedLibrary",
    "LibraryCache",
    "Stamp",
    "current_stamp",
    "in_force_window",
    "library_cache",
    "read_stamp",
    "row_window",
    "stamp_of",
]

EXTENSION_KEY = "portal.libraries.cache"

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


# The stamp as a plain textual statement typed like the model's columns (so it compares equal to
# `stamp_of(row)`): the warm view's one question to the database. Through the ORM session (a
# Session made, a transaction begun and closed, a select's result adapted to the ORM) it cost a
# warm view some 0.9 ms of CPU; on a pooled Core connection it is a fraction of that.
_STAMP = text("SELECT id, version, updated_at FROM libraries WHERE slug = :slug").columns(
    LibraryRow.id, LibraryRow.version, LibraryRow.updated_at
)


def stamp_of(row: LibraryRow) -> Stamp:
    return (row.id, row.version, row.updated_at)


def read_stamp(engine: Engine, slug: str) -> Stamp | None:
    """The committed stamp of the library `slug`, or None when there is none.

    On a connection of its own, given back at once: a warm view opens no ORM session for it,
    and so holds no connection while it waits on FBS. It sees only what is committed, which is
    what every other worker sees too.
    """
    with engine.connect() as conn:
        found = conn.execute(_STAMP, {"slug": slug}).one_or_none()
    return None if found is None else (found[0], found[1], found[2])


def current_stamp(slug: str) -> Stamp | None:
    """`read_stamp` on the current app's database."""
    engine: Engine = current_app.extensions["portal.db.engine"]
    return read_stamp(engine, slug)


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

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def library_cache(app: Flask | None = None) -> LibraryCache:
    """The cache of `app` (the current app when None), made on first use (no start-up step needed)."""
    return per_app(EXTENSION_KEY, LibraryCache, LibraryCache, app)
