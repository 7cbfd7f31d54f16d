"""A session store that fails: 503 and nothing lost, never "signed out"; probes never read a session.

The store's reads or writes are made to raise what redis-py raises when Redis cannot be reached
(tests/web/test_redis_outage.py does the same against a real Redis). Each refusal is paired with
the same request succeeding once the store answers again, so the test shows the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from prometheus_client import REGISTRY

from portal import clock
from portal.auth.sessionless import sessionless, sessionless_paths
from portal.auth.sessions import KEY_PREFIX, SessionsUnreachable, UnreachableSession
from portal.kvstore import backend
from tests.auth.helpers import Browser
from tests.auth.test_sessions import a_whole_second, signed_in

TITLE = "We cannot check your sign-in right now"


def store_errors(operation: str) -> float:
    return REGISTRY.get_sample_value("portal_session_store_errors_total", {"operation": operation}) or 0.0


class Outage:
    """Switches the store's session reads, writes or deletes to failing; records the session keys asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
        self.failing: set[str] = set()
        self.asked: list[str] = []
        cache = backend(app)  # under flask-caching's wrapper: what every path ends in
        for name in ("get", "get_many", "set", "delete"):
            monkeypatch.setattr(cache, name, self._wrap(name, getattr(cache, name)))

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            sessions = [key for key in args if isinstance(key, str) and key.startswith(KEY_PREFIX)]
            self.asked += sessions
            if sessions and name in self.failing:
                raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            return original(*args, **kwargs)

        return call


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch, portal: Flask) -> Outage:
    # As in production: an error after the view (storing the session) is answered, not raised
    # into the test (TESTING would propagate it).
    portal.config["PROPAGATE_EXCEPTIONS"] = False
    return Outage(monkeypatch, portal)


def test_an_unreadable_store_answers_503_not_signed_out(visitor: Browser, outage: Outage) -> None:
    visitor.login()
    session_id = visitor.session_id()
    outage.failing = {"get", "get_many"}
    reads = store_errors("read")
    page = visitor.get("/lyngby/")
    assert page.status_code == 503 and TITLE in page.get_data(as_text=True)
    assert store_errors("read") == reads + 1
    assert page.headers["Retry-After"] == "30"
    assert "Set-Cookie" not in page.headers and visitor.session_id() == session_id
    api = visitor.get("/api/v1/libraries/lyngby/total")
    assert api.status_code == 503 and api.get_json()["error"] == "service_unavailable"
    outage.failing = set()
    assert signed_in(visitor) and visitor.session_id() == session_id


def test_a_sign_in_that_cannot_be_stored_says_so(visitor: Browser, outage: Outage) -> None:
    outage.failing = {"set"}
    writes = store_errors("write")
    refused = visitor.get("/lyngby/login")
    assert refused.status_code == 503 and TITLE in refused.get_data(as_text=True)
    assert store_errors("write") == writes + 1  # once: the error answer does not try again
    assert "Set-Cookie" not in refused.headers and visitor.session_id() is None
    outage.failing = set()
    started = visitor.get("/lyngby/login")
    assert started.status_code == 302 and visitor.session_id() is not None


def test_a_sign_out_that_cannot_delete_the_entry_does_not_claim_it(visitor: Browser, outage: Outage) -> None:
    visitor.login()
    session_id = visitor.session_id()
    outage.failing = {"delete"}
    deletes = store_errors("delete")
    refused = visitor.post("/lyngby/logout")
    assert refused.status_code == 503 and store_errors("delete") == deletes + 1
    assert visitor.session_id() == session_id and visitor.stored(session_id) is not None
    outage.failing = set()
    assert visitor.post("/lyngby/logout").status_code == 302
    assert visitor.stored(session_id) is None


def test_a_refresh_that_cannot_be_stored_costs_nothing(visitor: Browser, outage: Outage) -> None:
    # Only the sliding expiry was to move: the page answers, the entry stands as it was.
    with clock.frozen(a_whole_second()) as frozen:
        visitor.login()
        before = visitor.raw_entry()
        frozen.advance(timedelta(seconds=60))
        outage.failing = {"set"}
        refreshes = store_errors("refresh")
        assert signed_in(visitor)
        assert visitor.raw_entry() == before and store_errors("refresh") == refreshes + 1
        outage.failing = set()
        assert signed_in(visitor)
        assert visitor.raw_entry() != before  # slid now


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/static/no-such-file.css"])
def test_probes_and_static_files_never_read_the_session(visitor: Browser, outage: Outage, path: str) -> None:
    visitor.login()
    outage.asked.clear()
    visitor.get(path)
    assert outage.asked == []
    visitor.get("/lyngby/")  # the same cookie on a page: looked up
    assert outage.asked != []


def test_the_liveness_probe_answers_while_the_store_is_down(visitor: Browser, outage: Outage) -> None:
    visitor.login()
    outage.failing = {"get", "get_many", "set", "delete"}
    assert visitor.get("/healthz").status_code == 200
    assert visitor.get("/lyngby/").status_code == 503


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s["citizen"],
        lambda s: s.get("citizen"),
        lambda s: "citizen" in s,
        lambda s: list(s),
        lambda s: len(s),
        lambda s: bool(s),
        lambda s: s.items(),
        lambda s: s.copy(),
        lambda s: s.update(x=1),
        lambda s: s.setdefault("x", 1),
        lambda s: s.pop("x", None),
    ],
)
def test_every_use_of_an_unreachable_session_is_a_503(use: Callable[[UnreachableSession], object]) -> None:
    with pytest.raises(SessionsUnreachable):
        use(UnreachableSession())


@pytest.fixture
def bare_app() -> Iterator[Flask]:
    app = Flask(__name__, static_folder=None)
    yield app


def test_sessionless_paths_are_the_marked_routes(bare_app: Flask) -> None:
    bare_app.add_url_rule("/probe", "probe", sessionless(lambda: "ok"))
    bare_app.add_url_rule("/page", "page", lambda: "page")
    assert sessionless_paths(bare_app) == (frozenset({"/probe"}), ())


def test_a_sessionless_route_with_variables_is_refused(bare_app: Flask) -> None:
    bare_app.add_url_rule("/<slug>/probe", "probe", sessionless(lambda slug: slug))
    with pytest.raises(RuntimeError, match="without URL variables"):
        sessionless_paths(bare_app)


def test_the_portals_probes_and_static_files_are_sessionless(portal: Flask) -> None:
    exact, prefixes = sessionless_paths(portal)
    assert exact == {"/healthz", "/readyz", "/metrics"}
    assert prefixes == ("/static/",)


def test_an_error_keeps_its_own_headers(visitor: Browser) -> None:
    refused = visitor.portal.delete("/lyngby/")  # 405: says which methods there are
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]
