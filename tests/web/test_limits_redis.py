"""The rate limits' Redis path (PORTAL_CACHE_URL=redis://…), against a real redis-server.

Two apps stand for two workers of one deployment: with one Redis they count one limit together.
When Redis is down, counting falls back to the process's memory (portal/web/limits.py): requests
are neither failed nor let through unlimited. Each refusal is paired with a fresh address getting
through, so the test proves the limit is the cause.
"""

from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from tests.support.redis_server import free_port, redis_server
from tests.support.settings import test_settings

ALICE, BOB = {"REMOTE_ADDR": "192.0.2.10"}, {"REMOTE_ADDR": "192.0.2.20"}
# The JSON API answers 401 to a request without a session, before any upstream call and without
# reading the session store: only the limiter touches Redis.
TOTAL = "/api/v1/libraries/lyngby/total"


def worker(tmp_path: Path, name: str, cache_url: str) -> Flask:
    """One portal process; each has its own database, as only Redis is meant to be shared here."""
    settings = test_settings(
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / f'{name}.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(DEMO_LIBRARIES_FILE),
        PORTAL_RATE_LIMITS="on",
        PORTAL_RATE_LIMIT_API="2 per minute",
        PORTAL_CACHE_URL=cache_url,
    )
    return create_app(settings)


def total(client: FlaskClient, who: dict[str, str]) -> int:
    return client.get(TOTAL, environ_base=who).status_code


def test_two_workers_sharing_redis_count_one_limit(tmp_path: Path, redis_url: str) -> None:
    first = worker(tmp_path, "first", redis_url).test_client()
    second = worker(tmp_path, "second", redis_url).test_client()
    assert [total(first, ALICE), total(first, ALICE)] == [401, 401]  # the budget, all used at the first worker
    assert total(second, ALICE) == 429  # the second worker has counted none of them itself
    assert total(second, BOB) == 401  # another address is not held up
    with redis.Redis.from_url(redis_url) as raw:
        assert any(b"rate_limit_api" in key for key in raw.keys("*")), "the count lives in Redis"
        raw.flushall()
    assert total(second, ALICE) == 401  # the count was Redis's: gone with it


def test_redis_down_from_the_start_counts_in_memory(tmp_path: Path) -> None:
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    client = worker(tmp_path, "alone", nobody_listens).test_client()
    assert [total(client, ALICE), total(client, ALICE)] == [401, 401]  # not failed for want of Redis
    refused = client.get(TOTAL, environ_base=ALICE)
    assert refused.status_code == 429  # and still limited, in this process's memory
    assert int(refused.headers["Retry-After"]) > 0
    assert total(client, BOB) == 401


def test_redis_lost_while_running_falls_back_to_memory(tmp_path: Path) -> None:
    with redis_server() as url:
        client = worker(tmp_path, "alone", url).test_client()
        assert total(client, ALICE) == 401  # counted in Redis
    # Redis has stopped: memory counts afresh, so the budget is whole again but still enforced.
    assert [total(client, ALICE), total(client, ALICE)] == [401, 401]
    assert total(client, ALICE) == 429
    assert total(client, BOB) == 401
