"""The Nexi simulator's WSGI app: Nexi Checkout's Payment API v1 and a hosted payment page.

Same paths and fields as the real API (see `portal/providers/nexi.py`). Refusals use the two
error-body shapes documented in `portal.providers.nexi_parse`: `{"errors": {field: [message]}}`
for validation errors, `{"code": "<digits>", "message", "source"}` for Nexi's coded errors.

The hosted payment page (`hostedPaymentPageUrl`, server-rendered, no script) has three buttons:
"Betal med kort" reserves, sends the webhooks and redirects to `returnUrl?paymentid=…`;
"Betal med MobilePay (vend ikke tilbage)" reserves and sends the webhooks but shows a page of
its own and never returns, as wallet users often don't; "Annuller" goes to `cancelUrl` (or
`returnUrl`) with nothing reserved.
"""

from __future__ import annotations

import hmac
import re
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, jsonify, redirect, request
from markupsafe import escape

from portal import clock
from portal.devtools.nexi_sim.state import CANCEL_CREATED, CHARGE_CREATED, EVENT_NAMES, Payment, SimState

PAYMENTS_RULE = "/v1/payments"
_AUTHORIZATION = re.compile(r"[A-Za-z0-9]{8,32}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ITEM_INTS = ("quantity", "unitPrice", "grossTotalAmount", "netTotalAmount")
_ITEM_TEXTS = ("reference", "name", "unit")


def create_nexi_sim_app(state: SimState | None = None) -> Flask:
    """A separate WSGI app simulating Nexi Checkout (API and hosted payment page)."""
    app = Flask(__name__)
    app.extensions["nexi_sim"] = state if state is not None else SimState()
    app.add_url_rule(PAYMENTS_RULE, view_func=create, methods=["POST"])
    app.add_url_rule(f"{PAYMENTS_RULE}/<payment_id>", view_func=retrieve, methods=["GET"])
    app.add_url_rule(f"{PAYMENTS_RULE}/<payment_id>/charges", view_func=charge, methods=["POST"])
    app.add_url_rule(f"{PAYMENTS_RULE}/<payment_id>/cancels", view_func=cancel, methods=["POST"])
    app.add_url_rule(f"{PAYMENTS_RULE}/<payment_id>/terminate", view_func=terminate, methods=["PUT"])
    app.add_url_rule("/hpp/<payment_id>", view_func=hosted_page, methods=["GET"])
    app.add_url_rule("/hpp/<payment_id>/<action>", view_func=hosted_page_action, methods=["POST"])
    return app


def _state() -> SimState:
    state: SimState = current_app.extensions["nexi_sim"]
    return state


# -- answers ---------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> tuple[Response, int]:
    return jsonify({"errors": {field: [message]}}), 400


def _coded(code: str, message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "source": "Nexi simulator"}), status


def _begin(endpoint: str) -> tuple[Response, int] | None:
    """Count the call, apply faults and check the secret key; an answer to give instead, or None."""
    state = _state()
    fault = state.begin_call(endpoint)
    if fault is not None:
        return jsonify({"message": "simulated failure"}), fault.status
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), state.secret_key.encode()):
        return jsonify({"message": "Unauthorized"}), 401
    return None


def _payment_call(endpoint: str, payment_id: str) -> Payment | tuple[Response, int]:
    """`_begin`, then the payment the call is about: the payment, or the answer to give instead."""
    refused = _begin(endpoint)
    if refused is not None:
        return refused
    payment = _state().payment(payment_id)
    if payment is None:
        return jsonify({"message": "payment not found"}), 404
    return payment


def _amount(body: Any) -> int | None:
    value = body.get("amount") if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    return value


# -- create ----------------------------------------------------------------------------------


def create() -> Any:
    refused = _begin("create")
    if refused is not None:
        return refused
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _invalid("body", "expected a JSON object")
    problem = _validate_order(body.get("order")) or _validate_checkout(body.get("checkout"))
    problem = problem or _validate_webhooks(body.get("notifications"))
    if problem is not None:
        return problem
    payment = _state().new_payment(body, request.host_url)
    return jsonify({"paymentId": payment.payment_id, "hostedPaymentPageUrl": payment.hosted_payment_page_url}), 201


def _validate_order(order: Any) -> tuple[Response, int] | None:
    if not isinstance(order, dict):
        return _invalid("order", "required")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return _invalid("order.items", "at least one item is required")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return _invalid(f"order.items[{i}]", "expected an object")
        for key in _ITEM_INTS:
            value = item.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return _invalid(f"order.items[{i}].{key}", "expected a non-negative integer")
        for key in _ITEM_TEXTS:
            if not isinstance(item.get(key), str) or not item[key]:
                return _invalid(f"order.items[{i}].{key}", "required")
    amount = order.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return _invalid("order.amount", "expected a positive integer")
    if amount != sum(item["grossTotalAmount"] for item in items):
        return _coded("1005", "order amount does not match the sum of the order items' grossTotalAmount")
    if order.get("currency") != "DKK":
        return _invalid("order.currency", "the simulator's merchant takes DKK only")
    return None


def _validate_checkout(checkout: Any) -> tuple[Response, int] | None:
    if not isinstance(checkout, dict):
        return _invalid("checkout", "required")
    if checkout.get("integrationType") != "HostedPaymentPage":
        return _invalid("checkout.integrationType", "the simulator has only the HostedPaymentPage")
    for key in ("returnUrl", "termsUrl"):
        if not isinstance(checkout.get(key), str) or not checkout[key]:
            return _invalid(f"checkout.{key}", "required for HostedPaymentPage")
    return None


def _validate_webhooks(notifications: Any) -> tuple[Response, int] | None:
    if notifications is None:
        return None
    hooks = notifications.get("webHooks", []) if isinstance(notifications, dict) else None
    if not isinstance(hooks, list) or len(hooks) > 32:
        return _invalid("notifications.webHooks", "expected a list of at most 32 webhooks")
    for i, hook in enumerate(hooks):
        field = f"notifications.webHooks[{i}]"
        if not isinstance(hook, dict):
            return _invalid(field, "expected an object")
        if hook.get("eventName") not in EVENT_NAMES:
            return _invalid(f"{field}.eventName", "unknown event")
        url = hook.get("url")
        if not isinstance(url, str) or len(url) > 256 or not _webhook_url_allowed(url):
            return _invalid(f"{field}.url", "an https URL of at most 256 characters")
        authorization = hook.get("authorization")
        if not isinstance(authorization, str) or not _AUTHORIZATION.fullmatch(authorization):
            return _invalid(f"{field}.authorization", "8 to 32 alphanumeric characters")
    return None


def _webhook_url_allowed(url: str) -> bool:
    """HTTPS, as Nexi demands — or plain HTTP to this machine, where the tests listen."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


# -- retrieve, charge, cancel, terminate -----------------------------------------------------


def retrieve(payment_id: str) -> Any:
    payment = _payment_call("retrieve", payment_id)
    if not isinstance(payment, Payment):
        return payment
    state = _state()
    if not state.count_retrieval(payment):
        return jsonify({"message": "Too many requests"}), 429
    with state.lock:
        return jsonify({"payment": payment.as_json()})


def charge(payment_id: str) -> Any:
    payment = _payment_call("charge", payment_id)
    if not isinstance(payment, Payment):
        return payment
    amount = _amount(request.get_json(silent=True))
    if amount is None:
        return _invalid("amount", "expected a positive integer")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 64:
        return _invalid("Idempotency-Key", "1 to 64 characters")
    state = _state()
    with state.lock:
        if key is not None and key in payment.idempotent:
            first_amount, status, body = payment.idempotent[key]
            if first_amount != amount:
                return _coded("1026", "charge tried with a different amount for the same Idempotency-Key")
            return jsonify(body), status
        if state.reservation_expired:
            return _coded("1010", "reservation expired")
        if state.hard_decline:
            return _coded("1029", "hard decline", status=402)
        if not payment.reserved:
            return _invalid("amount", "the payment has no reservation")
        left = payment.reserved - payment.charged - payment.cancelled
        if payment.charged and left <= 0:
            return _coded("1008", "already charged")
        if amount > left:
            return _coded("1001", "over-charge: amount exceeds the reservation")
        charge_id = uuid.uuid4().hex
        payment.charged += amount
        payment.charges.append({"chargeId": charge_id, "amount": amount, "created": payment.created})
        answer = {"chargeId": charge_id}
        if key is not None:
            payment.idempotent[key] = (amount, 201, answer)
        state.send_webhooks(
            payment, [(CHARGE_CREATED, {"chargeId": charge_id, "amount": {"amount": amount, "currency": "DKK"}})]
        )
    return jsonify(answer), 201


def cancel(payment_id: str) -> Any:
    payment = _payment_call("cancel", payment_id)
    if not isinstance(payment, Payment):
        return payment
    amount = _amount(request.get_json(silent=True))
    if amount is None:
        return _invalid("amount", "expected a positive integer")
    state = _state()
    with state.lock:
        if payment.cancelled:
            return _coded("1019", "already cancelled")
        if not payment.reserved:
            return _invalid("amount", "the payment has no reservation")
        if amount > payment.reserved - payment.charged:
            return _coded("1001", "amount exceeds what is reserved and not charged")
        payment.cancelled += amount
        state.send_webhooks(
            payment,
            [(CANCEL_CREATED, {"cancelId": uuid.uuid4().hex, "amount": {"amount": amount, "currency": "DKK"}})],
        )
    return Response(status=204)


def terminate(payment_id: str) -> Any:
    payment = _payment_call("terminate", payment_id)
    if not isinstance(payment, Payment):
        return payment
    with _state().lock:
        if payment.checkout_completed:
            return _invalid("paymentId", "the checkout is completed; cancel the reservation instead")
        if payment.terminated:
            return _invalid("paymentId", "the payment is terminated already")
        payment.terminated = clock.now().isoformat()
    return Response(status=204)


# -- the hosted payment page -----------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>{content}</main></body></html>
"""


def _page(title: str, content: str, status: int = 200) -> Response:
    html = _PAGE.format(title=escape(title), content=content)
    return Response(html, status=status, mimetype="text/html")


def hosted_page(payment_id: str) -> Any:
    payment = _state().payment(payment_id)
    if payment is None:
        return _page("Betalingen findes ikke", "", 404)
    if payment.terminated:
        return _page("Betalingen er afbrudt", "<p>Denne betaling kan ikke længere gennemføres.</p>", 410)
    if payment.reserved:
        return _page("Betalingen er gennemført", "<p>Beløbet er reserveret.</p>")
    lines = "".join(
        f"<li>{escape(item['name'])}: {item['grossTotalAmount'] / 100:.2f} kr.</li>" for item in payment.order["items"]
    )
    base = f"/hpp/{escape(payment_id)}"
    buttons = "".join(
        f'<form method="post" action="{base}/{action}"><button type="submit">{label}</button></form>'
        for action, label in (
            ("card", "Betal med kort"),
            ("mobilepay", "Betal med MobilePay (vend ikke tilbage)"),
            ("cancel", "Annuller"),
        )
    )
    total = f"<p>I alt: {payment.amount / 100:.2f} {escape(payment.order['currency'])}</p>"
    return _page("Nexi Checkout (simulator)", f"<ul>{lines}</ul>{total}{buttons}")


def hosted_page_action(payment_id: str, action: str) -> Any:
    state = _state()
    payment = state.payment(payment_id)
    if payment is None or action not in ("card", "mobilepay", "cancel"):
        return _page("Betalingen findes ikke", "", 404)
    if payment.terminated:
        return _page("Betalingen er afbrudt", "<p>Denne betaling kan ikke længere gennemføres.</p>", 410)
    if action == "cancel":
        return redirect(payment.checkout.get("cancelUrl") or payment.checkout["returnUrl"], 303)
    state.reserve(payment, "Visa" if action == "card" else "MobilePay")
    if action == "mobilepay":
        return _page("Betalingen er gennemført", "<p>Du kan lukke dette vindue.</p>")
    return redirect(_with_payment_id(payment.checkout["returnUrl"], payment_id), 303)


def _with_payment_id(url: str, payment_id: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'paymentid': payment_id})}"
