"""DBC's adapter behind the one caching layer: direct mode's keys (agency + patron id), no CPR, no token."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from cachelib import SimpleCache

from portal.devtools.demo_data import LYNGBY
from portal.providers.errors import UpstreamBadResponse
from portal.providers.upstreams import Upstreams
from tests.providers.test_fbs_adapter_client import (
    ANNE_CPR,
    ANNE_TOKEN,
    KIM,
    KIM_TOKEN,
    AdapterSim,
    running_adapter_sim,
)
from tests.support.settings import test_settings


@pytest.fixture
def adapter_sim() -> Iterator[AdapterSim]:
    with running_adapter_sim() as sim:
        yield sim


@pytest.fixture
def store() -> SimpleCache:
    return SimpleCache()


@pytest.fixture
def upstreams(adapter_sim: AdapterSim, store: SimpleCache) -> Iterator[Upstreams]:
    settings = test_settings(PORTAL_FBS_BASE_URL=adapter_sim.url, PORTAL_FBS_ADAPTER_BASE_URL=adapter_sim.url)
    up = Upstreams(settings, store)
    yield up
    up.close()


def keys(store: SimpleCache) -> list[str]:
    return sorted(store._cache)


def stored_bytes(store: SimpleCache) -> bytes:
    # SimpleCache keeps (expires, pickled value) per key.
    return b"".join(value for _expires, value in store._cache.values())


def test_keys_are_agency_and_patron_id_and_hold_no_cpr_or_token(upstreams: Upstreams, store: SimpleCache) -> None:
    fbs = upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN)
    patron = fbs.find_patron()
    assert patron is not None
    fbs.fees(patron.patron_id)
    kim = upstreams.fbs_adapter(LYNGBY, KIM_TOKEN)
    kim_patron = kim.find_patron()
    assert kim_patron is not None and kim_patron.patron_id == KIM
    kim.fees(KIM)
    assert keys(store) == [
        f"fbs:{LYNGBY}:1001:fees",
        f"fbs:{LYNGBY}:1001:patron",
        f"fbs:{LYNGBY}:{KIM}:fees",
        f"fbs:{LYNGBY}:{KIM}:patron",
    ]
    everything = "".join(keys(store)).encode() + stored_bytes(store)
    for secret in (ANNE_CPR, ANNE_TOKEN, KIM_TOKEN):
        assert secret.encode() not in everything


def test_second_call_within_ttl_asks_nobody(upstreams: Upstreams, adapter_sim: AdapterSim) -> None:
    fbs = upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN)
    found = fbs.find_patron()
    assert found is not None
    first = fbs.fees(1001)
    assert upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN).fees(1001) == first
    assert upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN).patron(1001) == found  # kept from the look-up
    assert adapter_sim.state.calls["fees"] == 1 and adapter_sim.state.calls["patron"] == 1


def test_direct_and_adapter_share_the_entries_of_the_same_patron(upstreams: Upstreams, adapter_sim: AdapterSim) -> None:
    adapter_fees = upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN).fees(1001)
    direct_fees = upstreams.fbs(LYNGBY, upstreams.default_login).fees(1001)
    assert direct_fees == adapter_fees and adapter_sim.state.calls["fees"] == 1


def test_a_patron_entry_is_filled_only_for_the_tokens_own_patron(upstreams: Upstreams, store: SimpleCache) -> None:
    # A remembered id that is not the token's patron (never by the portal's own doing) fills nothing.
    with pytest.raises(UpstreamBadResponse, match="not the token's patron"):
        upstreams.fbs_adapter(LYNGBY, KIM_TOKEN).patron(1001)
    assert keys(store) == []


def test_logout_drops_the_adapters_entries(upstreams: Upstreams, store: SimpleCache) -> None:
    fbs = upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN)
    fbs.find_patron()
    fbs.fees(1001)
    upstreams.forget_patrons({LYNGBY: 1001})
    assert keys(store) == []


def test_values_are_domain_objects_not_raw_answers(upstreams: Upstreams, store: SimpleCache) -> None:
    upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN).fees(1001)
    value = pickle.loads(store._cache[f"fbs:{LYNGBY}:1001:fees"][1]).value  # stored with its version
    assert isinstance(value, tuple) and value and type(value[0]).__name__ == "Fee"
