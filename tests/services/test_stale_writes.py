"""portal.services.stale: a snapshot of unchanged debts is not written on every view (issue 11).

Written again when the debts change, when the library differs, when this process wrote it a
minute ago or more (a quarter of N when that is shorter), after a sign-out, and when the last
write failed. The stored "as of" may then be up to that interval earlier: conservative.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from cachelib import SimpleCache

from portal import clock
from portal.domain.fees import Patron
from portal.domain.merge import merge
from portal.libraries.library import Library
from portal.providers.cache import snapshot_key
from portal.services.debts import CitizenDebts
from portal.services.stale import REWRITE_AFTER, Snapshots, WrittenSnapshots

LYNGBY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
NORD = Library(slug="lyngby-nord", name="Lyngby Nord", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
T = datetime(2026, 12, 2, 14, 32, 0, tzinfo=clock.TIMEZONE)
KEY = snapshot_key("DK-717300", 7)


def debts(name: str = "Patron 7") -> CitizenDebts:
    return CitizenDebts(Patron(7, name=name), merge([], None, date(2021, 6, 15), T.date()))


class CountingStore(SimpleCache):
    def __init__(self) -> None:
        super().__init__()
        self.sets = 0
        self.failing = False

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        if self.failing:
            raise ConnectionError("store down")
        self.sets += 1
        return bool(super().set(key, value, timeout))


def test_unchanged_debts_are_written_once_a_minute_and_as_of_stays_the_first_write() -> None:
    store = CountingStore()
    snapshots = Snapshots(store, 15, WrittenSnapshots())
    with clock.frozen(T) as frozen:
        snapshots.remember(LYNGBY, 7, debts())
        frozen.advance(REWRITE_AFTER - timedelta(seconds=1))
        snapshots.remember(LYNGBY, 7, debts())  # equal, not the same object
        assert store.sets == 1
        recalled = snapshots.recall(LYNGBY, 7)
        assert recalled is not None and recalled.as_of == T  # earlier than the last showing: safe
        frozen.advance(timedelta(seconds=1))
        snapshots.remember(LYNGBY, 7, debts())
        assert store.sets == 2
        recalled = snapshots.recall(LYNGBY, 7)
        assert recalled is not None and recalled.as_of == T + REWRITE_AFTER


def test_changed_debts_or_another_library_are_written_at_once() -> None:
    store = CountingStore()
    snapshots = Snapshots(store, 15, WrittenSnapshots())
    with clock.frozen(T):
        snapshots.remember(LYNGBY, 7, debts())
        snapshots.remember(LYNGBY, 7, debts("Renamed"))
        assert store.sets == 2
        snapshots.remember(NORD, 7, debts("Renamed"))  # same key, other library
        assert store.sets == 3
        recalled = snapshots.recall(NORD, 7)
        assert recalled is not None and recalled.debts == debts("Renamed")


def test_a_short_n_rewrites_within_a_quarter_of_it() -> None:
    store = CountingStore()
    snapshots = Snapshots(store, 1, WrittenSnapshots())
    with clock.frozen(T) as frozen:
        snapshots.remember(LYNGBY, 7, debts())
        frozen.advance(timedelta(seconds=15))
        snapshots.remember(LYNGBY, 7, debts())
    assert store.sets == 2


def test_a_sign_out_makes_the_next_view_write_again() -> None:
    store = CountingStore()
    written = WrittenSnapshots()
    snapshots = Snapshots(store, 15, written)
    with clock.frozen(T):
        snapshots.remember(LYNGBY, 7, debts())
        snapshots.forget({"DK-717300": 7})
        assert store.get(KEY) is None and len(written) == 0
        snapshots.remember(LYNGBY, 7, debts())
        assert store.sets == 2 and snapshots.recall(LYNGBY, 7) is not None


def test_a_failed_write_is_tried_again_on_the_next_view() -> None:
    store = CountingStore()
    snapshots = Snapshots(store, 15, WrittenSnapshots())
    with clock.frozen(T):
        store.failing = True
        snapshots.remember(LYNGBY, 7, debts())
        store.failing = False
        snapshots.remember(LYNGBY, 7, debts())
        assert store.sets == 1 and snapshots.recall(LYNGBY, 7) is not None


def test_a_clock_set_back_writes_again() -> None:
    store = CountingStore()
    snapshots = Snapshots(store, 15, WrittenSnapshots())
    with clock.frozen(T) as frozen:
        snapshots.remember(LYNGBY, 7, debts())
        frozen.move_to(T - timedelta(seconds=5))
        snapshots.remember(LYNGBY, 7, debts())
    assert store.sets == 2


def test_the_memo_is_bounded() -> None:
    written = WrittenSnapshots(max_entries=2)
    for patron in (1, 2, 3):
        written.wrote(snapshot_key("DK-717300", patron), "lyngby", debts(), T)
    assert len(written) == 2
    assert not written.fresh(snapshot_key("DK-717300", 1), "lyngby", debts(), T, REWRITE_AFTER)
    assert written.fresh(snapshot_key("DK-717300", 3), "lyngby", debts(), T, REWRITE_AFTER)


class ComparedPatron(Patron):
    """A patron that counts how often it is compared by value (identity needs no `__eq__`)."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        ComparedPatron.compared += 1
        return super().__eq__(other)

    __hash__ = Patron.__hash__


def test_equal_debts_made_anew_are_kept_so_later_views_compare_by_identity() -> None:
    """A fresh view's debts, then the merge memo's: equal, not the same objects. The memo keeps the
    newer ones (not their time), whose parts the next views share."""
    merged = merge([], None, date(2021, 6, 15), T.date())
    fresh_view = CitizenDebts(ComparedPatron(7, name="Patron 7"), merged)
    memo_view = CitizenDebts(ComparedPatron(7, name="Patron 7"), merged)
    written = WrittenSnapshots()
    written.wrote(KEY, "lyngby", fresh_view, T)
    ComparedPatron.compared = 0
    assert written.fresh(KEY, "lyngby", memo_view, T + timedelta(seconds=10), REWRITE_AFTER)
    assert ComparedPatron.compared == 1
    next_view = CitizenDebts(memo_view.patron, merged, works={})  # the memo's parts, titles anew
    assert written.fresh(KEY, "lyngby", next_view, T + timedelta(seconds=20), REWRITE_AFTER)
    assert ComparedPatron.compared == 1
    # The time is still the first write's: a minute after it, written again.
    assert not written.fresh(KEY, "lyngby", next_view, T + REWRITE_AFTER, REWRITE_AFTER)
