"""portal.services.stale: the age rule (exactly N minutes, never older) and whose snapshot is whose."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from cachelib import SimpleCache

from portal import clock
from portal.config import ConfigError
from portal.domain.fees import Patron
from portal.domain.merge import merge
from portal.libraries.library import Library
from portal.providers.cache import snapshot_key
from portal.services.debts import CitizenDebts
from portal.services.stale import Snapshots, usable
from tests.support.settings import test_settings

LYNGBY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
# Same agency, a slug sharing Lyngby's prefix: the store's key is the same, the library is not.
NORD = Library(slug="lyngby-nord", name="Lyngby Nord", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
RODOVRE = Library(slug="rodovre", name="Rødovre", agency_id="DK-717500", cutoff_date=date(2022, 1, 1))
T = datetime(2026, 12, 2, 14, 32, 0, tzinfo=clock.TIMEZONE)


def debts(patron_id: int) -> CitizenDebts:
    return CitizenDebts(Patron(patron_id, name=f"Patron {patron_id}"), merge([], None, date(2021, 6, 15), T.date()))


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(0), True),
        (timedelta(minutes=14, seconds=59), True),
        (timedelta(minutes=15), True),  # exactly N: still within the last N minutes
        (timedelta(minutes=15, microseconds=1), False),
        (timedelta(hours=3), False),
        (timedelta(seconds=-1), False),  # from the future: a clock set back is not trusted
    ],
)
def test_the_age_rule(age: timedelta, shown: bool) -> None:
    assert usable(T, T + age, 15) is shown


def test_zero_minutes_is_off() -> None:
    assert usable(T, T, 0) is False
    store = SimpleCache()
    snapshots = Snapshots(store, 0)
    with clock.frozen(T):
        snapshots.remember(LYNGBY, 7, debts(7))
        assert snapshots.recall(LYNGBY, 7) is None
    assert store.get(snapshot_key("DK-717300", 7)) is None


def test_shown_until_exactly_n_minutes_on_the_portal_clock() -> None:
    snapshots = Snapshots(SimpleCache(), 15)
    with clock.frozen(T) as frozen:
        snapshots.remember(LYNGBY, 7, debts(7))
        frozen.advance(timedelta(minutes=15))
        found = snapshots.recall(LYNGBY, 7)
        assert found is not None and found.as_of == T and found.debts == debts(7)
        frozen.advance(timedelta(seconds=1))
        assert snapshots.recall(LYNGBY, 7) is None


def test_the_clock_across_a_dst_change_counts_real_minutes() -> None:
    # 2027-03-28 02:00 → 03:00 in Copenhagen: 01:55 + 10 real minutes is 03:05 on the wall.
    before = datetime(2027, 3, 28, 1, 55, tzinfo=clock.TIMEZONE)
    snapshots = Snapshots(SimpleCache(), 15)
    with clock.frozen(before) as frozen:
        snapshots.remember(LYNGBY, 7, debts(7))
        frozen.advance(timedelta(minutes=10))
        assert clock.now().hour == 3 and snapshots.recall(LYNGBY, 7) is not None


class RecordingStore(SimpleCache):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[int | timedelta | None] = []

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        self.timeouts.append(timeout)
        return bool(super().set(key, value, timeout=timeout))


def test_the_store_expires_it_after_n_minutes_too() -> None:
    store = RecordingStore()
    Snapshots(store, 20).remember(LYNGBY, 7, debts(7))
    assert store.timeouts == [20 * 60]


def test_never_another_borrowers_or_librarys() -> None:
    snapshots = Snapshots(SimpleCache(), 15)
    with clock.frozen(T):
        snapshots.remember(LYNGBY, 7, debts(7))
        snapshots.remember(RODOVRE, 8, debts(8))
        assert snapshots.recall(LYNGBY, 8) is None  # another patron
        assert snapshots.recall(RODOVRE, 7) is None  # another agency
        assert snapshots.recall(NORD, 7) is None  # same agency and patron, another library
        found = snapshots.recall(LYNGBY, 7)
        assert found is not None and found.debts.patron.patron_id == 7 and found.slug == "lyngby"


def test_debts_of_another_patron_are_never_kept_under_this_ones_key() -> None:
    store = SimpleCache()
    with clock.frozen(T):
        Snapshots(store, 15).remember(LYNGBY, 7, debts(8))
    assert store.get(snapshot_key("DK-717300", 7)) is None


def test_the_key_cannot_hold_a_cpr_number() -> None:
    assert snapshot_key("DK-717300", 1001) == "snapshot:DK-717300:1001"
    with pytest.raises(TypeError):
        snapshot_key("DK-717300", "0101901111")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        snapshot_key("DK-717300", True)
    with pytest.raises(ValueError):
        snapshot_key("DK:717300", 1001)


def test_forget_drops_the_signed_out_patrons_snapshots() -> None:
    snapshots = Snapshots(SimpleCache(), 15)
    with clock.frozen(T):
        snapshots.remember(LYNGBY, 7, debts(7))
        snapshots.remember(RODOVRE, 8, debts(8))
        snapshots.forget({"DK-717300": 7})
        assert snapshots.recall(LYNGBY, 7) is None and snapshots.recall(RODOVRE, 8) is not None


class BrokenStore:
    def get(self, key: str) -> Any:
        raise ConnectionError("redis down")

    def get_many(self, *keys: str) -> Any:
        raise ConnectionError("redis down")

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        raise ConnectionError("redis down")

    def delete_many(self, *keys: str) -> Any:
        raise ConnectionError("redis down")


def test_a_failing_store_costs_the_fallback_never_the_page(caplog: pytest.LogCaptureFixture) -> None:
    snapshots = Snapshots(BrokenStore(), 15)
    snapshots.remember(LYNGBY, 7, debts(7))
    assert snapshots.recall(LYNGBY, 7) is None
    assert "snapshot not kept (ConnectionError)" in caplog.text and "snapshot unreadable" in caplog.text


@pytest.mark.parametrize(("raw", "minutes"), [("", 15), ("0", 0), ("1", 1), (" 30 ", 30), ("1440", 1440)])
def test_the_setting(raw: str, minutes: int) -> None:
    assert test_settings(PORTAL_STALE_MINUTES=raw).stale_minutes == minutes


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "1441", "١٥"])
def test_a_bad_setting_stops_start_up_naming_it(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^PORTAL_STALE_MINUTES: expected a whole number of minutes"):
        test_settings(PORTAL_STALE_MINUTES=raw)
