"""Why a payment order went to review, as a code with its facts, so staff read it in their own language.

The state machine says why with a `Reason`; the order keeps it as `{"code", "params", "cause"}`
(`stored`) beside the English sentence (`english`) that goes to the log, the order's history and
the `review_reason` column. The review pages word the code in the editor's language
(portal.editor.payment_labels); an order stored before codes existed, or with a code this version
does not know (a rollback), shows its English sentence instead.

Plain Python: no Flask, no babel. Amounts are in øre (a `*_ore` parameter), as everywhere in
portal.payments; `message` is an upstream's own text and stays as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Param = str | int


class Code(StrEnum):
    # Why a step failed; said in a retry's history line, and inside GAVE_UP / GATEWAY_SILENT.
    PAYMENTS_UNCONFIGURED = "payments_unconfigured"
    UPSTREAM_FAILED = "upstream_failed"  # provider, message
    UNEXPECTED_ERROR = "unexpected_error"
    # Why an order is waiting for staff.
    GAVE_UP = "gave_up"  # attempts; cause
    GATEWAY_SILENT = "gateway_silent"  # cause
    LIBRARY_REMOVED = "library_removed"
    CHARGED_BEFORE_FBS = "charged_before_fbs"  # charged_ore
    RESERVATION_CHANGED = "reservation_changed"  # held_ore, total_ore
    TOKEN_EXPIRED = "token_expired"  # message
    TOKEN_UNREADABLE = "token_unreadable"
    CHARGE_DIFFERS = "charge_differs"  # message, charged_ore, charge_ore
    CHARGE_REFUSED = "charge_refused"  # message
    RELEASE_REFUSED = "release_refused"  # amount_ore, message
    CANCELLED_AFTER_REGISTERED = "cancelled_after_registered"


# The English sentence of each code: `{name}` is a parameter, `{cause}` the wrapped reason's sentence.
ENGLISH: dict[Code, str] = {
    Code.PAYMENTS_UNCONFIGURED: "card payment is no longer configured for the library",
    Code.UPSTREAM_FAILED: "{provider} failed: {message}",
    Code.UNEXPECTED_ERROR: "unexpected error in the portal (see the log)",
    Code.GAVE_UP: "{cause} (gave up after {attempts} attempts)",
    Code.GATEWAY_SILENT: "{cause} (the gateway could not be asked since the checkout ended)",
    Code.LIBRARY_REMOVED: "library removed",
    Code.CHARGED_BEFORE_FBS: "{charged_ore} øre was charged at the gateway before FBS was asked",
    Code.RESERVATION_CHANGED: (
        "the reservation changed at the gateway before FBS was asked: {held_ore} of {total_ore} øre held"
    ),
    Code.TOKEN_EXPIRED: (
        "the borrower's Adgangsplatformen token expired before FBS registered the payment "
        "(DBC's adapter: {message}); nothing is registered or charged, the reservation is held: "
        "register the fees in FBS and charge, or release the reservation"
    ),
    Code.TOKEN_UNREADABLE: (
        "the borrower's Adgangsplatformen token can no longer be decrypted (PORTAL_SECRET_KEY changed "
        "without the old key in PORTAL_SECRET_KEY_FALLBACKS); nothing is registered or charged"
    ),
    Code.CHARGE_DIFFERS: (
        "the gateway refused the charge ({message}) and shows {charged_ore} øre charged, not {charge_ore}"
    ),
    Code.CHARGE_REFUSED: "FBS registered the fees but the charge was refused: {message}",
    Code.RELEASE_REFUSED: "releasing {amount_ore} øre was refused: {message}",
    Code.CANCELLED_AFTER_REGISTERED: "the reservation was cancelled at the gateway after FBS registered the fees",
}
WRAPS = frozenset({Code.GAVE_UP, Code.GATEWAY_SILENT})


@dataclass(frozen=True)
class Reason:
    """A code, its parameters and, for GAVE_UP and GATEWAY_SILENT, the reason the last attempt failed."""

    code: Code
    params: Mapping[str, Param] = field(default_factory=dict)
    cause: Reason | None = None

    def __post_init__(self) -> None:
        if (self.cause is not None) != (self.code in WRAPS):
            raise ValueError(f"{self.code}: a cause goes with exactly {sorted(WRAPS)}")

    def english(self) -> str:
        """The sentence for the log, the history and `review_reason`."""
        cause = {"cause": self.cause.english()} if self.cause is not None else {}
        return ENGLISH[self.code].format(**self.params, **cause)

    def stored(self) -> dict[str, Any]:
        """What the order's `review` column holds (JSON)."""
        value: dict[str, Any] = {"code": self.code.value, "params": dict(self.params)}
        if self.cause is not None:
            value["cause"] = self.cause.stored()
        return value


def from_stored(value: object) -> Reason | None:
    """The reason a `review` column holds; None for none, or for one this version cannot read."""
    if not isinstance(value, dict):
        return None
    try:
        code = Code(str(value.get("code")))
        params = value.get("params") or {}
        if not isinstance(params, dict) or not all(isinstance(v, str | int) for v in params.values()):
            return None
        cause = from_stored(value["cause"]) if "cause" in value else None
        reason = Reason(code, {str(k): v for k, v in params.items()}, cause)
        reason.english()  # every parameter its sentence names is there
    except (ValueError, KeyError, IndexError):
        return None
    return reason


def upstream_failed(provider: str, message: str) -> Reason:
    return Reason(Code.UPSTREAM_FAILED, {"provider": provider, "message": message})


def gave_up(cause: Reason, attempts: int) -> Reason:
    return Reason(Code.GAVE_UP, {"attempts": attempts}, cause)


def gateway_silent(cause: Reason) -> Reason:
    return Reason(Code.GATEWAY_SILENT, {}, cause)
