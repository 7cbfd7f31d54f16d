"""A page's titles are read from the cache in one round trip (Redis MGET), not one per material."""

from __future__ import annotations

from typing import Any

from cachelib import SimpleCache

from portal.domain.works import Work
from portal.providers.cache import ProviderCache
from tests.providers.counting_store import Counting

FAUSTS = ["51980337", "52345678", "29830044"]


class Down(SimpleCache):
    def get_many(self, *keys: str) -> list[Any]:
        raise ConnectionError("redis is down")


def test_the_works_of_a_page_are_read_in_one_batch() -> None:
    store = Counting()
    cache = ProviderCache(store, 60)
    cache.remember_works({FAUSTS[0]: Work(FAUSTS[0], "T"), FAUSTS[2]: Work(FAUSTS[2], "U")}, [FAUSTS[1]])
    found, misses = cache.works([*FAUSTS, "51980337", "not a faust"])
    assert found == {FAUSTS[0]: Work(FAUSTS[0], "T"), FAUSTS[2]: Work(FAUSTS[2], "U")}
    assert misses == []  # the unknown one is remembered as unknown
    assert store.reads == ["get_many"]


def test_no_materials_no_read() -> None:
    store = Counting()
    assert ProviderCache(store, 60).works([]) == ({}, [])
    assert store.reads == []


def test_a_failing_store_makes_every_work_a_miss() -> None:
    assert ProviderCache(Down(), 60).works(FAUSTS) == ({}, FAUSTS)
