"""PORTAL_CACHE_URL=redis://…: sessions and provider answers live in a real Redis, keyed without CPR."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from portal.devtools.demo_data import CITIZENS
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


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
