"""What the Nexi simulator knows and does: payments, idempotent charges, webhooks, injected faults.

Tests hold the `SimState` of a running simulator and change it in-process: lower the
retrieval limit, make the reservation expire or the card hard-decline, make the next calls
fail or answer slowly, and steer webhook delivery (duplicate each, deliver out of order,
hold until released). `deliveries` records every webhook POST made.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from portal import clock
from portal.devtools.simulators import Fault, FaultQueue

DEV_NEXI_SECRET_KEY = "nexi-simulator-secret-key"
DEV_NEXI_MERCHANT_ID = 100017120
ENDPOINTS = ("create", "retrieve", "charge", "cancel", "terminate")
# The events the simulator sends (others may be subscribed to; they are never sent).
RESERVATION_CREATED = "payment.reservation.created.v2"
CHECKOUT_COMPLETED = "payment.checkout.completed"
CHARGE_CREATED = "payment.charge.created.v2"
CANCEL_CREATED = "payment.cancel.created"
EVENT_NAMES = frozenset(
    {
        "payment.created",
        "payment.reservation.created",
        RESERVATION_CREATED,
        "payment.reservation.failed",
        CHECKOUT_COMPLETED,
        CHARGE_CREATED,
        "payment.charge.failed",
        "payment.refund.initiated.v2",
        "payment.refund.failed",
        "payment.refund.completed",
        CANCEL_CREATED,
        "payment.cancel.failed",
    }
)


@dataclass
class Payment:
    """One payment as the simulator holds it; amounts in øre."""

    payment_id: str
    order: dict[str, Any]  # the create request's order, as sent
    checkout: dict[str, Any]
    webhooks: list[dict[str, Any]]  # {eventName, url, authorization}
    hosted_payment_page_url: str
    created: str
    reserved: int = 0
    charged: int = 0
    cancelled: int = 0
    payment_method: str | None = None
    masked_pan: str | None = None
    terminated: str | None = None
    checkout_completed: bool = False
    charges: list[dict[str, Any]] = field(default_factory=list)
    # Idempotency-Key -> (amount, status, body) of the first answer.
    idempotent: dict[str, tuple[int, int, dict[str, Any]]] = field(default_factory=dict)
    retrievals: list[float] = field(default_factory=list)  # time.monotonic() of each GET

    @property
    def amount(self) -> int:
        amount: int = self.order["amount"]
        return amount

    def as_json(self) -> dict[str, Any]:
        """The `payment` object of a retrieve answer (summary amounts left out when zero, as Nexi does)."""
        summary = {
            key: value
            for key, value in (
                ("reservedAmount", self.reserved),
                ("chargedAmount", self.charged),
                ("cancelledAmount", self.cancelled),
            )
            if value
        }
        payment: dict[str, Any] = {
            "paymentId": self.payment_id,
            "summary": summary,
            "consumer": {},
            "orderDetails": {
                "amount": self.amount,
                "currency": self.order["currency"],
                "reference": self.order.get("reference"),
            },
            "checkout": {"url": self.hosted_payment_page_url, "cancelUrl": self.checkout.get("cancelUrl")},
            "created": self.created,
            "charges": copy.deepcopy(self.charges),
        }
        if self.payment_method is not None:
            details: dict[str, Any] = {
                "paymentType": "CARD" if self.masked_pan else "A2A",
                "paymentMethod": self.payment_method,
            }
            if self.masked_pan:
                details["cardDetails"] = {"maskedPan": self.masked_pan, "expiryDate": "1229"}
            payment["paymentDetails"] = details
        if self.terminated:
            payment["terminated"] = self.terminated
        return payment


@dataclass
class Delivery:
    """One webhook POST the simulator made (every attempt is one)."""

    url: str
    authorization: str
    body: dict[str, Any]
    status: int | None  # None: no answer (connection refused, timeout)

    @property
    def event(self) -> str:
        event: str = self.body["event"]
        return event


@dataclass
class SimState:
    """Data and behaviour of one Nexi simulator. Thread-safe: the server is threaded."""

    secret_key: str = DEV_NEXI_SECRET_KEY
    merchant_id: int = DEV_NEXI_MERCHANT_ID
    payments: dict[str, Payment] = field(default_factory=dict)
    # Nexi allows about 30 retrievals of one payment per hour; lower it in tests.
    retrieval_limit: int = 30
    retrieval_window: float = 3600.0
    # Switches for the charge endpoint.
    reservation_expired: bool = False  # every charge: 1010
    hard_decline: bool = False  # every charge: 402 with 1029
    # Webhooks: delivered at least once, re-posted until a 200, at most `webhook_attempts` times.
    webhook_attempts: int = 4
    webhook_retry_pause: float = 0.05
    duplicate_webhooks: bool = False  # each delivery made twice
    out_of_order_webhooks: bool = False  # the events of one action delivered last first
    calls: Counter[str] = field(default_factory=Counter)
    created_requests: list[dict[str, Any]] = field(default_factory=list)  # every create body, as sent
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._held: list[list[tuple[str, str, dict[str, Any]]]] | None = None
        self._senders: list[threading.Thread] = []
        self._delivered = threading.Condition(self.lock)
        # Set at shutdown so slow answers and webhook retries stop waiting.
        self.wake = threading.Event()
        self.faults = FaultQueue(self.wake, ENDPOINTS)

    # -- payments -----------------------------------------------------------------------------

    def new_payment(self, body: dict[str, Any], page_base: str) -> Payment:
        payment_id = uuid.uuid4().hex
        payment = Payment(
            payment_id=payment_id,
            order=copy.deepcopy(body["order"]),
            checkout=copy.deepcopy(body["checkout"]),
            webhooks=copy.deepcopy(body.get("notifications", {}).get("webHooks", [])),
            hosted_payment_page_url=f"{page_base.rstrip('/')}/hpp/{payment_id}",
            created=clock.now().isoformat(),
        )
        with self.lock:
            self.created_requests.append(copy.deepcopy(body))
            self.payments[payment_id] = payment
        return payment

    def payment(self, payment_id: str) -> Payment | None:
        with self.lock:
            return self.payments.get(payment_id)

    def count_retrieval(self, payment: Payment) -> bool:
        """Count one GET of `payment`; False when that is over the limit (answer 429)."""
        now = time.monotonic()
        with self.lock:
            payment.retrievals = [t for t in payment.retrievals if now - t < self.retrieval_window]
            if len(payment.retrievals) >= self.retrieval_limit:
                return False
            payment.retrievals.append(now)
            return True

    def reserve(self, payment: Payment, method: str) -> None:
        """The citizen completed the hosted page: the whole amount reserved, webhooks sent."""
        with self.lock:
            if payment.reserved or payment.terminated:
                return
            payment.reserved = payment.amount
            payment.payment_method = method
            payment.masked_pan = "492500******0004" if method == "Visa" else None
            payment.checkout_completed = True
            order = {
                "amount": {"amount": payment.amount, "currency": payment.order["currency"]},
                "reference": payment.order.get("reference"),
                "orderItems": copy.deepcopy(payment.order["items"]),
            }
            self.send_webhooks(
                payment,
                [
                    (RESERVATION_CREATED, {"amount": {"amount": payment.amount, "currency": "DKK"}}),
                    (CHECKOUT_COMPLETED, {"order": order}),
                ],
            )

    # -- webhooks -----------------------------------------------------------------------------

    def send_webhooks(self, payment: Payment, events: list[tuple[str, dict[str, Any]]]) -> None:
        """POST each event to the payment's subscribers of it, in a background thread."""
        batch: list[tuple[str, str, dict[str, Any]]] = []
        for event, data in events:
            for hook in payment.webhooks:
                if hook["eventName"] != event:
                    continue
                body = {
                    "id": uuid.uuid4().hex,
                    "event": event,
                    "timestamp": clock.now().isoformat(),
                    "merchantId": self.merchant_id,
                    "data": {"paymentId": payment.payment_id, **data},
                }
                batch.append((hook["url"], hook["authorization"], body))
        if not batch:
            return
        with self.lock:
            if self._held is not None:
                self._held.append(batch)
                return
        self._start_sender(batch)

    def hold_webhooks(self) -> None:
        """Keep webhooks back until `release_webhooks()`."""
        with self.lock:
            if self._held is None:
                self._held = []

    def release_webhooks(self) -> None:
        """Send what was held (all of it, out of order too when `out_of_order_webhooks`), and stop holding."""
        with self.lock:
            held, self._held = self._held or [], None
        batch = [delivery for part in held for delivery in part]
        if batch:
            self._start_sender(batch)

    def _start_sender(self, batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        with self.lock:
            if self.out_of_order_webhooks:
                batch = batch[::-1]
            if self.duplicate_webhooks:
                batch = [delivery for delivery in batch for _ in range(2)]
            thread = threading.Thread(target=self._deliver_all, args=(batch,), name="nexi-sim-webhooks", daemon=True)
            self._senders.append(thread)
        thread.start()

    def _deliver_all(self, batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        with httpx.Client(timeout=2.0) as client:
            for url, authorization, body in batch:
                self._deliver(client, url, authorization, body)

    def _deliver(self, client: httpx.Client, url: str, authorization: str, body: dict[str, Any]) -> None:
        for attempt in range(self.webhook_attempts):
            if attempt and self.wake.wait(self.webhook_retry_pause * attempt):
                return  # shutting down
            status: int | None
            try:
                status = client.post(url, json=body, headers={"Authorization": authorization}).status_code
            except httpx.HTTPError:
                status = None
            with self.lock:
                self.deliveries.append(Delivery(url, authorization, copy.deepcopy(body), status))
                self._delivered.notify_all()
            if status == 200:
                return

    def wait_for_deliveries(self, count: int, timeout: float = 3.0) -> list[Delivery]:
        """Wait until at least `count` webhook POSTs were made; all of them so far (raises on timeout)."""
        with self.lock:
            if not self._delivered.wait_for(lambda: len(self.deliveries) >= count, timeout):
                raise TimeoutError(f"{len(self.deliveries)} of {count} webhook deliveries made")
            return list(self.deliveries)

    def wait_for_webhooks_sent(self, timeout: float = 3.0) -> None:
        """Wait until every webhook sender started so far is done (re-posts included)."""
        with self.lock:
            senders = list(self._senders)
        for thread in senders:
            thread.join(timeout)

    # -- faults -------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` API calls answer `status` with no useful body."""
        self.faults.add("status", n, status)

    def delay_answers(self, seconds: float) -> None:
        """Sleep before answering API calls (0 turns it off)."""
        self.faults.delay(seconds)

    def reset_faults(self) -> None:
        self.faults.reset()

    def begin_call(self, endpoint: str) -> Fault | None:
        """Record the call, take the next fault, and apply any delay."""
        with self.lock:
            self.calls[endpoint] += 1
        fault = self.faults.take()
        self.faults.wait()
        return fault

    def call_count(self, endpoint: str | None = None) -> int:
        with self.lock:
            return self.calls[endpoint] if endpoint else sum(self.calls.values())
