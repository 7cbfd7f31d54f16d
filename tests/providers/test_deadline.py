"""A wall-clock deadline per upstream call, and one budget for several: real HTTP to the simulators.

The per-phase timeout (PORTAL_HTTP_TIMEOUT) is set far above the deadline here, so a call that
ends early can only have been ended by the deadline or the budget. Times are bounded loosely:
"well before the trickle or the per-phase timeout would have ended it", never a tight figure.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from portal.devtools import debtor_sim
from portal.devtools.demo import DEV_DEBTOR_API_KEY, DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState
from portal.providers.debtor import DebtorClient
from portal.providers.errors import UpstreamTimeout
from portal.providers.http import budget_left, create_http_client, upstream_budget
from portal.services.background import in_background
from tests.providers.conftest import MakeFbs, provider_settings

ANNE_CPR = "0101901111"  # Lyngby 1001
PHASE_TIMEOUT = 20.0  # far above every deadline below: it never ends a call in these tests
TRICKLE_PAUSE = 0.2  # a few bytes per 0.2 s: no phase timeout ever trips
TRICKLE_AT_LEAST = 30.0  # how long a trickled answer takes here

MakeClient = Callable[..., httpx.Client]


@pytest.fixture
def make_client(sim_url: str) -> Iterator[MakeClient]:
    """The app's kind of client (create_http_client), with `deadline` seconds per call."""
    clients: list[httpx.Client] = []

    def make(deadline: float) -> httpx.Client:
        settings = provider_settings(
            sim_url, PORTAL_HTTP_TIMEOUT=str(PHASE_TIMEOUT), PORTAL_UPSTREAM_DEADLINE=str(deadline)
        )
        clients.append(create_http_client(settings))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def fees_body_length(sim_url: str) -> int:
    """The size of Anne's fees answer at Lyngby, asked without any trickle."""
    with httpx.Client(timeout=5) as raw:
        login = raw.post(
            f"{sim_url}/external/v2/{LYNGBY}/authentication/login",
            json={"username": DEV_FBS_USERNAME, "password": DEV_FBS_PASSWORD},
        )
        fees = raw.get(
            f"{sim_url}/external/{LYNGBY}/patron/1001/fees/v2",
            params={"includepaid": "true", "includenonpayable": "true"},
            headers={"X-Session": login.json()["sessionKey"]},
        )
        assert fees.status_code == 200
        return len(fees.content)


def chunk_for(length: int) -> int:
    """Bytes per chunk for a body of `length` to trickle for TRICKLE_AT_LEAST seconds."""
    return max(1, length // round(TRICKLE_AT_LEAST / TRICKLE_PAUSE))


@pytest.fixture
def trickling_fees(sim_state: SimState, sim_url: str) -> None:
    """Anne's fees answer at Lyngby trickles out for TRICKLE_AT_LEAST seconds."""
    sim_state.trickle_answers(TRICKLE_PAUSE, endpoint="fees", chunk=chunk_for(fees_body_length(sim_url)))


def timed(call: Callable[[], object]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


# -- the simulators trickle ------------------------------------------------------------------


def test_the_fbs_simulator_trickles_a_complete_answer(sim_state: SimState, sim_url: str) -> None:
    """The control: a trickled answer arrives in many pieces, over time, and whole."""
    with httpx.Client(timeout=5) as raw:
        path = f"{sim_url}/external/v2/{LYNGBY}/authentication/login"
        plain = raw.post(path, json={"username": "x", "password": "y"}).content
        sim_state.trickle_answers(0.05, endpoint="login", chunk=8)
        started = time.monotonic()
        with raw.stream("POST", path, json={"username": "x", "password": "y"}) as response:
            pieces = list(response.iter_raw())
        elapsed = time.monotonic() - started
    assert b"".join(pieces) == plain and len(pieces) >= len(plain) // 8
    assert elapsed >= 0.05 * (len(plain) // 8 - 1) * 0.9  # the pauses were really made


def test_the_debtor_simulator_trickles_a_complete_answer(debtor_state: debtor_sim.SimState, debtor_url: str) -> None:
    with httpx.Client(timeout=5) as raw:
        path = f"{debtor_url}/v1/libraries/{LYNGBY}/claims/search"
        headers = {"Authorization": f"Bearer {DEV_DEBTOR_API_KEY}"}
        plain = raw.post(path, json={"cpr": ANNE_CPR}, headers=headers).content
        debtor_state.trickle_answers(0.01, chunk=64)
        with raw.stream("POST", path, json={"cpr": ANNE_CPR}, headers=headers) as response:
            pieces = list(response.iter_raw())
    assert b"".join(pieces) == plain and len(pieces) >= len(plain) // 64


@pytest.mark.parametrize("length", [1, 100, 149, 150, 2558, 10_000])
def test_trickled_answers_here_take_long(length: int) -> None:
    """What the timings below rely on: a trickled answer takes about TRICKLE_AT_LEAST seconds, or more."""
    chunks = -(-length // chunk_for(length))
    assert (chunks - 1) * TRICKLE_PAUSE >= TRICKLE_AT_LEAST * 0.95 or chunk_for(length) == 1


# -- the deadline of one call ----------------------------------------------------------------


@pytest.mark.parametrize("budget", [None, 60.0])
@pytest.mark.usefixtures("trickling_fees")
def test_a_trickling_answer_ends_at_the_deadline(
    make_fbs: MakeFbs, make_client: MakeClient, budget: float | None
) -> None:
    fbs = make_fbs(client=make_client(deadline=0.5))

    def call() -> None:
        if budget is None:
            fbs.get_fees(1001)
        else:
            with upstream_budget(budget):  # a longer budget leaves the call's own deadline in force
                fbs.get_fees(1001)

    error, elapsed = timed(call)
    assert isinstance(error, UpstreamTimeout) and error.provider == "fbs"
    assert "fees at" in str(error)
    assert elapsed < TRICKLE_AT_LEAST / 2 and elapsed < PHASE_TIMEOUT / 2


@pytest.mark.parametrize("where", ["before the status line", "in the body"])
def test_a_stalled_answer_ends_at_the_deadline(
    make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState, where: str
) -> None:
    fbs = make_fbs(client=make_client(deadline=0.5))
    if where == "before the status line":
        sim_state.delay_answers(60, endpoint="login")
    else:
        sim_state.trickle_answers(60, endpoint="login", chunk=5)  # 5 bytes, then nothing for a minute
    error, elapsed = timed(lambda: fbs.get_patron(1001))
    assert isinstance(error, UpstreamTimeout)
    assert elapsed < PHASE_TIMEOUT / 2


def test_an_answer_within_the_deadline_is_unaffected(
    make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState
) -> None:
    fbs = make_fbs(client=make_client(deadline=10))
    sim_state.trickle_answers(0.005, endpoint="fees", chunk=64)  # streamed, and done well in time
    fees = fbs.get_fees(1001)
    assert fees and {fee.fee_id for fee in fees} == {fee["feeId"] for fee in sim_state.fees[1001]}
    assert fbs.get_patron(1001).name == "Anne Andersen"


def test_the_debtor_call_has_a_deadline(
    debtor_state: debtor_sim.SimState, debtor_url: str, make_client: MakeClient
) -> None:
    debtor = DebtorClient(make_client(deadline=0.5), debtor_url, DEV_DEBTOR_API_KEY)
    length = len(
        json.dumps({"agencyId": LYNGBY, "claims": debtor_state.claims_of(LYNGBY, ANNE_CPR)}, separators=(",", ":"))
    )
    debtor_state.trickle_answers(TRICKLE_PAUSE, chunk=chunk_for(length))
    error, elapsed = timed(lambda: debtor.get_claims(LYNGBY, ANNE_CPR))
    assert isinstance(error, UpstreamTimeout) and error.provider == "debtor"
    assert elapsed < TRICKLE_AT_LEAST / 2


def test_the_deadline_is_per_call_outside_a_budget(
    make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState
) -> None:
    """Four calls of 0.5 s each take longer than one deadline (1.5 s), and all succeed."""
    fbs = make_fbs(client=make_client(deadline=1.5))
    sim_state.delay_answers(0.5)
    fbs.get_patron(1001)  # login, patron
    fbs.get_fees(1001)
    fbs.get_fees(1001)
    assert sim_state.call_count() == 4


# -- the budget of several calls --------------------------------------------------------------


def test_the_budget_caps_sequential_calls(make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState) -> None:
    """Each call (1 s) is well within its deadline; together they exceed the budget, which ends them."""
    fbs = make_fbs(client=make_client(deadline=10))
    sim_state.delay_answers(1.0)

    def page() -> None:
        with upstream_budget(1.5):
            fbs.get_patron(1001)  # login, then patron: the patron call has 0.5 s left
            fbs.get_fees(1001)

    error, elapsed = timed(page)
    assert isinstance(error, UpstreamTimeout) and "patron at" in str(error)
    assert sim_state.call_count("fees") == 0
    assert elapsed < 3.0  # the three calls would have taken 3 s


def test_a_call_after_the_budget_is_spent_is_not_sent(
    make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState
) -> None:
    fbs = make_fbs(client=make_client(deadline=10))
    with upstream_budget(0.01):
        time.sleep(0.05)
        assert budget_left() == 0.0
        with pytest.raises(UpstreamTimeout, match="budget"):
            fbs.get_patron(1001)
    assert sim_state.call_count() == 0
    assert budget_left() is None  # the budget ended with the block
    assert fbs.get_patron(1001).patron_id == 1001


def test_nested_budgets_keep_the_earlier_end() -> None:
    with upstream_budget(0.5):
        with upstream_budget(60):
            left = budget_left()
            assert left is not None and left <= 0.5
        with upstream_budget(0.1):
            left = budget_left()
            assert left is not None and left <= 0.1


@pytest.mark.usefixtures("trickling_fees")
def test_the_budget_follows_the_call_into_a_background_thread(make_fbs: MakeFbs, make_client: MakeClient) -> None:
    fbs = make_fbs(client=make_client(deadline=60))
    with upstream_budget(0.5):
        pending = in_background(lambda: fbs.get_fees(1001))
    error, elapsed = timed(lambda: pending.result(timeout=PHASE_TIMEOUT))
    assert isinstance(error, UpstreamTimeout)
    assert elapsed < TRICKLE_AT_LEAST / 2


def test_waiting_for_another_requests_login_ends_with_the_budget(
    make_fbs: MakeFbs, make_client: MakeClient, sim_state: SimState
) -> None:
    """One request's login trickles (no budget, a long deadline); another, with a budget, waits for it."""
    client = make_client(deadline=60)
    first, second = make_fbs(client=client), make_fbs(client=client)  # one session-key store
    sim_state.trickle_answers(TRICKLE_PAUSE, endpoint="login")
    holder = threading.Thread(target=lambda: timed(lambda: first.get_patron(1001)), daemon=True)
    holder.start()
    waited = time.monotonic()
    while sim_state.call_count("login") == 0:
        assert time.monotonic() - waited < 10, "the first login never began"
        time.sleep(0.01)

    def page() -> None:
        with upstream_budget(0.5):
            second.get_patron(1001)

    error, elapsed = timed(page)
    assert isinstance(error, UpstreamTimeout) and "another request's login" in str(error)
    assert sim_state.call_count("login") == 1  # the second request never logged in itself
    # The trickled login answer (some 50 bytes, one per 0.2 s) is still under way.
    assert elapsed < 5 and holder.is_alive()
    sim_state.wake.set()  # end the trickle (as at shutdown), so the first request ends too
    holder.join(10)
