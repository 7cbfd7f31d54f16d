"""The bench's floor (`benchmarks.floor`) really reads Redis on each request and answers a page of the size asked."""

from __future__ import annotations

import pytest
import redis

from benchmarks import floor


def test_the_floor_reads_its_entries_and_answers_the_page(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(floor.REDIS_VARIABLE, redis_url)
    monkeypatch.setenv(floor.PAGE_BYTES_VARIABLE, "19256")
    client = floor.create_app().test_client()
    answer = client.get("/")
    assert answer.status_code == 200 and len(answer.data) == 19256
    with redis.Redis.from_url(redis_url) as store:
        assert [store.strlen(key) for key in floor.KEYS] == list(floor.VALUE_BYTES)
        store.delete(floor.KEYS[2])
    assert client.get("/").status_code == 500  # each answer waited for the MGET's values
