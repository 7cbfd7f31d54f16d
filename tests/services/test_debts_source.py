"""A warm view: one read of the cache, no upstream call, and the versions of what it read (`source`).

Against the FBS and debtor simulators over real HTTP (the fixtures of test_request_path), on a
store that counts its reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from portal import clock
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.demo_data import LYNGBY
from portal.domain.merge import merge
from portal.providers.cache import PatronEntries, patron_key
from portal.providers.setup import EXTENSION_KEY as UPSTREAMS
from portal.providers.upstreams import Upstreams
from portal.services import debts as debts_module
from portal.services.debts import PatronMemo, ProviderStatus, citizen_debts
from portal.signals import citizen_logged_out
from tests.providers.counting_store import Counting
from tests.services.test_request_path import ANNE, ANNE_CPR, LIBRARY, Sims, memo, sims, view
from tests.support.settings import test_settings

__all__ = ["sims"]  # the fixture, used by name


def counted(s: Sims, *, debtor: bool = True) -> tuple[Upstreams, Counting]:
    env = {"PORTAL_FBS_BASE_URL": s.fbs_server.url}
    if debtor:
        env |= {"PORTAL_DEBTOR_BASE_URL": s.debtor_url, "PORTAL_DEBTOR_API_KEY": DEV_DEBTOR_API_KEY}
    store = Counting()
    return Upstreams(test_settings(**env), store), store


def test_a_warm_view_reads_the_cache_once_and_asks_no_upstream(sims: Sims) -> None:
    up, store = counted(sims)
    patron_memo, _ = memo()
    first = view(up, patron_memo)
    fbs_calls, debtor_calls = sims.fbs_calls(), sims.debtor.call_count()
    store.reads.clear()
    warm = view(up, patron_memo)
    assert store.reads == ["get_many"]
    assert sims.fbs_calls() == fbs_calls and sims.debtor.call_count() == debtor_calls
    assert warm == first


def test_the_source_stands_for_the_entries_the_debts_were_built_from(sims: Sims) -> None:
    up, _store = counted(sims)
    patron_memo, _ = memo()
    # Fresh from FBS (the look-up's patron, the fees and claims fetched), stored, and read back:
    # the versions of those writes, which the next view reads.
    fresh = view(up, patron_memo)
    assert fresh.source is not None
    warm = view(up, patron_memo)
    assert warm == fresh and warm.source == fresh.source
    # Expired and fetched again: the same figures, other writes, another source.
    up.cache.forget_patron(LYNGBY, ANNE)
    again = view(up, patron_memo)
    assert again == warm and again.source not in (None, warm.source)
    assert view(up, patron_memo).source == again.source


def test_a_write_between_the_fetch_and_the_read_back_gives_no_source(
    sims: Sims, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stored other fees meanwhile: its versions must not stand for this view's fees."""
    up, _store = counted(sims)
    patron_memo, _ = memo()
    real = up.cache.read_patron
    reads: list[PatronEntries] = []

    def read(agency_id: str, patron_id: int) -> PatronEntries:
        entries = real(agency_id, patron_id)
        reads.append(entries)
        if len(reads) == 2 and entries.fees:  # the read-back
            return replace(entries, fees=entries.fees[:-1])
        return entries

    monkeypatch.setattr(up.cache, "read_patron", read)
    debts = view(up, patron_memo)
    assert len(reads) == 2 and debts.source is None
    monkeypatch.setattr(up.cache, "read_patron", real)
    assert view(up, patron_memo).source is not None  # the next view reads the entries themselves


def test_a_failed_debtor_call_gives_no_source(sims: Sims) -> None:
    up, _store = counted(sims)
    patron_memo, _ = memo()
    sims.debtor.fail_next(1)
    failed = view(up, patron_memo)
    assert failed.debtor is ProviderStatus.ERROR and failed.source is None
    recovered = view(up, patron_memo)  # the claims asked again, stored, read back
    assert recovered.debtor is ProviderStatus.OK and recovered.source is not None


def test_a_store_that_fails_the_read_back_gives_no_source(sims: Sims, monkeypatch: pytest.MonkeyPatch) -> None:
    up, store = counted(sims)
    patron_memo, _ = memo()
    real_get_many = store.get_many
    calls: list[int] = []

    def failing_second(*keys: str) -> list[Any]:
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("store down")
        return list(real_get_many(*keys))

    monkeypatch.setattr(store, "get_many", failing_second)
    debts = view(up, patron_memo)
    assert len(calls) >= 2 and debts.source is None and debts.overview.payable_here.rows  # the page all the same


def test_without_the_debtor_system_the_source_is_fbs_alone(sims: Sims) -> None:
    up, _store = counted(sims, debtor=False)
    patron_memo, _ = memo()
    view(up, patron_memo)
    with_claims_ignored = view(up, patron_memo).source
    up.cache.store("debtor", LYNGBY, ANNE, "claims", ())  # not asked for: does not count
    assert with_claims_ignored is not None and view(up, patron_memo).source == with_claims_ignored


def test_a_view_that_fetched_a_missing_entry_has_its_new_version(sims: Sims) -> None:
    up, store = counted(sims)
    patron_memo, _ = memo()
    view(up, patron_memo)
    view(up, patron_memo)
    up.cache.store("fbs", LYNGBY, ANNE, "fees", up.cache.read_patron(LYNGBY, ANNE).fees)
    rewritten = citizen_debts(up, LIBRARY, ANNE_CPR, patron_memo)
    assert rewritten is not None and rewritten.source is not None  # a new write, all entries cached
    store.delete(patron_key("debtor", LYNGBY, ANNE, "claims"))
    refetched = view(up, patron_memo)  # the claims fetched in this view, stored and read back
    assert refetched.source not in (None, rewritten.source)
    assert view(up, patron_memo).source == refetched.source


# -- the merge, kept per source ------------------------------------------------------------


@pytest.fixture
def merges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    real = merge

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(debts_module, "merge", counting)  # as imported by services.debts
    return counted


def warm_up(s: Sims) -> tuple[Upstreams, PatronMemo]:
    up, _store = counted(s)
    patron_memo, _ = memo()
    view(up, patron_memo)  # fresh from FBS: merged, and kept under the source read back
    return up, patron_memo


def test_a_warm_view_merges_nothing(sims: Sims, merges: list[int]) -> None:
    up, patron_memo = warm_up(sims)
    before = view(up, patron_memo)
    assert len(merges) == 1
    assert view(up, patron_memo) == before and len(merges) == 1


def test_a_new_day_or_a_new_cut_off_date_merges_again(sims: Sims, merges: list[int]) -> None:
    with clock.frozen(clock.now()):
        up, patron_memo = warm_up(sims)
        view(up, patron_memo)
        assert len(merges) == 1
        moved = replace(LIBRARY, cutoff_date=date(2015, 1, 1))  # FBS's flags now disagree with the date
        debts = citizen_debts(up, moved, ANNE_CPR, patron_memo)
        assert len(merges) == 2 and debts is not None
        assert debts.overview.cutoff_date == date(2015, 1, 1) and debts.overview.mismatches
    with clock.frozen(clock.now() + timedelta(days=1)):
        view(up, patron_memo)
        assert len(merges) == 3


def test_signing_out_drops_the_kept_merge(sims: Sims) -> None:
    up, _patron_memo = warm_up(sims)
    assert debts_module.MERGED.holds(LYNGBY, ANNE)
    # Sent by auth with its app: one with these upstreams (their cached answers go too).
    app = Flask(__name__)
    app.extensions[UPSTREAMS] = up
    citizen_logged_out.send(app, patrons={LYNGBY: ANNE + 1})  # someone else: kept
    assert debts_module.MERGED.holds(LYNGBY, ANNE)
    citizen_logged_out.send(app, patrons={LYNGBY: ANNE})
    assert not debts_module.MERGED.holds(LYNGBY, ANNE)
