"""A thread-safe LRU bounded by its number of entries: the per-process memos of the warm view use it.

Each such memo (merged debts, written snapshots, the session read-ahead's keys) may forget at any
time and only costs work when it does; what they need in common is a bound, thread safety (a
gthread worker serves several requests at once) and dropping entries by key or by a test.
Flask-free.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

__all__ = ["BoundedLRU"]


class BoundedLRU(Generic[K, V]):
    """At most `max_entries` entries; the least recently read or written goes first."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        self.update(key, lambda _current: value)

    def update(self, key: K, change: Callable[[V | None], V]) -> None:
        """Store `change(the current value or None)` under `key`, in one step (no other thread in between)."""
        with self._lock:
            self._entries[key] = change(self._entries.get(key))
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def drop_where(self, gone: Callable[[V], bool]) -> None:
        """Drop every entry whose value `gone` says so of."""
        with self._lock:
            for key in [key for key, value in self._entries.items() if gone(value)]:
                del self._entries[key]

    def any_value(self, test: Callable[[V], bool]) -> bool:
        with self._lock:
            return any(test(value) for value in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
