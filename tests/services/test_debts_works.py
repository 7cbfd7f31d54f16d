"""citizen_debts names the fees' materials: one FBI look-up per page, and a failed one hides nothing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest
from cachelib import SimpleCache

from portal.devtools import fbi_sim
from portal.devtools.demo import DEV_FBI_TOKEN
from portal.domain.fees import Fee, Material
from portal.domain.works import Work
from portal.providers.errors import UpstreamBadResponse, UpstreamError
from portal.providers.upstreams import Upstreams
from portal.services.debts import CitizenDebts, ProviderStatus, citizen_debts
from tests.services.test_debts import CPR, LIBRARY, FakeDebtor, FakeFbs, FakeUpstreams, claim, fee, memo
from tests.support.login import http_login
from tests.support.settings import test_settings
from tests.support.stack import start_stack


def with_materials(f: Fee, *records: str | None) -> Fee:
    return replace(f, materials=tuple(Material(record_id=r, item_number=f"38{i:08d}") for i, r in enumerate(records)))


FEES = [
    with_materials(fee(1, "10.50", True), "29830092", "27655033"),
    with_materials(fee(2, "5", False, date(2022, 1, 1)), "52530331"),
    with_materials(fee(3, "20", True), None),  # an interlibrary loan: no record id
    fee(4, "30", True),  # no materials at all
]
ALL_RECORDS = ["29830092", "27655033", "52530331"]


class FakeFbi:
    """The cached FBI client as the service sees it."""

    def __init__(self, fail: Exception | None = None, hold: threading.Event | None = None) -> None:
        self._fail, self._hold = fail, hold
        self.asked: list[list[str]] = []

    def works(self, fausts: Sequence[str]) -> dict[str, Work]:
        self.asked.append(list(fausts))
        if self._hold is not None:
            self._hold.wait(10)
        if self._fail is not None:
            raise self._fail
        return {f: Work(f, f"Titel {f}") for f in fausts if f != "52530331"}


class WorksUpstreams(FakeUpstreams):
    def __init__(self, fbs: FakeFbs, debtor: FakeDebtor | None, fbi: FakeFbi | None, **environment: str) -> None:
        super().__init__(fbs, debtor, environment)
        self._fake_fbi = fbi

    def fbi(self) -> FakeFbi | None:  # type: ignore[override]
        return self._fake_fbi


def debts(fbi: FakeFbi | None, fees: list[Fee] = FEES, **environment: str) -> CitizenDebts:
    debtor = FakeDebtor([claim("C-2", 2, "5.00")])
    result = citizen_debts(WorksUpstreams(FakeFbs(fees), debtor, fbi, **environment), LIBRARY, CPR, memo()[0])
    assert result is not None
    return result


def test_works_are_filled_in_one_look_up_for_all_fees() -> None:
    fbi = FakeFbi()
    result = debts(fbi)
    assert fbi.asked == [["29830092", "27655033", "52530331"]]
    assert dict(result.works) == {f: Work(f, f"Titel {f}") for f in ["29830092", "27655033"]}
    # A fee whose material has no title, or no material, is still there and counted.
    assert result.overview == debts(None).overview


def test_not_configured_leaves_works_empty() -> None:
    assert debts(None).works == {}


def test_no_materials_no_look_up() -> None:
    fbi = FakeFbi()
    assert debts(fbi, [fee(1, "10", True)]).works == {}
    assert fbi.asked == []


@pytest.mark.parametrize(
    "failure", [UpstreamBadResponse("fbi", "works of 3 records: unexpected status 500"), RuntimeError("a bug")]
)
def test_a_failed_look_up_changes_no_fee_and_no_total(failure: Exception, caplog: pytest.LogCaptureFixture) -> None:
    baseline = debts(None)
    result = debts(FakeFbi(fail=failure))
    assert result.works == {}
    assert result.overview == baseline.overview
    assert result.overview.total == baseline.overview.total and result.debtor is ProviderStatus.OK
    assert "showing item numbers" in caplog.text
    assert CPR not in caplog.text and "29830092" not in caplog.text


def test_a_slow_look_up_is_given_up_at_the_budget(caplog: pytest.LogCaptureFixture) -> None:
    hold = threading.Event()
    try:
        started = time.monotonic()
        result = debts(FakeFbi(hold=hold), PORTAL_PAGE_BUDGET="0.5")
        assert time.monotonic() - started < 2
    finally:
        hold.set()
    assert result.works == {} and result.overview == debts(None).overview
    assert "titles not in within the page's budget" in caplog.text


def test_fbs_failing_still_fails_the_page() -> None:
    fbi = FakeFbi()
    upstreams = WorksUpstreams(FakeFbs(FEES, fail=UpstreamError("fbs", "down")), None, fbi)
    with pytest.raises(UpstreamError):
        citizen_debts(upstreams, LIBRARY, CPR, memo()[0])
    assert fbi.asked == []


# -- through the real client and cache, against the FBI simulator over HTTP --------------------------


class SimUpstreams(Upstreams):
    """Real FBI client and cache (real HTTP to the simulator); FBS and the debtor are fakes."""

    def __init__(self, fbi_url: str, fees: list[Fee]) -> None:
        super().__init__(test_settings(PORTAL_FBI_BASE_URL=fbi_url, PORTAL_FBI_TOKEN=DEV_FBI_TOKEN), SimpleCache())
        self._fake_fbs = FakeFbs(fees)

    def fbs(self, agency_id: str, login: object) -> FakeFbs:  # type: ignore[override]
        return self._fake_fbs

    def debtor(self, agency_id: str) -> None:
        return None


@pytest.fixture
def fbi_state() -> fbi_sim.SimState:
    return fbi_sim.SimState()


@pytest.fixture
def sim_upstreams(fbi_state: fbi_sim.SimState) -> Iterator[SimUpstreams]:
    server = fbi_sim.start_fbi_sim("127.0.0.1", 0, fbi_state)
    upstreams = SimUpstreams(f"http://127.0.0.1:{server.port}/775100/next", FEES)
    yield upstreams
    upstreams.close()
    fbi_sim.stop_fbi_sim(server)


def page(upstreams: Upstreams) -> CitizenDebts:
    result = citizen_debts(upstreams, LIBRARY, CPR, memo()[0])
    assert result is not None
    return result


def test_against_the_simulator_one_request_then_the_cache(
    sim_upstreams: SimUpstreams, fbi_state: fbi_sim.SimState
) -> None:
    first = page(sim_upstreams)
    assert sorted(first.works) == sorted(ALL_RECORDS)
    assert first.works["27655033"].material_type == "lydbog (cd-mp3)"
    assert page(sim_upstreams).works == first.works
    assert fbi_state.requests == [ALL_RECORDS]


@pytest.mark.parametrize("fault", ["status", "garbage", "slow"])
def test_against_the_simulator_fbi_down_hides_nothing(
    sim_upstreams: SimUpstreams, fbi_state: fbi_sim.SimState, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    if fault == "status":
        fbi_state.fail_next(status=503)
    elif fault == "garbage":
        fbi_state.answer_garbage("invalid-json")
    else:
        fbi_state.delay_answers(5)
        sim_upstreams.page_budget = 0.5
    result = page(sim_upstreams)
    assert result.works == {}
    baseline = citizen_debts(WorksUpstreams(FakeFbs(FEES), None, None), LIBRARY, CPR, memo()[0])
    assert baseline is not None and result.overview == baseline.overview
    assert "showing item numbers" in caplog.text


# -- the whole portal: stack with the FBI simulator -----------------------------------------------


def test_the_portal_asks_fbi_once_per_page_and_then_not_at_all(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, fbi=True)
    try:
        assert stack.fbi_state is not None
        with httpx.Client() as browser:
            first = http_login(browser, stack.url, "demo-anne")
            assert first.status_code == 200
            again = browser.get(f"{stack.url}/lyngby/")
            assert again.status_code == 200
        # Anne's eight Lyngby fees name six titles: one request for all, then the cache.
        assert stack.fbi_state.request_count == 1
        assert sorted(stack.fbi_state.requests[0]) == sorted(
            {"29830092", "27655033", "52530331", "22639862", "46651209", "62050021"}
        )
    finally:
        stack.stop()
