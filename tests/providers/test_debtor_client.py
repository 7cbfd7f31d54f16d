"""DebtorClient against the debtor simulator over real HTTP: answers, faults, timeouts, garbage."""

from __future__ import annotations

import httpx
import pytest

from portal.devtools.debtor_sim import SimState
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.domain.claims import ClaimStatus
from portal.providers.debtor import DebtorClient, DebtorCredentialsRejected
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.http import make_timeout
from tests.providers.conftest import free_port

ANNE = "0101901111"
CLARA = "0303753333"


@pytest.fixture
def debtor(http: httpx.Client, debtor_url: str) -> DebtorClient:
    return DebtorClient(http, debtor_url, DEV_DEBTOR_API_KEY)


def test_claims_of_the_demo_borrower(debtor: DebtorClient) -> None:
    claims = {c.claim_id: c for c in debtor.get_claims(LYNGBY, ANNE)}
    assert claims["LTK-2021-0505"].fee_id == 505
    assert claims["LTK-2021-0505"].status is ClaimStatus.REMINDER_SENT
    assert claims["LTK-2021-0505-R1"].added_by_municipality
    assert claims["LTK-2023-0506"].is_paid
    assert not any(c.fee_id == 507 for c in claims.values())
    assert [c.fee_id for c in debtor.get_claims(RODOVRE, ANNE)] == [602]


def test_a_citizen_without_claims(debtor: DebtorClient) -> None:
    assert debtor.get_claims(LYNGBY, CLARA) == []
    assert debtor.get_claims(LYNGBY, "0909090909") == []


def test_the_cpr_number_travels_in_the_body_never_in_the_url(debtor: DebtorClient, debtor_state: SimState) -> None:
    debtor.get_claims(LYNGBY, ANNE)
    [(method, path, query)] = debtor_state.requests
    assert method == "POST" and path == f"/v1/libraries/{LYNGBY}/claims/search"
    assert ANNE not in path + query and query == ""


def test_the_api_key_is_sent_as_a_bearer_token(http: httpx.Client, debtor_url: str) -> None:
    with pytest.raises(DebtorCredentialsRejected, match="API key refused") as info:
        DebtorClient(http, debtor_url, "wrong-key").get_claims(LYNGBY, ANNE)
    assert "wrong-key" not in str(info.value) and info.value.provider == "debtor"


def test_server_error(debtor: DebtorClient, debtor_state: SimState) -> None:
    debtor_state.fail_next(1, status=500)
    with pytest.raises(UpstreamBadResponse, match=f"claims at {LYNGBY}: unexpected status 500"):
        debtor.get_claims(LYNGBY, ANNE)
    assert len(debtor.get_claims(LYNGBY, ANNE)) == 4


def test_unknown_library_is_an_error(debtor: DebtorClient) -> None:
    with pytest.raises(UpstreamBadResponse, match="404"):
        debtor.get_claims("DK-000001", ANNE)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalid-json", "not valid JSON"),
        ("wrong-shape", "not an object"),
        ("float-amount", "outstandingAmount is not an amount"),
        ("other-agency", "another agencyId"),
    ],
)
def test_garbage_is_a_bad_response(debtor: DebtorClient, debtor_state: SimState, kind: str, message: str) -> None:
    debtor_state.answer_garbage(kind)  # type: ignore[arg-type]
    with pytest.raises(UpstreamBadResponse, match=message) as info:
        debtor.get_claims(LYNGBY, ANNE)
    assert ANNE not in str(info.value)


def test_slow_answer_times_out(debtor_url: str, debtor_state: SimState) -> None:
    debtor_state.delay_answers(5.0)
    with httpx.Client(timeout=make_timeout(0.3)) as quick:
        with pytest.raises(UpstreamTimeout, match="no answer within the timeout"):
            DebtorClient(quick, debtor_url, DEV_DEBTOR_API_KEY).get_claims(LYNGBY, ANNE)


def test_unreachable(http: httpx.Client) -> None:
    client = DebtorClient(http, f"http://127.0.0.1:{free_port()}", DEV_DEBTOR_API_KEY)
    with pytest.raises(UpstreamError, match="cannot reach") as info:
        client.get_claims(LYNGBY, ANNE)
    assert not isinstance(info.value, (UpstreamTimeout, UpstreamBadResponse))


@pytest.mark.parametrize("cpr", ["010190111", "01019011110", "010190-1111", 101901111, "０１０１９０１１１１"])
def test_malformed_cpr_is_refused_before_any_call(debtor: DebtorClient, debtor_state: SimState, cpr: object) -> None:
    with pytest.raises(ValueError) as info:
        debtor.get_claims(LYNGBY, cpr)  # type: ignore[arg-type]
    assert str(cpr) not in str(info.value)
    assert debtor_state.call_count() == 0


def test_sim_refuses_a_bad_body(http: httpx.Client, debtor_url: str) -> None:
    url = f"{debtor_url}/v1/libraries/{LYNGBY}/claims/search"
    headers = {"Authorization": f"Bearer {DEV_DEBTOR_API_KEY}"}
    assert http.post(url, json={"cpr": "123"}, headers=headers).status_code == 400
    assert http.post(url, json=ANNE, headers=headers).status_code == 400
    assert http.post(url, json={"cpr": ANNE}).status_code == 401
    assert http.get(url, headers=headers).status_code == 405
