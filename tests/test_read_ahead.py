"""A session's entry and the keys its last page read after it come in one round trip, for that request only.

On a store counting its reads ("get" / "get_many", like Redis's GET / MGET); each `in_request`
is a request of its own (a new serial), as the server gives.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

import pytest

from portal import read_ahead
from portal.observability.request_id import set_request_id
from tests.providers.counting_store import Counting

T = TypeVar("T")
SESSION = "session:" + "s" * 43
ENTRIES = ["fbs:DK-717300:1001:patron", "fbs:DK-717300:1001:fees"]


def in_request(work: Callable[[], T]) -> T:
    def run() -> T:
        set_request_id("request-1")  # even a repeated id gets a new serial
        return work()

    return contextvars.copy_context().run(run)


@pytest.fixture
def store() -> Counting:
    counting = Counting()
    counting.set(SESSION, "sealed entry")
    counting.set(ENTRIES[0], "patron")
    counting.set(ENTRIES[1], "fees")
    read_ahead.forget_session(SESSION)  # nothing learned by another test
    return counting


def page(store: Counting) -> tuple[object, list[object]]:
    """What a warm page reads: the session's entry, then the borrower's entries."""
    session = read_ahead.read_with(store, SESSION)
    entries = read_ahead.take(store, ENTRIES)
    return session, entries if entries is not None else store.get_many(*ENTRIES)


def test_the_next_page_of_a_session_reads_everything_in_one_round_trip(store: Counting) -> None:
    assert in_request(lambda: page(store)) == ("sealed entry", ["patron", "fees"])
    assert store.reads == ["get", "get_many"]
    store.reads.clear()
    assert in_request(lambda: page(store)) == ("sealed entry", ["patron", "fees"])
    assert store.reads == ["get_many"]


def test_what_was_read_ahead_is_what_the_store_holds_at_the_requests_start(store: Counting) -> None:
    in_request(lambda: page(store))
    store.set(ENTRIES[1], "new fees")  # written elsewhere between two pages
    assert in_request(lambda: page(store))[1] == ["patron", "new fees"]


def test_only_for_the_request_that_read_it(store: Counting) -> None:
    # One context for both, as a server thread serves one request after another.
    thread = contextvars.copy_context()

    def request(work: Callable[[], T]) -> T:
        set_request_id("request-1")
        return work()

    thread.run(request, lambda: page(store))
    thread.run(request, lambda: read_ahead.read_with(store, SESSION))
    # The next request (no session read of its own) gets nothing of what the last one read ahead.
    assert thread.run(request, lambda: read_ahead.take(store, ENTRIES)) is None


def test_handed_out_once_and_only_whole(store: Counting) -> None:
    in_request(lambda: page(store))

    def twice() -> tuple[object, object, object]:
        read_ahead.read_with(store, SESSION)
        partial = read_ahead.take(store, [*ENTRIES, "debtor:DK-717300:1001:claims"])
        return partial, read_ahead.take(store, ENTRIES), read_ahead.take(store, ENTRIES)

    assert in_request(twice) == (None, ["patron", "fees"], None)


def test_only_reads_of_the_same_store(store: Counting) -> None:
    in_request(lambda: page(store))
    other = Counting()
    other.set(ENTRIES[0], "another store's patron")

    def elsewhere() -> object:
        read_ahead.read_with(store, SESSION)
        return read_ahead.take(other, ENTRIES)

    assert in_request(elsewhere) is None


def test_a_write_in_the_request_drops_what_was_read_ahead(store: Counting) -> None:
    in_request(lambda: page(store))

    def write_then_read() -> object:
        read_ahead.read_with(store, SESSION)
        read_ahead.forget([ENTRIES[1]])
        return read_ahead.take(store, ENTRIES)

    assert in_request(write_then_read) is None


def test_never_older_than_half_a_second(store: Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    in_request(lambda: page(store))
    now = [100.0]
    monkeypatch.setattr(read_ahead, "_monotonic", lambda: now[0])

    def slow(wait: float) -> object:
        read_ahead.read_with(store, SESSION)
        now[0] += wait
        return read_ahead.take(store, ENTRIES)

    assert in_request(lambda: slow(read_ahead.READ_AHEAD_SECONDS - 0.01)) == ["patron", "fees"]
    assert in_request(lambda: slow(read_ahead.READ_AHEAD_SECONDS)) is None


def test_a_session_gone_learns_afresh(store: Counting) -> None:
    in_request(lambda: page(store))
    read_ahead.forget_session(SESSION)
    store.reads.clear()
    in_request(lambda: read_ahead.read_with(store, SESSION))
    assert store.reads == ["get"]


def test_outside_a_request_a_plain_read(store: Counting) -> None:
    def outside() -> object:
        set_request_id(None)
        return read_ahead.read_with(store, SESSION)

    assert contextvars.copy_context().run(outside) == "sealed entry"
    assert store.reads == ["get"]


def test_the_memo_is_bounded() -> None:
    learned = read_ahead.Learned(max_sessions=2)
    for session in (b"a", b"b", b"c"):
        learned.add(session, ENTRIES)
    assert len(learned) == 2 and learned.get(b"a") == () and learned.get(b"c") == tuple(ENTRIES)
