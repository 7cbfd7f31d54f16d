"""PORTAL_CACHE_URL=redis://…: sessions and provider answers live in a real Redis, keyed without CPR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from portal.auth.sessions import ServerSessionInterface
from portal.devtools.demo_data import CITIZENS
from tests.auth.helpers import COOKIE
from tests.support.login import http_login
from tests.support.redis_server import redis_server
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    stack = start_stack(Path(tmp_path_factory.mktemp("redis")), PORTAL_CACHE_URL=redis_url)
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.stop()


def keys(url: str) -> list[str]:
    with redis.Redis.from_url(url) as client:
        return sorted(key.decode() for key in client.keys("*"))


def test_sessions_and_provider_cache_in_redis(redis_stack: Stack, redis_url: str) -> None:
    anne = next(c for c in CITIZENS if c.sub == "demo-anne")
    assert anne.cpr is not None
    with httpx.Client(timeout=10) as client:
        page = http_login(client, redis_stack.url, "demo-anne")
        assert page.status_code == 200 and "469,75" in page.text
        stored = keys(redis_url)
        assert any("session:" in key for key in stored), stored
        assert any(key.endswith("DK-717300:1001:fees") or ":1001:" in key for key in stored), stored
        assert all(anne.cpr not in key for key in stored)
        # The debtor system is asked by CPR number, but cached under the patron id.
        assert any(key.endswith("debtor:DK-717300:1001:claims") for key in stored), stored
        with redis.Redis.from_url(redis_url) as raw:
            assert all(anne.cpr.encode() not in (raw.get(k) or b"") for k in raw.keys("*fbs*"))
            assert all(anne.cpr.encode() not in (raw.get(k) or b"") for k in raw.keys("*debtor*"))
        calls = redis_stack.fbs_state.call_count("fees")
        assert client.get(f"{redis_stack.url}/lyngby/").status_code == 200
        assert redis_stack.fbs_state.call_count("fees") == calls, "second view served from Redis"
        client.post(f"{redis_stack.url}/lyngby/logout")
    after = keys(redis_url)
    assert not any(":1001:" in key for key in after), after


def _texts(value: Any) -> list[str]:
    """Every string inside `value` (nested dicts and lists)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def test_session_entries_in_redis_are_encrypted(redis_stack: Stack, redis_url: str) -> None:
    anne = next(c for c in CITIZENS if c.sub == "demo-anne")
    assert anne.cpr is not None
    with httpx.Client(timeout=10) as client:
        assert http_login(client, redis_stack.url, "demo-anne").status_code == 200
        session_id = client.cookies[COOKIE]
        with redis.Redis.from_url(redis_url) as raw:
            entry = raw.get(f"gebyrportal:session:{session_id}")
            sessions = [raw.get(key) or b"" for key in raw.keys("*session:*")]
        interface = redis_stack.app.session_interface
        assert isinstance(interface, ServerSessionInterface)
        with redis_stack.app.app_context():
            stored = interface.read(session_id)
        assert stored is not None and stored.data["citizen"]["cpr"] == anne.cpr  # decrypted, it is all there
        readable = {anne.cpr, anne.name, anne.sub, "citizen", *(text for text in _texts(stored.data) if len(text) >= 8)}
        assert entry is not None and [text for text in readable if text.encode() in entry] == []
        assert [entry for entry in sessions if anne.cpr.encode() in entry or anne.name.encode() in entry] == []
        client.post(f"{redis_stack.url}/lyngby/logout")


def test_a_warm_view_reads_redis_once(redis_stack: Stack, redis_url: str) -> None:
    """The session's entry and the borrower's entries in one MGET (portal.read_ahead), nothing else read."""
    with httpx.Client(timeout=10) as client, redis.Redis.from_url(redis_url) as raw:
        assert http_login(client, redis_stack.url, "demo-anne").status_code == 200
        for _ in range(2):  # the second view learns what the session's page reads
            assert client.get(f"{redis_stack.url}/lyngby/").status_code == 200
        raw.config_resetstat()
        assert client.get(f"{redis_stack.url}/lyngby/").status_code == 200
        commands = {name.removeprefix("cmdstat_"): stat["calls"] for name, stat in raw.info("commandstats").items()}
        reads = {name: calls for name, calls in commands.items() if name in ("get", "mget", "exists", "ttl")}
        assert reads == {"mget": 1}, commands
        client.post(f"{redis_stack.url}/lyngby/logout")
