"""The debtor simulator's demo data agrees with the FBS simulator's, and the rendezvous holds requests."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from flask import Flask

from portal import clock
from portal.devtools import demo_data
from portal.devtools.debtor_sim import Rendezvous, SimState, debtor_sim_state, start_debtor_sim, stop_debtor_sim
from portal.devtools.demo import DEV_DEBTOR_API_KEY

TODAY = date(2024, 5, 10)


def fbs_fee(patron_id: int, fee_id: int) -> dict[str, Any]:
    return next(f for f in demo_data.FEES[patron_id] if f["feeId"] == fee_id)


def test_library_claims_are_handed_over_fees_of_the_same_borrower() -> None:
    for patron_id, claims in demo_data.debtor_claims(TODAY).items():
        for claim in claims:
            if "feeId" in claim:
                fee = fbs_fee(patron_id, claim["feeId"])
                assert fee["payableByClient"] is False, claim["claimId"]
                assert claim["createdDate"] >= fee["creationDate"]
                # What was handed over is what FBS says is owed.
                assert float(claim["originalAmount"]) == float(fee["amount"])


def test_reminder_fees_point_at_claims_that_exist() -> None:
    for claims in demo_data.debtor_claims(TODAY).values():
        ids = {c["claimId"] for c in claims}
        for claim in claims:
            if "originClaimId" in claim:
                assert claim["originClaimId"] in ids


def test_the_demo_borrower_shows_every_case() -> None:
    """Anne at Lyngby: a reminder fee, a payment awaiting registration, a fee not yet in the debtor system."""
    claims = demo_data.debtor_claims(TODAY)[1001]
    assert any("originClaimId" in c and c["description"] == "Rykkergebyr" and c["paidDate"] is None for c in claims)
    awaiting = [c for c in claims if c.get("feeId") and c["outstandingAmount"] == "0.00"]
    assert [c["feeId"] for c in awaiting] == [506]
    assert "paidDate" not in fbs_fee(1001, 506)
    assert awaiting[0]["paidDate"] == (TODAY - timedelta(days=1)).isoformat()
    handed_over = {f["feeId"] for f in demo_data.FEES[1001] if not f["payableByClient"]}
    claimed = {c.get("feeId") for c in claims}
    assert handed_over - claimed == {507}
    # A claim present but not yet invoiced (Eva).
    assert any(c["status"] == "not_invoiced" for c in demo_data.debtor_claims(TODAY)[1005])


def test_the_sims_state_is_keyed_by_library_and_cpr_and_copied() -> None:
    state = SimState()
    anne = next(c for c in demo_data.CITIZENS if c.sub == "demo-anne")
    assert len(state.claims_of(demo_data.LYNGBY, anne.cpr)) == 4  # type: ignore[arg-type]
    state.claims_of(demo_data.LYNGBY, anne.cpr).clear()  # type: ignore[arg-type]
    assert len(state.claims_of(demo_data.LYNGBY, anne.cpr)) == 4  # type: ignore[arg-type]
    state.claims[(demo_data.LYNGBY, anne.cpr)].clear()  # type: ignore[index]
    assert len(SimState().claims_of(demo_data.LYNGBY, anne.cpr)) == 4  # type: ignore[arg-type]


def test_payments_are_dated_from_the_clock() -> None:
    with clock.frozen(clock.start_of_day(TODAY)):
        state = SimState()
    [paid] = [c for c in state.claims[(demo_data.LYNGBY, "0101901111")] if c.get("feeId") == 506]
    assert paid["paidDate"] == "2024-05-09"


def test_faults_are_used_up(http: httpx.Client) -> None:
    server = start_debtor_sim("127.0.0.1", 0)
    try:
        state = debtor_sim_state(server)
        url = f"http://127.0.0.1:{server.port}/v1/libraries/{demo_data.LYNGBY}/claims/search"
        headers = {"Authorization": f"Bearer {DEV_DEBTOR_API_KEY}"}
        state.fail_next(2, status=502)
        state.answer_garbage("invalid-json")
        statuses = [http.post(url, json={"cpr": "0101901111"}, headers=headers) for _ in range(4)]
        assert [r.status_code for r in statuses] == [502, 502, 200, 200]
        assert statuses[2].text.startswith('{"agencyId": "x"') and statuses[3].json()["claims"]
        assert state.call_count("claims") == 4
        with pytest.raises(ValueError):
            state.fail_next(0)
    finally:
        stop_debtor_sim(server)


def test_stop_releases_the_port(http: httpx.Client) -> None:
    server = start_debtor_sim("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}/v1/libraries/{demo_data.LYNGBY}/claims/search"
    stop_debtor_sim(server)
    with httpx.Client() as fresh, pytest.raises(httpx.ConnectError):
        fresh.post(url, json={"cpr": "0101901111"})


# -- the rendezvous ------------------------------------------------------------------------------


def ok_app(name: str) -> Flask:
    app = Flask(name)
    app.add_url_rule("/held", "held", lambda: name)
    app.add_url_rule("/free", "free", lambda: name)
    return app


def test_rendezvous_holds_each_request_until_the_other_arrives() -> None:
    rendezvous = Rendezvous(parties=2, timeout=5)
    first = ok_app("a").test_client()
    first.application.wsgi_app = rendezvous.wrap(first.application.wsgi_app, "/held")  # type: ignore[method-assign]
    second = ok_app("b").test_client()
    second.application.wsgi_app = rendezvous.wrap(second.application.wsgi_app, "/held")  # type: ignore[method-assign]
    rendezvous.arm()
    answers: dict[str, int] = {}
    waiting = threading.Thread(target=lambda: answers.update(a=first.get("/held").status_code))
    waiting.start()
    # Unmatched paths are not held, even while armed.
    assert second.get("/free").status_code == 200
    assert waiting.is_alive()
    assert second.get("/held").status_code == 200
    waiting.join(5)
    assert answers == {"a": 200} and rendezvous.broken == 0


def test_rendezvous_alone_fails_after_its_timeout_and_disarmed_does_nothing() -> None:
    rendezvous = Rendezvous(parties=2, timeout=0.2)
    client = ok_app("a").test_client()
    client.application.wsgi_app = rendezvous.wrap(client.application.wsgi_app, "/held")  # type: ignore[method-assign]
    assert client.get("/held").status_code == 200  # not armed
    rendezvous.arm()
    response = client.get("/held")
    assert response.status_code == 503 and "not called at the same time" in response.get_json()["message"]
    assert rendezvous.broken == 1
    rendezvous.disarm()
    assert client.get("/held").status_code == 200
