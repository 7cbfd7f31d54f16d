"""The debt overview: what the citizen's page shows about their debt at one library.

One model, built by `portal.domain.merge.merge` alone: rows (`DebtRow`) in two sections
(`DebtSection`) — "payable here" (still in FBS) and "handed over" (paid in Mit
Betalingsoverblik) — with their totals, the recently paid rows, and what the systems disagree on.

FBS decides where a fee is paid: `payable_by_client` True means it is still in FBS, False means
FBS has handed it to the municipality's debtor system. The library's cut-off date (skæringsdato)
only *explains* the split to the citizen: fees created before it stay in FBS, fees created on or
after it are handed over. When the flag and the date disagree the flag wins, because it is what
FBS will actually accept payment for; the fee is still shown and listed in
`DebtOverview.mismatches` so the library can look into it (`fee_mismatches`, below).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from portal.domain import money
from portal.domain.claims import Claim, ClaimStatus
from portal.domain.fees import Fee, FeeType, Material

__all__ = [
    "DebtOverview",
    "DebtRow",
    "DebtSection",
    "Destination",
    "Disagreement",
    "Discrepancy",
    "Mismatch",
    "RowNote",
    "expected_destination",
    "fee_mismatches",
]


class RowNote(str, Enum):
    """What the page must explain about a row beyond its status."""

    AWAITING_REGISTRATION = "awaiting_registration"
    NOT_YET_IN_DEBTOR_SYSTEM = "not_yet_in_debtor_system"
    ADDED_BY_MUNICIPALITY = "added_by_municipality"


class Disagreement(str, Enum):
    """Ways FBS and the debtor system can disagree; each is logged for the library."""

    AMOUNT = "amount"
    CLAIMED_BUT_PAYABLE_HERE = "claimed_but_payable_here"
    PAID_IN_FBS_OPEN_IN_DEBTOR = "paid_in_fbs_open_in_debtor"
    REGISTRATION_OVERDUE = "registration_overdue"
    UNKNOWN_FEE = "unknown_fee"
    UNKNOWN_ORIGIN = "unknown_origin"


@dataclass(frozen=True)
class Discrepancy:
    """One disagreement, identified by ids and amounts only (no personal data)."""

    kind: Disagreement
    fee_id: int | None
    claim_id: str | None
    fbs_amount: Decimal | None = None
    debtor_amount: Decimal | None = None


class Destination(str, Enum):
    """Where a fee is paid."""

    PAYABLE_HERE = "payable_here"
    HANDED_OVER = "handed_over"

    @classmethod
    def of(cls, fee: Fee) -> Destination:
        """Where FBS says the fee is paid (its `payable_by_client` flag)."""
        return cls.PAYABLE_HERE if fee.payable_by_client else cls.HANDED_OVER


@dataclass(frozen=True)
class Mismatch:
    """A fee whose flag disagrees with the cut-off date; it is shown where the flag puts it."""

    fee: Fee
    expected: Destination  # what the cut-off date predicts

    @property
    def actual(self) -> Destination:
        return Destination.of(self.fee)


def expected_destination(fee: Fee, cutoff_date: date) -> Destination:
    """Where the cut-off date says the fee should be: created ON the date counts as handed over."""
    return Destination.PAYABLE_HERE if fee.created < cutoff_date else Destination.HANDED_OVER


def fee_mismatches(fees: Iterable[Fee], cutoff_date: date) -> tuple[Mismatch, ...]:
    """The unpaid fees whose flag disagrees with the cut-off date, oldest first."""
    unpaid = sorted((fee for fee in fees if not fee.is_paid), key=lambda fee: (fee.created, fee.fee_id))
    return tuple(
        Mismatch(fee, expected)
        for fee in unpaid
        if (expected := expected_destination(fee, cutoff_date)) is not Destination.of(fee)
    )


@dataclass(frozen=True)
class DebtRow:
    """One line on the page: an FBS fee, a debtor claim, or both (same fee id).

    `amount` is what the row shows — the debtor's figure whenever there is a claim — and
    `counted` says whether it is in its section's total.
    """

    fee: Fee | None
    claim: Claim | None
    amount: Decimal
    counted: bool
    note: RowNote | None = None
    origin: Fee | None = None  # for claims the municipality added: the fee they were added to
    paid: date | None = None  # for paid rows: when the citizen paid

    def __post_init__(self) -> None:
        if self.fee is None and self.claim is None:
            raise ValueError("a row needs a fee, a claim, or both")

    @property
    def fee_id(self) -> int | None:
        return self.fee.fee_id if self.fee is not None else None

    @property
    def claim_id(self) -> str | None:
        return self.claim.claim_id if self.claim is not None else None

    @property
    def reason(self) -> str:
        # FBS's wording for library fees: it is the library's own text the citizen knows.
        return self.fee.reason if self.fee is not None else self._claim.description

    @property
    def type(self) -> FeeType:
        return self.fee.type if self.fee is not None else self._claim.type

    @property
    def created(self) -> date:
        return self.fee.created if self.fee is not None else self._claim.created

    @property
    def due(self) -> date | None:
        """The debtor's payment deadline when there is a claim (it is the one that counts), else FBS's."""
        if self.claim is not None:
            return self.claim.due
        return self.fee.due if self.fee is not None else None

    @property
    def status(self) -> ClaimStatus | None:
        return self.claim.status if self.claim is not None else None

    @property
    def materials(self) -> tuple[Material, ...]:
        return self.fee.materials if self.fee is not None else ()

    @property
    def added_by_municipality(self) -> bool:
        return self.claim is not None and self.claim.added_by_municipality

    @property
    def _claim(self) -> Claim:
        # A row without a fee has a claim (__post_init__).
        assert self.claim is not None
        return self.claim


@dataclass(frozen=True)
class DebtSection:
    """The rows of one place to pay, and the total of those that are counted."""

    rows: tuple[DebtRow, ...] = ()

    @property
    def total(self) -> Decimal:
        """Sum of the counted amounts, exact, rounded once to whole øre."""
        return money.total(row.amount for row in self.rows if row.counted)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def is_empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class DebtOverview:
    """Everything the citizen's page shows about their debt at one library."""

    cutoff_date: date
    payable_here: DebtSection
    handed_over: DebtSection
    recently_paid: tuple[DebtRow, ...] = ()
    earlier_paid: tuple[DebtRow, ...] = ()  # accounted for, not shown
    debtor_known: bool = False  # claims were available to merge
    mismatches: tuple[Mismatch, ...] = ()  # FBS flag vs cut-off date
    discrepancies: tuple[Discrepancy, ...] = ()

    @property
    def total(self) -> Decimal:
        """The sum of the two section totals, so the figures on the page add up.

        With sub-øre amounts, rounding the grand sum could differ from the shown totals by an øre.
        """
        return self.payable_here.total + self.handed_over.total

    @property
    def is_empty(self) -> bool:
        """True when no row is owed or pending (recently paid rows may still be listed)."""
        return self.payable_here.is_empty and self.handed_over.is_empty

    def rows(self) -> tuple[DebtRow, ...]:
        """Every row, shown or not: each fee and each claim is in exactly one of them."""
        return self.payable_here.rows + self.handed_over.rows + self.recently_paid + self.earlier_paid
