"""Single-flight: concurrent misses of one cache key make one upstream call, in a process and across processes.

Calls are counted (the FBS simulator counts what it is asked), never timed: a gate holds FBS's
fees answer until every other caller is known to be waiting (`SingleFlight.waits`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis
from cachelib import RedisCache, SimpleCache
from prometheus_client import REGISTRY

from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.domain.fees import Fee
from portal.domain.works import Work
from portal.providers.cache import CachedFbi, ProviderCache
from portal.providers.errors import UpstreamError
from portal.providers.fbi_parse import WorksAnswer
from portal.providers.http import upstream_budget
from portal.providers.single_flight import LOCK_PREFIX, SingleFlight
from portal.providers.upstreams import Upstreams
from tests.support.live import LiveServer, start_live_server
from tests.support.redis_server import free_port, redis_server
from tests.support.settings import test_settings
from tests.support.stack import FBS_FEES_PATH, Gate
from tests.support.waiting import wait_for

ANNE = 1001
VIEWS = 100
FEES_KEY = f"fbs:{LYNGBY}:{ANNE}:fees"


# -- the mechanism alone ------------------------------------------------------------------


def test_concurrent_callers_of_one_key_share_one_call() -> None:
    flight, release, calls = SingleFlight(), threading.Event(), []

    def fetch() -> str:
        calls.append(1)
        release.wait(20)
        return "answer"

    with ThreadPoolExecutor(VIEWS) as pool:
        answers = [pool.submit(flight.run, "k", lambda: None, fetch) for _ in range(VIEWS)]
        wait_for(lambda: flight.waits["local"] == VIEWS - 1, "every other caller waits")
        release.set()
        assert [a.result() for a in answers] == ["answer"] * VIEWS
    assert len(calls) == 1


def test_the_leaders_failure_is_every_waiters_failure_and_the_next_call_tries_again() -> None:
    flight, release, calls = SingleFlight(), threading.Event(), []

    def failing() -> str:
        calls.append(1)
        release.wait(20)
        raise UpstreamError("fbs", "down")

    with ThreadPoolExecutor(10) as pool:
        answers = [pool.submit(flight.run, "k", lambda: None, failing) for _ in range(10)]
        wait_for(lambda: flight.waits["local"] == 9, "the others wait")
        release.set()
        assert all(isinstance(a.exception(), UpstreamError) for a in answers)
    assert len(calls) == 1
    assert flight.run("k", lambda: None, lambda: "fresh") == "fresh"  # nothing sticks after a failure


def test_different_keys_do_not_wait_for_each_other() -> None:
    flight, release = SingleFlight(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(flight.run, "a", lambda: None, lambda: release.wait(20) and "a")
        assert flight.run("b", lambda: None, lambda: "b") == "b"
        release.set()
        assert held.result() == "a"
    assert flight.waits["local"] == 0


# -- FBS through the cache, in one process --------------------------------------------------


@dataclass
class GatedFbs:
    state: SimState
    gate: Gate
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def gated_fbs() -> Iterator[GatedFbs]:
    state, gate, server = SimState(), Gate(), start_live_server()
    server.set_app(gate.wrap(create_fbs_sim_app(state), FBS_FEES_PATH))
    yield GatedFbs(state, gate, server)
    gate.open()
    server.stop()


def upstreams_on(fbs_url: str, store: object, **env: str) -> Upstreams:
    return Upstreams(test_settings(PORTAL_FBS_BASE_URL=fbs_url, **env), store)  # type: ignore[arg-type]


def fees_of(up: Upstreams) -> Callable[[], list[Fee]]:
    return lambda: up.fbs(LYNGBY, up.default_login).fees(ANNE)


def test_a_hundred_concurrent_views_make_one_fees_call(gated_fbs: GatedFbs) -> None:
    up = upstreams_on(gated_fbs.url, SimpleCache())
    try:
        gated_fbs.gate.close()
        with ThreadPoolExecutor(VIEWS) as pool:
            answers = [pool.submit(fees_of(up)) for _ in range(VIEWS)]
            gated_fbs.gate.wait_until_held()
            wait_for(lambda: up.cache.flight.waits["local"] == VIEWS - 1, "99 views wait for the first")
            gated_fbs.gate.open()
            results = [a.result() for a in answers]
        assert gated_fbs.state.calls["fees"] == 1
        assert all(r == results[0] for r in results) and results[0]
    finally:
        up.close()


def test_without_single_flight_the_gate_would_see_more_than_one_call(gated_fbs: GatedFbs) -> None:
    """The counterpart: two callers with caches of their own (no shared flight) both reach FBS."""
    first, second = upstreams_on(gated_fbs.url, SimpleCache()), upstreams_on(gated_fbs.url, SimpleCache())
    try:
        gated_fbs.gate.close()
        with ThreadPoolExecutor(2) as pool:
            answers = [pool.submit(fees_of(first)), pool.submit(fees_of(second))]
            gated_fbs.gate.wait_until_held()
            gated_fbs.gate.wait_until_held()
            gated_fbs.gate.open()
            assert answers[0].result() == answers[1].result()
        assert gated_fbs.state.calls["fees"] == 2
    finally:
        first.close()
        second.close()


# -- across processes: two apps sharing one Redis ------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def app_on_redis(fbs_url: str, redis_url: str, **env: str) -> Upstreams:
    """One worker process's upstreams: its own in-process flights, the shared Redis for cache and locks."""
    store = RedisCache(host=redis.Redis.from_url(redis_url), key_prefix="gebyrportal:")
    return upstreams_on(fbs_url, store, PORTAL_CACHE_URL=redis_url, **env)


def test_two_processes_sharing_redis_make_one_fees_call(
    gated_fbs: GatedFbs, redis_url: str, shared_redis: redis.Redis
) -> None:
    first, second = app_on_redis(gated_fbs.url, redis_url), app_on_redis(gated_fbs.url, redis_url)
    try:
        gated_fbs.gate.close()
        with ThreadPoolExecutor(2) as pool:
            leader = pool.submit(fees_of(first))
            gated_fbs.gate.wait_until_held()
            # The lock is the cache key: agency and patron id, no CPR number.
            assert shared_redis.keys(LOCK_PREFIX + "*") == [(LOCK_PREFIX + FEES_KEY).encode()]
            waiter = pool.submit(fees_of(second))
            wait_for(lambda: second.cache.flight.waits["remote"] == 1, "the other process waits for the lock")
            gated_fbs.gate.open()
            assert leader.result() == waiter.result() and leader.result()
        assert gated_fbs.state.calls["fees"] == 1
        assert shared_redis.keys(LOCK_PREFIX + "*") == []  # released
    finally:
        first.close()
        second.close()


def test_a_lock_left_by_a_crashed_process_costs_a_bounded_wait_then_a_call(
    gated_fbs: GatedFbs, redis_url: str, shared_redis: redis.Redis
) -> None:
    up = app_on_redis(gated_fbs.url, redis_url)
    try:
        shared_redis.set(LOCK_PREFIX + FEES_KEY, "someone-gone", px=600_000)
        with upstream_budget(1.0):  # the page's budget bounds the wait
            fees = fees_of(up)()
        assert fees and gated_fbs.state.calls["fees"] == 1
        assert up.cache.flight.waits["remote_timeout"] == 1
    finally:
        up.close()


def test_a_failed_holder_lets_the_waiter_call_itself(
    gated_fbs: GatedFbs, redis_url: str, shared_redis: redis.Redis
) -> None:
    first, second = app_on_redis(gated_fbs.url, redis_url), app_on_redis(gated_fbs.url, redis_url)
    try:
        gated_fbs.state.fail_next(1, endpoint="fees")
        gated_fbs.gate.close()
        with ThreadPoolExecutor(2) as pool:
            leader = pool.submit(fees_of(first))
            gated_fbs.gate.wait_until_held()
            waiter = pool.submit(fees_of(second))
            wait_for(lambda: second.cache.flight.waits["remote"] == 1, "the other process waits")
            gated_fbs.gate.open()
            with pytest.raises(UpstreamError):
                leader.result()
            assert waiter.result()  # FBS answered its own call
        assert gated_fbs.state.calls["fees"] == 2
    finally:
        first.close()
        second.close()


def test_redis_down_still_answers_by_calling_fbs(gated_fbs: GatedFbs) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    up = app_on_redis(gated_fbs.url, dead)
    try:
        assert fees_of(up)() and fees_of(up)()
        # Each view called FBS itself (nothing could be cached), and neither failed for the lock.
        assert gated_fbs.state.calls["fees"] == 2
        assert up.cache.flight.waits["lock_error"] == 2
    finally:
        up.close()


def test_concurrent_title_look_ups_of_the_same_materials_make_one_fbi_request() -> None:
    """The sign-in's prefetch and the first view ask FBI for the same FAUST numbers: one request."""
    release, entered = threading.Event(), threading.Event()
    asked: list[list[str]] = []

    class SlowFbi:
        def lookup(self, fausts: list[str]) -> WorksAnswer:
            asked.append(list(fausts))
            entered.set()
            assert release.wait(10)
            return WorksAnswer({f: Work(f, f"Titel {f}") for f in fausts}, frozenset())

    cache = ProviderCache(SimpleCache(), 60)
    fbi = CachedFbi(SlowFbi(), cache)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(fbi.works, ["29830092", "27655033"])
        assert entered.wait(10)
        second = pool.submit(fbi.works, ["27655033", "29830092"])  # the same batch, in another order
        wait_for(lambda: cache.flight.waits["local"] >= 1, "the second look-up waits for the first")
        release.set()
        assert first.result(10) == second.result(10)
    assert asked == [["29830092", "27655033"]]
    assert fbi.works(["29830092"])["29830092"].title == "Titel 29830092"  # cached: no new request
    assert len(asked) == 1


def _flights(role: str) -> float:
    return REGISTRY.get_sample_value("portal_single_flight_total", {"provider": "fbs", "role": role}) or 0.0


def test_the_metric_counts_who_led_and_who_waited() -> None:
    flight = SingleFlight()
    before = {role: _flights(role) for role in ("led", "waited")}
    release, entered = threading.Event(), threading.Event()

    def fetch() -> str:
        entered.set()
        assert release.wait(10)
        return "answer"

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(flight.run, "fbs:DK-717300:1001:fees", lambda: None, fetch)
        assert entered.wait(10)
        second = pool.submit(flight.run, "fbs:DK-717300:1001:fees", lambda: None, fetch)
        wait_for(lambda: flight.waits["local"] == 1, "the second caller waits")
        release.set()
        assert first.result(10) == second.result(10) == "answer"
    after = {role: _flights(role) for role in ("led", "waited")}
    assert after == {"led": before["led"] + 1, "waited": before["waited"] + 1}
