"""FBS JSON -> domain objects, at the boundary.

Nothing past this module sees FBS's JSON. Everything is checked here, so a
changed or broken FBS answer becomes one `UpstreamBadResponse` instead of a
wrong amount on a citizen's page. Error messages name the field, never its
value: values can be personal data (names, CPR numbers).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.domain.fees import (
    Block,
    BlockReason,
    Fee,
    FeeType,
    Material,
    Patron,
    PaymentConfirmation,
    PaymentStatus,
)
from portal.domain.money import MAX_AMOUNT
from portal.providers.json_fields import JsonFields

PROVIDER = "fbs"
_CENT = Decimal("0.01")
# An amount sent as a string: digits with an optional fraction, nothing else
# (no exponent, no spaces, no "NaN").
_AMOUNT_TEXT = re.compile(r"-?\d+(\.\d+)?")
# The typed readers shared with the other providers, raising for this one.
_fields = JsonFields(PROVIDER)
_bad = _fields.bad
_object = _fields.object
_list = _fields.list
_date = _fields.date
_optional_date = _fields.optional_date
loads = _fields.loads


def _decoded(data: Any) -> Any:
    """Accept either raw JSON text or an already decoded (with `loads`) value."""
    if isinstance(data, (bytes, bytearray, str)):
        return loads(bytes(data) if isinstance(data, bytearray) else data)
    return data


def _int(obj: dict[str, Any], key: str, what: str) -> int:
    return _fields.required(obj, key, what, int, "an integer")


def _str(obj: dict[str, Any], key: str, what: str) -> str:
    return _fields.required(obj, key, what, str, "a string")


def _optional_str(obj: dict[str, Any], key: str, what: str) -> str | None:
    return _fields.optional(obj, key, what, str, "a string")


def _bool(obj: dict[str, Any], key: str, what: str) -> bool:
    return _fields.required(obj, key, what, bool, "a boolean")


def _amount(obj: dict[str, Any], what: str) -> Decimal:
    if "amount" not in obj:
        _bad(f"{what}: amount is missing")
    value = obj["amount"]
    if isinstance(value, bool):
        _bad(f"{what}: amount is not a number")
    if isinstance(value, float):
        # Only reachable if the caller decoded with plain json.loads: the
        # binary float may already have lost øre, so refuse rather than guess.
        _bad(f"{what}: amount was decoded as a float; decode with fbs_parse.loads")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value):
        amount = Decimal(value)
    else:
        _bad(f"{what}: amount is not a number")
    if not amount.is_finite():
        _bad(f"{what}: amount is not a finite number")
    if amount < 0:
        _bad(f"{what}: amount is negative")
    if amount > MAX_AMOUNT:
        _bad(f"{what}: amount is above the plausible maximum of {MAX_AMOUNT} kr.")
    try:
        exact = amount.quantize(_CENT)
    except InvalidOperation:
        _bad(f"{what}: amount is out of range")
    if exact != amount:
        _bad(f"{what}: amount has more than 2 decimals")
    # Always two decimals, so 30 and 30.00 look the same everywhere downstream;
    # copy_abs turns a "-0" into 0.00.
    return exact.copy_abs()


def _material(raw: Any, what: str) -> Material:
    obj = _object(raw, what)
    group = obj.get("materialGroup")
    periodical = obj.get("periodical")
    return Material(
        record_id=_optional_str(obj, "recordId", what),
        item_number=_optional_str(obj, "materialItemNumber", what),
        group=None
        if group is None
        else _optional_str(_object(group, f"{what}.materialGroup"), "name", f"{what}.materialGroup"),
        periodical=None
        if periodical is None
        else _optional_str(_object(periodical, f"{what}.periodical"), "displayText", f"{what}.periodical"),
    )


def parse_fee(raw: Any, what: str = "fee") -> Fee:
    """One `FeeV2` object."""
    obj = _object(raw, what)
    fee_id = _int(obj, "feeId", what)
    # Name the fee by id from here on: ids are not personal data and help operators.
    what = f"fee {fee_id}"
    fee_type = _str(obj, "type", what)
    # A missing list is read as "no materials": FBS already sends [] for closed
    # interlibrary loans, and no amount or date depends on the materials.
    materials = obj.get("materials")
    materials = [] if materials is None else _list(materials, f"{what}: materials")
    return Fee(
        fee_id=fee_id,
        type=FeeType.from_fbs(fee_type),
        reason=_str(obj, "reasonMessage", what),
        amount=_amount(obj, what),
        created=_date(obj, "creationDate", what),
        due=_optional_date(obj, "dueDate", what),
        paid=_optional_date(obj, "paidDate", what),
        payable_by_client=_bool(obj, "payableByClient", what),
        materials=tuple(_material(m, f"{what}: material {i}") for i, m in enumerate(materials)),
    )


def parse_fees(data: Any) -> list[Fee]:
    """A `FeeV2[]` answer (raw JSON text, or decoded with `loads`)."""
    items = _list(_decoded(data), "fees answer")
    fees = [parse_fee(item, f"fee #{i}") for i, item in enumerate(items)]
    ids = [fee.fee_id for fee in fees]
    if len(set(ids)) != len(ids):
        # A repeated fee would be counted twice in every total.
        _bad("fees answer lists the same feeId twice")
    return fees


def _block(raw: Any, what: str) -> Block:
    obj = _object(raw, what)
    code = _str(obj, "blockedReason", what)
    return Block(
        reason=BlockReason.from_fbs(code),
        code=code,
        since=_optional_date(obj, "blockedSince", what),
        message=_optional_str(obj, "message", what) or "",
    )


def parse_patron(data: Any) -> Patron:
    """A patron v4 answer: `{authenticateStatus, patron {patronId, name, blockStatus?}}`."""
    envelope = _object(_decoded(data), "patron answer")
    if envelope.get("patron") is None:
        _bad("patron answer has no patron")
    obj = _object(envelope["patron"], "patron")
    blocks = obj.get("blockStatus")
    blocks = [] if blocks is None else _list(blocks, "patron: blockStatus")
    return Patron(
        patron_id=_int(obj, "patronId", "patron"),
        name=_optional_str(obj, "name", "patron"),
        blocks=tuple(_block(b, f"patron: block {i}") for i, b in enumerate(blocks)),
    )


def parse_optional_patron(data: Any) -> Patron | None:
    """A patron v4 answer that may hold no patron (DBC's adapter: the token's user is no borrower here)."""
    envelope = _object(_decoded(data), "patron answer")
    return None if envelope.get("patron") is None else parse_patron(envelope)


def parse_authenticated_patron(data: Any) -> int | None:
    """A preauthenticated answer -> the patron id, or None when there is no patron.

    No patron means the citizen is not a borrower at this library, which is an
    answer, not an error.
    """
    envelope = _object(_decoded(data), "preauthenticated answer")
    patron = envelope.get("patron")
    if patron is None:
        return None
    return _int(_object(patron, "preauthenticated patron"), "patronId", "preauthenticated patron")


def parse_preauthenticated_patron(data: Any) -> Patron | None:
    """A preauthenticated answer -> the patron with name and blocks, or None when there is no patron.

    The look-up answers the same `AuthenticatedPatron {authenticateStatus, patron}` as the patron
    v4 call (`../shared/reference/fbs-api.md`; in the dpl-react spec both are AuthenticatedPatronV6),
    so its patron is read exactly like the patron call's and a first view need not ask again.
    """
    envelope = _object(_decoded(data), "preauthenticated answer")
    return None if envelope.get("patron") is None else parse_patron(envelope)


def parse_payment_confirmations(data: Any, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]:
    """A `PaymentConfirmation[]` answer to registering `fee_ids` under `order_id` -> one per fee asked for.

    An answer about another order or another fee, or about a fee twice, is a bad answer: acting on it
    could charge a citizen for what FBS did not register for us. A fee FBS leaves out of its answer
    counts as not registered (UNKNOWN), like any status other than the three FBS documents.
    """
    items = _list(_decoded(data), "payment answer")
    found: dict[int, PaymentConfirmation] = {}
    for i, item in enumerate(items):
        obj = _object(item, f"payment confirmation #{i}")
        fee_id = _int(obj, "feeId", f"payment confirmation #{i}")
        what = f"payment confirmation of fee {fee_id}"
        if obj.get("orderId") != order_id:
            _bad(f"{what}: orderId is not the order registered")
        if fee_id not in fee_ids:
            _bad(f"{what}: the fee was not part of the order")
        if fee_id in found:
            _bad(f"{what}: the fee is confirmed twice")
        confirmation_id = obj.get("confirmationId")
        found[fee_id] = PaymentConfirmation(
            fee_id=fee_id,
            status=PaymentStatus.from_fbs(obj.get("paymentStatus")),
            confirmation_id=str(confirmation_id) if isinstance(confirmation_id, str | int) else None,
        )
    return {fee_id: found.get(fee_id, PaymentConfirmation(fee_id, PaymentStatus.UNKNOWN)) for fee_id in fee_ids}
