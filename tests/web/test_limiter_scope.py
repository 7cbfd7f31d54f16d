"""The rate limiter works only on LIMITED_ENDPOINTS: on any other request it does nothing at all.

Flask-Limiter hooks itself into every request (portal/web/limits.py); here its check and its
per-request state are counted. The citizen page must leave both untouched, while a limited
endpoint, asked the same way, is checked, counted and refused past its limit — so a count of
zero means the hooks were skipped, not that counting is broken.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter

from portal import create_app
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from tests.support.settings import test_settings

ALICE = {"REMOTE_ADDR": "192.0.2.10"}
TOTAL = "/api/v1/libraries/lyngby/total"  # api.total, limited; 401 without a session


class Counts:
    """How often the limiter checked a request, and how often it read or made its request state."""

    def __init__(self) -> None:
        self.checks = 0
        self.state = 0

    def reset(self) -> None:
        self.checks = self.state = 0


@pytest.fixture()
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    # On the class, before the app is made: the limiter's hooks are bound when it is set up.
    # `raising` (the default): if a later Flask-Limiter renames these, the test fails, not passes.
    counts = Counts()
    check: Callable[..., None] = Limiter._check_request_limit
    context: Any = Limiter.context

    def counted_check(self: Limiter, *args: Any, **kwargs: Any) -> None:
        counts.checks += 1
        check(self, *args, **kwargs)

    def counted_context(self: Limiter) -> Any:
        counts.state += 1
        return context.fget(self)

    monkeypatch.setattr(Limiter, "_check_request_limit", counted_check)
    monkeypatch.setattr(Limiter, "context", property(counted_context))
    return counts


def portal(tmp_path: Path) -> Flask:
    settings = test_settings(
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(DEMO_LIBRARIES_FILE),
        PORTAL_RATE_LIMITS="on",
        PORTAL_RATE_LIMIT_API="2 per minute",
    )
    return create_app(settings)


def test_the_citizen_page_never_reaches_the_limiter(tmp_path: Path, counts: Counts) -> None:
    client = portal(tmp_path).test_client()
    counts.reset()
    pages = [client.get("/lyngby/", environ_base=ALICE) for _ in range(3)]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert (counts.checks, counts.state) == (0, 0)
    assert not any(name.startswith("X-RateLimit") for name in pages[0].headers.keys())


def test_a_limited_endpoint_is_checked_counted_and_refused(tmp_path: Path, counts: Counts) -> None:
    client = portal(tmp_path).test_client()
    counts.reset()
    first = client.get(TOTAL, environ_base=ALICE)
    assert first.status_code == 401
    assert counts.checks > 0 and counts.state > 0
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert client.get(TOTAL, environ_base=ALICE).status_code == 401
    refused = client.get(TOTAL, environ_base=ALICE)
    assert (refused.status_code, refused.get_json()["error"]) == (429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) > 0


def test_unmatched_paths_never_reach_the_limiter(tmp_path: Path, counts: Counts) -> None:
    client = portal(tmp_path).test_client()
    counts.reset()
    assert client.get("/no/such/page/here", environ_base=ALICE).status_code == 404
    assert (counts.checks, counts.state) == (0, 0)
