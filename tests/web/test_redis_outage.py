"""A real Redis that stalls or dies: pages say so (503), the probe stays alive, no session is lost.

Stalled is a redis-server stopped with SIGSTOP: connections stay open and nothing answers, the
case that waits for ever without socket timeouts. Dead is a port where nothing listens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cachelib import RedisCache

from portal import create_app
from portal.config import REDIS_SOCKET_TIMEOUT
from portal.kvstore import backend
from portal.providers.setup import EXTENSION_KEY
from tests.auth.helpers import COOKIE
from tests.support.login import http_login
from tests.support.redis_server import free_port, stalled
from tests.support.settings import test_settings
from tests.support.stack import Stack, start_stack

ANNE_TOTAL = "469,75"  # Anne's FBS total on the demo data, as the overview prints it
TITLE = "Vi kan ikke tjekke dit login lige nu"


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[Stack]:
    started = start_stack(tmp_path, PORTAL_CACHE_URL=redis_url)
    started.app.config["SESSION_COOKIE_SECURE"] = False
    yield started
    started.stop()


def test_a_stalled_store_answers_503_and_the_session_survives_it(stack: Stack, redis_url: str) -> None:
    with httpx.Client(timeout=10) as client:
        assert ANNE_TOTAL in http_login(client, stack.url, "demo-anne").text
        cookie = client.cookies[COOKIE]
        with stalled(redis_url):
            page = client.get(f"{stack.url}/lyngby/")
            api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
            alive = client.get(f"{stack.url}/healthz")
            ready = client.get(f"{stack.url}/readyz")
        assert page.status_code == 503 and TITLE in page.text, page.text
        assert page.headers["Retry-After"] == "30"
        assert "set-cookie" not in page.headers  # the browser keeps its session
        assert "kr" not in page.text.split("<main", 1)[-1]  # no figure on a page that knows none
        assert (api.status_code, api.json()["error"]) == (503, "service_unavailable")
        assert alive.status_code == 200  # liveness never waits on Redis
        assert ready.status_code == 503 and ready.json()["checks"]["cache"]["status"] == "fail"
        # Redis back: the same cookie, still signed in, the same figures.
        again = client.get(f"{stack.url}/lyngby/")
        assert again.status_code == 200 and ANNE_TOTAL in again.text
        assert client.cookies[COOKIE] == cookie


def test_signing_in_without_a_store_says_so_and_sets_no_cookie(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    stack = start_stack(tmp_path, PORTAL_CACHE_URL=dead)
    try:
        with httpx.Client(timeout=10) as client:
            start = client.get(f"{stack.url}/lyngby/login")  # the sign-in's state would be stored here
            assert start.status_code == 503 and TITLE in start.text, start.text
            assert "set-cookie" not in start.headers
            assert client.get(f"{stack.url}/healthz").status_code == 200
            # A page that needs no session still works.
            assert client.get(f"{stack.url}/").status_code == 200
    finally:
        stack.stop()


def test_every_redis_client_of_a_web_process_gives_up_after_the_socket_timeout(tmp_path: Path) -> None:
    # redis-py's own default is 5 s: on a stalled Redis each would hold a worker thread that long.
    app = create_app(
        test_settings(
            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            PORTAL_CACHE_URL=f"redis://127.0.0.1:{free_port()}/0",
            PORTAL_RATE_LIMITS="on",
        )
    )
    cache = backend(app)
    assert isinstance(cache, RedisCache)
    limiter = next(iter(app.extensions["limiter"]))
    clients = {
        "sessions and cache (writes)": cache._write_client,
        "sessions and cache (reads)": cache._read_client,
        "single-flight locks": app.extensions[EXTENSION_KEY]._lock_redis,
        "rate limits": limiter._storage.storage,
    }
    for name, client in clients.items():
        options = client.connection_pool.connection_kwargs
        assert options["socket_timeout"] == options["socket_connect_timeout"] == REDIS_SOCKET_TIMEOUT, name
