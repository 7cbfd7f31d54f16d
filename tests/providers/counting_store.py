"""A cache store that records its reads, for tests of how many round trips a page costs."""

from __future__ import annotations

from typing import Any

from cachelib import SimpleCache


class Counting(SimpleCache):
    """SimpleCache counting single and batched reads ("get" / "get_many"), like Redis's GET / MGET."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get(self, key: str) -> Any:
        self.reads.append("get")
        return super().get(key)

    def get_many(self, *keys: str) -> list[Any]:
        self.reads.append("get_many")
        return [super(Counting, self).get(key) for key in keys]
