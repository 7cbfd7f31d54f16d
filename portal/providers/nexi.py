"""A thin client of Nexi Checkout, Payment API v1 (formerly Nets Easy): the card gateway.

Building blocks for card payment of fees still held in FBS (see
`../shared/reference/payments.md`): create a payment for the hosted payment page, retrieve
it, charge or cancel its reservation, terminate an abandoned checkout. Not yet wired into
any page.

- The secret key travels raw in `Authorization` (no "Bearer"); amounts are integers in øre
  (`portal.domain.money.as_ore` / `from_ore` convert exactly from and to Decimal kroner).
- The payment is created with `charge: false`: the card is only reserved, and charged by
  `charge()` once FBS has registered the payment.
- `charge()` sends an `Idempotency-Key`: a retry with the same key and amount gets the first
  answer again instead of a second capture. Make the key before the first attempt and store it.
- Refusals: Nexi's error codes (`nexi_parse` documents the two error-body shapes, which the
  simulator `portal.devtools.nexi_sim` uses too) become distinct `UpstreamError` subclasses
  with provider "nexi", so a caller can tell "already charged" from "declined". Messages
  name the operation and the status or code, never the secret key, a masked PAN, a
  reference or a webhook authorization.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from portal.domain.money import as_ore
from portal.providers import nexi_parse
from portal.providers.errors import UpstreamError
from portal.providers.http import Fail, Refusal, read_answer, send, send_and_parse
from portal.providers.nexi_parse import NexiPayment

log = logging.getLogger(__name__)

PROVIDER = "nexi"
TEST_BASE_URL = "https://test.api.dibspayment.eu"
LIVE_BASE_URL = "https://api.dibspayment.eu"
PAYMENTS_PATH = "/v1/payments"
CURRENCY = "DKK"
T = TypeVar("T")

# Nexi's error codes that a caller must tell apart (nexi_parse documents the body shapes).
CODE_OVER_CHARGE = "1001"
CODE_AMOUNT_MISMATCH = "1005"
CODE_ALREADY_CHARGED = "1008"
CODE_RESERVATION_EXPIRED = "1010"
CODE_ALREADY_CANCELLED = "1019"
CODE_DIFFERENT_AMOUNT = "1026"
CODE_HARD_DECLINE = "1029"


# -- errors ------------------------------------------------------------------------------------


class NexiError(UpstreamError):
    """Nexi refused a request or could not be used; the subclasses say why."""


class NexiCredentialsRejected(NexiError):
    """Nexi refused the secret key (401/403)."""


class NexiPaymentNotFound(NexiError):
    """No such payment at Nexi (404)."""


class NexiRateLimited(NexiError):
    """Too many requests (429): Nexi allows about 30 retrievals per payment per hour. Back off."""


class NexiRequestRefused(NexiError):
    """A 400 that is none of the cases below (a validation error); `code` is Nexi's code, if any."""

    def __init__(self, provider: str, message: str, code: str | None = None) -> None:
        super().__init__(provider, message)
        self.code = code


class NexiAmountMismatch(NexiRequestRefused):
    """1005: the order's amount is not the sum of its items (the client checks this before sending)."""


class NexiOverCharge(NexiRequestRefused):
    """1001: more than the reservation (left) was to be charged or cancelled."""


class NexiAlreadyCharged(NexiRequestRefused):
    """1008: the payment is charged already (by us, or by staff in Nexi's portal): GET to see."""


class NexiReservationExpired(NexiRequestRefused):
    """1010: the reservation on the card has expired; it can no longer be charged."""


class NexiDifferentAmount(NexiRequestRefused):
    """1026: an Idempotency-Key used before was sent with another amount."""


class NexiDeclined(NexiRequestRefused):
    """402: the card issuer declined the charge."""


class NexiHardDecline(NexiDeclined):
    """1029: a hard decline; retrying will not help."""


_BY_CODE: dict[str, type[NexiRequestRefused]] = {
    CODE_AMOUNT_MISMATCH: NexiAmountMismatch,
    CODE_OVER_CHARGE: NexiOverCharge,
    CODE_ALREADY_CHARGED: NexiAlreadyCharged,
    CODE_RESERVATION_EXPIRED: NexiReservationExpired,
    CODE_DIFFERENT_AMOUNT: NexiDifferentAmount,
    CODE_HARD_DECLINE: NexiHardDecline,
}


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NexiItem:
    """One order line: one fee, quantity 1, no VAT (gross = net = unit price)."""

    reference: str  # the fee id
    name: str
    unit_price_ore: int

    @classmethod
    def from_kroner(cls, reference: str, name: str, amount: Decimal) -> NexiItem:
        """An item of `amount` kroner, converted exactly (a fraction of an øre is a ValueError)."""
        return cls(reference, name, as_ore(amount))

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "name": self.name,
            "quantity": 1,
            "unit": "pcs",
            "unitPrice": self.unit_price_ore,
            "grossTotalAmount": self.unit_price_ore,
            "netTotalAmount": self.unit_price_ore,
        }


@dataclass(frozen=True)
class NexiOrder:
    """What is to be paid: `amount_ore` must be the sum of the items' prices."""

    reference: str  # our order id (also FBS's orderId)
    items: tuple[NexiItem, ...]
    amount_ore: int
    currency: str = CURRENCY

    @classmethod
    def of_items(cls, reference: str, items: tuple[NexiItem, ...]) -> NexiOrder:
        return cls(reference, items, sum(item.unit_price_ore for item in items))


@dataclass(frozen=True)
class NexiCheckout:
    """Where the hosted payment page sends the citizen: back (`?paymentid=` added), on cancel, to the terms."""

    return_url: str
    terms_url: str
    cancel_url: str | None = None


@dataclass(frozen=True)
class NexiWebhook:
    """A subscription: Nexi POSTs `event_name` to `url` with `Authorization: <authorization>`.

    `authorization` is our per-payment secret, 8–32 letters and digits; compare it in constant time.
    """

    event_name: str
    url: str
    authorization: str

    def __repr__(self) -> str:  # never the secret in a log line or a traceback
        return f"NexiWebhook(event_name={self.event_name!r}, url={self.url!r}, authorization=<hidden>)"


@dataclass(frozen=True)
class CreatedPayment:
    payment_id: str
    hosted_payment_page_url: str


# -- the client --------------------------------------------------------------------------------


class NexiClient:
    """Nexi's Payment API at `base_url` (`TEST_BASE_URL`, `LIVE_BASE_URL`, or a simulator)."""

    def __init__(self, http: httpx.Client, base_url: str, secret_key: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._secret_key = secret_key

    def create_payment(self, order: NexiOrder, checkout: NexiCheckout, webhooks: list[NexiWebhook]) -> CreatedPayment:
        """A payment for the hosted payment page, reserve only (`charge: false`)."""
        operation = "create payment"
        items_total = sum(item.unit_price_ore for item in order.items)
        if not order.items or order.amount_ore != items_total:
            # Nexi would refuse it with 1005; better never to send it.
            raise NexiAmountMismatch(
                PROVIDER, f"{operation}: the order amount is not the sum of its items (not sent)", CODE_AMOUNT_MISMATCH
            )
        body: dict[str, Any] = {
            "order": {
                "items": [item.as_json() for item in order.items],
                "amount": order.amount_ore,
                "currency": order.currency,
                "reference": order.reference,
            },
            "checkout": {
                "integrationType": "HostedPaymentPage",
                "returnUrl": checkout.return_url,
                "termsUrl": checkout.terms_url,
                "charge": False,
                "merchantHandlesConsumerData": True,
                **({"cancelUrl": checkout.cancel_url} if checkout.cancel_url else {}),
            },
            "notifications": {
                "webHooks": [
                    {"eventName": hook.event_name, "url": hook.url, "authorization": hook.authorization}
                    for hook in webhooks
                ]
            },
        }
        payment_id, url = self._ask(
            operation, "POST", PAYMENTS_PATH, nexi_parse.parse_created, expected=(201, 200), json=body
        )
        return CreatedPayment(payment_id, url)

    def retrieve(self, payment_id: str) -> NexiPayment:
        """The payment's amounts and state. 429 (about 30 per payment per hour): `NexiRateLimited`."""
        operation = "retrieve"
        return self._ask(
            operation,
            "GET",
            _payment_path(payment_id),
            lambda content: nexi_parse.parse_payment(content, payment_id),
            expected=(200,),
        )

    def charge(self, payment_id: str, amount_ore: int, idempotency_key: str) -> str:
        """Charge `amount_ore` of the reservation; the charge id. Same key and amount: the first answer again."""
        operation = "charge"
        if not 1 <= len(idempotency_key) <= 64:
            raise ValueError("an Idempotency-Key has 1 to 64 characters")
        return self._ask(
            operation,
            "POST",
            _payment_path(payment_id) + "/charges",
            nexi_parse.parse_charge,
            expected=(201, 200),
            json={"amount": _positive(amount_ore)},
            headers={"Idempotency-Key": idempotency_key},
        )

    def cancel(self, payment_id: str, amount_ore: int) -> None:
        """Release `amount_ore` of the reservation. Already cancelled (1019) counts as done."""
        operation = "cancel"
        response = self._send(
            operation, "POST", _payment_path(payment_id) + "/cancels", json={"amount": _positive(amount_ore)}
        )
        if response.status_code == 400 and nexi_parse.error_code(response.content) == CODE_ALREADY_CANCELLED:
            log.info("nexi: cancel: already cancelled (1019), treated as done")
            return
        read_answer(response, _no_body, self._fail(operation), refused=self._refusal(operation), expected=(204, 200))

    def terminate(self, payment_id: str) -> None:
        """End an open checkout (only before the citizen completed it)."""
        operation = "terminate"
        self._ask(operation, "PUT", _payment_path(payment_id) + "/terminate", _no_body, expected=(204, 200))

    # -- transport ---------------------------------------------------------------------------

    def _ask(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[bytes], T],
        *,
        expected: tuple[int, ...],
        **request: Any,
    ) -> T:
        """One call whose answer has one of the `expected` statuses, read by `parse`."""
        return send_and_parse(
            self._http,
            method,
            self._base_url,
            path,
            parse,
            self._fail(operation),
            refused=self._refusal(operation),
            expected=expected,
            headers=self._headers(request.pop("headers", {})),
            **request,
        )

    def _send(self, operation: str, method: str, path: str, **request: Any) -> httpx.Response:
        headers = self._headers(request.pop("headers", {}))
        return send(self._http, method, self._base_url, path, self._fail(operation), headers=headers, **request)

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {"Accept": "application/json", "Authorization": self._secret_key, **extra}

    def _refusal(self, operation: str) -> Refusal:
        """Nexi's refusals, told apart by status and, for 400/402, by Nexi's error code."""

        def refused(response: httpx.Response) -> UpstreamError | None:
            status = response.status_code
            if status in (401, 403):
                return self._failed(NexiCredentialsRejected, operation, f"secret key refused ({status})")
            if status == 404:
                return self._failed(NexiPaymentNotFound, operation, "no such payment (404)")
            if status == 429:
                return self._failed(NexiRateLimited, operation, "rate limited (429)")
            if status in (400, 402):
                code = nexi_parse.error_code(response.content)
                kind = _BY_CODE.get(code or "", NexiDeclined if status == 402 else NexiRequestRefused)
                what = f"refused ({status}, code {code})" if code else f"refused ({status})"
                log.warning("nexi: %s: %s", operation, what)
                return kind(PROVIDER, f"{operation}: {what}", code)
            return None

        return refused

    def _fail(self, operation: str) -> Fail:
        return lambda kind, what: self._failed(kind, operation, what)

    def _failed(self, kind: type[UpstreamError], operation: str, what: str) -> UpstreamError:
        message = f"{operation}: {what}"
        log.warning("nexi: %s", message)
        return kind(PROVIDER, message)


# Where the hosted payment page is served, per API: the page's origin must be a form target (CSP).
_CHECKOUT_ORIGINS = {
    LIVE_BASE_URL: "https://checkout.dibspayment.eu",
    TEST_BASE_URL: "https://test.checkout.dibspayment.eu",
}


def checkout_origin(base_url: str) -> str:
    """The origin of the hosted payment pages of the API at `base_url` (a simulator serves its own)."""
    base = base_url.rstrip("/")
    if base in _CHECKOUT_ORIGINS:
        return _CHECKOUT_ORIGINS[base]
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def _payment_path(payment_id: str) -> str:
    if not payment_id or len(payment_id) > 64:
        raise ValueError("a payment id has 1 to 64 characters")
    return f"{PAYMENTS_PATH}/{quote(payment_id, safe='')}"


def _no_body(_: bytes) -> None:
    # Cancel and terminate answer 204: nothing to read.
    return None


def _positive(amount_ore: int) -> int:
    if not isinstance(amount_ore, int) or isinstance(amount_ore, bool) or amount_ore <= 0:
        raise ValueError("an amount is a positive int of øre")
    return amount_ore
