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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal import clock
from portal.libraries.library import Library
from portal.providers.cache import KeyValueStore, snapshot_key
from portal.services.debts import CitizenDebts

__all__ = ["Snapshot", "Snapshots", "usable"]

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


class Snapshots:
    """The snapshots in `store`, kept `minutes` minutes (0: none is kept or shown)."""

    def __init__(self, store: KeyValueStore, minutes: int) -> None:
        self._store = store
        self.minutes = minutes

    def remember(self, library: Library, patron_id: int, debts: CitizenDebts) -> None:
        """Keep what was just shown; best effort (a failing store costs the fallback, not the page)."""
        if self.minutes <= 0 or debts.patron.patron_id != patron_id:
            return  # off, or not the session's own patron: never kept under another's key
        snapshot = Snapshot(library.slug, patron_id, debts, clock.now())
        try:
            self._store.set(snapshot_key(library.agency_id, patron_id), snapshot, timeout=self.minutes * 60)
        except Exception as exc:
            log.warning("library=%s snapshot not kept (%s)", library.slug, type(exc).__name__)

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
        if keys:
            self._store.delete_many(*keys)
