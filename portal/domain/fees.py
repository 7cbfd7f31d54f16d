"""The domain objects a provider's answer is parsed into at the boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TypeVar


class FeeType(str, Enum):
    """What a fee is for; FBS values other than fee/compensation become OTHER."""

    FEE = "fee"
    COMPENSATION = "compensation"
    OTHER = "other"

    @classmethod
    def from_fbs(cls, raw: str | None) -> FeeType:
        """Map FBS's free-form `type` onto the three kinds the page explains."""
        if raw in (cls.FEE.value, cls.COMPENSATION.value):
            return cls(raw)
        return cls.OTHER


@dataclass(frozen=True)
class Material:
    """One copy a fee concerns. A fee has 0..n of these (closed ILL fees have none)."""

    record_id: str | None
    item_number: str | None
    group: str | None = None
    periodical: str | None = None


@dataclass(frozen=True)
class Fee:
    """One claim (gebyr or erstatning) as FBS knows it. `amount` is what is still owed."""

    fee_id: int
    type: FeeType
    reason: str
    amount: Decimal
    created: date
    due: date | None
    payable_by_client: bool
    materials: tuple[Material, ...] = ()
    paid: date | None = None

    @property
    def is_paid(self) -> bool:
        return self.paid is not None


class BlockReason(str, Enum):
    """FBS block codes; unknown codes are OTHER."""

    DEBT_LIMIT = "E"
    CARD_STOLEN = "O"
    EXCLUDED = "U"
    EXTENDED_EXCLUSION = "F"
    SELF_SERVICE = "S"
    SELF_CREATED = "W"
    DECEASED = "D"
    OTHER = "?"

    @classmethod
    def from_fbs(cls, code: str | None) -> BlockReason:
        return _known(cls, code, cls.OTHER)


@dataclass(frozen=True)
class Block:
    reason: BlockReason
    code: str
    since: date | None = None
    message: str = ""


@dataclass(frozen=True)
class Patron:
    """A borrower at one library (FBS agency)."""

    patron_id: int
    name: str | None = None
    blocks: tuple[Block, ...] = ()

    @property
    def blocked_for_fees(self) -> bool:
        return any(b.reason is BlockReason.DEBT_LIMIT for b in self.blocks)


class PaymentStatus(str, Enum):
    """FBS's answer for one fee of a registered payment; any other answer means not registered."""

    REGISTERED = "paymentRegistered"
    REGISTERED_BY_DIFFERENT_ORDER = "paymentRegisteredByDifferentOrderId"  # paid elsewhere meanwhile
    NOT_ALLOWED_BY_CLIENT = "paymentNotAllowedByClient"  # handed over, or not payable here
    UNKNOWN = "unknown"  # anything else FBS answered, or no answer for the fee

    @classmethod
    def from_fbs(cls, raw: object) -> PaymentStatus:
        return _known(cls, raw, cls.UNKNOWN)


@dataclass(frozen=True)
class PaymentConfirmation:
    """FBS's confirmation of one fee of a payment order. Only REGISTERED for our order means paid by us."""

    fee_id: int
    status: PaymentStatus
    confirmation_id: str | None = None

    @property
    def registered(self) -> bool:
        return self.status is PaymentStatus.REGISTERED


E = TypeVar("E", bound=Enum)


def _known(kind: type[E], raw: object, fallback: E) -> E:
    """The member of `kind` whose value FBS sent, or `fallback` for anything FBS does not document.

    The fallback's own value never matches: "?" or "unknown" from FBS is not a known answer.
    """
    return next((member for member in kind if member.value == raw and member is not fallback), fallback)
