"""A borrower's entries are read in one round trip, each with the version of the write that made it.

`ProviderCache.read_patron` is what a warm page asks of the store (one MGET); the versions stand
for the values (`PatronEntries.version`), so the page cache can key by them (portal.web.overview_page).
"""

from __future__ import annotations

import pytest

from portal.domain.fees import Patron
from portal.providers.cache import PatronEntries, ProviderCache, patron_key
from tests.providers.counting_store import Counting
from tests.services.test_debts import claim, fee

LYNGBY = "DK-717300"
ANNE = 1001
FEES = (fee(501, "20.00", True),)
CLAIMS = (claim("claim-1", 502, "45.00"),)


def filled() -> tuple[Counting, ProviderCache]:
    store = Counting()
    cache = ProviderCache(store, 60)
    cache.store("fbs", LYNGBY, ANNE, "patron", Patron(ANNE, "Anne"))
    cache.store("fbs", LYNGBY, ANNE, "fees", FEES)
    cache.store("debtor", LYNGBY, ANNE, "claims", CLAIMS)
    store.reads.clear()
    return store, cache


def test_a_borrowers_entries_are_read_in_one_round_trip() -> None:
    store, cache = filled()
    entries = cache.read_patron(LYNGBY, ANNE)
    assert (entries.patron, entries.fees, entries.claims) == (Patron(ANNE, "Anne"), FEES, CLAIMS)
    assert store.reads == ["get_many"]


def test_the_entries_read_are_the_values_cached_reads_too() -> None:
    _store, cache = filled()
    assert cache.cached("fbs", LYNGBY, ANNE, "fees", lambda: (fee(600, "1.00", True),)) == FEES
    assert cache.read_patron(LYNGBY, ANNE).fees == FEES


def test_the_version_stays_until_an_entry_is_written_again() -> None:
    _store, cache = filled()
    first = cache.read_patron(LYNGBY, ANNE).version(claims=True)
    assert first is not None and first == cache.read_patron(LYNGBY, ANNE).version(claims=True)
    # The same value written again (a refetch after the TTL) is a new write: a new version.
    cache.store("fbs", LYNGBY, ANNE, "fees", FEES)
    again = cache.read_patron(LYNGBY, ANNE)
    assert again.fees == FEES and again.version(claims=True) not in (None, first)


@pytest.mark.parametrize("what", [("fbs", "patron"), ("fbs", "fees"), ("debtor", "claims")])
def test_each_entry_counts_in_the_version(what: tuple[str, str]) -> None:
    _store, cache = filled()
    before = cache.read_patron(LYNGBY, ANNE).version(claims=True)
    cache.store(what[0], LYNGBY, ANNE, what[1], cache.read_patron(LYNGBY, ANNE).patron if what[1] == "patron" else ())
    assert cache.read_patron(LYNGBY, ANNE).version(claims=True) != before


def test_claims_count_only_when_asked_for() -> None:
    _store, cache = filled()
    without = cache.read_patron(LYNGBY, ANNE).version(claims=False)
    cache.store("debtor", LYNGBY, ANNE, "claims", (claim("claim-2", None, "9.00"),))
    assert cache.read_patron(LYNGBY, ANNE).version(claims=False) == without
    assert cache.read_patron(LYNGBY, ANNE).version(claims=True) != cache.read_patron(LYNGBY, ANNE).version(claims=False)


def test_a_missing_entry_has_no_version() -> None:
    _store, cache = filled()
    cache.forget_patron(LYNGBY, ANNE)
    cache.store("fbs", LYNGBY, ANNE, "patron", Patron(ANNE, "Anne"))
    entries = cache.read_patron(LYNGBY, ANNE)
    assert entries == PatronEntries(Patron(ANNE, "Anne"), None, None, entries.versions)
    assert entries.version(claims=False) is None and entries.version(claims=True) is None


def test_an_entry_of_an_older_release_is_read_without_a_version() -> None:
    """Entries stored as bare values (before versions) still serve the page; they just key no page cache."""
    store, cache = filled()
    store.set(patron_key("fbs", LYNGBY, ANNE, "fees"), (fee(509, "5.00", False),))
    entries = cache.read_patron(LYNGBY, ANNE)
    assert entries.fees == (fee(509, "5.00", False),) and entries.version(claims=True) is None
    assert cache.cached("fbs", LYNGBY, ANNE, "fees", lambda: (fee(600, "1.00", True),)) == (fee(509, "5.00", False),)


def test_a_store_that_fails_reads_as_nothing_cached() -> None:
    class Broken(Counting):
        def get_many(self, *keys: str) -> list[object]:
            raise ConnectionError("redis down")

    cache = ProviderCache(Broken(), 60)
    entries = cache.read_patron(LYNGBY, ANNE)
    assert (entries.patron, entries.fees, entries.claims, entries.version(claims=False)) == (None, None, None, None)
