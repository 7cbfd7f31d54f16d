"""Redis entries decoded once per process (portal.decoded_entries): what is shared, what is not, the bound."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from portal.decoded_entries import DecodedEntries, deeply_frozen
from portal.domain.fees import Fee, FeeType, Material, Patron


def a_fee(fee_id: int) -> Fee:
    material = Material("870970-basis:1234", "3846", group="Bog")
    return Fee(fee_id, FeeType.FEE, "Overskredet lånetid", Decimal("30.50"), date(2021, 3, 1), None, True, (material,))


@dataclass(frozen=True)
class Holder:
    value: object
    more: object = ()


@dataclass
class Unfrozen:
    value: object = None


@dataclass(frozen=True)
class WithDict:
    items: dict[str, int] = field(default_factory=dict)


@pytest.mark.parametrize(
    "value",
    [
        a_fee(1),
        (a_fee(1), a_fee(2)),
        Patron(1001, "Anne", ()),
        Holder(frozenset({1, 2}), (Decimal("1"), "x", b"y", None, date(2020, 1, 1), FeeType.FEE)),
    ],
)
def test_frozen_all_the_way_down(value: object) -> None:
    assert deeply_frozen(value)


@pytest.mark.parametrize(
    "value",
    [
        [a_fee(1)],  # a list
        Holder(a_fee(1), more=(a_fee(2), [3])),  # a list deep down, next to frozen parts
        Holder((a_fee(1),), more=WithDict()),  # a frozen dataclass holding a dict
        Unfrozen(a_fee(1)),  # a dataclass that is not frozen
        Holder(Unfrozen()),
        Holder(object()),  # anything else
    ],
)
def test_anything_that_can_change_is_not_frozen(value: object) -> None:
    assert not deeply_frozen(value)


def test_too_deep_is_not_frozen() -> None:
    deep: object = "leaf"
    for _ in range(10):
        deep = Holder(deep)
    assert deeply_frozen(deep)
    for _ in range(10):
        deep = Holder(deep)
    assert not deeply_frozen(deep)


def test_a_frozen_entry_is_decoded_once_and_shared() -> None:
    decoded = DecodedEntries()
    payload = pickle.dumps(Holder((a_fee(1), a_fee(2))))
    first = decoded.loads(b"sig-1", payload)
    assert first == Holder((a_fee(1), a_fee(2)))
    assert decoded.loads(b"sig-1", payload) is first
    # Another signature is another entry: decoded anew, even from equal bytes.
    assert decoded.loads(b"sig-2", payload) is not first


@pytest.mark.parametrize(
    "value",
    [
        (a_fee(1), a_fee(2)),  # frozen, but not a dataclass: not worth it (and never stored so)
        "a session's sealed entry",
        Holder([a_fee(1)]),  # a dataclass with a list: one request's change would show in another's
    ],
)
def test_other_entries_are_decoded_every_time(value: object) -> None:
    decoded = DecodedEntries()
    payload = pickle.dumps(value)
    first = decoded.loads(b"sig", payload)
    again = decoded.loads(b"sig", payload)
    assert again == value and again is not first
    assert len(decoded) == 0


def test_bounded_by_the_pickled_size_it_keeps() -> None:
    payloads = [pickle.dumps(Holder((a_fee(n),))) for n in range(3)]
    decoded = DecodedEntries(max_pickled_bytes=2 * len(payloads[0]) + 8)
    firsts = [decoded.loads(f"sig-{n}".encode(), payload) for n, payload in enumerate(payloads)]
    assert len(decoded) == 2
    assert decoded.loads(b"sig-0", payloads[0]) is not firsts[0]  # the least recently used went
    assert decoded.loads(b"sig-2", payloads[2]) is firsts[2]
