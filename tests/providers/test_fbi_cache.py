"""Works in the one caching layer: their own key kind (fbi:work:<faust>), kept long, never patron data."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from cachelib import SimpleCache
from flask import Flask

from portal.devtools.demo import DEV_FBI_TOKEN
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbi_sim import SimState
from portal.domain.works import Work
from portal.kvstore import store
from portal.providers import setup
from portal.providers.cache import WORK_TTL, CachedFbi, ProviderCache, patron_key, work_key
from portal.providers.errors import UpstreamBadResponse
from portal.signals import citizen_logged_out
from tests.providers.conftest import fbs_for, make_app, provider_settings

FAUSTS = ["29830092", "27655033", "52530331"]
UNKNOWN = "99999999"


@pytest.fixture
def app_env(fbi_url: str) -> dict[str, str]:
    return {"PORTAL_FBI_BASE_URL": fbi_url, "PORTAL_FBI_TOKEN": DEV_FBI_TOKEN}


def cache_keys() -> list[str]:
    return list(store.cache._cache)


def fbi() -> CachedFbi:
    found = setup.upstreams().fbi()
    assert found is not None
    return found


def test_second_page_view_makes_no_request(app: Flask, fbi_state: SimState) -> None:
    first = fbi().works(FAUSTS)
    assert fbi().works(FAUSTS) == first and len(first) == 3
    assert fbi_state.request_count == 1


def test_only_the_misses_are_asked_in_one_request(app: Flask, fbi_state: SimState) -> None:
    fbi().works(FAUSTS[:1])
    works = fbi().works(FAUSTS)
    assert sorted(works) == sorted(FAUSTS)
    assert fbi_state.requests == [FAUSTS[:1], FAUSTS[1:]]


def test_keys_hold_a_faust_number_only_and_values_nothing_personal(app: Flask) -> None:
    fbs_for(LYNGBY).fees(1001)
    fbi().works(FAUSTS)
    work_keys = sorted(k for k in cache_keys() if k.startswith("fbi:"))
    assert work_keys == sorted(f"fbi:work:{f}" for f in FAUSTS)
    for key in work_keys:
        value = pickle.loads(store.cache._cache[key][1])
        assert isinstance(value, Work) and value.faust == key.removeprefix("fbi:work:")


def test_works_outlive_a_logout(app: Flask, fbi_state: SimState) -> None:
    fbs_for(LYNGBY).fees(1001)
    fbi().works(FAUSTS)
    citizen_logged_out.send(app, patrons={LYNGBY: 1001})
    assert not any(k.startswith("fbs:") for k in cache_keys())
    fbi().works(FAUSTS)
    assert fbi_state.request_count == 1


def test_a_failure_is_not_cached(app: Flask, fbi_state: SimState) -> None:
    fbi_state.answer_garbage("short-list")
    with pytest.raises(UpstreamBadResponse):
        fbi().works(FAUSTS)
    assert not any(k.startswith("fbi:") for k in cache_keys())
    assert len(fbi().works(FAUSTS)) == 3
    assert fbi_state.request_count == 2


def test_unreadable_entries_are_asked_again(app: Flask, fbi_state: SimState) -> None:
    fbi_state.answer_garbage("bad-entries")
    assert sorted(fbi().works(FAUSTS)) == sorted([FAUSTS[0], FAUSTS[2]])
    assert sorted(fbi().works(FAUSTS)) == sorted(FAUSTS)
    assert fbi_state.requests == [FAUSTS, [FAUSTS[1]]]


class TimeoutsSeen(SimpleCache):
    """SimpleCache noting the timeout each key was stored with."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: dict[str, object] = {}

    def set(self, key: str, value: Any, timeout: Any = None) -> bool | None:
        self.timeouts[key] = timeout
        return super().set(key, value, timeout)


def test_an_unknown_number_is_remembered_for_the_short_ttl_only() -> None:
    backend = TimeoutsSeen()
    cache = ProviderCache(backend, 60)
    cache.remember_works({FAUSTS[0]: Work(FAUSTS[0], "T")}, [UNKNOWN])
    assert backend.timeouts == {work_key(FAUSTS[0]): WORK_TTL, work_key(UNKNOWN): 60}
    assert cache.works([FAUSTS[0], UNKNOWN, FAUSTS[1]]) == ({FAUSTS[0]: Work(FAUSTS[0], "T")}, [FAUSTS[1]])


def test_unknown_numbers_are_not_asked_on_every_view(app: Flask, fbi_state: SimState) -> None:
    assert fbi().works([UNKNOWN, FAUSTS[0]]).keys() == {FAUSTS[0]}
    assert fbi().works([UNKNOWN, FAUSTS[0]]).keys() == {FAUSTS[0]}
    assert fbi_state.request_count == 1


@pytest.mark.parametrize("value", ["1001", "0101901111", "DK-717300:1001", "fbs:x", "", "123456789012"])
def test_a_work_key_takes_nothing_but_a_faust_number(value: str) -> None:
    with pytest.raises(ValueError, match="FAUST"):
        work_key(value)


def test_fbi_is_no_patron_provider() -> None:
    # Patron keys stay as they were: no provider "fbi", so no patron key starts like a work key.
    with pytest.raises(ValueError, match="unregistered"):
        patron_key("fbi", LYNGBY, 1001, "work")


class TestNotConfigured:
    @pytest.fixture
    def app_env(self) -> dict[str, str]:
        return {}

    def test_no_fbi_without_a_base_url(self, app: Flask) -> None:
        assert setup.upstreams().fbi() is None


def test_settings_with_a_base_url_give_a_cached_client(sim_url: str) -> None:
    settings = provider_settings(sim_url).with_overrides(fbi_base_url="http://127.0.0.1:9", fbi_token="t")
    app = make_app(settings)
    try:
        with app.app_context():
            assert isinstance(setup.upstreams().fbi(), CachedFbi)
    finally:
        app.extensions[setup.EXTENSION_KEY].close()
