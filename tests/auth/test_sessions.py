"""The server-side session: what is stored, when, for how long, and the citizen API on top of it."""

from __future__ import annotations

import base64
import logging
import pickle
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from cachelib import SimpleCache
from cryptography.fernet import Fernet
from flask import Flask

from portal import clock
from portal.auth import citizen_session as citizen_api
from portal.auth.citizen_session import NOT_LOOKED_UP, Citizen
from portal.auth.session_crypto import SessionCipher, UnreadableEntry, derive_key
from portal.auth.sessions import KEY_PREFIX, destroy_session, regenerate_session
from portal.devtools.idp import DevIdp
from portal.kvstore import backend, store
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

    def recording_get(key: str) -> object:
        lookups.append(key)
        return original(key)

    monkeypatch.setattr(store, "get", recording_get)
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


def signed_in(visitor: Browser) -> bool:
    """Signed in: /login sends you back to the library; else off to the IdP."""
    response = visitor.get("/lyngby/login")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"] == "/lyngby/"


def a_whole_second() -> datetime:
    """Now, without the fraction: timestamps a whole number of seconds apart subtract exactly."""
    return clock.now().replace(microsecond=0)


def test_session_lifetime_slides_and_ends(visitor: Browser) -> None:
    # The default lifetime, 1800 s, on the portal's clock: moved, not waited for.
    with clock.frozen(a_whole_second()) as frozen:
        visitor.login()
        frozen.advance(timedelta(seconds=1200))
        assert signed_in(visitor)  # and this use extends the session...
        frozen.advance(timedelta(seconds=1200))
        assert signed_in(visitor)  # ...past 1800 s after the login
        frozen.advance(timedelta(seconds=1800))
        assert not signed_in(visitor)  # idle as long as the lifetime: gone


def test_session_ends_exactly_at_the_lifetime(make_portal: Callable[..., Flask], idp: DevIdp) -> None:
    visitor = Browser(make_portal(idp.issuer, PORTAL_SESSION_LIFETIME="600"))
    with clock.frozen(a_whole_second()) as frozen:
        visitor.login()
        frozen.advance(timedelta(seconds=599))
        assert signed_in(visitor)
        frozen.advance(timedelta(seconds=600))
        assert not signed_in(visitor)
    visitor.close()


def test_unchanged_session_is_rewritten_after_the_refresh_interval(visitor: Browser, cache_writes: list[str]) -> None:
    with clock.frozen(a_whole_second()) as frozen:
        visitor.login()
        cache_writes.clear()
        frozen.advance(timedelta(seconds=59))
        assert signed_in(visitor) and cache_writes == []
        frozen.advance(timedelta(seconds=1))  # 60 s since it was stored: slid once
        assert signed_in(visitor) and cache_writes == [KEY_PREFIX + str(visitor.session_id())]
        assert signed_in(visitor) and len(cache_writes) == 1


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


# --- encryption at rest ---------------------------------------------------------

OLD_KEY = "old-secret-key-" + "o" * 24
NEW_KEY = "new-secret-key-" + "n" * 24
ANNE_CPR, ANNE_NAME = "0101901111", "Anne Andersen"


def in_memory(app: Flask) -> SimpleCache:
    cache = backend(app)
    assert isinstance(cache, SimpleCache)
    return cache


def raw_entries(app: Flask) -> dict[str, bytes]:
    """Every entry of the app's in-process store exactly as kept in memory (SimpleCache's `_cache`)."""
    return {key: value for key, (_, value) in in_memory(app)._cache.items()}


def raw_session_entry(app: Flask, session_id: str) -> bytes:
    found = [value for key, value in raw_entries(app).items() if key.endswith(KEY_PREFIX + session_id)]
    assert len(found) == 1
    return found[0]


def test_stored_entry_holds_no_personal_data_in_readable_form(
    make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]
) -> None:
    # The CPR number from userinfo, so the portal keeps the ID token (for the logout hint) too.
    visitor = Browser(make_portal(start_idp(cpr_in_id_token=False).issuer))
    visitor.login()
    citizen = (visitor.stored() or {})["citizen"]
    assert citizen["cpr"] == ANNE_CPR and citizen["name"] == ANNE_NAME and citizen["id_token"]

    assert isinstance(visitor.raw_entry(), str) and visitor.raw_entry().startswith("gAAAAA")  # a Fernet token
    raw = raw_session_entry(visitor.app, str(visitor.session_id()))
    id_token = citizen["id_token"]
    readable = [ANNE_CPR, "010190-1111", ANNE_NAME, "Andersen", id_token, *id_token.split("."), "demo-anne", "citizen"]
    assert [text for text in readable if text.encode() in raw] == []
    # Nor anywhere else in the store.
    assert [
        key for key, value in raw_entries(visitor.app).items() if ANNE_CPR in key or ANNE_CPR.encode() in value
    ] == []
    visitor.close()


def restarted(visitor: Browser, make_portal: Callable[..., Flask], issuer: str, **env: str) -> Browser:
    """The same browser after the portal restarted with `env`; the store (Redis, in production) kept its entries."""
    app = make_portal(issuer, **env)
    in_memory(app)._cache.update(in_memory(visitor.app)._cache)
    again = Browser(app)
    again.portal.set_cookie(COOKIE, str(visitor.session_id()))
    return again


def test_session_made_under_an_old_key_survives_rotation_and_is_re_encrypted(
    make_portal: Callable[..., Flask], idp: DevIdp
) -> None:
    before = Browser(make_portal(idp.issuer, PORTAL_SECRET_KEY=OLD_KEY))
    before.login()
    session_id, sealed_before = before.session_id(), before.raw_entry()
    SessionCipher(OLD_KEY).open(sealed_before)

    after = restarted(before, make_portal, idp.issuer, PORTAL_SECRET_KEY=NEW_KEY, PORTAL_SECRET_KEY_FALLBACKS=OLD_KEY)
    response = after.get("/lyngby/login")
    assert response.headers["Location"] == "/lyngby/"  # still signed in, under the same id
    assert "Set-Cookie" not in response.headers and after.session_id() == session_id
    # Re-encrypted at once (not only after the refresh interval), under the new key alone.
    sealed_after = after.raw_entry()
    assert sealed_after != sealed_before
    payload, older_key = SessionCipher(NEW_KEY).open(sealed_after)
    assert payload["data"]["citizen"]["cpr"] == ANNE_CPR and older_key is False
    with pytest.raises(UnreadableEntry):
        SessionCipher(OLD_KEY).open(sealed_after)
    # Once re-encrypted, the old key can go: a portal with the new key only still knows the borrower.
    assert signed_in(restarted(after, make_portal, idp.issuer, PORTAL_SECRET_KEY=NEW_KEY))
    before.close()
    after.close()


def test_without_the_old_key_the_borrower_is_signed_out(
    make_portal: Callable[..., Flask], idp: DevIdp, caplog: pytest.LogCaptureFixture
) -> None:
    before = Browser(make_portal(idp.issuer, PORTAL_SECRET_KEY=OLD_KEY))
    before.login()
    session_id, sealed = str(before.session_id()), before.raw_entry()

    after = restarted(before, make_portal, idp.issuer, PORTAL_SECRET_KEY=NEW_KEY)
    with caplog.at_level(logging.WARNING, logger="portal.auth.sessions"):
        page = after.get("/lyngby/")
    assert page.status_code == 200
    assert after.session_id() is None  # the unreadable session's cookie is removed
    assert not signed_in(after)
    records = [record for record in caplog.records if record.name == "portal.auth.sessions"]
    assert records and {record.levelno for record in records} == {logging.WARNING}
    # Neither the entry nor the id (the cookie's secret) nor anything from inside in the log.
    texts = [record.getMessage() for record in records]
    assert [text for text in texts if session_id in text or sealed[20:60] in text or ANNE_CPR in text] == []
    before.close()
    after.close()


def _never_call_me() -> None:
    raise AssertionError("a pickle in a session entry was unpickled")


class _Exploit:
    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return _never_call_me, ()


def _flip_one_character(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("B" if token[middle] == "A" else "A") + token[middle + 1 :]


TAMPERINGS: dict[str, Callable[[str], Any]] = {
    "one-character-changed": _flip_one_character,
    "truncated": lambda token: token[:-12],
    "not-a-token": lambda _: "certainly not a fernet token",
    "bytes": lambda token: token.encode()[::-1],
    "the-old-plain-format": lambda _: {"data": {"citizen": {"cpr": ANNE_CPR}}, "at": time.time()},
    "a-pickle-under-the-right-key": lambda _: Fernet(derive_key(OLD_KEY)).encrypt(pickle.dumps(_Exploit())).decode(),
    "json-but-no-object": lambda _: Fernet(derive_key(OLD_KEY)).encrypt(b"[1, 2]").decode(),
    "no-data": lambda _: SessionCipher(OLD_KEY).seal({"at": time.time()}),
}


@pytest.mark.parametrize("tamper", list(TAMPERINGS))
def test_tampered_entry_means_signed_out_not_an_error(
    make_portal: Callable[..., Flask], idp: DevIdp, caplog: pytest.LogCaptureFixture, tamper: str
) -> None:
    visitor = Browser(make_portal(idp.issuer, PORTAL_SECRET_KEY=OLD_KEY))
    visitor.login()
    visitor.put_raw_entry(TAMPERINGS[tamper](visitor.raw_entry()))

    with caplog.at_level(logging.WARNING, logger="portal.auth.sessions"):
        page = visitor.get("/lyngby/")
    assert page.status_code == 200
    assert any(record.name == "portal.auth.sessions" for record in caplog.records)
    assert not signed_in(visitor)
    visitor.close()


def test_an_entry_copied_under_another_session_id_is_refused(
    make_portal: Callable[..., Flask], idp: DevIdp, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_portal(idp.issuer)
    anne, mallory = Browser(app), Browser(app)
    anne.login("demo-anne")
    assert mallory.start_login()  # a session of her own, with no citizen in it
    mallory.put_raw_entry(anne.raw_entry())  # Anne's sealed entry under Mallory's id

    with caplog.at_level(logging.WARNING, logger="portal.auth.sessions"):
        assert not signed_in(mallory)
    assert "another session id" in caplog.text
    assert signed_in(anne)
    anne.close()
    mallory.close()


def test_session_key_is_derived_not_the_secret_itself() -> None:
    key = derive_key(OLD_KEY)
    assert key == derive_key(OLD_KEY) and key != derive_key(NEW_KEY)
    assert OLD_KEY.encode() not in key and len(base64.urlsafe_b64decode(key)) == 32
