"""One overview from two systems: FBS's fees merged with the debtor system's claims.

`merge` is the only way a `portal.domain.overview.DebtOverview` is built. FBS knows every fee and
whether it was handed over; the municipality's debtor system knows what happened after the
hand-over (invoiced, reminders, payments in Mit Betalingsoverblik) and the claims it added itself
(reminder fees). The rules, one row per fee or claim:

- A fee and the claim made from it (same fee id) are one row, shown with the claim's status,
  due date and amount: where the two amounts differ, the debtor's figure is what the citizen
  must pay, and the difference is reported for the log.
- Paid in the debtor system but still unpaid in FBS: FBS hears of the payment up to 72 hours
  later. The row stays visible, marked as awaiting registration, and is not counted.
- Handed over in FBS but not (yet) a claim: new fees reach the debtor system about a day later.
  The row is counted and marked as not yet visible in Mit Betalingsoverblik.
- Claims the municipality added (no fee id) are counted in the Mit Betalingsoverblik section
  and marked as added by the municipality, with the fee they were added to.
- Whatever the debtor system holds is paid in Mit Betalingsoverblik, so a fee with a claim is
  never "payable here", whatever its FBS flag says (reported; paying it twice is worse).
- Paid rows (FBS or debtor) are in no total; those paid in the last 30 days are listed.

Without debtor data (`claims=None`: not configured, or it failed) the sections are FBS's split by
its `payableByClient` flag. Ids are unique on each side: the providers' parsers refuse an answer
that repeats a fee id or a claim id (or two claims for one fee), so no check is repeated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from portal.domain.claims import Claim
from portal.domain.fees import Fee
from portal.domain.overview import (
    DebtOverview,
    DebtRow,
    DebtSection,
    Disagreement,
    Discrepancy,
    RowNote,
    fee_mismatches,
)

__all__ = ["RECENTLY_PAID_DAYS", "REGISTRATION_DELAY_DAYS", "merge"]

RECENTLY_PAID_DAYS = 30
# "Up to 72 hours" for a payment in Mit Betalingsoverblik to reach FBS.
REGISTRATION_DELAY_DAYS = 3


class _Place(Enum):
    HERE = "here"
    OVER = "over"
    PAID = "paid"


def merge(fees: Iterable[Fee], claims: Sequence[Claim] | None, cutoff_date: date, today: date) -> DebtOverview:
    """Merge FBS's fees (paid ones included) with the debtor's claims (None: unknown).

    Fee ids, claim ids and the claims' fee ids must each be unique (the parsers see to it).
    """
    fees = tuple(fees)
    mismatches = fee_mismatches(fees, cutoff_date)
    known = claims is not None
    claims = tuple(claims or ())
    by_fee = {claim.fee_id: claim for claim in claims if claim.fee_id is not None}
    fees_by_id = {fee.fee_id: fee for fee in fees}
    found: list[Discrepancy] = []
    placed = [_fee_row(fee, by_fee.get(fee.fee_id), known, today, found) for fee in fees]
    claims_by_id = {claim.claim_id: claim for claim in claims}
    placed += [
        _claim_row(claim, _origin(claim, claims_by_id, fees_by_id, found), found)
        for claim in claims
        if claim.fee_id not in fees_by_id
    ]
    rows_at = {place: [row for p, row in placed if p is place] for place in _Place}
    since = today - timedelta(days=RECENTLY_PAID_DAYS)
    paid = sorted(rows_at[_Place.PAID], key=_paid_order)
    return DebtOverview(
        cutoff_date=cutoff_date,
        payable_here=DebtSection(tuple(sorted(rows_at[_Place.HERE], key=_own_key))),
        handed_over=DebtSection(tuple(sorted(rows_at[_Place.OVER], key=lambda row: _anchored_key(row, claims_by_id)))),
        recently_paid=tuple(row for row in paid if row.paid is not None and row.paid >= since),
        earlier_paid=tuple(row for row in paid if row.paid is None or row.paid < since),
        debtor_known=known,
        mismatches=mismatches,
        discrepancies=tuple(found),
    )


def _fee_row(
    fee: Fee, claim: Claim | None, known: bool, today: date, found: list[Discrepancy]
) -> tuple[_Place, DebtRow]:
    if claim is None:
        if fee.is_paid:
            return _Place.PAID, DebtRow(fee, None, fee.amount, counted=False, paid=fee.paid)
        if fee.payable_by_client:
            return _Place.HERE, DebtRow(fee, None, fee.amount, counted=True)
        # Only say "not yet visible" when we know: with no debtor data it may well be there.
        note = RowNote.NOT_YET_IN_DEBTOR_SYSTEM if known else None
        return _Place.OVER, DebtRow(fee, None, fee.amount, counted=True, note=note)
    if fee.payable_by_client and not fee.is_paid:
        found.append(Discrepancy(Disagreement.CLAIMED_BUT_PAYABLE_HERE, fee.fee_id, claim.claim_id))
    if claim.is_paid:
        if fee.is_paid:
            # Paid and registered: the citizen paid on the debtor's date, FBS learnt it later.
            return _Place.PAID, DebtRow(fee, claim, claim.paid_amount, counted=False, paid=claim.paid or fee.paid)
        _compare(fee, claim, claim.paid_amount, found)
        if claim.paid is not None and (today - claim.paid).days > REGISTRATION_DELAY_DAYS:
            found.append(Discrepancy(Disagreement.REGISTRATION_OVERDUE, fee.fee_id, claim.claim_id))
        return _Place.OVER, DebtRow(
            fee, claim, claim.paid_amount, counted=False, note=RowNote.AWAITING_REGISTRATION, paid=claim.paid
        )
    if fee.is_paid:
        # The municipality still collects it, so it is owed there whatever FBS says.
        found.append(
            Discrepancy(
                Disagreement.PAID_IN_FBS_OPEN_IN_DEBTOR, fee.fee_id, claim.claim_id, fee.amount, claim.outstanding
            )
        )
    else:
        _compare(fee, claim, claim.outstanding, found)
    return _Place.OVER, DebtRow(fee, claim, claim.outstanding, counted=True)


def _compare(fee: Fee, claim: Claim, debtor_amount: Decimal, found: list[Discrepancy]) -> None:
    if fee.amount != debtor_amount:
        found.append(Discrepancy(Disagreement.AMOUNT, fee.fee_id, claim.claim_id, fee.amount, debtor_amount))


def _claim_row(claim: Claim, origin: Fee | None, found: list[Discrepancy]) -> tuple[_Place, DebtRow]:
    if not claim.added_by_municipality:
        # A library claim for a fee FBS does not list, even with paid fees: shown as the
        # debtor reports it, because that is where it will be collected.
        found.append(Discrepancy(Disagreement.UNKNOWN_FEE, claim.fee_id, claim.claim_id))
    note = RowNote.ADDED_BY_MUNICIPALITY if claim.added_by_municipality else None
    if claim.is_paid:
        return _Place.PAID, DebtRow(
            None, claim, claim.paid_amount, counted=False, note=note, origin=origin, paid=claim.paid
        )
    return _Place.OVER, DebtRow(None, claim, claim.outstanding, counted=True, note=note, origin=origin)


def _root(claim: Claim, claims_by_id: Mapping[str, Claim]) -> Claim | None:
    """The library claim a municipality claim was (perhaps via another one) added to."""
    seen = {claim.claim_id}
    current = claim
    while current.added_by_municipality:
        parent = claims_by_id.get(current.origin_claim_id or "")
        if parent is None or parent.claim_id in seen:
            return None
        seen.add(parent.claim_id)
        current = parent
    return current


def _origin(
    claim: Claim, claims_by_id: Mapping[str, Claim], fees_by_id: Mapping[int, Fee], found: list[Discrepancy]
) -> Fee | None:
    if not claim.added_by_municipality or claim.origin_claim_id is None:
        return None
    root = _root(claim, claims_by_id)
    if root is None:
        found.append(Discrepancy(Disagreement.UNKNOWN_ORIGIN, None, claim.claim_id))
        return None
    return fees_by_id.get(root.fee_id) if root.fee_id is not None else None


# -- order ---------------------------------------------------------------------------------
# Oldest first, like the FBS sections; a claim the municipality added follows the fee it was
# added to, so a reminder fee is read together with its reason.

_Key = tuple[date, int, int, str]


def _identity_key(fee: Fee | None, claim: Claim | None) -> _Key:
    if fee is not None:
        return (fee.created, 0, fee.fee_id, "")
    assert claim is not None
    return (claim.created, 1, 0, claim.claim_id)


def _own_key(row: DebtRow) -> _Key:
    return _identity_key(row.fee, row.claim)


def _anchored_key(row: DebtRow, claims_by_id: Mapping[str, Claim]) -> tuple[_Key, int, _Key]:
    if row.claim is not None and row.claim.added_by_municipality:
        root = _root(row.claim, claims_by_id)
        if root is not None:
            anchor = _identity_key(row.origin, None) if row.origin is not None else _identity_key(None, root)
            return (anchor, 1, _own_key(row))
    return (_own_key(row), 0, _own_key(row))


def _paid_order(row: DebtRow) -> tuple[int, _Key]:
    # Most recent payment first: it is the one the citizen is looking for.
    return (-(row.paid.toordinal() if row.paid is not None else 0), _own_key(row))
