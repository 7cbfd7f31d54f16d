"""FbsAdapterClient against the FBS simulator's adapter mode over real HTTP: literal paths, Bearer, refusals.

The simulator resolves each bearer token by asking a userinfo server over HTTP; here that is the
small stand-in `UserinfoStub` (the Adgangsplatformen simulator serves the same endpoint).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cachelib import SimpleCache

from portal.devtools import demo_data
from portal.devtools.demo import DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.fbs_sim.userinfo_stub import UserinfoStub, start_userinfo_stub, stop_userinfo_stub
from portal.devtools.simulators import serve_in_thread, stop_serving
from portal.domain.fees import PaymentStatus
from portal.providers.errors import UpstreamBadResponse, UpstreamError
from portal.providers.fbs import FbsClient, SessionKeyStore
from portal.providers.fbs_adapter import FbsAdapterClient, FbsTokenRejected
from portal.providers.upstreams import Upstreams
from tests.support.settings import test_settings

ANNE_CPR = "0101901111"
KIM_CARD = "K-4711"  # a card + PIN borrower: no CPR number anywhere
KIM = 1077
ANNE_TOKEN, KIM_TOKEN, LIBRARY_TOKEN, EXPIRED_TOKEN = "anne-user-token", "kim-user-token", "anon-token", "old-token"
TOKENS: dict[str, dict[str, Any] | int] = {
    ANNE_TOKEN: {
        "uniqueId": "u-anne",
        "cpr": ANNE_CPR,
        "agencies": [{"agencyId": LYNGBY, "userId": ANNE_CPR, "userIdType": "CPR"}],
    },
    KIM_TOKEN: {"uniqueId": "u-kim", "agencies": [{"agencyId": LYNGBY, "userId": KIM_CARD, "userIdType": "LOCAL"}]},
    LIBRARY_TOKEN: {},  # an anonymous (library) token: no user
    EXPIRED_TOKEN: 401,
}
ADAPTER_PATHS = {
    "patron": "/external/agencyid/patrons/patronid/v4",
    "fees": "/external/agencyid/patron/patronid/fees/v2",
    "payment": "/external/v1/agencyid/patron/patronid/payment",
}


def adapter_state(userinfo_url: str) -> SimState:
    """The demo data, plus Kim: a borrower known to FBS by card number only (own fee ids)."""
    state = SimState(adgangsplatformen_url=userinfo_url)
    state.local_users[KIM_CARD] = {LYNGBY: KIM}
    state.names[KIM] = "Kim Kortholder"
    state.fees[KIM] = [{**fee, "feeId": fee["feeId"] + 9000} for fee in copy.deepcopy(demo_data.FEES[1001])]
    return state


@dataclass
class Recorder:
    """Every request the simulator got: (path, query, Authorization, X-Session)."""

    seen: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self.lock:
                self.seen.append(
                    (
                        environ["PATH_INFO"],
                        environ.get("QUERY_STRING", ""),
                        environ.get("HTTP_AUTHORIZATION"),
                        environ.get("HTTP_X_SESSION"),
                    )
                )
            return app(environ, start_response)

        return recording


@dataclass
class AdapterSim:
    url: str
    state: SimState
    userinfo: UserinfoStub
    recorder: Recorder


@contextmanager
def running_adapter_sim() -> Iterator[AdapterSim]:
    """The FBS simulator (adapter state) and its userinfo stand-in, each on a loopback port."""
    stub = UserinfoStub(dict(TOKENS))
    userinfo = start_userinfo_stub(stub)
    state = adapter_state(f"http://127.0.0.1:{userinfo.port}")
    recorder = Recorder()
    fbs = serve_in_thread(recorder.wrap(create_fbs_sim_app(state)), "127.0.0.1", 0, "fbs-sim-adapter")
    try:
        yield AdapterSim(f"http://127.0.0.1:{fbs.port}", state, stub, recorder)
    finally:
        stop_serving(fbs, state.wake)
        stop_userinfo_stub(userinfo)


@pytest.fixture
def adapter_sim() -> Iterator[AdapterSim]:
    with running_adapter_sim() as sim:
        yield sim


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        yield client


def adapter(http: httpx.Client, sim: AdapterSim, token: str) -> FbsAdapterClient:
    return FbsAdapterClient(http, sim.url, LYNGBY, token)


def test_patron_and_fees_on_the_literal_paths_with_the_bearer_token(
    http: httpx.Client, adapter_sim: AdapterSim
) -> None:
    client = adapter(http, adapter_sim, ANNE_TOKEN)
    patron = client.get_patron()
    fees = client.get_fees()
    assert patron is not None and (patron.patron_id, patron.name) == (1001, "Anne Andersen")
    assert [f.fee_id for f in fees] == [f["feeId"] for f in demo_data.FEES[1001]]
    assert [(path, auth, session) for path, _query, auth, session in adapter_sim.recorder.seen] == [
        (ADAPTER_PATHS["patron"], f"Bearer {ANNE_TOKEN}", None),
        (ADAPTER_PATHS["fees"], f"Bearer {ANNE_TOKEN}", None),
    ]
    # Handed-over fees always asked for; paid ones too, as in direct mode (recently paid, registration).
    assert "includenonpayable=true" in adapter_sim.recorder.seen[1][1]
    assert adapter_sim.userinfo.asked[ANNE_TOKEN] == 2  # every call resolved its token anew


def test_the_same_fees_as_direct_mode(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    direct = FbsClient(http, adapter_sim.url, LYNGBY, *_dev_login(), SessionKeyStore())
    patron_id = direct.find_patron_id(ANNE_CPR)
    assert patron_id == 1001
    assert adapter(http, adapter_sim, ANNE_TOKEN).get_fees() == direct.get_fees(patron_id)
    assert adapter(http, adapter_sim, ANNE_TOKEN).get_patron() == direct.get_patron(patron_id)


def test_a_card_and_pin_borrower_is_found_by_the_agencys_user_id(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    client = adapter(http, adapter_sim, KIM_TOKEN)
    patron = client.get_patron()
    assert patron is not None and patron.patron_id == KIM
    assert {f.fee_id for f in client.get_fees()} == {f["feeId"] + 9000 for f in demo_data.FEES[1001]}


def test_an_anonymous_token_is_refused_403_and_raised_as_token_rejected(
    http: httpx.Client, adapter_sim: AdapterSim
) -> None:
    raw = http.get(adapter_sim.url + ADAPTER_PATHS["fees"], headers={"Authorization": f"Bearer {LIBRARY_TOKEN}"})
    assert (raw.status_code, raw.json()) == (403, {"message": "user authenticated token is required"})
    with pytest.raises(FbsTokenRejected, match="anonymous .*403.*sign in again"):
        adapter(http, adapter_sim, LIBRARY_TOKEN).get_patron()


def test_an_expired_token_is_401_and_raised_as_token_rejected(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    raw = http.get(adapter_sim.url + ADAPTER_PATHS["patron"], headers={"Authorization": f"Bearer {EXPIRED_TOKEN}"})
    assert raw.status_code == 401
    with pytest.raises(FbsTokenRejected, match="expired or is unknown .*401"):
        adapter(http, adapter_sim, EXPIRED_TOKEN).get_fees()
    # A token the userinfo server never issued reads the same.
    with pytest.raises(FbsTokenRejected, match="401"):
        adapter(http, adapter_sim, "never-issued").get_fees()


def test_token_rejected_is_an_upstream_error_but_not_a_broken_fbs(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    with pytest.raises(UpstreamError) as caught:
        adapter(http, adapter_sim, EXPIRED_TOKEN).get_patron()
    assert isinstance(caught.value, FbsTokenRejected) and not isinstance(caught.value, UpstreamBadResponse)
    adapter_sim.state.fail_next(endpoint="fees")
    with pytest.raises(UpstreamBadResponse) as broken:
        adapter(http, adapter_sim, ANNE_TOKEN).get_fees()
    assert not isinstance(broken.value, FbsTokenRejected)  # FBS down is no reason to sign in again


def test_no_bearer_token_no_session_header_is_refused(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    assert http.get(adapter_sim.url + ADAPTER_PATHS["patron"]).status_code == 401
    with pytest.raises(ValueError):
        FbsAdapterClient(http, adapter_sim.url, LYNGBY, "")


def test_the_token_is_in_no_log_line_or_error(
    http: httpx.Client, adapter_sim: AdapterSim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="portal")
    client = adapter(http, adapter_sim, ANNE_TOKEN)
    client.get_fees()
    adapter_sim.state.answer_garbage("wrong-shape", endpoint="fees")
    with pytest.raises(UpstreamBadResponse) as caught:
        client.get_fees()
    with pytest.raises(FbsTokenRejected) as rejected:
        adapter(http, adapter_sim, EXPIRED_TOKEN).get_fees()
    said = caplog.text + str(caught.value) + str(rejected.value) + repr(client)
    assert "via dbc_adapter" in said
    assert ANNE_TOKEN not in said and EXPIRED_TOKEN not in said and ANNE_CPR not in said


def test_a_payment_is_registered_for_the_tokens_patron(http: httpx.Client, adapter_sim: AdapterSim) -> None:
    client = adapter(http, adapter_sim, ANNE_TOKEN)
    payable = [f.fee_id for f in client.get_fees() if f.payable_by_client and not f.is_paid][:2]
    answers = client.register_payment("order-ad-1", payable)
    assert {fee: c.status for fee, c in answers.items()} == dict.fromkeys(payable, PaymentStatus.REGISTERED)
    assert client.register_payment("order-ad-1", payable) == answers  # idempotent per order id
    assert all(f.is_paid for f in client.get_fees() if f.fee_id in payable)
    assert (ADAPTER_PATHS["payment"], f"Bearer {ANNE_TOKEN}") in [(p, a) for p, _q, a, _s in adapter_sim.recorder.seen]
    # Direct mode sees the same payment: one FBS behind both ways in.
    direct = FbsClient(http, adapter_sim.url, LYNGBY, *_dev_login(), SessionKeyStore())
    assert all(f.is_paid for f in direct.get_fees(1001) if f.fee_id in payable)


def test_without_a_userinfo_server_the_simulator_says_so(http: httpx.Client) -> None:
    state = SimState(adgangsplatformen_url=None)
    server = serve_in_thread(create_fbs_sim_app(state), "127.0.0.1", 0, "fbs-sim-no-ap")
    try:
        client = FbsAdapterClient(http, f"http://127.0.0.1:{server.port}", LYNGBY, ANNE_TOKEN)
        with pytest.raises(UpstreamBadResponse, match="503"):
            client.get_patron()
    finally:
        stop_serving(server, state.wake)


def test_upstreams_build_the_adapter_only_with_its_base_url(adapter_sim: AdapterSim) -> None:
    without = Upstreams(test_settings(), SimpleCache())
    with pytest.raises(UpstreamError, match="PORTAL_FBS_ADAPTER_BASE_URL"):
        without.fbs_adapter(LYNGBY, ANNE_TOKEN)
    without.close()
    upstreams = Upstreams(test_settings(PORTAL_FBS_ADAPTER_BASE_URL=adapter_sim.url), SimpleCache())
    try:
        found = upstreams.fbs_adapter(LYNGBY, ANNE_TOKEN).find_patron()
        assert found is not None and found.patron_id == 1001
    finally:
        upstreams.close()


def _dev_login() -> tuple[str, str]:
    return DEV_FBS_USERNAME, DEV_FBS_PASSWORD
