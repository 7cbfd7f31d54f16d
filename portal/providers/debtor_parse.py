"""Debtor-status API JSON -> `Claim`s, at the boundary (see docs/debtor-api.yaml).

Everything is checked here, so a changed or broken answer becomes one
`UpstreamBadResponse` — and the page falls back to FBS's data with a note —
instead of a wrong figure. Messages name fields and claim ids, never values.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from portal.domain.claims import Claim, ClaimStatus
from portal.domain.fees import FeeType
from portal.domain.money import MAX_AMOUNT
from portal.providers.json_fields import JsonFields

PROVIDER = "debtor"
# Amounts are decimal strings in kroner with at most two decimals: "60", "60.5", "60.00". The
# digit limit keeps absurd strings out cheaply; the plausibility bound is money.MAX_AMOUNT.
_AMOUNT = re.compile(r"\d{1,9}(\.\d{1,2})?")
_CLAIM_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CENT = Decimal("0.01")
# The typed readers shared with the other providers, raising for this one.
_fields = JsonFields(PROVIDER)
_bad = _fields.bad
_object = _fields.object
loads = _fields.loads


def _str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        _bad(f"{what}: {key} is missing or not a text")
    return value


def _optional_str(obj: dict[str, Any], key: str, what: str) -> str | None:
    return _fields.optional(obj, key, what, str, "a text")


def _amount(obj: dict[str, Any], key: str, what: str, default: str | None = None) -> Decimal:
    value = obj.get(key, default)
    # Strings only: a JSON number may have passed through a float somewhere upstream.
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        _bad(f'{what}: {key} is not an amount (a decimal string like "60.00")')
    amount = Decimal(value).quantize(_CENT)
    if amount > MAX_AMOUNT:
        _bad(f"{what}: {key} is above the plausible maximum of {MAX_AMOUNT} kr.")
    return amount


def _fee_id(obj: dict[str, Any], what: str) -> int | None:
    value = obj.get("feeId")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _bad(f"{what}: feeId is not an integer")
    return value


def parse_claim(raw: Any, what: str = "claim") -> Claim:
    """One `Claim` object of the API."""
    obj = _object(raw, what)
    claim_id = _str(obj, "claimId", what)
    if not _CLAIM_ID.fullmatch(claim_id):
        _bad(f"{what}: claimId has characters outside [A-Za-z0-9._:-] or is too long")
    what = f"claim {claim_id}"
    status_raw = obj.get("status")
    try:
        status = ClaimStatus(status_raw)
    except ValueError:
        _bad(f"{what}: status is not one of {[s.value for s in ClaimStatus]}")
    fee_id = _fee_id(obj, what)
    origin = _optional_str(obj, "originClaimId", what)
    if fee_id is not None and origin is not None:
        _bad(
            f"{what}: a claim has a feeId (from the library) or an originClaimId (added by the municipality), not both"
        )
    outstanding = _amount(obj, "outstandingAmount", what)
    paid = _fields.optional_date(obj, "paidDate", what)
    if outstanding == 0 and paid is None:
        # Zero outstanding without a payment would be a written-off claim: the API leaves those out.
        _bad(f"{what}: outstandingAmount is 0 but paidDate is missing")
    return Claim(
        claim_id=claim_id,
        description=_str(obj, "description", what),
        created=_fields.date(obj, "createdDate", what),
        original_amount=_amount(obj, "originalAmount", what),
        outstanding=outstanding,
        status=status,
        fee_id=fee_id,
        origin_claim_id=origin,
        type=FeeType.from_fbs(_optional_str(obj, "type", what)),
        due=_fields.optional_date(obj, "dueDate", what),
        paid_amount=_amount(obj, "paidAmount", what, default="0.00"),
        paid=paid,
    )


def parse_claims(data: Any, agency_id: str) -> list[Claim]:
    """A `ClaimList` answer (raw JSON text, or already decoded with `loads`) for `agency_id`."""
    if isinstance(data, (bytes, str)):
        data = loads(data)
    envelope = _object(data, "claims answer")
    if envelope.get("agencyId") != agency_id:
        # A gateway that routed us to another library's claims must not show them.
        _bad("claims answer is for another agencyId")
    items = _fields.list(envelope.get("claims"), "claims answer: claims")
    claims = [parse_claim(item, f"claim #{i}") for i, item in enumerate(items)]
    ids = [c.claim_id for c in claims]
    if len(set(ids)) != len(ids):
        _bad("claims answer lists the same claimId twice")
    fee_ids = [c.fee_id for c in claims if c.fee_id is not None]
    if len(set(fee_ids)) != len(fee_ids):
        # One fee, two claims: counting both would show the citizen more than they owe.
        _bad("claims answer lists the same feeId twice")
    return claims
