"""Races for the tests of the shared back-ends: parties released at one barrier, every outcome kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PARTIES = 4


def at_once(work: Callable[[int], T], parties: int = PARTIES) -> list[T | BaseException]:
    """Run `work(i)` in `parties` threads released together; each one's result or exception."""
    barrier = threading.Barrier(parties)
    results: list[T | BaseException] = [RuntimeError("did not run")] * parties

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # collected: the test looks at every party's outcome
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
