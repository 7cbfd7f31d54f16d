"""Redis entries decoded once per process: an entry read again unchanged is not unpickled again.

A warm overview reads the same entries on every view (the borrower's patron, fees and claims,
written once per cache period), and unpickling them was most of the cost of reading them: a
borrower's fees take tens of microseconds to unpickle, against a few to check their signature.
So once an entry's signature is checked (`portal.kvstore_signing`), its value is looked up here
by that signature, an HMAC-SHA256 under this deployment's key: equal signatures mean equal
bytes, and an entry changed in Redis has another signature and is decoded anew. The check itself
is never skipped, so an entry signed by a key no longer configured is still refused.

Only values that cannot change are kept (`deeply_frozen`), because every request that reads
the entry then gets the same object: a list or a dict would let one request's change show in
another's. And only frozen dataclasses (the patron entries, works): a bare string unpickles in
under a microsecond. A value found unfit (a snapshot: its titles are a dict) is decoded each time,
as before, and the walk that finds it so looks at each level before it descends, so it stops
early. The memo is bounded by the pickled size of what it keeps, a stand-in for the memory its
values take. Flask-free.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from portal.lru import BoundedLRU

__all__ = ["DecodedEntries", "deeply_frozen"]

# Pickled bytes kept per process: a borrower's entries are a few kB, their values a few times that.
MAX_PICKLED_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 16_384
_ATOMS = (str, bytes, int, float, complex, Decimal, date, datetime, time, timedelta, Enum, type(None))
# Deeper than any value the portal stores; a deeper one is simply not kept.
_MAX_DEPTH = 16
_FIELDS: dict[type, tuple[str, ...] | None] = {}  # per type: only the portal's own types get here


def deeply_frozen(value: object) -> bool:
    """Whether nothing reachable from `value` can be changed: atoms, tuples, frozensets, frozen dataclasses."""
    if isinstance(value, _ATOMS):
        return True
    children = _children(value)
    return children is not None and _all_frozen(children, 0)


def _all_frozen(children: tuple[object, ...], depth: int) -> bool:
    """Whether every one of `children` (of a value `depth` levels down) is deeply frozen."""
    if depth >= _MAX_DEPTH:
        return False
    # This level first: a list or dict next to a large frozen part ends the walk before it goes down.
    below = []
    for child in children:
        if not isinstance(child, _ATOMS):
            held = _children(child)
            if held is None:
                return False
            below.append(held)
    return all(_all_frozen(held, depth + 1) for held in below)


def _children(value: object) -> tuple[object, ...] | None:
    """What `value` holds, when it is a tuple, a frozenset or a frozen dataclass; None otherwise."""
    if isinstance(value, tuple | frozenset):
        return tuple(value)
    names = _frozen_fields(type(value))
    return None if names is None else tuple(getattr(value, name) for name in names)


def _frozen_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a frozen dataclass; None for any other type (worked out once per type)."""
    if kind not in _FIELDS:
        frozen = dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
        _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind)) if frozen else None
    return _FIELDS[kind]


class DecodedEntries:
    """Signature (checked) -> the value its pickle decodes to, for values worth keeping and safe to share."""

    def __init__(self, max_pickled_bytes: int = MAX_PICKLED_BYTES) -> None:
        self._values: BoundedLRU[bytes, tuple[int, Any]] = BoundedLRU(
            MAX_ENTRIES, weigh=lambda kept: kept[0], max_weight=max_pickled_bytes
        )

    def __len__(self) -> int:
        return len(self._values)

    def loads(self, signature: bytes, payload: bytes) -> Any:
        """`pickle.loads(payload)`, or the object it gave before; `signature` must already be checked."""
        kept = self._values.get(signature)
        if kept is not None:
            return kept[1]
        value = pickle.loads(payload)
        if _frozen_fields(type(value)) is not None and deeply_frozen(value):
            self._values.put(signature, (len(payload), value))
        return value
