"""FbsClient against the FBS simulator over real HTTP on loopback."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from portal.devtools.demo_data import LYNGBY, RODOVRE
from portal.devtools.fbs_sim import SimState
from portal.domain.fees import BlockReason, FeeType, PaymentStatus
from portal.providers import fbs_parse
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.fbs import FbsClient, FbsCredentialsRejected, SessionKeyStore
from portal.providers.http import make_timeout
from tests.providers.conftest import MakeFbs, free_port

ANNE_CPR = "0101901111"  # Lyngby 1001, Rødovre 2001
DENNIS_CPR = "0404654444"  # no patron anywhere
EVA_CPR = "0505955555"  # Lyngby only


# -- patron look-up -------------------------------------------------------------


def test_find_patron_id_per_library(make_fbs: MakeFbs) -> None:
    assert make_fbs(LYNGBY).find_patron_id(ANNE_CPR) == 1001
    assert make_fbs(RODOVRE).find_patron_id(ANNE_CPR) == 2001


@pytest.mark.parametrize(("agency", "cpr"), [(LYNGBY, DENNIS_CPR), (RODOVRE, EVA_CPR)])
def test_not_a_borrower_is_none(make_fbs: MakeFbs, agency: str, cpr: str) -> None:
    assert make_fbs(agency).find_patron_id(cpr) is None


@pytest.mark.parametrize("cpr", ["010190-1111", "010190111", "", "abcdefghij", "０１０１９０１１１１"])
def test_malformed_cpr_is_refused_before_any_call(fbs: FbsClient, sim_state: SimState, cpr: str) -> None:
    with pytest.raises(ValueError) as info:
        fbs.find_patron_id(cpr)
    assert cpr not in str(info.value) or not cpr
    assert sim_state.call_count() == 0


def test_patron_without_blocks(fbs: FbsClient) -> None:
    patron = fbs.get_patron(1001)
    assert patron.patron_id == 1001 and patron.name == "Anne Andersen"
    assert patron.blocks == () and not patron.blocked_for_fees


def test_patron_blocked_for_fees(fbs: FbsClient) -> None:
    patron = fbs.get_patron(1002)
    assert [(b.reason, b.since) for b in patron.blocks] == [(BlockReason.DEBT_LIMIT, date(2024, 3, 12))]
    assert patron.blocked_for_fees


def test_patron_of_another_library_is_an_error(make_fbs: MakeFbs) -> None:
    with pytest.raises(UpstreamBadResponse, match="404"):
        make_fbs(RODOVRE).get_patron(1001)


def test_patron_id_must_be_an_int(fbs: FbsClient, sim_state: SimState) -> None:
    with pytest.raises(TypeError):
        fbs.get_fees("1001/../1002")  # type: ignore[arg-type]
    assert sim_state.call_count() == 0


# -- fees -------------------------------------------------------------------------


def test_fees_with_every_demo_quirk(fbs: FbsClient) -> None:
    fees = {fee.fee_id: fee for fee in fbs.get_fees(1001)}
    # Handed-over fees (includenonpayable=true) and the paid one (includepaid=true) are included.
    assert sorted(fees) == [501, 502, 503, 504, 505, 506, 507, 508]
    assert fees[502].amount == Decimal("249.50") and fees[502].type is FeeType.COMPENSATION
    assert len(fees[502].materials) == 2
    assert fees[503].amount == Decimal("15.25")
    assert fees[503].materials == () and fees[503].due is None
    assert fees[504].type is FeeType.OTHER
    assert fees[505].payable_by_client is False and fees[505].created == date(2021, 6, 15)
    assert sum(fee.amount for fee in fees.values() if not fee.is_paid) == Decimal("803.75")
    assert fees[508].paid == date(2020, 9, 2)
    assert sum(1 for fee in fees.values() if fee.is_paid) == 1


def test_no_fees(fbs: FbsClient) -> None:
    assert fbs.get_fees(1003) == []


def test_only_handed_over_fees(fbs: FbsClient) -> None:
    fees = fbs.get_fees(1005)
    assert [(f.fee_id, f.payable_by_client) for f in fees] == [(551, False), (552, False)]
    assert fees[1].amount == Decimal("45.75")


def test_negative_amount_is_a_bad_response(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fees[1001][0]["amount"] = -30
    with pytest.raises(UpstreamBadResponse, match=f"fees at {LYNGBY}: fee 501: amount is negative"):
        fbs.get_fees(1001)


def test_three_decimals_is_a_bad_response(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fees[1001][1]["amount"] = "249.505"
    with pytest.raises(UpstreamBadResponse, match="more than 2 decimals"):
        fbs.get_fees(1001)


# -- sessions -----------------------------------------------------------------------


def test_one_login_for_many_calls(fbs: FbsClient, sim_state: SimState) -> None:
    fbs.get_patron(1001)
    fbs.get_fees(1001)
    fbs.find_patron_id(ANNE_CPR)
    assert sim_state.calls["login"] == 1


def test_clients_share_the_session_store(make_fbs: MakeFbs, sim_state: SimState) -> None:
    make_fbs(LYNGBY).get_fees(1001)
    make_fbs(LYNGBY).get_fees(1002)
    assert sim_state.calls["login"] == 1
    # Another agency is another FBS client login.
    make_fbs(RODOVRE).get_fees(2001)
    assert sim_state.calls["login"] == 2


def test_separate_stores_log_in_separately(make_fbs: MakeFbs, sim_state: SimState) -> None:
    make_fbs(store=SessionKeyStore()).get_fees(1001)
    make_fbs(store=SessionKeyStore()).get_fees(1001)
    assert sim_state.calls["login"] == 2


def test_concurrent_requests_log_in_once(make_fbs: MakeFbs, sim_state: SimState) -> None:
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            make_fbs().get_fees(1001)
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sim_state.calls["login"] == 1 and sim_state.calls["fees"] == 8


def test_expired_session_logs_in_again_once(fbs: FbsClient, sim_state: SimState) -> None:
    assert fbs.get_fees(1001)
    sim_state.expire_sessions()
    assert len(fbs.get_fees(1001)) == 8
    assert sim_state.calls["login"] == 2
    assert sim_state.calls["fees"] == 3  # ok, 401, retried ok


def test_session_rejected_after_fresh_login_is_an_error(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.session_ttl = 0  # every key is stale at once
    with pytest.raises(UpstreamError, match="401") as info:
        fbs.get_fees(1001)
    assert type(info.value) is UpstreamError
    assert sim_state.calls["login"] == 2  # the first login and exactly one retry
    assert sim_state.calls["fees"] == 2


def test_bad_credentials(make_fbs: MakeFbs, sim_state: SimState) -> None:
    client = make_fbs(LYNGBY, password="wrong-secret")
    with pytest.raises(FbsCredentialsRejected) as info:
        client.get_fees(1001)
    message = str(info.value)
    assert LYNGBY in message and "gebyrportal" in message and "403" in message
    assert "wrong-secret" not in message
    assert sim_state.calls["fees"] == 0
    assert isinstance(info.value, UpstreamError)


def test_library_with_its_own_credentials(make_fbs: MakeFbs, sim_state: SimState) -> None:
    sim_state.credentials[RODOVRE] = ("rodovre-portal", "r0dovre")
    with pytest.raises(FbsCredentialsRejected, match=RODOVRE):
        make_fbs(RODOVRE).get_fees(2001)
    assert len(make_fbs(RODOVRE, "rodovre-portal", "r0dovre").get_fees(2001)) == 3


def test_login_without_session_key(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.answer_garbage("wrong-shape", endpoint="login")
    with pytest.raises(UpstreamBadResponse, match="login at DK-717300: answer has no sessionKey"):
        fbs.get_fees(1001)


# -- upstream failures ----------------------------------------------------------------


def test_timeout(make_fbs: MakeFbs, sim_state: SimState) -> None:
    with httpx.Client(timeout=make_timeout(0.5)) as quick:
        client = make_fbs(client=quick)
        client.get_fees(1001)  # logged in, warm
        sim_state.delay_answers(5.0, endpoint="fees")
        with pytest.raises(UpstreamTimeout, match=f"fees at {LYNGBY}"):
            client.get_fees(1001)
        # Patron calls are not delayed: the client is still usable.
        assert client.get_patron(1001).patron_id == 1001


def test_timeout_at_login(make_fbs: MakeFbs, sim_state: SimState) -> None:
    sim_state.delay_answers(5.0, endpoint="login")
    with httpx.Client(timeout=make_timeout(0.5)) as quick:
        with pytest.raises(UpstreamTimeout, match="login"):
            make_fbs(client=quick).get_patron(1001)


def test_connection_refused(make_fbs: MakeFbs) -> None:
    client = make_fbs(base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UpstreamError, match="cannot reach") as info:
        client.get_fees(1001)
    assert not isinstance(info.value, UpstreamTimeout)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error(fbs: FbsClient, sim_state: SimState, status: int) -> None:
    fbs.get_fees(1001)
    sim_state.fail_next(1, status=status)
    with pytest.raises(UpstreamBadResponse, match=f"fees at {LYNGBY}: unexpected status {status}"):
        fbs.get_fees(1001)
    assert len(fbs.get_fees(1001)) == 8  # only the one call failed


def test_server_error_at_login(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fail_next(1, endpoint="login")
    with pytest.raises(UpstreamBadResponse, match="login.*500"):
        fbs.get_patron(1001)
    assert fbs.get_patron(1001).patron_id == 1001


def test_unexpected_client_error_status(fbs: FbsClient, sim_state: SimState) -> None:
    sim_state.fail_next(1, status=400, endpoint="fees")
    with pytest.raises(UpstreamBadResponse, match="400"):
        fbs.get_fees(1001)


@pytest.mark.parametrize("call", ["fees", "patron", "preauthenticated"])
def test_invalid_json(fbs: FbsClient, sim_state: SimState, call: str) -> None:
    sim_state.answer_garbage("invalid-json", endpoint=call)
    with pytest.raises(UpstreamBadResponse, match="not valid JSON"):
        _call(fbs, call)


@pytest.mark.parametrize("call", ["fees", "patron", "preauthenticated"])
def test_wrong_shape(fbs: FbsClient, sim_state: SimState, call: str) -> None:
    sim_state.answer_garbage("wrong-shape", endpoint=call)
    with pytest.raises(UpstreamBadResponse, match="not a list|not an object"):
        _call(fbs, call)


def _call(fbs: FbsClient, call: str) -> object:
    if call == "fees":
        return fbs.get_fees(1001)
    if call == "patron":
        return fbs.get_patron(1001)
    return fbs.find_patron_id(ANNE_CPR)


def test_cpr_never_in_errors_or_logs(make_fbs: MakeFbs, sim_state: SimState, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fbs = make_fbs()
    failures: list[Exception] = []
    faults: tuple[Callable[[], object], ...] = (
        lambda: sim_state.fail_next(1),
        lambda: sim_state.answer_garbage("invalid-json"),
        lambda: sim_state.answer_garbage("wrong-shape"),
        sim_state.expire_sessions,
    )
    for fault in faults:
        fault()
        try:
            fbs.find_patron_id(ANNE_CPR)
        except UpstreamError as exc:
            failures.append(exc)
    sim_state.session_ttl = 0
    sim_state.expire_sessions()
    with pytest.raises(UpstreamError) as info:
        fbs.find_patron_id(ANNE_CPR)
    failures.append(info.value)
    assert len(failures) == 4  # expire_sessions alone is healed by the retry
    for failure in failures:
        assert ANNE_CPR not in str(failure) and ANNE_CPR not in repr(failure.__cause__)
    assert caplog.records, "the failures should have been logged"
    assert ANNE_CPR not in caplog.text


# -- registering a card payment ---------------------------------------------------------------


def test_a_payment_is_registered_per_fee_and_the_fees_then_show_as_paid(fbs: FbsClient) -> None:
    answer = fbs.register_payment(1001, "GP-1001-A", [501, 503])
    assert {fee_id: c.status for fee_id, c in answer.items()} == {
        501: PaymentStatus.REGISTERED,
        503: PaymentStatus.REGISTERED,
    }
    assert all(c.registered for c in answer.values())
    paid = {fee.fee_id: fee.paid for fee in fbs.get_fees(1001)}
    assert paid[501] is not None and paid[503] is not None and paid[502] is None


def test_registering_the_same_order_again_gets_the_same_answer(fbs: FbsClient, sim_state: SimState) -> None:
    # After a crash or a timeout the same order id is sent again: FBS answers as the first time.
    first = fbs.register_payment(1001, "GP-1001-B", [502])
    again = fbs.register_payment(1001, "GP-1001-B", [502])
    assert first == again and first[502].registered
    assert sim_state.calls["payment"] == 2


def test_a_fee_paid_by_another_order_meanwhile_is_not_registered_for_ours(fbs: FbsClient) -> None:
    fbs.register_payment(1001, "GP-COUNTER", [504])  # paid elsewhere (at the counter, another tab)
    answer = fbs.register_payment(1001, "GP-1001-C", [504, 501])
    assert answer[504].status is PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER and not answer[504].registered
    assert answer[501].registered


def test_a_handed_over_fee_is_not_allowed(fbs: FbsClient) -> None:
    answer = fbs.register_payment(1001, "GP-1001-D", [505])
    assert answer[505].status is PaymentStatus.NOT_ALLOWED_BY_CLIENT and not answer[505].registered


@pytest.mark.parametrize(
    ("confirmations", "problem"),
    [
        ([{"orderId": "someone-else", "feeId": 501, "paymentStatus": "paymentRegistered"}], "orderId"),
        ([{"orderId": "GP-X", "feeId": 999, "paymentStatus": "paymentRegistered"}], "not part of the order"),
        (
            [
                {"orderId": "GP-X", "feeId": 501, "paymentStatus": "paymentRegistered"},
                {"orderId": "GP-X", "feeId": 501, "paymentStatus": "paymentRegistered"},
            ],
            "twice",
        ),
        ({"orderId": "GP-X"}, "not a list"),
    ],
)
def test_an_answer_about_another_order_or_fee_is_a_bad_answer(confirmations: object, problem: str) -> None:
    with pytest.raises(UpstreamBadResponse, match=problem):
        fbs_parse.parse_payment_confirmations(json.dumps(confirmations), "GP-X", [501])


def test_an_unknown_status_or_a_missing_fee_counts_as_not_registered() -> None:
    raw = [{"orderId": "GP-X", "feeId": 501, "paymentStatus": "paymentPending"}]
    answer = fbs_parse.parse_payment_confirmations(json.dumps(raw), "GP-X", [501, 502])
    assert answer[501].status is PaymentStatus.UNKNOWN and answer[502].status is PaymentStatus.UNKNOWN
    assert not any(c.registered for c in answer.values())
    # The same answer with the documented status is registered: the status is what decides.
    raw[0]["paymentStatus"] = "paymentRegistered"
    assert fbs_parse.parse_payment_confirmations(json.dumps(raw), "GP-X", [501])[501].registered


@pytest.mark.parametrize(("order_id", "fee_ids"), [("", [501]), ("GP 1", [501]), ("x" * 65, [501]), ("GP-1", [])])
def test_a_malformed_order_is_refused_before_fbs_is_asked(
    fbs: FbsClient, sim_state: SimState, order_id: str, fee_ids: list[int]
) -> None:
    with pytest.raises(ValueError):
        fbs.register_payment(1001, order_id, fee_ids)
    assert sim_state.calls["payment"] == 0
