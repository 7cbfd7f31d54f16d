"""Waiting in tests for something another thread does: bounds for a broken test, never measurements."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# The thread name of `portal.services.background.in_background`'s calls.
BACKGROUND_PREFIX = "portal-background"


def wait_for(condition: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    """Wait until `condition()` holds; fail naming `what` when it never does."""
    ends = time.monotonic() + limit
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.005)


def background_calls() -> list[threading.Thread]:
    """The portal's background calls still running in this process (the sign-in's prefetch among them)."""
    return [t for t in threading.enumerate() if t.name.startswith(BACKGROUND_PREFIX) and t.is_alive()]


def wait_for_background(limit: float = 20.0) -> None:
    """Wait until this process's portal has no background call in flight.

    A test that signs in and then changes what FBS answers, or drops the cache, must not race
    the sign-in's prefetch: still in flight, it could take the injected error or store the fees
    again after they were dropped.
    """
    wait_for(lambda: not background_calls(), "the portal's background calls ended", limit)
