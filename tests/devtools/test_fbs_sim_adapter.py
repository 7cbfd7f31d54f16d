"""The FBS simulator's adapter mode, spoken to with plain HTTP: literal paths, bearer tokens, refusals."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.devtools.fbs_sim.state import ADGANGSPLATFORMEN_URL_ENV, SimState
from tests.providers.test_fbs_adapter_client import (
    ADAPTER_PATHS,
    ANNE_CPR,
    ANNE_TOKEN,
    EXPIRED_TOKEN,
    KIM,
    KIM_CARD,
    KIM_TOKEN,
    LIBRARY_TOKEN,
    AdapterSim,
    running_adapter_sim,
)

ANONYMOUS = {"message": "user authenticated token is required"}


@pytest.fixture
def sim() -> Iterator[AdapterSim]:
    with running_adapter_sim() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        yield client


def get(http: httpx.Client, sim: AdapterSim, what: str, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return http.get(sim.url + ADAPTER_PATHS[what], headers=headers, params=params)


def test_patron_v4_of_the_tokens_borrower(http: httpx.Client, sim: AdapterSim) -> None:
    answer = get(http, sim, "patron", ANNE_TOKEN)
    assert answer.status_code == 200
    assert answer.json()["patron"]["patronId"] == 1001 and answer.json()["authenticateStatus"] == "VALID"


def test_fees_honour_the_flags_as_in_direct_mode(http: httpx.Client, sim: AdapterSim) -> None:
    everything = get(http, sim, "fees", ANNE_TOKEN, includepaid="true", includenonpayable="true").json()
    payable_only = get(http, sim, "fees", ANNE_TOKEN, includepaid="false", includenonpayable="false").json()
    assert all(fee["payableByClient"] for fee in payable_only)
    assert len(payable_only) < len(everything)
    assert get(http, sim, "fees", ANNE_TOKEN, includepaid="maybe").status_code == 400


def test_a_local_user_id_maps_to_its_patron(http: httpx.Client, sim: AdapterSim) -> None:
    assert get(http, sim, "patron", KIM_TOKEN).json()["patron"]["patronId"] == KIM


def test_the_first_of_the_users_agencies_with_a_patron_stands_for_the_token(
    http: httpx.Client, sim: AdapterSim
) -> None:
    sim.userinfo.tokens["both"] = {
        "uniqueId": "u-anne",
        "agencies": [
            {"agencyId": "DK-999999", "userId": ANNE_CPR, "userIdType": "CPR"},  # no patron there
            {"agencyId": RODOVRE, "userId": ANNE_CPR, "userIdType": "CPR"},
            {"agencyId": LYNGBY, "userId": ANNE_CPR, "userIdType": "CPR"},
        ],
    }
    assert get(http, sim, "patron", "both").json()["patron"]["patronId"] == 2001
    # Without agencies, the CPR attribute finds the borrower.
    sim.userinfo.tokens["cpr-only"] = {"uniqueId": "u-anne", "cpr": ANNE_CPR}
    assert get(http, sim, "patron", "cpr-only").json()["patron"]["patronId"] in (1001, 2001)


@pytest.mark.parametrize("what", ["patron", "fees"])
def test_an_anonymous_token_is_403(http: httpx.Client, sim: AdapterSim, what: str) -> None:
    answer = get(http, sim, what, LIBRARY_TOKEN)
    assert (answer.status_code, answer.json()) == (403, ANONYMOUS)


def test_a_signed_in_user_who_is_no_patron_here_gets_no_patron_not_a_refusal(
    http: httpx.Client, sim: AdapterSim
) -> None:
    sim.userinfo.tokens["stranger"] = {
        "uniqueId": "u-x",
        "agencies": [{"agencyId": "715700", "userId": "0404654444", "userIdType": "CPR"}],
    }
    answer = get(http, sim, "patron", "stranger")
    assert (answer.status_code, answer.json()["patron"]) == (200, None)
    assert get(http, sim, "fees", "stranger").status_code == 404


def test_adgangsplatformens_agency_numbers_are_fbss_isil(http: httpx.Client, sim: AdapterSim) -> None:
    sim.userinfo.tokens["by-number"] = {
        "uniqueId": "u-kim",
        "agencies": [{"agencyId": "717300", "userId": KIM_CARD, "userIdType": "LOCAL"}],
    }
    assert get(http, sim, "patron", "by-number").json()["patron"]["patronId"] == KIM


def test_a_token_userinfo_refuses_is_401(http: httpx.Client, sim: AdapterSim) -> None:
    assert get(http, sim, "fees", EXPIRED_TOKEN).status_code == 401
    assert get(http, sim, "fees", None).status_code == 401
    assert sim.userinfo.asked[EXPIRED_TOKEN] == 1  # really asked over HTTP


def test_a_direct_mode_session_key_is_no_adapter_token(http: httpx.Client, sim: AdapterSim) -> None:
    login = http.post(
        f"{sim.url}/external/v2/{LYNGBY}/authentication/login",
        json={"username": sim.state.username, "password": sim.state.password},
    )
    key = login.json()["sessionKey"]
    assert http.get(sim.url + ADAPTER_PATHS["fees"], headers={"X-Session": key}).status_code == 401


def test_payment_for_the_tokens_patron(http: httpx.Client, sim: AdapterSim) -> None:
    fees = get(http, sim, "fees", ANNE_TOKEN, includepaid="false", includenonpayable="false").json()
    fee_id = fees[0]["feeId"]
    body = {"orderId": "sim-ad-1", "feeId": [fee_id]}
    headers = {"Authorization": f"Bearer {ANNE_TOKEN}"}
    first = http.post(sim.url + ADAPTER_PATHS["payment"], json=body, headers=headers)
    assert first.status_code == 200 and first.json()[0]["paymentStatus"] == "paymentRegistered"
    assert http.post(sim.url + ADAPTER_PATHS["payment"], json=body, headers=headers).json() == first.json()
    # Kim's token cannot pay Anne's fee.
    other = {"orderId": "sim-ad-2", "feeId": [fee_id]}
    refused = http.post(
        sim.url + ADAPTER_PATHS["payment"], json=other, headers={"Authorization": f"Bearer {KIM_TOKEN}"}
    )
    assert refused.status_code == 400
    anonymous = http.post(
        sim.url + ADAPTER_PATHS["payment"], json=other, headers={"Authorization": f"Bearer {LIBRARY_TOKEN}"}
    )
    assert anonymous.status_code == 403


def test_faults_and_counts_apply_to_the_adapter_paths(http: httpx.Client, sim: AdapterSim) -> None:
    sim.state.fail_next(endpoint="fees", status=502)
    assert get(http, sim, "fees", ANNE_TOKEN).status_code == 502
    assert get(http, sim, "fees", ANNE_TOKEN).status_code == 200
    sim.state.answer_garbage("invalid-json", endpoint="patron")
    assert get(http, sim, "patron", ANNE_TOKEN).status_code == 200
    assert sim.state.calls["fees"] == 2 and sim.state.calls["patron"] == 1


def test_the_userinfo_address_comes_from_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADGANGSPLATFORMEN_URL_ENV, "http://127.0.0.1:8765")
    assert SimState().adgangsplatformen_url == "http://127.0.0.1:8765"
    monkeypatch.delenv(ADGANGSPLATFORMEN_URL_ENV)
    assert SimState().adgangsplatformen_url is None


def test_with_the_adgangsplatformen_simulator_a_card_and_pin_token_reads_eva(http: httpx.Client) -> None:
    """The same over the project's Adgangsplatformen simulator: a token it issued, then revoked."""
    from portal.devtools.adgangsplatformen import ApState, start_adgangsplatformen_sim, stop_adgangsplatformen_sim
    from portal.devtools.demo_data import library_user_by_id
    from portal.devtools.fbs_sim import start_fbs_sim, stop_fbs_sim
    from portal.providers.fbs_adapter import FbsAdapterClient, FbsTokenRejected

    ap_state = ApState()
    ap = start_adgangsplatformen_sim("127.0.0.1", 0, [], ap_state)
    fbs = start_fbs_sim("127.0.0.1", 0, SimState(adgangsplatformen_url=f"http://127.0.0.1:{ap.port}"))
    try:
        eva = library_user_by_id("ap-eva-9c21")
        assert eva is not None and eva.cpr is None
        grant = ap_state.take_code(ap_state.issue_code("c", "https://portal/cb", eva, "717300"))
        assert grant is not None
        token = ap_state.issue_token(grant)
        client = FbsAdapterClient(http, f"http://127.0.0.1:{fbs.port}", LYNGBY, token)
        patron = client.get_patron()
        assert patron is not None and patron.patron_id == 1005 and client.get_fees()
        ap_state.end_single_sign_on(eva.unique_id)  # signed out at DBC: the token is dead
        with pytest.raises(FbsTokenRejected, match="401"):
            client.get_fees()
    finally:
        stop_fbs_sim(fbs)
        stop_adgangsplatformen_sim(ap)
