"""Nexi Checkout (Payment API v1) JSON -> plain values, at the boundary.

Amounts are integers in øre; one that is not a non-negative JSON integer, or is above
`money.MAX_AMOUNT` in øre, makes the answer a bad one. Messages name fields, never values:
a masked PAN or a reference is still personal data in a log.

Error bodies. Nexi answers a refused request (400, 402, 500) in one of two shapes, and the
simulator (`portal.devtools.nexi_sim`) uses exactly these two:

- validation errors: `{"errors": {"<field>": ["<message>", ...], ...}}` (no code);
- business errors: `{"code": "1008", "message": "...", "source": "..."}` — the code a string of
  digits (1001 over-charge, 1005 amount ≠ sum of items, 1008 already charged, 1010 reservation
  expired, 1019 already cancelled, 1026 charge with another amount, 1029 hard decline).

`error_code` reads the code of the second shape, or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from portal.domain.money import MAX_AMOUNT, as_ore, from_ore
from portal.providers.errors import UpstreamBadResponse
from portal.providers.json_fields import JsonFields

PROVIDER = "nexi"
MAX_ORE = as_ore(MAX_AMOUNT) * 100  # a whole order of plausible fees; anything above is broken
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_CODE = re.compile(r"\d{1,6}")
_fields = JsonFields(PROVIDER)
_bad = _fields.bad
_object = _fields.object
loads = _fields.loads


@dataclass(frozen=True)
class NexiPayment:
    """A payment as `retrieve` read it; amounts in øre (0 where Nexi left them out)."""

    payment_id: str
    amount_ore: int
    currency: str
    reference: str
    reserved_ore: int
    charged_ore: int
    cancelled_ore: int
    payment_method: str | None
    masked_pan: str | None
    terminated: bool

    @property
    def reserved(self) -> Decimal:
        return from_ore(self.reserved_ore)

    @property
    def charged(self) -> Decimal:
        return from_ore(self.charged_ore)

    def __repr__(self) -> str:  # the masked PAN and the reference stay out of logs
        return (
            f"NexiPayment(payment_id={self.payment_id!r}, amount_ore={self.amount_ore}, "
            f"reserved_ore={self.reserved_ore}, charged_ore={self.charged_ore}, "
            f"cancelled_ore={self.cancelled_ore}, terminated={self.terminated})"
        )


def _id(obj: dict[str, Any], key: str, what: str) -> str:
    value = _fields.required(obj, key, what, str, "a text")
    if not _ID.fullmatch(value):
        _bad(f"{what}: {key} has characters outside [A-Za-z0-9-] or is too long")
    return value


def _ore(obj: dict[str, Any], key: str, what: str, default: int | None = None) -> int:
    if key not in obj and default is not None:
        return default
    value = _fields.required(obj, key, what, int, "an integer (øre)")
    if value < 0 or value > MAX_ORE:
        _bad(f"{what}: {key} is negative or above the plausible maximum")
    return value


def parse_created(body: bytes) -> tuple[str, str]:
    """A create answer `{paymentId, hostedPaymentPageUrl}` -> (payment id, page URL)."""
    obj = _object(loads(body), "create answer")
    url = _fields.required(obj, "hostedPaymentPageUrl", "create answer", str, "a text")
    if not url.startswith(("https://", "http://")):
        _bad("create answer: hostedPaymentPageUrl is not an http(s) URL")
    return _id(obj, "paymentId", "create answer"), url


def parse_payment(body: bytes, payment_id: str) -> NexiPayment:
    """A retrieve answer `{"payment": {...}}` of the payment `payment_id`."""
    envelope = _object(loads(body), "payment answer")
    obj = _object(envelope.get("payment"), "payment answer: payment")
    what = "payment"
    if _id(obj, "paymentId", what) != payment_id:
        _bad("payment answer is for another paymentId")
    # Nexi leaves summary amounts out when they are zero (and the summary out when all are).
    summary = _object(obj.get("summary", {}), f"{what}: summary")
    order = _object(obj.get("orderDetails"), f"{what}: orderDetails")
    details = _object(obj.get("paymentDetails", {}), f"{what}: paymentDetails")
    card = _object(details.get("cardDetails", {}), f"{what}: paymentDetails.cardDetails")
    return NexiPayment(
        payment_id=payment_id,
        amount_ore=_ore(order, "amount", f"{what}: orderDetails"),
        currency=_fields.required(order, "currency", f"{what}: orderDetails", str, "a text"),
        reference=_fields.required(order, "reference", f"{what}: orderDetails", str, "a text"),
        reserved_ore=_ore(summary, "reservedAmount", f"{what}: summary", default=0),
        charged_ore=_ore(summary, "chargedAmount", f"{what}: summary", default=0),
        cancelled_ore=_ore(summary, "cancelledAmount", f"{what}: summary", default=0),
        payment_method=_fields.optional(details, "paymentMethod", f"{what}: paymentDetails", str, "a text"),
        masked_pan=_fields.optional(card, "maskedPan", f"{what}: cardDetails", str, "a text"),
        terminated=obj.get("terminated") is not None,
    )


def parse_charge(body: bytes) -> str:
    """A charge answer `{chargeId}` -> the charge id."""
    return _id(_object(loads(body), "charge answer"), "chargeId", "charge answer")


def error_code(body: bytes) -> str | None:
    """The Nexi error code of a refusal (`{"code": "1008", ...}`), or None (validation errors, garbage)."""
    try:
        data = loads(body)
    except UpstreamBadResponse:
        return None  # an unreadable body simply has no code
    if not isinstance(data, dict):
        return None
    code = data.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    return code if isinstance(code, str) and _CODE.fullmatch(code) else None
