"""Stale-if-error: the overview a borrower was last shown, shown again (marked) while FBS fails.

Issue 11: "When FBS fails, a borrower who was shown their data within the last N minutes
(configurable) sees it again, clearly marked 'as of 14:32 — we can't reach the library system
right now'; never older, never unmarked, never '0 kr'." N is `PORTAL_STALE_MINUTES`; 0 turns
it off.

Where the snapshot lives: in the shared caching layer (in-process, or Redis with more than one
worker), under `snapshot_key(agency, patron_id)` — not in the server-side session. The session
is JSON, loaded and decrypted on every request of the borrower (the JSON API and payment pages
too), so a whole overview in it would cost every request and need a serialiser of its own;
the cache already holds the same data (patron, fees, claims) under the same kind of key,
pickled, and expires entries by itself. The key holds only the agency and the patron id the
session got from FBS, so it cannot hold a CPR number, and a borrower only ever reaches their
own snapshot: the patron id comes from their session's own look-up, which a new session makes
at FBS first (while FBS is down there is no id, so no snapshot). The snapshot also names its
library and patron, checked on reading, so two libraries of one agency never show each other's
page. It is dropped at logout like the provider entries, and expires after N minutes in the
store; its age is checked again on reading (the store's expiry is not `portal.clock`'s).

Plain Python, no Flask: the web layer hands in the store and N.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal import clock
from portal.libraries.library import Library
from portal.lru import BoundedLRU
from portal.providers.cache import KeyValueStore, snapshot_key
from portal.services.debts import CitizenDebts

__all__ = ["REWRITE_AFTER", "Snapshot", "Snapshots", "WrittenSnapshots", "usable"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """The debts one borrower was shown at one library, and when (aware, `portal.clock.now()`)."""

    slug: str
    patron_id: int
    debts: CitizenDebts
    as_of: datetime


def usable(as_of: datetime, now: datetime, minutes: int) -> bool:
    """Whether a snapshot taken at `as_of` may be shown at `now`: at most `minutes` old, never older.

    Exactly `minutes` old is still "within the last N minutes"; a snapshot from the future (a
    clock set back, another process's clock ahead) is not trusted.
    """
    # Through UTC: Python subtracts two times of the same zone by their wall clocks, which would
    # make a snapshot an hour older (or younger) across a daylight-saving change.
    age = now.astimezone(UTC) - as_of.astimezone(UTC)
    return minutes > 0 and timedelta(0) <= age <= timedelta(minutes=minutes)


# A snapshot of unchanged debts is written again only this long after this process last wrote it
# (a quarter of PORTAL_STALE_MINUTES when that is shorter). Issue 11: writing it on every view
# (pickle and a Redis SET) was some 0.6 ms of a warm view's 4.5 ms of CPU.
REWRITE_AFTER = timedelta(minutes=1)
# Keys remembered per process; beyond that the oldest write is forgotten (and simply written again).
_MAX_WRITTEN = 4096


class WrittenSnapshots:
    """Per process: which debts this process last wrote under each snapshot key, and when.

    Only a memo of our own writes, never read for a page: forgetting an entry costs one more
    write, never a wrong page. Thread-safe, bounded to `max_entries` keys.
    """

    def __init__(self, max_entries: int = _MAX_WRITTEN) -> None:
        self._written: BoundedLRU[str, tuple[str, CitizenDebts, datetime]] = BoundedLRU(max_entries)

    def __len__(self) -> int:
        return len(self._written)

    def fresh(self, key: str, slug: str, debts: CitizenDebts, now: datetime, interval: timedelta) -> bool:
        """True if this process wrote these very debts for `slug` under `key` less than `interval` ago."""
        found = self._written.get(key)
        if found is None:
            return False
        written_slug, written_debts, at = found
        age = now.astimezone(UTC) - at.astimezone(UTC)
        # A clock set back (tests move it) makes the write look new: written again, to be safe.
        if written_slug != slug or not timedelta(0) <= age < interval or written_debts != debts:
            return False
        # Equal debts made anew (a fresh view, then the merge memo's): keep the newer ones, whose
        # parts the next views share, so comparing them costs identity checks, not every fee.
        self._written.put(key, (slug, debts, at))
        return True

    def wrote(self, key: str, slug: str, debts: CitizenDebts, at: datetime) -> None:
        self._written.put(key, (slug, debts, at))

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._written.pop(key)


class Snapshots:
    """The snapshots in `store`, kept `minutes` minutes (0: none is kept or shown).

    With `written` (the process's memo), a snapshot of debts unchanged since this process last
    wrote it is not written again within `REWRITE_AFTER` (or a quarter of `minutes`, if shorter).
    The stored "as of" is then up to that much earlier than the last showing, which errs the safe
    way: a stale page says its figures are older than they are, never newer, and a snapshot
    stops being shown that much sooner. A sign-out in another worker drops the stored snapshot
    but not this worker's memo: for at most that interval after signing in again, the borrower
    then has no snapshot (FBS failing shows "try again"), never someone else's.
    """

    def __init__(self, store: KeyValueStore, minutes: int, written: WrittenSnapshots | None = None) -> None:
        self._store = store
        self.minutes = minutes
        self._written = written
        self._interval = min(REWRITE_AFTER, timedelta(minutes=minutes) / 4)

    def remember(self, library: Library, patron_id: int, debts: CitizenDebts) -> None:
        """Keep what was just shown; best effort (a failing store costs the fallback, not the page)."""
        if self.minutes <= 0 or debts.patron.patron_id != patron_id:
            return  # off, or not the session's own patron: never kept under another's key
        key = snapshot_key(library.agency_id, patron_id)
        now = clock.now()
        if self._written is not None and self._written.fresh(key, library.slug, debts, now, self._interval):
            return
        try:
            self._store.set(key, Snapshot(library.slug, patron_id, debts, now), timeout=self.minutes * 60)
        except Exception as exc:
            log.warning("library=%s snapshot not kept (%s)", library.slug, type(exc).__name__)
            return
        if self._written is not None:
            self._written.wrote(key, library.slug, debts, now)

    def recall(self, library: Library, patron_id: int) -> Snapshot | None:
        """The snapshot shown to this patron at this library within the last N minutes, or None."""
        if self.minutes <= 0:
            return None
        try:
            found = self._store.get(snapshot_key(library.agency_id, patron_id))
        except Exception as exc:
            log.warning("library=%s snapshot unreadable (%s)", library.slug, type(exc).__name__)
            return None
        if not isinstance(found, Snapshot) or found.slug != library.slug or found.patron_id != patron_id:
            return None  # none, or another library of the same agency (the key is per agency)
        return found if usable(found.as_of, clock.now(), self.minutes) else None

    def forget(self, patrons: dict[str, int]) -> None:
        """Drop the snapshots of {agency_id: patron_id} (a signed-out citizen's libraries)."""
        keys = [snapshot_key(agency_id, patron_id) for agency_id, patron_id in patrons.items()]
        if self._written is not None:
            self._written.forget(keys)
        if keys:
            self._store.delete_many(*keys)
