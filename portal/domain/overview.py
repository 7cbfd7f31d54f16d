"""The debt overview: a borrower's fees split into "payable here" and "handed over".

FBS decides where a fee is paid: `payable_by_client` True means it is still in FBS (payable
here), False means FBS has handed it to the municipality's debtor system (paid in Mit
Betalingsoverblik). The library's cut-off date (skæringsdato) only *explains* the split to the
citizen: fees created before it stay in FBS, fees created on or after it are handed over.

When the flag and the date disagree the flag wins, because it is what FBS will actually accept
payment for; the fee is still shown (never dropped, unlike the old date-only split) and is listed
in `Overview.mismatches` so the caller can log it for the library to look into.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from portal.domain import money
from portal.domain.fees import Fee

__all__ = [
    "Destination",
    "DuplicateFeeError",
    "Mismatch",
    "Overview",
    "Section",
    "build_overview",
    "expected_destination",
]


class Destination(str, Enum):
    """Where a fee is paid."""

    PAYABLE_HERE = "payable_here"
    HANDED_OVER = "handed_over"

    @classmethod
    def of(cls, fee: Fee) -> "Destination":
        """Where FBS says the fee is paid (its `payable_by_client` flag)."""
        return cls.PAYABLE_HERE if fee.payable_by_client else cls.HANDED_OVER


class DuplicateFeeError(ValueError):
    """FBS returned the same fee_id more than once.

    fee_id is the key FBS registers payments by, so two entries with one id are an upstream
    error, not two debts: counting both would show the citizen more than they owe, and keeping
    one would mean guessing which is right. Neither is safe on a page about money, so the
    caller gets an error to log and show as "could not fetch your fees".
    """

    def __init__(self, fee_ids: Iterable[int]) -> None:
        self.fee_ids = tuple(sorted(fee_ids))
        super().__init__(f"FBS returned these fee ids more than once: {list(self.fee_ids)}")


def _order(fee: Fee) -> tuple[date, int]:
    return (fee.created, fee.fee_id)


@dataclass(frozen=True)
class Section:
    """The unpaid fees of one destination, oldest first, and their total."""

    fees: tuple[Fee, ...] = ()

    def __post_init__(self) -> None:
        # Sorting here means every Section (also one built in a test or a template) is ordered.
        object.__setattr__(self, "fees", tuple(sorted(self.fees, key=_order)))

    @property
    def total(self) -> Decimal:
        """Sum of the amounts, exact, rounded once to whole øre."""
        return money.total(fee.amount for fee in self.fees)

    @property
    def count(self) -> int:
        return len(self.fees)

    @property
    def is_empty(self) -> bool:
        return not self.fees


@dataclass(frozen=True)
class Mismatch:
    """A fee whose flag disagrees with the cut-off date; it is shown where the flag puts it."""

    fee: Fee
    expected: Destination  # what the cut-off date predicts

    @property
    def actual(self) -> Destination:
        return Destination.of(self.fee)


@dataclass(frozen=True)
class Overview:
    """Everything the citizen's page shows about their debt at one library."""

    cutoff_date: date
    payable_here: Section
    handed_over: Section
    paid: tuple[Fee, ...] = ()
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def total(self) -> Decimal:
        """The grand total of unpaid fees.

        The sum of the two section totals, so the figures on the page always add up (with
        sub-øre amounts, rounding the grand sum could differ from the shown totals by an øre).
        """
        return self.payable_here.total + self.handed_over.total

    @property
    def is_empty(self) -> bool:
        """True when nothing is owed (paid fees may still be listed)."""
        return self.payable_here.is_empty and self.handed_over.is_empty


def expected_destination(fee: Fee, cutoff_date: date) -> Destination:
    """Where the cut-off date says the fee should be: created ON the date counts as handed over."""
    return Destination.PAYABLE_HERE if fee.created < cutoff_date else Destination.HANDED_OVER


def build_overview(fees: Iterable[Fee], cutoff_date: date) -> Overview:
    """Split `fees` by their flag, report flag/date disagreements; every fee lands exactly once.

    Raises DuplicateFeeError if a fee_id occurs more than once.
    """
    fees = tuple(fees)
    mismatches = fee_mismatches(fees, cutoff_date)
    unpaid = [fee for fee in fees if not fee.is_paid]
    return Overview(
        cutoff_date=cutoff_date,
        payable_here=Section(tuple(f for f in unpaid if f.payable_by_client)),
        handed_over=Section(tuple(f for f in unpaid if not f.payable_by_client)),
        paid=tuple(sorted((fee for fee in fees if fee.is_paid), key=_order)),
        mismatches=mismatches,
    )


def fee_mismatches(fees: Iterable[Fee], cutoff_date: date) -> tuple[Mismatch, ...]:
    """The unpaid fees whose flag disagrees with the cut-off date, oldest first.

    Raises DuplicateFeeError if a fee_id occurs more than once: both checks every
    consumer of FBS's fee list needs, without building the sections.
    """
    fees = tuple(fees)
    _reject_duplicates(fees)
    found = []
    for fee in sorted((fee for fee in fees if not fee.is_paid), key=_order):
        expected = expected_destination(fee, cutoff_date)
        if expected is not Destination.of(fee):
            found.append(Mismatch(fee, expected))
    return tuple(found)


def _reject_duplicates(fees: Iterable[Fee]) -> None:
    counts = Counter(fee.fee_id for fee in fees)
    duplicates = [fee_id for fee_id, count in counts.items() if count > 1]
    if duplicates:
        raise DuplicateFeeError(duplicates)
