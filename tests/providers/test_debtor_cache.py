"""The debtor system behind the one caching layer: keyed by patron id, never by CPR; dropped at logout."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.devtools.debtor_sim import SimState
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.kvstore import store
from portal.providers import setup
from portal.providers.cache import CachedDebtor
from portal.providers.errors import UpstreamBadResponse
from portal.signals import citizen_logged_out
from tests.providers.conftest import debtor_for, fbs_for, make_app, provider_settings

ANNE = "0101901111"


@pytest.fixture
def app_env(debtor_url: str) -> dict[str, str]:
    return {"PORTAL_DEBTOR_BASE_URL": debtor_url, "PORTAL_DEBTOR_API_KEY": DEV_DEBTOR_API_KEY}


def cache_keys() -> list[str]:
    return list(store.cache._cache)


def debtor() -> CachedDebtor:
    found = debtor_for(LYNGBY)
    assert found is not None
    return found


def test_second_call_within_ttl_makes_no_http_call(app: Flask, debtor_state: SimState) -> None:
    first = debtor().claims(1001, ANNE)
    assert debtor().claims(1001, ANNE) == first and len(first) == 4
    assert debtor_state.call_count("claims") == 1
    debtor().claims(1001, ANNE).clear()  # callers get their own list
    assert len(debtor().claims(1001, ANNE)) == 4


def test_key_is_per_library_and_patron_and_holds_no_cpr(app: Flask) -> None:
    debtor().claims(1001, ANNE)
    debtor_for(RODOVRE).claims(2001, ANNE)  # type: ignore[union-attr]
    keys = sorted(cache_keys())
    assert keys == [f"debtor:{LYNGBY}:1001:claims", f"debtor:{RODOVRE}:2001:claims"]
    stored = b"".join(value for _expires, value in store.cache._cache.values())
    assert ANNE.encode() not in stored


def test_a_failure_is_not_cached(app: Flask, debtor_state: SimState) -> None:
    debtor_state.answer_garbage("wrong-shape")
    with pytest.raises(UpstreamBadResponse):
        debtor().claims(1001, ANNE)
    assert cache_keys() == []
    assert len(debtor().claims(1001, ANNE)) == 4


def test_logout_drops_the_claims_with_the_fbs_entries(app: Flask, debtor_state: SimState) -> None:
    debtor().claims(1001, ANNE)
    fbs_for(LYNGBY).fees(1001)
    debtor().claims(1005, "0505955555")
    citizen_logged_out.send(app, patrons={LYNGBY: 1001})
    assert cache_keys() == [f"debtor:{LYNGBY}:1005:claims"]
    debtor().claims(1001, ANNE)
    assert debtor_state.call_count("claims") == 3


class TestNotConfigured:
    @pytest.fixture
    def app_env(self) -> dict[str, str]:
        return {}

    def test_no_debtor_without_a_base_url(self, app: Flask) -> None:
        assert debtor_for(LYNGBY) is None


def test_settings_with_a_base_url_give_a_cached_client(sim_url: str) -> None:
    settings = provider_settings(sim_url).with_overrides(debtor_base_url="http://127.0.0.1:9", debtor_api_key="k")
    app = make_app(settings)
    try:
        with app.app_context():
            assert isinstance(debtor_for(LYNGBY), CachedDebtor)
    finally:
        app.extensions[setup.EXTENSION_KEY].close()
