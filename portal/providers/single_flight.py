"""Single-flight: concurrent requests for one cached item make one upstream call.

On reminder day a hundred views of the same borrower may miss the cache at once (their first
view, or the entry just expired); each would ask FBS for the same fees. Here one of them — the
leader — calls the upstream and stores the answer; the others take that answer.

- Across the threads of one process: the first caller of a key registers a `Future`; the others
  wait on it and get the leader's value, or its exception (FBS failed for all of them alike).
- Across worker processes, when the cache is Redis: the process's leader takes a Redis lock
  (`SET <prefix>lock:<cache key> <token> NX PX <ttl>`); a process that finds it taken polls the
  cache for the value the lock holder stores, and stops waiting when the lock goes without a
  value (that holder failed) or its bounded wait is over.

Never does the lock fail a page: when Redis answers an error, or a wait runs out (the page's
budget, or the lock's TTL), the caller calls the upstream itself. A process waits for another's
call for half its page budget at most, so that the rest still does for its own call. The lock's
TTL is the upstream deadline and a margin, so a crashed holder's lock ends by itself. The lock's key is the cache
key (`cache.patron_key`) and therefore holds no CPR number either.

No library: redis-py's own `Lock` blocks until it gets the lock, but a waiter here must not take
the lock after the holder is done — it must read the holder's value; the lock itself is three
Redis commands.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import redis

from portal.observability import metrics
from portal.providers.http import budget_left

log = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_PREFIX = "gebyrportal:lock:"
# Seconds between two looks at the cache while another process fetches. Only one thread per
# process polls (the others wait on its Future), so Redis sees at most a few reads per process.
POLL_INTERVAL = 0.01
# Deletes the lock only when it is still ours: after our TTL ran out another process may hold it.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


# The metric's roles (portal.observability.metrics.record_single_flight) of the kinds counted in `waits`.
_ROLES = {"local": "waited", "remote": "waited", "remote_timeout": "gave_up", "lock_error": "gave_up"}


class SingleFlight:
    """One upstream call per cache key at a time, in this process and (with `redis_client`) across processes.

    `waits` counts, by kind, how often a caller did not call the upstream itself or why it did:
    "local" (took another thread's answer), "remote" (waited for another process's answer),
    "remote_timeout" and "lock_error" (called the upstream itself after all). Tests read it
    to know a waiter is waiting; it is the single-flight metric's source.
    """

    def __init__(self, redis_client: redis.Redis | None = None, lock_ttl: float = 10.0) -> None:
        self._redis = redis_client
        self._lock_ttl = lock_ttl
        self._lock = threading.Lock()
        self._flights: dict[str, Future[Any]] = {}
        self._counts_lock = threading.Lock()
        self.waits: Counter[str] = Counter()

    def run(self, key: str, lookup: Callable[[], T | None], fetch: Callable[[], T]) -> T:
        """`lookup()` if it finds the value, else the value `fetch()` gets (and stores) — once per key at a time.

        `lookup` reads the cache (None: a miss); `fetch` calls the upstream and stores the answer
        under `key`, so that waiters elsewhere find it with their `lookup`.
        """
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = Future()
                self._flights[key] = flight
        if not leader:
            self._count("local", key)
            try:
                return flight.result(timeout=self._wait_bound())  # type: ignore[no-any-return]
            except FutureTimeout:
                # The leader is still at it past our budget: our own call ends by the budget too.
                return fetch()
        metrics.record_single_flight(key.split(":", 1)[0], "led")
        try:
            value = self._lead(key, lookup, fetch)
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            with self._lock:
                del self._flights[key]

    def _lead(self, key: str, lookup: Callable[[], T | None], fetch: Callable[[], T]) -> T:
        # The last leader may have stored the value between our caller's miss and our flight.
        value = lookup()
        if value is not None:
            return value
        if self._redis is None:
            return fetch()
        lock_key = LOCK_PREFIX + key
        token = secrets.token_hex(16)
        try:
            taken = self._redis.set(lock_key, token, nx=True, px=max(1, int(self._lock_ttl * 1000)))
        except redis.RedisError as exc:
            return self._without_lock("lock", exc, fetch, key)
        if taken:
            try:
                # Another process may have stored it just before we took the lock.
                value = lookup()
                return value if value is not None else fetch()
            finally:
                self._release(lock_key, token)
        return self._wait_for_other_process(lock_key, lookup, fetch)

    def _wait_for_other_process(self, lock_key: str, lookup: Callable[[], T | None], fetch: Callable[[], T]) -> T:
        assert self._redis is not None
        self._count("remote", lock_key.removeprefix(LOCK_PREFIX))
        # Half the budget at most: what is left must still do for our own call should the wait run out.
        ends = time.monotonic() + self._wait_bound(share=0.5)
        pause = threading.Event()
        while time.monotonic() < ends:
            pause.wait(POLL_INTERVAL)
            value = lookup()
            if value is not None:
                return value
            try:
                if not self._redis.exists(lock_key):
                    break  # the holder is done and stored nothing (it failed): try ourselves
            except redis.RedisError as exc:
                return self._without_lock("lock wait", exc, fetch, lock_key.removeprefix(LOCK_PREFIX))
        else:
            self._count("remote_timeout", lock_key.removeprefix(LOCK_PREFIX))
            log.warning("single-flight: another process's call took longer than the wait; calling the upstream")
        return fetch()

    def _release(self, lock_key: str, token: str) -> None:
        assert self._redis is not None
        try:
            self._redis.eval(_RELEASE, 1, lock_key, token)
        except redis.RedisError as exc:
            # The lock ends with its TTL; the others read the value we stored meanwhile.
            log.warning("single-flight: could not release a lock (%s); it expires by itself", type(exc).__name__)

    def _without_lock(self, step: str, exc: Exception, fetch: Callable[[], T], key: str) -> T:
        self._count("lock_error", key)
        log.warning("single-flight: Redis failed at the %s (%s); calling the upstream", step, type(exc).__name__)
        return fetch()

    def _wait_bound(self, share: float = 1.0) -> float:
        """Seconds a waiter waits at most: the lock's TTL, or `share` of the page's budget left if less."""
        left = budget_left()
        return self._lock_ttl if left is None else max(0.0, min(left * share, self._lock_ttl))

    def _count(self, kind: str, key: str) -> None:
        with self._counts_lock:
            self.waits[kind] += 1
        # The metric: by provider (the key's first part: fbs, debtor, fbi), never the rest of the key.
        metrics.record_single_flight(key.split(":", 1)[0], _ROLES[kind])
