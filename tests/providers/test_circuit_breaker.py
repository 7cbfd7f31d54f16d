"""The circuit breaker and the concurrency limit per upstream, against the FBS simulator over HTTP.

The app's own Upstreams (settings → guards → http.send), with a breaker that opens after 3
failures and tries again after 0.2 s, and 2 calls in flight at most. Whether a call reached FBS
is counted by the simulator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from portal.config import ConfigError, load_settings
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState
from portal.providers import setup
from portal.providers.breakers import Breaker
from portal.providers.errors import UpstreamBusy, UpstreamCircuitOpen, UpstreamError
from portal.providers.fbs import FbsClient
from portal.providers.upstreams import Upstreams
from tests.support.settings import REQUIRED, test_settings

FAILURES = 3
RESET = 0.2
LIMIT = 2
ANNE = 1001
WAIT_AT_MOST = 5.0  # bounded waits: a test that never gets there fails, it does not hang


@pytest.fixture
def app_env() -> dict[str, str]:
    return {
        "PORTAL_BREAKER_FAILURES": str(FAILURES),
        "PORTAL_BREAKER_RESET": str(RESET),
        "PORTAL_UPSTREAM_CONCURRENCY": str(LIMIT),
    }


@pytest.fixture
def upstreams(app: Flask) -> Upstreams:
    found: Upstreams = app.extensions[setup.EXTENSION_KEY]
    return found


@pytest.fixture
def fbs(upstreams: Upstreams, sim_state: SimState) -> FbsClient:
    client = upstreams.fbs_client(LYNGBY, upstreams.default_login)
    client.get_fees(ANNE)  # logged in: from here on only the fees calls count
    return client


def breaker_metric() -> float | None:
    return REGISTRY.get_sample_value("portal_breaker_state", {"provider": "fbs"})


def fbs_breaker(upstreams: Upstreams, sim_url: str) -> Breaker:
    guard = upstreams.guards.for_url(sim_url)
    assert guard is not None
    return guard.breaker


def open_breaker(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fail_next(FAILURES, endpoint="fees")
    for _ in range(FAILURES):
        with pytest.raises(UpstreamError) as failed:
            fbs.get_fees(ANNE)
        assert not isinstance(failed.value, UpstreamCircuitOpen)  # these reached FBS


def until(condition: Callable[[], bool]) -> None:
    waited = time.monotonic()
    while not condition():
        assert time.monotonic() - waited < WAIT_AT_MOST, "never happened"
        time.sleep(0.02)


def test_failures_in_a_row_open_the_breaker_and_calls_are_refused_without_reaching_fbs(
    fbs: FbsClient, sim_state: SimState, upstreams: Upstreams, sim_url: str
) -> None:
    assert breaker_metric() == 0
    open_breaker(fbs, sim_state)
    before = sim_state.call_count("fees")
    with pytest.raises(UpstreamCircuitOpen) as refused:
        fbs.get_fees(ANNE)
    assert sim_state.call_count("fees") == before
    assert refused.value.provider == "fbs" and "circuit breaker open" in str(refused.value)
    assert isinstance(refused.value, UpstreamError)  # pages answer "try again", as for any upstream error
    assert fbs_breaker(upstreams, sim_url).state == "open"
    assert breaker_metric() == 2


def test_after_the_reset_one_call_goes_through_and_its_success_closes_the_breaker(
    fbs: FbsClient, sim_state: SimState, upstreams: Upstreams, sim_url: str
) -> None:
    open_breaker(fbs, sim_state)
    before = sim_state.call_count("fees")
    fees = None
    waited = time.monotonic()
    while fees is None:
        assert time.monotonic() - waited < WAIT_AT_MOST, "the breaker never let a call through"
        try:
            fees = fbs.get_fees(ANNE)
        except UpstreamCircuitOpen:
            time.sleep(0.02)
    assert fees  # Anne's fees, from FBS
    assert sim_state.call_count("fees") == before + 1  # refused calls never reached it; the trial did
    assert fbs_breaker(upstreams, sim_url).state == "closed"
    assert breaker_metric() == 0
    fbs.get_fees(ANNE)
    assert sim_state.call_count("fees") == before + 2


def test_a_failed_trial_opens_the_breaker_again(
    fbs: FbsClient, sim_state: SimState, upstreams: Upstreams, sim_url: str
) -> None:
    open_breaker(fbs, sim_state)
    breaker = fbs_breaker(upstreams, sim_url)
    sim_state.fail_next(1, endpoint="fees")
    before = sim_state.call_count("fees")
    waited = time.monotonic()
    while sim_state.call_count("fees") == before:
        assert time.monotonic() - waited < WAIT_AT_MOST, "the breaker never let a call through"
        with pytest.raises(UpstreamError):
            fbs.get_fees(ANNE)
        time.sleep(0.02)
    assert breaker.state == "open"
    with pytest.raises(UpstreamCircuitOpen):
        fbs.get_fees(ANNE)
    assert sim_state.call_count("fees") == before + 1


def test_only_one_trial_call_while_half_open(
    fbs: FbsClient, sim_state: SimState, upstreams: Upstreams, sim_url: str
) -> None:
    open_breaker(fbs, sim_state)
    breaker = fbs_breaker(upstreams, sim_url)
    sim_state.delay_answers(WAIT_AT_MOST, endpoint="fees")  # the trial, once it goes out, is held
    before = sim_state.call_count("fees")

    def keep_trying() -> None:
        waited = time.monotonic()
        while time.monotonic() - waited < WAIT_AT_MOST:
            try:
                fbs.get_fees(ANNE)
                return
            except UpstreamCircuitOpen:
                time.sleep(0.02)

    trial = threading.Thread(target=keep_trying)
    trial.start()
    try:
        until(lambda: sim_state.call_count("fees") == before + 1)
        assert breaker.state == "half_open"
        assert breaker_metric() == 1
        with pytest.raises(UpstreamCircuitOpen):
            fbs.get_fees(ANNE)
        assert sim_state.call_count("fees") == before + 1
    finally:
        sim_state.wake.set()  # ends the delay
        trial.join(WAIT_AT_MOST)
    until(lambda: breaker.state == "closed")


def test_4xx_answers_do_not_open_the_breaker(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fail_next(FAILURES * 2, status=404, endpoint="fees")
    for _ in range(FAILURES * 2):
        with pytest.raises(UpstreamError) as failed:
            fbs.get_fees(ANNE)
        assert not isinstance(failed.value, UpstreamCircuitOpen)
    before = sim_state.call_count("fees")
    assert fbs.get_fees(ANNE)
    assert sim_state.call_count("fees") == before + 1
    assert breaker_metric() == 0


def test_a_success_between_failures_starts_the_count_again(fbs: FbsClient, sim_state: SimState) -> None:
    for _ in range(2):
        sim_state.fail_next(FAILURES - 1, endpoint="fees")
        for _ in range(FAILURES - 1):
            with pytest.raises(UpstreamError):
                fbs.get_fees(ANNE)
        assert fbs.get_fees(ANNE)  # not refused: never FAILURES in a row
    assert breaker_metric() == 0


def test_the_concurrency_limit_refuses_the_call_beyond_it_without_reaching_fbs(
    fbs: FbsClient, sim_state: SimState
) -> None:
    sim_state.delay_answers(WAIT_AT_MOST, endpoint="fees")
    before = sim_state.call_count("fees")
    results: list[object] = []
    slow = [threading.Thread(target=lambda: results.append(fbs.get_fees(ANNE))) for _ in range(LIMIT)]
    for thread in slow:
        thread.start()
    try:
        until(lambda: sim_state.call_count("fees") == before + LIMIT)  # LIMIT calls in flight
        with pytest.raises(UpstreamBusy) as refused:
            fbs.get_fees(ANNE)
        assert sim_state.call_count("fees") == before + LIMIT
        assert refused.value.provider == "fbs" and "in flight" in str(refused.value)
    finally:
        sim_state.wake.set()
        for thread in slow:
            thread.join(WAIT_AT_MOST)
    assert len(results) == LIMIT  # the slow calls themselves ended well
    sim_state.reset_faults()
    assert fbs.get_fees(ANNE)  # slots free again; and a full house is no failure of FBS's
    assert breaker_metric() == 0


def test_a_client_of_its_own_is_not_guarded(
    sim_state: SimState, sim_url: str, make_fbs: Callable[..., FbsClient]
) -> None:
    """Provider tests hand plain httpx clients to providers: no breaker applies to those."""
    fbs = make_fbs()
    fbs.get_fees(ANNE)
    sim_state.fail_next(FAILURES + 2, endpoint="fees")
    for _ in range(FAILURES + 2):
        with pytest.raises(UpstreamError) as failed:
            fbs.get_fees(ANNE)
        assert not isinstance(failed.value, UpstreamCircuitOpen)


def test_the_settings_are_checked() -> None:
    settings = load_settings({name: value for name, value in REQUIRED.items() if name != "PORTAL_BREAKER_FAILURES"})
    assert (settings.breaker_failures, settings.breaker_reset, settings.upstream_concurrency) == (5, 30.0, 16)
    for name, bad in (
        ("PORTAL_BREAKER_FAILURES", "0"),
        ("PORTAL_BREAKER_RESET", "soon"),
        ("PORTAL_UPSTREAM_CONCURRENCY", "2.5"),
    ):
        with pytest.raises(ConfigError, match=name):
            test_settings(**{name: bad})
