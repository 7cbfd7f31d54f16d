"""The server-side session: what is stored, when, for how long, and the citizen API on top of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from portal.auth import citizen_session as citizen_api
from portal.auth.citizen_session import NOT_LOOKED_UP, Citizen
from portal.auth.sessions import KEY_PREFIX, destroy_session, regenerate_session
from portal.devtools.idp import DevIdp
from portal.kvstore import store
from tests.auth.helpers import COOKIE, Browser

ANNE = Citizen(sub="demo-anne", name="Anne Andersen", cpr="0101901111", id_token="h.p.s", issuer="http://idp.example")


@pytest.fixture
def cache_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys of every session entry the portal writes."""
    writes: list[str] = []
    original = store.set

    def recording_set(key: str, value: Any, timeout: int | None = None) -> Any:
        if key.startswith(KEY_PREFIX):
            writes.append(key)
        return original(key, value, timeout=timeout)

    monkeypatch.setattr(store, "set", recording_set)
    return writes


def test_anonymous_page_view_stores_nothing(visitor: Browser, cache_writes: list[str]) -> None:
    response = visitor.get("/lyngby/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert cache_writes == []


def test_unknown_session_id_is_dropped_not_adopted(visitor: Browser, cache_writes: list[str]) -> None:
    planted = "A" * 43  # looks like ours, but we never issued it
    visitor.portal.set_cookie(COOKIE, planted)

    response = visitor.get("/lyngby/")
    assert cache_writes == []
    assert visitor.session_id() is None and "Max-Age=0" in response.headers["Set-Cookie"]

    visitor.portal.set_cookie(COOKIE, planted)
    visitor.start_login()  # now the session has data: it gets a fresh id
    assert visitor.session_id() not in (None, planted)
    assert cache_writes == [KEY_PREFIX + str(visitor.session_id())]


@pytest.mark.parametrize("cookie", ["../../etc", "x" * 500, "a.b.c", "", "A" * 42 + "!"])
def test_malformed_cookie_is_not_even_looked_up(
    visitor: Browser, cache_writes: list[str], monkeypatch: pytest.MonkeyPatch, cookie: str
) -> None:
    lookups: list[str] = []
    original = store.get
    monkeypatch.setattr(store, "get", lambda key: lookups.append(key) or original(key))
    visitor.portal.set_cookie(COOKIE, cookie)

    assert visitor.get("/lyngby/").status_code == 200
    assert [key for key in lookups if key.startswith(KEY_PREFIX)] == []
    assert cache_writes == []


def test_session_data_is_not_in_the_cookie(visitor: Browser) -> None:
    visitor.login()
    stored = visitor.stored()
    assert stored is not None and stored["citizen"]["cpr"] == "0101901111"
    cookie_header = visitor.get("/lyngby/login").headers.get("Set-Cookie", "")
    assert "0101901111" not in cookie_header


def test_unchanged_session_is_not_rewritten_on_every_request(visitor: Browser, cache_writes: list[str]) -> None:
    visitor.login()
    cache_writes.clear()
    for _ in range(3):
        assert visitor.get("/lyngby/login").status_code == 302
    assert cache_writes == []  # within the refresh interval nothing is written


def test_session_lifetime_slides_and_ends(make_portal: Callable[..., Flask], idp: DevIdp) -> None:
    visitor = Browser(make_portal(idp.issuer, PORTAL_SESSION_LIFETIME="2"))

    def signed_in() -> bool:
        # Signed in: /login sends you back to the library; else off to the IdP.
        return visitor.get("/lyngby/login").headers["Location"] == "/lyngby/"

    visitor.login()
    time.sleep(1.2)
    assert signed_in()  # and this use extends the session...
    time.sleep(1.2)
    assert signed_in()  # ...past 2 s after the login
    time.sleep(2.3)
    assert not signed_in()  # idle longer than the lifetime: gone
    visitor.close()


def test_vary_cookie_when_the_session_is_read(visitor: Browser) -> None:
    visitor.login()
    assert "Cookie" in visitor.get("/lyngby/login").headers.get("Vary", "")


@pytest.fixture
def request_context(portal: Flask) -> Iterator[None]:
    with portal.test_request_context("/lyngby/"):
        yield


@pytest.mark.usefixtures("request_context")
def test_citizen_api_remembers_patrons_per_library() -> None:
    assert citizen_api.current_citizen() is None
    citizen_api.start_citizen_session(ANNE)
    assert citizen_api.current_citizen() == ANNE
    assert citizen_api.remembered_patron("DK-717300") is NOT_LOOKED_UP

    citizen_api.remember_patron("DK-717300", 1001)
    citizen_api.remember_patron("DK-717500", None)

    assert citizen_api.remembered_patron("DK-717300") == 1001
    assert citizen_api.remembered_patron("DK-717500") is None
    assert citizen_api.remembered_patron("DK-999999") is NOT_LOOKED_UP
    assert citizen_api.session_patrons() == {"DK-717300": 1001}


@pytest.mark.usefixtures("request_context")
def test_a_new_login_forgets_the_previous_patrons() -> None:
    citizen_api.start_citizen_session(ANNE)
    citizen_api.remember_patron("DK-717300", 1001)
    citizen_api.start_citizen_session(Citizen("demo-bent", "Bent", "0202852222", "h.p.s", "i"))
    assert citizen_api.remembered_patron("DK-717300") is NOT_LOOKED_UP


@pytest.mark.usefixtures("request_context")
def test_remember_patron_needs_a_citizen() -> None:
    with pytest.raises(RuntimeError):
        citizen_api.remember_patron("DK-717300", 1001)


def test_regenerate_and_destroy_in_requests(visitor: Browser, portal: Flask) -> None:
    with visitor.portal.session_transaction() as session:
        session["x"] = 1
    first = visitor.session_id()

    @portal.get("/test-regenerate")
    def regenerate() -> str:
        regenerate_session()
        return "ok"

    @portal.get("/test-destroy")
    def destroy() -> str:
        destroy_session()
        return "ok"

    visitor.get("/test-regenerate")
    second = visitor.session_id()
    assert second not in (None, first)
    assert visitor.stored(first) is None and visitor.stored(second) == {"x": 1}

    visitor.get("/test-destroy")
    assert visitor.session_id() is None and visitor.stored(second) is None


def test_citizen_stored_by_another_version_counts_as_signed_out(visitor: Browser, portal: Flask) -> None:
    with visitor.portal.session_transaction() as session:
        session["citizen"] = {"sub": "demo-anne", "unexpected": "field"}
    with portal.test_request_context("/lyngby/", headers={"Cookie": f"{COOKIE}={visitor.session_id()}"}):
        assert citizen_api.current_citizen() is None
