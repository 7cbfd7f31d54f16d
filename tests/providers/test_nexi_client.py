"""NexiClient against the Nexi simulator over real HTTP: the calls, idempotent charges, each refusal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from portal.devtools.nexi_sim import DEV_NEXI_SECRET_KEY, SimState
from portal.domain import money
from portal.providers import nexi_parse
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.http import make_timeout
from portal.providers.nexi import (
    CreatedPayment,
    NexiAlreadyCharged,
    NexiAmountMismatch,
    NexiCheckout,
    NexiClient,
    NexiCredentialsRejected,
    NexiDeclined,
    NexiDifferentAmount,
    NexiHardDecline,
    NexiItem,
    NexiOrder,
    NexiOverCharge,
    NexiPaymentNotFound,
    NexiRateLimited,
    NexiRequestRefused,
    NexiReservationExpired,
    NexiWebhook,
)
from tests.providers.conftest import WebhookReceiver, free_port

SECRET_HOOK = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"  # 32 alphanumerics
CHECKOUT = NexiCheckout("https://portal.example/lyngby/betaling/retur", "https://portal.example/vilkaar")


def order(*prices: str, reference: str = "NE24-0001-001") -> NexiOrder:
    items = tuple(NexiItem.from_kroner(str(500 + i), f"Gebyr {i}", Decimal(p)) for i, p in enumerate(prices))
    return NexiOrder.of_items(reference, items)


def reserve(created: CreatedPayment) -> None:
    """The citizen pays on the hosted page with a card."""
    response = httpx.post(f"{created.hosted_payment_page_url}/card")
    assert response.status_code == 303


def test_create_sends_a_reserve_only_hosted_payment(nexi: NexiClient, nexi_state: SimState) -> None:
    hooks = [NexiWebhook("payment.checkout.completed", "https://portal.example/nexi/webhook", SECRET_HOOK)]
    created = nexi.create_payment(order("60.00", "0.29"), CHECKOUT, hooks)
    assert created.hosted_payment_page_url.endswith(f"/hpp/{created.payment_id}")
    [body] = nexi_state.created_requests
    assert body["checkout"] == {
        "integrationType": "HostedPaymentPage",
        "returnUrl": CHECKOUT.return_url,
        "termsUrl": CHECKOUT.terms_url,
        "charge": False,
        "merchantHandlesConsumerData": True,
    }
    assert body["order"]["amount"] == 6029 and body["order"]["currency"] == "DKK"
    assert body["order"]["items"][1] == {
        "reference": "501",
        "name": "Gebyr 1",
        "quantity": 1,
        "unit": "pcs",
        "unitPrice": 29,
        "grossTotalAmount": 29,
        "netTotalAmount": 29,
    }
    assert body["notifications"]["webHooks"][0]["authorization"] == SECRET_HOOK
    assert SECRET_HOOK not in repr(hooks)


def test_amounts_are_exact_in_ore() -> None:
    # 0.29 * 100 in float is 28.999999999999996; in øre it must be 29.
    assert NexiItem.from_kroner("1", "x", Decimal("0.29")).unit_price_ore == 29
    assert order("0.1", "0.2").amount_ore == 30
    with pytest.raises(ValueError, match="fraction of an øre"):
        NexiItem.from_kroner("1", "x", Decimal("0.295"))


def test_the_1005_check_is_made_before_sending(nexi: NexiClient, nexi_state: SimState) -> None:
    bad = NexiOrder("NE-1", order("10.00", "5.00").items, 1499)
    with pytest.raises(NexiAmountMismatch, match="not sent") as info:
        nexi.create_payment(bad, CHECKOUT, [])
    assert info.value.provider == "nexi" and info.value.code == "1005"
    with pytest.raises(NexiAmountMismatch):
        nexi.create_payment(NexiOrder("NE-1", (), 0), CHECKOUT, [])
    assert nexi_state.call_count() == 0


def test_the_simulator_would_have_refused_it_with_1005(http: httpx.Client, nexi_url: str) -> None:
    # Proof the client check mirrors a real rule: the same order, sent raw.
    item = NexiItem("1", "x", 1000).as_json()
    body: dict[str, Any] = {
        "order": {"items": [item], "amount": 999, "currency": "DKK", "reference": "r"},
        "checkout": {"integrationType": "HostedPaymentPage", "returnUrl": "https://a", "termsUrl": "https://b"},
    }
    response = http.post(f"{nexi_url}/v1/payments", json=body, headers={"Authorization": DEV_NEXI_SECRET_KEY})
    assert response.status_code == 400 and response.json()["code"] == "1005"


def test_retrieve_before_and_after_the_reservation(nexi: NexiClient) -> None:
    created = nexi.create_payment(order("60.00", "0.29"), CHECKOUT, [])
    before = nexi.retrieve(created.payment_id)
    assert (before.reserved_ore, before.charged_ore, before.cancelled_ore) == (0, 0, 0)
    assert (before.amount_ore, before.currency, before.reference) == (6029, "DKK", "NE24-0001-001")
    assert before.masked_pan is None and before.payment_method is None and not before.terminated
    reserve(created)
    after = nexi.retrieve(created.payment_id)
    assert after.reserved_ore == 6029 and after.reserved == Decimal("60.29")
    assert after.payment_method == "Visa" and after.masked_pan == "492500******0004"
    assert "492500" not in repr(after) and "NE24" not in repr(after)


def test_charge_and_its_idempotent_replay(nexi: NexiClient, nexi_state: SimState) -> None:
    created = nexi.create_payment(order("60.00", "0.29"), CHECKOUT, [])
    reserve(created)
    charge_id = nexi.charge(created.payment_id, 6029, "order-1-charge")
    # A retry after a lost answer: the same key and amount give the first answer, no second capture.
    assert nexi.charge(created.payment_id, 6029, "order-1-charge") == charge_id
    payment = nexi.retrieve(created.payment_id)
    assert payment.charged_ore == 6029 and payment.charged == Decimal("60.29")
    assert len(nexi_state.payments[created.payment_id].charges) == 1
    with pytest.raises(NexiDifferentAmount):
        nexi.charge(created.payment_id, 6000, "order-1-charge")
    with pytest.raises(NexiAlreadyCharged) as info:
        nexi.charge(created.payment_id, 6029, "another-key")
    assert info.value.code == "1008" and isinstance(info.value, NexiRequestRefused)


def test_over_charge(nexi: NexiClient) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    reserve(created)
    with pytest.raises(NexiOverCharge, match=r"charge: refused \(400, code 1001\)"):
        nexi.charge(created.payment_id, 1001, "k1")


def test_reservation_expired(nexi: NexiClient, nexi_state: SimState) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    reserve(created)
    nexi_state.reservation_expired = True
    with pytest.raises(NexiReservationExpired):
        nexi.charge(created.payment_id, 1000, "k1")


def test_hard_decline(nexi: NexiClient, nexi_state: SimState) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    reserve(created)
    nexi_state.hard_decline = True
    with pytest.raises(NexiHardDecline) as info:
        nexi.charge(created.payment_id, 1000, "k1")
    assert isinstance(info.value, NexiDeclined) and info.value.code == "1029"


def test_a_402_without_a_code_is_declined(nexi: NexiClient, nexi_state: SimState) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    reserve(created)
    nexi_state.fail_next(1, status=402)
    with pytest.raises(NexiDeclined) as info:
        nexi.charge(created.payment_id, 1000, "k1")
    assert not isinstance(info.value, NexiHardDecline)


def test_cancel_and_a_repeated_cancel(nexi: NexiClient) -> None:
    created = nexi.create_payment(order("10.00", "0.29"), CHECKOUT, [])
    reserve(created)
    nexi.cancel(created.payment_id, 1029)
    nexi.cancel(created.payment_id, 1029)  # 1019 already cancelled: done
    assert nexi.retrieve(created.payment_id).cancelled_ore == 1029
    with pytest.raises(NexiRequestRefused):
        nexi.charge(created.payment_id, 1029, "k1")


def test_terminate_an_open_checkout(nexi: NexiClient) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    nexi.terminate(created.payment_id)
    assert nexi.retrieve(created.payment_id).terminated
    assert httpx.post(f"{created.hosted_payment_page_url}/card").status_code == 410
    with pytest.raises(NexiRequestRefused):
        nexi.terminate(created.payment_id)


def test_a_completed_checkout_cannot_be_terminated(nexi: NexiClient) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    reserve(created)
    with pytest.raises(NexiRequestRefused):
        nexi.terminate(created.payment_id)


def test_rate_limited_retrievals(nexi: NexiClient, nexi_state: SimState) -> None:
    nexi_state.retrieval_limit = 3
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    for _ in range(3):
        nexi.retrieve(created.payment_id)
    with pytest.raises(NexiRateLimited, match=r"retrieve: rate limited \(429\)"):
        nexi.retrieve(created.payment_id)
    # The limit is per payment.
    other = nexi.create_payment(order("10.00"), CHECKOUT, [])
    assert nexi.retrieve(other.payment_id).amount_ore == 1000


def test_unknown_payment(nexi: NexiClient) -> None:
    with pytest.raises(NexiPaymentNotFound):
        nexi.retrieve("0123456789abcdef")


def test_the_secret_key_is_sent_raw_and_never_in_a_message(http: httpx.Client, nexi_url: str) -> None:
    with pytest.raises(NexiCredentialsRejected, match=r"secret key refused \(401\)") as info:
        NexiClient(http, nexi_url, "wrong-secret").retrieve("abc")
    assert "wrong-secret" not in str(info.value) and info.value.provider == "nexi"


def test_server_errors_and_timeouts(nexi: NexiClient, nexi_state: SimState, nexi_url: str) -> None:
    created = nexi.create_payment(order("10.00"), CHECKOUT, [])
    nexi_state.fail_next(1, status=500)
    with pytest.raises(UpstreamBadResponse, match="retrieve: unexpected status 500"):
        nexi.retrieve(created.payment_id)
    nexi_state.delay_answers(0.5)
    with httpx.Client(timeout=make_timeout(0.1)) as quick:
        with pytest.raises(UpstreamTimeout):
            NexiClient(quick, nexi_url, nexi_state.secret_key).retrieve(created.payment_id)


def test_unreachable(http: httpx.Client) -> None:
    with pytest.raises(UpstreamError, match="cannot reach"):
        NexiClient(http, f"http://127.0.0.1:{free_port()}", "k").retrieve("abc")


def test_webhooks_reach_the_subscriber(
    nexi: NexiClient, nexi_state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    events = ["payment.reservation.created.v2", "payment.checkout.completed", "payment.charge.created.v2"]
    hooks = [NexiWebhook(event, webhook_receiver.url, SECRET_HOOK) for event in events]
    created = nexi.create_payment(order("10.00"), CHECKOUT, hooks)
    reserve(created)
    nexi.charge(created.payment_id, 1000, "k1")
    nexi_state.wait_for_deliveries(3)
    nexi_state.wait_for_webhooks_sent()
    assert sorted(webhook_receiver.events()) == sorted(events)
    assert all(auth == SECRET_HOOK for auth, _ in webhook_receiver.received)


def test_the_parser_checks_what_it_reads() -> None:
    with pytest.raises(UpstreamBadResponse, match="another paymentId"):
        nexi_parse.parse_payment(b'{"payment": {"paymentId": "b", "orderDetails": {}}}', "a")
    details = b'"orderDetails": {"amount": 10, "currency": "DKK", "reference": "r"}'
    body = b'{"payment": {"paymentId": "a", "summary": {"reservedAmount": 10.5}, ' + details + b"}}"
    with pytest.raises(UpstreamBadResponse, match="reservedAmount is not an integer"):
        nexi_parse.parse_payment(body, "a")
    body = b'{"payment": {"paymentId": "a", "summary": {"reservedAmount": -1}, ' + details + b"}}"
    with pytest.raises(UpstreamBadResponse, match="negative"):
        nexi_parse.parse_payment(body, "a")
    assert nexi_parse.error_code(b'{"code": 1008}') == "1008"
    assert nexi_parse.error_code(b'{"errors": {"amount": ["x"]}}') is None
    assert nexi_parse.error_code(b"not json") is None
    assert money.from_ore(nexi_parse.MAX_ORE) > money.MAX_AMOUNT
