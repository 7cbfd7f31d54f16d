"""The FBS simulator itself, spoken to with plain HTTP: paths, session rules, payments, faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from portal.devtools import demo_data
from portal.devtools.demo import DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.devtools.fbs_sim import SimState, sim_state, start_fbs_sim, stop_fbs_sim

CREDENTIALS = {"username": DEV_FBS_USERNAME, "password": DEV_FBS_PASSWORD}


class Fbs:
    """A raw HTTP view of the simulator, logged in per agency on demand."""

    def __init__(self, http: httpx.Client, url: str) -> None:
        self.http, self.url = http, url
        self.keys: dict[str, str] = {}

    def login(self, agency: str = LYNGBY, **body: Any) -> httpx.Response:
        return self.http.post(f"{self.url}/external/v2/{agency}/authentication/login", json=body or CREDENTIALS)

    def key(self, agency: str) -> str:
        if agency not in self.keys:
            response = self.login(agency)
            assert response.status_code == 200
            self.keys[agency] = response.json()["sessionKey"]
        return self.keys[agency]

    def get(self, path: str, agency: str = LYNGBY, **params: str) -> httpx.Response:
        return self.http.get(f"{self.url}/external/{path}", params=params, headers={"X-Session": self.key(agency)})

    def post(self, path: str, body: Any, agency: str = LYNGBY) -> httpx.Response:
        return self.http.post(f"{self.url}/external/{path}", json=body, headers={"X-Session": self.key(agency)})

    def fees(self, patron_id: int, agency: str = LYNGBY, **params: str) -> list[dict[str, Any]]:
        response = self.get(f"{agency}/patron/{patron_id}/fees/v2", agency, **params)
        assert response.status_code == 200, response.text
        fees: list[dict[str, Any]] = response.json()
        return fees

    def pay(self, patron_id: int, order_id: str, fee_ids: list[int]) -> httpx.Response:
        return self.post(f"v1/{LYNGBY}/patron/{patron_id}/payment", {"orderId": order_id, "feeId": fee_ids})


@pytest.fixture
def sim(http: httpx.Client, sim_url: str) -> Fbs:
    return Fbs(http, sim_url)


def fee_ids(fees: list[dict[str, Any]]) -> list[int]:
    return [fee["feeId"] for fee in fees]


# -- login and sessions ----------------------------------------------------------


def test_login_gives_a_session_key(sim: Fbs) -> None:
    response = sim.login()
    assert response.status_code == 200
    assert isinstance(response.json()["sessionKey"], str) and len(response.json()["sessionKey"]) > 16


@pytest.mark.parametrize(
    "body",
    [
        {"username": DEV_FBS_USERNAME, "password": "nope"},
        {"username": "someone", "password": DEV_FBS_PASSWORD},
        {"username": DEV_FBS_USERNAME},
    ],
)
def test_bad_credentials_are_403(sim: Fbs, body: dict[str, str]) -> None:
    assert sim.login(**body).status_code == 403


def test_login_needs_a_json_object(sim: Fbs, sim_url: str, http: httpx.Client) -> None:
    url = f"{sim_url}/external/v2/{LYNGBY}/authentication/login"
    assert http.post(url, content=b"username=x").status_code == 400
    assert http.post(url, json=["x"]).status_code == 400


def test_unknown_agency_is_404(sim: Fbs) -> None:
    assert sim.login("DK-000000").status_code == 404


def test_per_agency_credentials(sim: Fbs, sim_state: SimState) -> None:
    sim_state.credentials[RODOVRE] = ("rodovre", "secret")
    assert sim.login(RODOVRE).status_code == 403
    assert sim.login(RODOVRE, username="rodovre", password="secret").status_code == 200
    assert sim.login(LYNGBY).status_code == 200


@pytest.mark.parametrize("header", [None, "", "made-up-key"])
def test_calls_need_a_valid_session(http: httpx.Client, sim_url: str, header: str | None) -> None:
    headers = {} if header is None else {"X-Session": header}
    response = http.get(f"{sim_url}/external/{LYNGBY}/patron/1001/fees/v2", headers=headers)
    assert response.status_code == 401


def test_session_key_is_only_good_for_its_agency(sim: Fbs, http: httpx.Client, sim_url: str) -> None:
    response = http.get(f"{sim_url}/external/{RODOVRE}/patron/2001/fees/v2", headers={"X-Session": sim.key(LYNGBY)})
    assert response.status_code == 401


def test_sessions_expire(sim: Fbs, sim_state: SimState) -> None:
    sim_state.session_ttl = 0.5
    assert sim.get(f"{LYNGBY}/patrons/1001/v4").status_code == 200
    time.sleep(0.6)
    assert sim.get(f"{LYNGBY}/patrons/1001/v4").status_code == 401


def test_expire_sessions(sim: Fbs, sim_state: SimState) -> None:
    assert sim.get(f"{LYNGBY}/patrons/1001/v4").status_code == 200
    sim_state.expire_sessions()
    assert sim.get(f"{LYNGBY}/patrons/1001/v4").status_code == 401


# -- patrons -----------------------------------------------------------------------


def test_preauthenticated_by_cpr(sim: Fbs) -> None:
    response = sim.post(f"v2/{LYNGBY}/patrons/preauthenticated", "0202852222")
    assert response.status_code == 200
    body = response.json()
    assert body["authenticateStatus"] == "VALID"
    assert body["patron"]["patronId"] == 1002 and body["patron"]["name"] == "Bent Berg"


def test_preauthenticated_not_a_borrower(sim: Fbs) -> None:
    body = sim.post(f"v2/{RODOVRE}/patrons/preauthenticated", "0505955555", RODOVRE).json()
    assert body["patron"] is None


def test_preauthenticated_needs_a_json_string(sim: Fbs) -> None:
    response = sim.post(f"v2/{LYNGBY}/patrons/preauthenticated", {"cpr": "0202852222"})
    assert response.status_code == 400


def test_patron_v4_with_block_status(sim: Fbs) -> None:
    body = sim.get(f"{LYNGBY}/patrons/1002/v4").json()
    assert body["patron"]["blockStatus"] == demo_data.BLOCKS[1002]
    assert "blockStatus" not in sim.get(f"{LYNGBY}/patrons/1001/v4").json()["patron"]


def test_patron_of_another_agency_is_404(sim: Fbs) -> None:
    assert sim.get(f"{RODOVRE}/patrons/1001/v4", RODOVRE).status_code == 404
    assert sim.get(f"{LYNGBY}/patrons/9999/v4").status_code == 404


# -- fees ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [501, 502, 503, 504]),
        ({"includenonpayable": "true"}, [501, 502, 503, 504, 505, 506, 507]),
        ({"includepaid": "true"}, [501, 502, 503, 504, 508]),
        ({"includepaid": "true", "includenonpayable": "true"}, list(range(501, 509))),
        ({"includepaid": "false", "includenonpayable": "false"}, [501, 502, 503, 504]),
    ],
)
def test_fee_filters(sim: Fbs, params: dict[str, str], expected: list[int]) -> None:
    assert fee_ids(sim.fees(1001, **params)) == expected


def test_bad_flag_is_400(sim: Fbs) -> None:
    assert sim.get(f"{LYNGBY}/patron/1001/fees/v2", includepaid="yes").status_code == 400


def test_fees_are_served_verbatim(sim: Fbs) -> None:
    fees = sim.fees(1001, includepaid="true", includenonpayable="true")
    assert fees == demo_data.FEES[1001]
    # The string amount stays a string, øre stay øre.
    raw = sim.get(f"{LYNGBY}/patron/1001/fees/v2", includenonpayable="true").text
    assert '"amount":"15.25"' in raw.replace(" ", "") and "249.5" in raw


def test_old_fees_path(sim: Fbs) -> None:
    response = sim.get(f"v1/{LYNGBY}/patron/1001/fees", includenonpayable="true")
    assert fee_ids(response.json()) == [501, 502, 503, 504, 505, 506, 507]


def test_state_is_a_copy_of_the_demo_data(sim: Fbs, sim_state: SimState) -> None:
    sim_state.fees[1001].clear()
    assert sim.fees(1001) == []
    assert len(demo_data.FEES[1001]) == 8
    assert len(SimState().fees[1001]) == 8


# -- payments ---------------------------------------------------------------------


def test_payment_registers_and_is_idempotent(sim: Fbs) -> None:
    first = sim.pay(1001, "order-1", [501, 503])
    assert first.status_code == 200
    assert [(c["feeId"], c["paymentStatus"], c["orderId"]) for c in first.json()] == [
        (501, "paymentRegistered", "order-1"),
        (503, "paymentRegistered", "order-1"),
    ]
    assert all(c["confirmationId"] for c in first.json())
    again = sim.pay(1001, "order-1", [501, 503])
    assert again.json() == first.json()
    # Paid fees leave the default listing and come back with a paidDate.
    assert 501 not in fee_ids(sim.fees(1001))
    paid = {f["feeId"]: f for f in sim.fees(1001, includepaid="true")}
    assert paid[501]["paidDate"] == date.today().isoformat()


def test_payment_statuses(sim: Fbs) -> None:
    sim.pay(1001, "order-1", [501])
    answer = sim.pay(1001, "order-2", [501, 505, 508, 502]).json()
    assert [(c["feeId"], c["paymentStatus"]) for c in answer] == [
        (501, "paymentRegisteredByDifferentOrderId"),
        (505, "paymentNotAllowedByClient"),
        (508, "paymentRegisteredByDifferentOrderId"),
        (502, "paymentRegistered"),
    ]
    assert all("confirmationId" not in c for c in answer[:3])


@pytest.mark.parametrize(
    "body",
    [
        {"orderId": "o", "feeId": [9999]},  # not the patron's fee
        {"orderId": "o", "feeId": [601]},  # another patron's fee
        {"orderId": "o", "feeId": [501, 501]},
        {"orderId": "", "feeId": [501]},
        {"orderId": 5, "feeId": [501]},
        {"orderId": "o", "feeId": "501"},
        {"orderId": "o", "feeId": [True]},
        ["o", 501],
    ],
)
def test_bad_payment_orders(sim: Fbs, body: Any) -> None:
    response = sim.post(f"v1/{LYNGBY}/patron/1001/payment", body)
    assert response.status_code == 400
    assert 501 in fee_ids(sim.fees(1001))


# -- faults -----------------------------------------------------------------------


def test_fail_next_counts_down(sim: Fbs, sim_state: SimState) -> None:
    sim.key(LYNGBY)
    sim_state.fail_next(2, status=503)
    statuses = [sim.get(f"{LYNGBY}/patrons/1001/v4").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_faults_aimed_at_one_endpoint(sim: Fbs, sim_state: SimState) -> None:
    sim_state.fail_next(1, endpoint="fees")
    assert sim.get(f"{LYNGBY}/patrons/1001/v4").status_code == 200
    assert sim.get(f"{LYNGBY}/patron/1001/fees/v2").status_code == 500
    assert sim.get(f"{LYNGBY}/patron/1001/fees/v2").status_code == 200


def test_garbage(sim: Fbs, sim_state: SimState) -> None:
    sim.key(LYNGBY)
    sim_state.answer_garbage("invalid-json")
    response = sim.get(f"{LYNGBY}/patron/1001/fees/v2")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    sim_state.answer_garbage("wrong-shape", times=None)
    for _ in range(2):
        assert isinstance(sim.fees(1001), dict)
        assert isinstance(sim.get(f"{LYNGBY}/patrons/1001/v4").json(), list)
    sim_state.reset_faults()
    assert isinstance(sim.fees(1001), list)


def test_delay(sim: Fbs, sim_state: SimState) -> None:
    sim.key(LYNGBY)
    sim_state.delay_answers(0.5, endpoint="patron")
    started = time.monotonic()
    sim.get(f"{LYNGBY}/patron/1001/fees/v2")
    assert time.monotonic() - started < 0.45
    started = time.monotonic()
    sim.get(f"{LYNGBY}/patrons/1001/v4")
    assert time.monotonic() - started >= 0.5


def test_call_counts(sim: Fbs, sim_state: SimState) -> None:
    sim.fees(1001)
    sim.fees(1002)
    sim.get(f"{LYNGBY}/patrons/1001/v4")
    assert sim_state.calls == {"login": 1, "fees": 2, "patron": 1}
    assert sim_state.call_count() == 4 and sim_state.call_count("fees") == 2


@pytest.mark.parametrize("bad", [{"n": 0}, {"endpoint": "nope"}])
def test_fault_arguments_are_checked(sim_state: SimState, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sim_state.fail_next(**bad)


# -- serving ----------------------------------------------------------------------


@pytest.fixture
def started() -> Iterator[Any]:
    server = start_fbs_sim("127.0.0.1", 0)
    yield server
    stop_fbs_sim(server)


def test_start_fbs_sim_serves_demo_data(started: Any, http: httpx.Client) -> None:
    sim = Fbs(http, f"http://127.0.0.1:{started.port}")
    assert fee_ids(sim.fees(2001, RODOVRE, includenonpayable="true")) == [601, 602]
    assert sim_state(started).calls["fees"] == 1


def test_stop_releases_the_port(http: httpx.Client) -> None:
    server = start_fbs_sim("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}/external/v2/{LYNGBY}/authentication/login"
    assert http.post(url, json=CREDENTIALS).status_code == 200
    stop_fbs_sim(server)
    # A new connection: a pooled one could still reach the old handler thread.
    with httpx.Client() as fresh, pytest.raises(httpx.ConnectError):
        fresh.post(url, json=CREDENTIALS)
