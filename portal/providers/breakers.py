"""A circuit breaker and a concurrency limit per upstream, so a dead or trickling one costs a fast answer.

One `Guard` per provider (FBS, FBS through DBC's adapter, the debtor system, FBI, Nexi), keyed by
the provider's base URL from the settings: FBS is one national service behind one address (the
agency is only a path segment), so when it is down it is down for every library, and a breaker
per agency would let each library's borrowers find that out again. `portal.providers.http.send`
asks the guard before each call; a URL no guard knows (a test's own client) is not guarded.

- The breaker opens after `failures` consecutive failed calls — a timeout, no answer at all, or a
  5xx answer. A 4xx answer (401 of an expired FBS session, 404 of an unknown patron, Nexi's 402)
  is the upstream working as it should and counts as a success. While open, calls are refused at
  once; after `reset` seconds one trial call is let through (half-open): its success closes the
  breaker, its failure opens it for another `reset` seconds. Calls that began before the breaker
  opened and end afterwards change nothing: only the trial decides.
- The limit: at most `limit` calls to the provider in flight in this process. A caller waits for
  a slot for a short while only (`SLOT_WAIT`, or what is left of the page's budget); then it gets
  the error at once. A trickling FBS thus holds at most `limit` threads, never all of them.

Both are per process: state shared in Redis would make every page's call wait on Redis too, and
each process learns that an upstream is dead after a handful of its own calls anyway.

Why not pybreaker (the obvious choice): `CircuitBreaker.call()` holds the breaker's
lock for the whole guarded call (pybreaker 1.x, `with self._lock: return self.state.call(...)`),
which would let one call at a time through to each upstream; its half-open state also lets every
call through rather than one trial. Replaying outcomes into it outside the lock would lean on its
internals. The state machine is small enough to own (this module), with the lock held only for
the bookkeeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from portal import clock
from portal.observability import metrics

log = logging.getLogger(__name__)

CLOSED = "closed"
HALF_OPEN = "half_open"
OPEN = "open"
# Seconds a caller waits for a free slot at most. Short: the slots are taken by calls that are
# slow, so a caller that does not get one soon would most likely wait for a slow answer too.
SLOT_WAIT = 0.5


def _seconds_now() -> float:
    """The portal's clock in seconds: tests that freeze and advance it (card payments' polling over
    hours) move the breakers' reset timeout along. A step of the wall clock (NTP) changes one reset
    timeout by as much, which is harmless; the call deadlines (portal.providers.http) stay monotonic.
    """
    return clock.now().timestamp()


class Breaker:
    """Closed, open or half-open; thread-safe, the lock held only while counting."""

    def __init__(self, provider: str, failures: int, reset: float, clock: Callable[[], float] = _seconds_now) -> None:
        self.provider = provider
        self.failures = failures
        self.reset = reset
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failed = 0  # consecutive failures while closed
        self._opened_at = 0.0
        self._trial = False  # the half-open state's one call is under way
        metrics.set_breaker_state(provider, CLOSED)

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def admit(self) -> str | None:
        """May a call go out now? None: no; else the state it goes out in (CLOSED, or HALF_OPEN: the trial).

        An admitted call must end in `succeeded`, `failed` or `abandoned`, told whether it was the trial.
        """
        with self._lock:
            if self._state == CLOSED:
                return CLOSED
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset:
                self._move(HALF_OPEN)
            if self._state == HALF_OPEN and not self._trial:
                self._trial = True
                return HALF_OPEN
            return None

    def succeeded(self, trial: bool) -> None:
        """An admitted call got an answer below 500. `trial`: it was admitted while half-open."""
        with self._lock:
            if self._state == CLOSED:
                self._failed = 0
            elif trial and self._state == HALF_OPEN:
                self._trial = False
                self._failed = 0
                self._move(CLOSED)
                log.info("%s: answering again; circuit breaker closed", self.provider)

    def failed(self, trial: bool) -> None:
        """An admitted call timed out, got no answer, or a 5xx answer."""
        with self._lock:
            if self._state == CLOSED:
                self._failed += 1
                if self._failed >= self.failures:
                    self._open(f"after {self._failed} failed calls in a row")
            elif trial and self._state == HALF_OPEN:
                self._trial = False
                self._open("the trial call failed too")

    def abandoned(self, trial: bool) -> None:
        """An admitted call never went out (no free slot): a trial lets the next caller try."""
        with self._lock:
            if trial and self._state == HALF_OPEN:
                self._trial = False

    def _open(self, why: str) -> None:
        self._opened_at = self._clock()
        self._move(OPEN)
        log.warning("%s: circuit breaker open %s; calls refused for %.0f s", self.provider, why, self.reset)

    def _move(self, state: str) -> None:
        self._state = state
        metrics.set_breaker_state(self.provider, state)


@dataclass
class Guard:
    """What stands before every call to one provider: its breaker and its slots."""

    provider: str
    breaker: Breaker
    limit: int

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.limit)

    def take_slot(self, wait: float) -> bool:
        """A slot for one call within `wait` seconds (0: only if one is free now)."""
        return self._slots.acquire(timeout=wait) if wait > 0 else self._slots.acquire(blocking=False)

    def free_slot(self) -> None:
        self._slots.release()


class UpstreamGuards:
    """The guards of one app's upstreams, by base URL (registered at start-up, see `Upstreams`)."""

    def __init__(self, failures: int, reset: float, limit: int) -> None:
        self.failures = failures
        self.reset = reset
        self.limit = limit
        self._by_url: dict[str, Guard] = {}

    def register(self, base_url: str | None, provider: str) -> None:
        """Guard calls to `base_url` as `provider` (a fixed name, used in metrics and errors)."""
        url = (base_url or "").rstrip("/")
        if url and url not in self._by_url:
            self._by_url[url] = Guard(provider, Breaker(provider, self.failures, self.reset), self.limit)

    def for_url(self, base_url: str) -> Guard | None:
        return self._by_url.get(base_url.rstrip("/"))
