"""A thread-safe LRU bounded by its number of entries: the per-process memos of the warm view use it.

Each such memo (rendered pages, merged debts, written snapshots, the session read-ahead's keys, decoded Redis
entries) may forget at any time and only costs work when it does; what they need in common is a
bound, thread safety (a gthread worker serves several requests at once) and dropping entries by
key or by a test. A memo whose entries differ much in size is bounded by their weight as well.
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
    """At most `max_entries` entries; the least recently read or written goes first.

    With `weigh`, also at most `max_weight` in all (an entry heavier than that alone is not kept).
    """

    def __init__(self, max_entries: int, weigh: Callable[[V], int] | None = None, max_weight: int = 0) -> None:
        self._max = max_entries
        self._weigh = weigh
        self._max_weight = max_weight
        self._weight = 0
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def weight(self) -> int:
        """What the entries weigh in all (0 without `weigh`)."""
        return self._weight

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
            current = self._entries.get(key)
            changed = change(current)
            weight = self._weigh(changed) if self._weigh is not None else 0
            if weight > self._max_weight > 0:
                # Kept, it would push out everything else and then itself.
                if current is not None:
                    self._remove(key)
                return
            if current is not None:
                self._remove(key)
            self._entries[key] = changed
            self._weight += weight
            while len(self._entries) > self._max or self._weight > self._max_weight > 0:
                self._remove(next(iter(self._entries)))

    def pop(self, key: K) -> None:
        with self._lock:
            if key in self._entries:
                self._remove(key)

    def _remove(self, key: K) -> None:
        value = self._entries.pop(key)
        if self._weigh is not None:
            self._weight -= self._weigh(value)

    def drop_where(self, gone: Callable[[V], bool]) -> None:
        """Drop every entry whose value `gone` says so of."""
        with self._lock:
            for key in [key for key, value in self._entries.items() if gone(value)]:
                self._remove(key)

    def any_value(self, test: Callable[[V], bool]) -> bool:
        with self._lock:
            return any(test(value) for value in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0
