"""The provider caching layer: per library and patron, failures not cached, dropped at logout."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask

from portal.devtools import demo_data
from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.devtools.fbs_sim import SimState
from portal.kvstore import store
from portal.providers.cache import CachedFbs, patron_key
from portal.providers.errors import UpstreamBadResponse, UpstreamTimeout
from portal.providers.fbs import FbsCredentialsRejected
from portal.signals import citizen_logged_out
from tests.providers.conftest import fbs_for, forget_patron

KEY = re.compile(r"fbs:DK-\d{6}:\d{4}:(patron|fees)")


def cache_keys() -> list[str]:
    # SimpleCache (the default without PORTAL_CACHE_URL) keeps its entries in _cache.
    return list(store.cache._cache)


def test_second_call_within_ttl_makes_no_http_call(app: Flask, sim_state: SimState) -> None:
    fbs = fbs_for(LYNGBY)
    first = fbs.fees(1001)
    assert fbs.fees(1001) == first
    assert fbs_for(LYNGBY).fees(1001) == first  # another request, same cache
    assert fbs_for(LYNGBY).patron(1001) == fbs.patron(1001)
    assert sim_state.calls["fees"] == 1 and sim_state.calls["patron"] == 1


def test_cached_answers_equal_fresh_ones(app: Flask) -> None:
    fbs = fbs_for(LYNGBY)
    cached_fees = [fbs.fees(1001), fbs.fees(1001)]
    assert cached_fees[1] == cached_fees[0]
    assert [f.fee_id for f in cached_fees[1]] == [501, 502, 503, 504, 505, 506, 507, 508]
    assert fbs.patron(1002).blocked_for_fees and fbs.patron(1002).blocked_for_fees


def test_callers_cannot_change_the_cached_list(app: Flask) -> None:
    fbs = fbs_for(LYNGBY)
    fbs.fees(1001).clear()
    assert len(fbs.fees(1001)) == 8


def test_entries_are_per_library_and_patron(app: Flask, sim_state: SimState) -> None:
    fbs_for(LYNGBY).fees(1001)
    fbs_for(LYNGBY).fees(1002)
    fbs_for(RODOVRE).fees(2001)
    assert sim_state.calls["fees"] == 3
    assert sorted(cache_keys()) == [f"fbs:{LYNGBY}:1001:fees", f"fbs:{LYNGBY}:1002:fees", f"fbs:{RODOVRE}:2001:fees"]


def test_a_failure_is_not_cached(app: Flask, sim_state: SimState) -> None:
    fbs = fbs_for(LYNGBY)
    sim_state.fail_next(1, endpoint="fees")
    with pytest.raises(UpstreamBadResponse):
        fbs.fees(1001)
    assert cache_keys() == []
    assert len(fbs.fees(1001)) == 8
    fbs.fees(1001)
    assert sim_state.calls["fees"] == 2


def test_garbage_is_not_cached(app: Flask, sim_state: SimState) -> None:
    sim_state.answer_garbage("wrong-shape", endpoint="patron")
    with pytest.raises(UpstreamBadResponse):
        fbs_for(LYNGBY).patron(1002)
    assert fbs_for(LYNGBY).patron(1002).patron_id == 1002
    assert sim_state.calls["patron"] == 2


def test_logout_drops_the_patrons_entries(app: Flask, sim_state: SimState) -> None:
    lyngby, rodovre = fbs_for(LYNGBY), fbs_for(RODOVRE)
    for fbs, patron_id in ((lyngby, 1001), (rodovre, 2001), (lyngby, 1005)):
        fbs.patron(patron_id)
        fbs.fees(patron_id)
    assert len(cache_keys()) == 6
    citizen_logged_out.send(app, patrons={LYNGBY: 1001, RODOVRE: 2001})
    assert sorted(cache_keys()) == [f"fbs:{LYNGBY}:1005:fees", f"fbs:{LYNGBY}:1005:patron"]
    lyngby.fees(1001)
    lyngby.patron(1001)
    lyngby.fees(1005)
    assert sim_state.calls["fees"] == 4 and sim_state.calls["patron"] == 4


def test_logout_is_per_library(app: Flask, sim_state: SimState) -> None:
    fbs_for(LYNGBY).fees(1001)
    # The same number at another library is another patron.
    citizen_logged_out.send(app, patrons={RODOVRE: 1001})
    fbs_for(LYNGBY).fees(1001)
    assert sim_state.calls["fees"] == 1


def test_forget_patron(app: Flask, sim_state: SimState) -> None:
    fbs_for(LYNGBY).patron(1001)
    forget_patron(LYNGBY, 1001)
    fbs_for(LYNGBY).patron(1001)
    assert sim_state.calls["patron"] == 2


def test_no_cache_key_contains_a_cpr_number(app: Flask) -> None:
    cprs = [c.cpr for c in demo_data.CITIZENS if c.cpr is not None]
    for cpr in cprs:
        for agency in (LYNGBY, RODOVRE):
            fbs = fbs_for(agency)
            patron_id = fbs.find_patron_id(cpr)
            if patron_id is not None:
                fbs.patron(patron_id)
                fbs.fees(patron_id)
    keys = cache_keys()
    assert len(keys) == 2 * 6  # 6 patrons in the demo data
    for key in keys:
        assert KEY.fullmatch(key), key
        assert not any(cpr in key for cpr in cprs), key
    # Nor is a CPR number among the cached values.
    stored = b"".join(value for _expires, value in store.cache._cache.values())
    assert not any(cpr.encode() in stored for cpr in cprs)


def test_patron_key_refuses_anything_but_an_int() -> None:
    assert patron_key("fbs", LYNGBY, 1001, "fees") == f"fbs:{LYNGBY}:1001:fees"
    with pytest.raises(TypeError):
        patron_key("fbs", LYNGBY, "0101901111", "fees")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        patron_key("fbs", LYNGBY, True, "fees")
    with pytest.raises(ValueError):
        patron_key("fbs", LYNGBY, 1001, "loans")
    with pytest.raises(ValueError):
        patron_key("fbs", "DK:1", 1001, "fees")


def test_library_credentials(app: Flask, sim_state: SimState) -> None:
    sim_state.credentials[RODOVRE] = ("rodovre", "own-secret")
    with pytest.raises(FbsCredentialsRejected, match=RODOVRE):
        fbs_for(RODOVRE).fees(2001)
    assert len(fbs_for(RODOVRE, "rodovre", "own-secret").fees(2001)) == 3


def test_session_key_is_shared_between_requests(app: Flask, sim_state: SimState) -> None:
    fbs_for(LYNGBY).fees(1001)
    fbs_for(LYNGBY).fees(1002)
    fbs_for(LYNGBY).find_patron_id("0101901111")
    assert sim_state.calls["login"] == 1


def test_patron_look_up_is_not_cached(app: Flask, sim_state: SimState) -> None:
    fbs = fbs_for(LYNGBY)
    assert fbs.find_patron_id("0101901111") == fbs.find_patron_id("0101901111") == 1001
    assert sim_state.calls["preauthenticated"] == 2
    # Only the patron its answer carried, under the patron id: never the CPR number or the look-up.
    assert cache_keys() == ["fbs:DK-717300:1001:patron"]


def test_cached_facade_type(app: Flask) -> None:
    fbs = fbs_for(RODOVRE)
    assert isinstance(fbs, CachedFbs) and fbs.agency_id == RODOVRE


class TestTtl:
    @pytest.fixture
    def app_env(self) -> dict[str, str]:
        return {"PORTAL_CACHE_TTL": "1"}

    def test_entries_expire_after_the_ttl(self, app: Flask, sim_state: SimState) -> None:
        fbs = fbs_for(LYNGBY)
        fbs.fees(1001)
        fbs.fees(1001)
        assert sim_state.calls["fees"] == 1
        time.sleep(1.1)
        fbs.fees(1001)
        assert sim_state.calls["fees"] == 2


class TestTimeoutFromSettings:
    @pytest.fixture
    def app_env(self) -> dict[str, str]:
        return {"PORTAL_HTTP_TIMEOUT": "0.5"}

    def test_slow_fbs_times_out_and_is_not_cached(self, app: Flask, sim_state: SimState) -> None:
        sim_state.delay_answers(5.0, endpoint="fees")
        with pytest.raises(UpstreamTimeout):
            fbs_for(LYNGBY).fees(1001)
        assert cache_keys() == []
        sim_state.reset_faults()
        assert len(fbs_for(LYNGBY).fees(1001)) == 8
