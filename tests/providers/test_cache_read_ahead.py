"""A page reads a borrower's cache entries in one round trip (Redis MGET), never beyond its own request.

The claims, patron and fees of one patron are read one after another by `services.debts`; the
first read brings the others along, kept for that thread and request only, each handed out once.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from portal.domain.fees import Patron
from portal.observability.request_id import set_request_id
from portal.providers import cache as provider_cache
from portal.providers.cache import ProviderCache, patron_key
from tests.providers.counting_store import Counting

T = TypeVar("T")
LYNGBY = "DK-717300"
ANNE = 1001


def in_request(request_id: str, work: Callable[[], T]) -> T:
    """`work()` as a request with that id would run it (a context of its own, as the server gives)."""

    def run() -> T:
        set_request_id(request_id)
        return work()

    return contextvars.copy_context().run(run)


def filled() -> tuple[Counting, ProviderCache]:
    store = Counting()
    store.set(patron_key("fbs", LYNGBY, ANNE, "patron"), Patron(ANNE, "Anne"))
    store.set(patron_key("fbs", LYNGBY, ANNE, "fees"), ("fee",))
    store.set(patron_key("debtor", LYNGBY, ANNE, "claims"), ("claim",))
    store.reads.clear()
    return store, ProviderCache(store, 60)


def page(cache: ProviderCache) -> tuple[Any, Any, Any]:
    """What `services.debts` reads of a warm borrower, in its order."""
    claims = cache.peek("debtor", LYNGBY, ANNE, "claims")
    patron = cache.peek("fbs", LYNGBY, ANNE, "patron")
    fees = cache.cached("fbs", LYNGBY, ANNE, "fees", lambda: ("fetched",))
    return claims, patron, fees


def test_a_warm_page_reads_its_entries_in_one_round_trip() -> None:
    store, cache = filled()
    assert in_request("request-1", lambda: page(cache)) == (("claim",), Patron(ANNE, "Anne"), ("fee",))
    assert store.reads == ["get_many"]


def test_the_next_request_reads_again() -> None:
    store, cache = filled()
    in_request("request-1", lambda: cache.peek("debtor", LYNGBY, ANNE, "claims"))
    store.set(patron_key("fbs", LYNGBY, ANNE, "fees"), ("new fee",))
    # Even with the same id (a client may send one again): every request is a new serial.
    assert in_request("request-1", lambda: page(cache))[2] == ("new fee",)
    assert store.reads == ["get_many", "get_many"]


def test_outside_a_request_every_read_is_its_own() -> None:
    store, cache = filled()

    def outside() -> None:
        set_request_id(None)
        page(cache)

    contextvars.copy_context().run(outside)
    assert store.reads == ["get", "get", "get"]


def test_what_was_read_ahead_is_never_older_than_half_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    store, cache = filled()
    now = [100.0]
    monkeypatch.setattr(provider_cache, "_monotonic", lambda: now[0])

    def slow_page() -> Any:
        cache.peek("debtor", LYNGBY, ANNE, "claims")
        store.set(patron_key("fbs", LYNGBY, ANNE, "patron"), Patron(ANNE, "changed"))
        now[0] += provider_cache.READ_AHEAD_SECONDS
        return cache.peek("fbs", LYNGBY, ANNE, "patron")

    assert in_request("request-1", slow_page) == Patron(ANNE, "changed")


def test_each_value_is_handed_out_once() -> None:
    store, cache = filled()

    def twice() -> None:
        cache.peek("debtor", LYNGBY, ANNE, "claims")
        cache.peek("fbs", LYNGBY, ANNE, "patron")
        cache.peek("fbs", LYNGBY, ANNE, "patron")

    in_request("request-1", twice)
    assert store.reads == ["get_many", "get_many"]


def test_a_miss_is_asked_again_and_a_write_is_read_back() -> None:
    store, cache = filled()
    store.delete(patron_key("fbs", LYNGBY, ANNE, "patron"))

    def work() -> tuple[Any, Any]:
        cache.peek("debtor", LYNGBY, ANNE, "claims")
        store.set(patron_key("fbs", LYNGBY, ANNE, "patron"), Patron(ANNE, "from elsewhere"))
        cache.store("fbs", LYNGBY, ANNE, "fees", ("stored here",))
        return cache.peek("fbs", LYNGBY, ANNE, "patron"), cache.peek("fbs", LYNGBY, ANNE, "fees")

    assert in_request("request-1", work) == (Patron(ANNE, "from elsewhere"), ("stored here",))


def test_a_logout_drops_what_was_read_ahead() -> None:
    _store, cache = filled()

    def work() -> Any:
        cache.peek("debtor", LYNGBY, ANNE, "claims")
        cache.forget_patron(LYNGBY, ANNE)
        return cache.peek("fbs", LYNGBY, ANNE, "patron")

    assert in_request("request-1", work) is None
