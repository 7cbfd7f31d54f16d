"""The bounded LRU of the per-process memos: the bound, recency, and dropping by key or by value."""

from __future__ import annotations

from portal.lru import BoundedLRU


def test_the_least_recently_used_goes_first() -> None:
    lru: BoundedLRU[str, int] = BoundedLRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "a" is now the most recent
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)


def test_update_sees_the_current_value() -> None:
    lru: BoundedLRU[str, tuple[str, ...]] = BoundedLRU(4)
    lru.update("k", lambda old: (*(old or ()), "x"))
    lru.update("k", lambda old: (*(old or ()), "y"))
    assert lru.get("k") == ("x", "y")


def test_dropped_by_key_or_by_value() -> None:
    lru: BoundedLRU[str, int] = BoundedLRU(4)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        lru.put(key, value)
    lru.pop("a")
    lru.pop("missing")
    lru.drop_where(lambda value: value % 2 == 0)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (None, None, 3)
    assert lru.any_value(lambda value: value == 3) and not lru.any_value(lambda value: value == 2)
    lru.clear()
    assert len(lru) == 0


def test_bounded_by_weight_too() -> None:
    lru: BoundedLRU[str, str] = BoundedLRU(10, weigh=len, max_weight=10)
    lru.put("a", "aaaa")
    lru.put("b", "bbbb")
    assert lru.weight == 8
    lru.put("a", "aa")  # a changed value weighs what it weighs now
    assert lru.weight == 6
    lru.put("c", "cccccc")  # 12 > 10: the least recently used ("b") goes
    assert (lru.get("a"), lru.get("b"), lru.get("c"), lru.weight) == ("aa", None, "cccccc", 8)
    lru.pop("a")
    lru.drop_where(lambda value: value == "cccccc")
    assert (len(lru), lru.weight) == (0, 0)


def test_an_entry_heavier_than_the_bound_is_not_kept() -> None:
    lru: BoundedLRU[str, str] = BoundedLRU(10, weigh=len, max_weight=4)
    lru.put("a", "aa")
    lru.put("big", "x" * 5)  # not kept, and "a" not pushed out for it
    assert (lru.get("a"), lru.get("big"), lru.weight) == ("aa", None, 2)
    lru.put("a", "y" * 5)  # nor a changed value that grew too heavy
    assert (lru.get("a"), lru.weight) == (None, 0)
    lru.put("b", "bb")
    lru.clear()
    assert lru.weight == 0
