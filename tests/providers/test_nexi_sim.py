"""The Nexi simulator's own rules: what create validates, charges and cancels, the hosted page, webhooks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.devtools.nexi_sim import DEV_NEXI_SECRET_KEY, SimState, create_nexi_sim_app
from tests.providers.conftest import WebhookReceiver

AUTH = {"Authorization": DEV_NEXI_SECRET_KEY}
HOOK_SECRET = "hook0secret0for0this0payment0001"
RETURN_URL = "https://portal.example/retur"
CANCEL_URL = "https://portal.example/annulleret"


@pytest.fixture
def state() -> SimState:
    return SimState(webhook_retry_pause=0.01)


@pytest.fixture
def client(state: SimState) -> FlaskClient:
    return create_nexi_sim_app(state).test_client()


def item(reference: str = "501", price: int = 6000) -> dict[str, Any]:
    return {
        "reference": reference,
        "name": "Gebyr",
        "quantity": 1,
        "unit": "pcs",
        "unitPrice": price,
        "grossTotalAmount": price,
        "netTotalAmount": price,
    }


def body(*prices: int, hooks: list[dict[str, Any]] | None = None, **checkout: Any) -> dict[str, Any]:
    items = [item(str(500 + i), p) for i, p in enumerate(prices or (6000,))]
    return {
        "order": {"items": items, "amount": sum(prices or (6000,)), "currency": "DKK", "reference": "NE-1"},
        "checkout": {
            "integrationType": "HostedPaymentPage",
            "returnUrl": RETURN_URL,
            "termsUrl": "https://portal.example/vilkaar",
            "charge": False,
            "merchantHandlesConsumerData": True,
            **checkout,
        },
        "notifications": {"webHooks": hooks or []},
    }


def hooks(url: str, *events: str, authorization: str = HOOK_SECRET) -> list[dict[str, Any]]:
    return [{"eventName": e, "url": url, "authorization": authorization} for e in events]


def create(client: FlaskClient, payload: dict[str, Any]) -> str:
    response = client.post("/v1/payments", json=payload, headers=AUTH)
    assert response.status_code == 201, response.json
    payment_id: str = response.json["paymentId"]  # type: ignore[index]
    assert response.json["hostedPaymentPageUrl"] == f"http://localhost/hpp/{payment_id}"  # type: ignore[index]
    return payment_id


def retrieve(client: FlaskClient, payment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/payments/{payment_id}", headers=AUTH)
    assert response.status_code == 200
    payment: dict[str, Any] = response.json["payment"]  # type: ignore[index]
    return payment


def pay_by_card(client: FlaskClient, payment_id: str) -> None:
    assert client.post(f"/hpp/{payment_id}/card").status_code == 303


def charge(client: FlaskClient, payment_id: str, amount: int, key: str | None = None) -> Any:
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/payments/{payment_id}/charges", json={"amount": amount}, headers=headers)


# -- create --------------------------------------------------------------------------------------


def test_the_secret_key_is_required(client: FlaskClient) -> None:
    assert client.post("/v1/payments", json=body()).status_code == 401
    assert client.post("/v1/payments", json=body(), headers={"Authorization": "Bearer x"}).status_code == 401


def test_amount_must_be_the_sum_of_the_items(client: FlaskClient) -> None:
    payload = body(6000, 29)
    payload["order"]["amount"] = 6028
    response = client.post("/v1/payments", json=payload, headers=AUTH)
    assert response.status_code == 400 and response.json["code"] == "1005"  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["order"].update(currency="EUR"), "order.currency"),
        (lambda b: b["checkout"].update(integrationType="hostedPaymentPage"), "checkout.integrationType"),
        (lambda b: b["checkout"].pop("returnUrl"), "checkout.returnUrl"),
        (lambda b: b["checkout"].pop("termsUrl"), "checkout.termsUrl"),
        (lambda b: b["order"].update(items=[]), "order.items"),
        (lambda b: b["order"]["items"][0].update(unitPrice=60.0), "order.items[0].unitPrice"),
    ],
)
def test_create_validates_what_nexi_validates(client: FlaskClient, change: Any, field: str) -> None:
    payload = body()
    change(payload)
    response = client.post("/v1/payments", json=payload, headers=AUTH)
    assert response.status_code == 400
    assert field in response.json["errors"]  # type: ignore[index]


@pytest.mark.parametrize("authorization", ["short7x", "a" * 33, "has-dash-in-it", "with space 123"])
def test_webhook_authorization_is_8_to_32_alphanumerics(client: FlaskClient, authorization: str) -> None:
    payload = body(
        hooks=hooks("https://portal.example/hook", "payment.checkout.completed", authorization=authorization)
    )
    response = client.post("/v1/payments", json=payload, headers=AUTH)
    assert response.status_code == 400
    assert "notifications.webHooks[0].authorization" in response.json["errors"]  # type: ignore[index]
    ok = body(hooks=hooks("https://portal.example/hook", "payment.checkout.completed", authorization="a" * 8))
    create(client, ok)


def test_webhook_urls_are_https_except_on_this_machine(client: FlaskClient) -> None:
    payload = body(hooks=hooks("http://portal.example/hook", "payment.checkout.completed"))
    assert client.post("/v1/payments", json=payload, headers=AUTH).status_code == 400
    create(client, body(hooks=hooks("http://127.0.0.1:9/hook", "payment.checkout.completed")))


# -- retrieve ------------------------------------------------------------------------------------


def test_summary_amounts_are_left_out_when_zero(client: FlaskClient) -> None:
    payment_id = create(client, body(6000, 29))
    payment = retrieve(client, payment_id)
    assert payment["summary"] == {}
    assert payment["orderDetails"] == {"amount": 6029, "currency": "DKK", "reference": "NE-1"}
    assert "paymentDetails" not in payment


def test_retrievals_are_limited_per_payment(client: FlaskClient, state: SimState) -> None:
    assert state.retrieval_limit == 30
    state.retrieval_limit = 2
    payment_id = create(client, body())
    retrieve(client, payment_id)
    retrieve(client, payment_id)
    assert client.get(f"/v1/payments/{payment_id}", headers=AUTH).status_code == 429
    state.retrieval_window = 0.0  # the hour has passed
    retrieve(client, payment_id)


def test_faults(client: FlaskClient, state: SimState) -> None:
    payment_id = create(client, body())
    state.fail_next(2, status=503)
    assert client.get(f"/v1/payments/{payment_id}", headers=AUTH).status_code == 503
    assert client.get(f"/v1/payments/{payment_id}", headers=AUTH).status_code == 503
    retrieve(client, payment_id)
    assert state.call_count("retrieve") == 3


# -- charges and cancels -------------------------------------------------------------------------


def test_a_charge_needs_a_reservation(client: FlaskClient) -> None:
    payment_id = create(client, body())
    assert charge(client, payment_id, 6000, "k").status_code == 400


def test_charges_and_their_idempotency_keys(client: FlaskClient) -> None:
    payment_id = create(client, body(6000, 29))
    pay_by_card(client, payment_id)
    assert charge(client, payment_id, 6030, "k1").json["code"] == "1001"
    first = charge(client, payment_id, 6029, "k1")
    assert first.status_code == 201
    replay = charge(client, payment_id, 6029, "k1")
    assert replay.status_code == 201 and replay.json == first.json
    assert charge(client, payment_id, 6000, "k1").json["code"] == "1026"
    again = charge(client, payment_id, 6029, "k2")
    assert again.status_code == 400 and again.json["code"] == "1008"
    payment = retrieve(client, payment_id)
    assert payment["summary"] == {"reservedAmount": 6029, "chargedAmount": 6029}
    assert len(payment["charges"]) == 1


def test_a_partial_charge_leaves_the_rest_chargeable(client: FlaskClient) -> None:
    payment_id = create(client, body(6000, 29))
    pay_by_card(client, payment_id)
    assert charge(client, payment_id, 6000).status_code == 201
    assert charge(client, payment_id, 30).json["code"] == "1001"
    assert charge(client, payment_id, 29).status_code == 201
    assert charge(client, payment_id, 1).json["code"] == "1008"


def test_expired_reservation_and_hard_decline_switches(client: FlaskClient, state: SimState) -> None:
    payment_id = create(client, body())
    pay_by_card(client, payment_id)
    state.reservation_expired = True
    assert charge(client, payment_id, 6000, "k").json["code"] == "1010"
    state.reservation_expired = False
    state.hard_decline = True
    declined = charge(client, payment_id, 6000, "k")
    assert declined.status_code == 402 and declined.json["code"] == "1029"
    state.hard_decline = False
    assert charge(client, payment_id, 6000, "k").status_code == 201


def test_cancel_then_1019(client: FlaskClient) -> None:
    payment_id = create(client, body())
    pay_by_card(client, payment_id)
    cancels = f"/v1/payments/{payment_id}/cancels"
    assert client.post(cancels, json={"amount": 6001}, headers=AUTH).json["code"] == "1001"  # type: ignore[index]
    assert client.post(cancels, json={"amount": 6000}, headers=AUTH).status_code == 204
    repeat = client.post(cancels, json={"amount": 6000}, headers=AUTH)
    assert repeat.status_code == 400 and repeat.json["code"] == "1019"  # type: ignore[index]
    assert retrieve(client, payment_id)["summary"] == {"reservedAmount": 6000, "cancelledAmount": 6000}


def test_terminate_only_before_checkout_completes(client: FlaskClient) -> None:
    open_id = create(client, body())
    assert client.put(f"/v1/payments/{open_id}/terminate", headers=AUTH).status_code == 204
    assert "terminated" in retrieve(client, open_id)
    assert client.get(f"/hpp/{open_id}").status_code == 410
    done_id = create(client, body())
    pay_by_card(client, done_id)
    assert client.put(f"/v1/payments/{done_id}/terminate", headers=AUTH).status_code == 400


# -- the hosted payment page ---------------------------------------------------------------------


def test_the_page_has_three_buttons_and_no_script(client: FlaskClient) -> None:
    payment_id = create(client, body(6000, 29))
    page = client.get(f"/hpp/{payment_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<script" not in html and "onclick" not in html
    buttons = re.findall(r'action="([^"]+)"><button type="submit">([^<]+)</button>', html)
    assert buttons == [
        (f"/hpp/{payment_id}/card", "Betal med kort"),
        (f"/hpp/{payment_id}/mobilepay", "Betal med MobilePay (vend ikke tilbage)"),
        (f"/hpp/{payment_id}/cancel", "Annuller"),
    ]
    assert "60.29" in html
    assert client.get("/hpp/nope").status_code == 404


def test_card_reserves_and_returns_with_the_payment_id(client: FlaskClient) -> None:
    payment_id = create(client, body(6000))
    response = client.post(f"/hpp/{payment_id}/card")
    assert response.status_code == 303 and response.location == f"{RETURN_URL}?paymentid={payment_id}"
    payment = retrieve(client, payment_id)
    assert payment["summary"] == {"reservedAmount": 6000}
    assert payment["paymentDetails"]["paymentMethod"] == "Visa"
    assert payment["paymentDetails"]["cardDetails"]["maskedPan"].endswith("0004")


def test_the_return_url_keeps_its_own_query(client: FlaskClient) -> None:
    payment_id = create(client, body(returnUrl=f"{RETURN_URL}?lang=en"))
    response = client.post(f"/hpp/{payment_id}/card")
    assert response.location == f"{RETURN_URL}?lang=en&paymentid={payment_id}"


def test_mobilepay_reserves_and_never_returns(client: FlaskClient) -> None:
    payment_id = create(client, body())
    response = client.post(f"/hpp/{payment_id}/mobilepay")
    assert response.status_code == 200 and "Location" not in response.headers
    payment = retrieve(client, payment_id)
    assert payment["summary"] == {"reservedAmount": 6000}
    assert payment["paymentDetails"]["paymentMethod"] == "MobilePay"
    assert "cardDetails" not in payment["paymentDetails"]


def test_cancel_goes_to_the_cancel_url_or_the_return_url(client: FlaskClient) -> None:
    with_cancel = create(client, body(cancelUrl=CANCEL_URL))
    response = client.post(f"/hpp/{with_cancel}/cancel")
    assert response.status_code == 303 and response.location == CANCEL_URL
    without = create(client, body())
    assert client.post(f"/hpp/{without}/cancel").location == RETURN_URL
    assert retrieve(client, with_cancel)["summary"] == {}
    assert retrieve(client, without)["summary"] == {}


# -- webhooks ------------------------------------------------------------------------------------

ALL_EVENTS = (
    "payment.reservation.created.v2",
    "payment.checkout.completed",
    "payment.charge.created.v2",
    "payment.cancel.created",
)


def test_webhooks_carry_the_payments_authorization(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    payment_id = create(client, body(6000, 29, hooks=hooks(webhook_receiver.url, *ALL_EVENTS)))
    pay_by_card(client, payment_id)
    assert charge(client, payment_id, 6000, "k").status_code == 201
    assert client.post(f"/v1/payments/{payment_id}/cancels", json={"amount": 29}, headers=AUTH).status_code == 204
    state.wait_for_deliveries(4)
    state.wait_for_webhooks_sent()
    received = {b["event"]: (auth, b) for auth, b in webhook_receiver.received}
    assert set(received) == set(ALL_EVENTS)
    for auth, payload in received.values():
        assert auth == HOOK_SECRET
        assert set(payload) == {"id", "event", "timestamp", "merchantId", "data"}
        assert payload["data"]["paymentId"] == payment_id
    assert received["payment.checkout.completed"][1]["data"]["order"]["amount"] == {"amount": 6029, "currency": "DKK"}
    assert received["payment.charge.created.v2"][1]["data"]["amount"]["amount"] == 6000
    assert len({b["id"] for _, b in webhook_receiver.received}) == 4


def test_only_subscribed_events_are_sent(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, "payment.checkout.completed")))
    pay_by_card(client, payment_id)
    state.wait_for_deliveries(1)
    state.wait_for_webhooks_sent()
    assert webhook_receiver.events() == ["payment.checkout.completed"]


def test_mobilepay_sends_the_webhooks_too(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, *ALL_EVENTS[:2])))
    client.post(f"/hpp/{payment_id}/mobilepay")
    state.wait_for_deliveries(2)
    assert webhook_receiver.events() == list(ALL_EVENTS[:2])


def test_cancel_on_the_page_sends_nothing(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, *ALL_EVENTS)))
    client.post(f"/hpp/{payment_id}/cancel")
    state.wait_for_webhooks_sent()
    assert webhook_receiver.received == [] and state.deliveries == []


def test_webhooks_are_reposted_until_a_200(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.statuses = [500, 503]
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, "payment.checkout.completed")))
    pay_by_card(client, payment_id)
    deliveries = state.wait_for_deliveries(3)
    state.wait_for_webhooks_sent()
    assert [d.status for d in deliveries] == [500, 503, 200]
    assert len({d.body["id"] for d in deliveries}) == 1  # the same event, re-posted
    assert len(state.deliveries) == 3


def test_reposting_gives_up_after_a_few_attempts(
    client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.statuses = [500] * 10
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, "payment.checkout.completed")))
    pay_by_card(client, payment_id)
    state.wait_for_deliveries(state.webhook_attempts)
    state.wait_for_webhooks_sent()
    assert len(state.deliveries) == state.webhook_attempts


def test_duplicated_on_demand(client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver) -> None:
    state.duplicate_webhooks = True
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, *ALL_EVENTS[:2])))
    pay_by_card(client, payment_id)
    state.wait_for_deliveries(4)
    state.wait_for_webhooks_sent()
    assert webhook_receiver.events() == [ALL_EVENTS[0], ALL_EVENTS[0], ALL_EVENTS[1], ALL_EVENTS[1]]
    first, second = webhook_receiver.received[:2]
    assert first == second  # the same event id twice


def test_out_of_order_on_demand(client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver) -> None:
    state.out_of_order_webhooks = True
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, *ALL_EVENTS[:2])))
    pay_by_card(client, payment_id)
    state.wait_for_deliveries(2)
    assert webhook_receiver.events() == ["payment.checkout.completed", "payment.reservation.created.v2"]


def test_held_until_released(client: FlaskClient, state: SimState, webhook_receiver: WebhookReceiver) -> None:
    state.hold_webhooks()
    payment_id = create(client, body(hooks=hooks(webhook_receiver.url, *ALL_EVENTS)))
    pay_by_card(client, payment_id)
    assert charge(client, payment_id, 6000, "k").status_code == 201
    state.wait_for_webhooks_sent()
    assert webhook_receiver.received == []  # the charge is made, no webhook yet
    state.out_of_order_webhooks = True
    state.release_webhooks()
    state.wait_for_deliveries(3)
    assert webhook_receiver.events() == [
        "payment.charge.created.v2",
        "payment.checkout.completed",
        "payment.reservation.created.v2",
    ]
