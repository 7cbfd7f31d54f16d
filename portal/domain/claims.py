"""Claims in the municipality's debtor system, as the debtor-status API reports them.

A claim is either a *library claim* (an FBS fee the library handed over; `fee_id` links it
back) or a claim the *municipality added* itself, such as a reminder fee (rykkergebyr), which
the library system never sees; `origin_claim_id` names the claim it was added to.
See docs/debtor-api.yaml for the API these are parsed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from portal.domain.fees import FeeType

__all__ = ["Claim", "ClaimStatus"]


class ClaimStatus(str, Enum):
    """How far the municipality's collection of a claim has come."""

    NOT_INVOICED = "not_invoiced"
    INVOICED = "invoiced"
    REMINDER_SENT = "reminder_sent"
    SENT_TO_COLLECTION = "sent_to_collection"


@dataclass(frozen=True)
class Claim:
    """One claim against the citizen in the debtor system; money is Decimal kroner."""

    claim_id: str
    description: str
    created: date
    original_amount: Decimal
    outstanding: Decimal
    status: ClaimStatus
    fee_id: int | None = None  # set: a library claim, handed over from FBS
    origin_claim_id: str | None = None  # for claims the municipality added: what they were added to
    type: FeeType = FeeType.OTHER
    due: date | None = None
    paid_amount: Decimal = Decimal("0.00")
    paid: date | None = None  # date of the latest payment

    @property
    def added_by_municipality(self) -> bool:
        """True for claims the library never handed over (reminder fees and the like)."""
        return self.fee_id is None

    @property
    def is_paid(self) -> bool:
        """Nothing left to pay: the parser only allows that together with a payment date."""
        return self.outstanding == 0
