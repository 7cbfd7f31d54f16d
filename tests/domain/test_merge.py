"""The merge of FBS's fees with the debtor system's claims: rules by example, invariants by property."""

from __future__ import annotations

import random as random_module
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain import money
from portal.domain.claims import Claim, ClaimStatus
from portal.domain.fees import Fee, FeeType, Material
from portal.domain.merge import RECENTLY_PAID_DAYS, merge
from portal.domain.overview import (
    DebtOverview,
    DebtRow,
    Destination,
    Disagreement,
    Mismatch,
    RowNote,
    expected_destination,
)

CUTOFF = date(2021, 6, 15)
TODAY = date(2024, 5, 10)
AFTER = CUTOFF + timedelta(days=10)
BEFORE = CUTOFF - timedelta(days=10)


def fee(
    fee_id: int,
    amount: str = "30.00",
    payable: bool = False,
    created: date = AFTER,
    paid: date | None = None,
    due: date | None = date(2021, 7, 1),
) -> Fee:
    return Fee(
        fee_id=fee_id,
        type=FeeType.FEE,
        reason="Gebyr (for sent)",
        amount=Decimal(amount),
        created=created,
        due=due,
        payable_by_client=payable,
        paid=paid,
    )


def claim(
    claim_id: str,
    fee_id: int | None = None,
    amount: str = "30.00",
    *,
    origin: str | None = None,
    outstanding: str | None = None,
    status: ClaimStatus = ClaimStatus.INVOICED,
    due: date | None = date(2021, 8, 1),
    paid: date | None = None,
    created: date = AFTER,
    description: str = "Gebyr",
) -> Claim:
    left = Decimal(amount if outstanding is None else outstanding)
    return Claim(
        claim_id=claim_id,
        description=description,
        created=created,
        original_amount=Decimal(amount),
        outstanding=left,
        status=status,
        fee_id=fee_id,
        origin_claim_id=origin,
        type=FeeType.FEE,
        due=due,
        paid_amount=Decimal(amount) - left,
        paid=paid,
    )


def one(overview: DebtOverview, fee_id: int | None = None, claim_id: str | None = None):  # type: ignore[no-untyped-def]
    found = [
        row
        for row in overview.rows()
        if (fee_id is None or row.fee_id == fee_id) and (claim_id is None or row.claim_id == claim_id)
    ]
    assert len(found) == 1, found
    return found[0]


# --- the rules, by example -------------------------------------------------------------------


def test_fee_and_its_claim_are_one_row_with_the_debtors_status_and_due_date() -> None:
    overview = merge(
        [fee(505, due=date(2021, 7, 13))],
        [claim("C-505", 505, status=ClaimStatus.REMINDER_SENT, due=date(2021, 8, 3))],
        CUTOFF,
        TODAY,
    )
    assert [r.fee_id for r in overview.handed_over.rows] == [505]
    row = overview.handed_over.rows[0]
    assert (row.claim_id, row.status, row.due, row.counted, row.note) == (
        "C-505",
        ClaimStatus.REMINDER_SENT,
        date(2021, 8, 3),
        True,
        None,
    )
    assert overview.handed_over.total == Decimal("30.00") and overview.discrepancies == ()


def test_paid_in_the_debtor_system_but_not_in_fbs_awaits_registration() -> None:
    paid_on = TODAY - timedelta(days=1)
    overview = merge(
        [fee(506, "399.00"), fee(507)],
        [claim("C-506", 506, "399.00", outstanding="0.00", paid=paid_on), claim("C-507", 507)],
        CUTOFF,
        TODAY,
    )
    row = one(overview, fee_id=506)
    assert row in overview.handed_over.rows
    assert (row.note, row.counted, row.paid, row.amount) == (
        RowNote.AWAITING_REGISTRATION,
        False,
        paid_on,
        Decimal("399.00"),
    )
    # Visible, but not in the total still to pay, and not among the paid ones either.
    assert overview.handed_over.total == Decimal("30.00")
    assert overview.total == Decimal("30.00")
    assert overview.recently_paid == ()


def test_handed_over_fee_without_a_claim_is_not_yet_visible_and_counted() -> None:
    overview = merge([fee(507, "30.00")], [], CUTOFF, TODAY)
    row = one(overview, fee_id=507)
    assert row in overview.handed_over.rows
    assert (row.note, row.counted, row.status) == (RowNote.NOT_YET_IN_DEBTOR_SYSTEM, True, None)
    assert overview.handed_over.total == Decimal("30.00")


def test_reminder_fee_is_added_by_the_municipality_counted_and_follows_its_fee() -> None:
    origin = fee(505, "60.00", created=date(2021, 6, 15))
    later = fee(510, "20.00", created=date(2021, 6, 20))
    reminder = claim("C-505-R1", None, "65.00", origin="C-505", created=date(2021, 7, 20), description="Rykkergebyr")
    overview = merge(
        [later, origin], [reminder, claim("C-505", 505, "60.00"), claim("C-510", 510, "20.00")], CUTOFF, TODAY
    )
    rows = overview.handed_over.rows
    # Oldest first, and the reminder fee right after the fee it was added to.
    assert [(r.fee_id, r.claim_id) for r in rows] == [(505, "C-505"), (None, "C-505-R1"), (510, "C-510")]
    added = rows[1]
    assert added.added_by_municipality and added.note is RowNote.ADDED_BY_MUNICIPALITY and added.counted
    assert added.origin == origin and added.reason == "Rykkergebyr"
    assert overview.handed_over.total == Decimal("145.00")


def test_reminder_on_a_reminder_leads_back_to_the_fee() -> None:
    origin = fee(505)
    overview = merge(
        [origin],
        [claim("C-1", 505), claim("R-1", origin="C-1", amount="65.00"), claim("R-2", origin="R-1", amount="65.00")],
        CUTOFF,
        TODAY,
    )
    assert one(overview, claim_id="R-2").origin == origin
    assert overview.discrepancies == ()


@pytest.mark.parametrize("origins", [{"R-1": "nowhere"}, {"R-1": "R-2", "R-2": "R-1"}])
def test_reminder_whose_origin_is_unknown_or_circular_is_still_counted(origins: dict[str, str]) -> None:
    claims = [claim(cid, origin=parent, amount="65.00") for cid, parent in origins.items()]
    overview = merge([], claims, CUTOFF, TODAY)
    assert overview.handed_over.total == Decimal("65.00") * len(claims)
    assert all(row.origin is None for row in overview.handed_over.rows)
    assert {d.kind for d in overview.discrepancies} == {Disagreement.UNKNOWN_ORIGIN}


def test_amounts_that_differ_are_shown_by_the_debtors_figure_and_reported() -> None:
    overview = merge(
        [fee(523, "30.00")], [claim("C-523", 523, "30.00", outstanding="20.00", paid=date(2024, 3, 20))], CUTOFF, TODAY
    )
    row = one(overview, fee_id=523)
    assert row.amount == Decimal("20.00") and row.counted
    assert overview.handed_over.total == Decimal("20.00")
    found = overview.discrepancies
    assert [(d.kind, d.fee_id, d.claim_id, d.fbs_amount, d.debtor_amount) for d in found] == [
        (Disagreement.AMOUNT, 523, "C-523", Decimal("30.00"), Decimal("20.00"))
    ]


def test_a_claimed_fee_is_never_payable_here_whatever_its_flag() -> None:
    overview = merge([fee(501, payable=True, created=BEFORE)], [claim("C-501", 501)], CUTOFF, TODAY)
    assert overview.payable_here.is_empty
    assert one(overview, fee_id=501) in overview.handed_over.rows
    assert [d.kind for d in overview.discrepancies] == [Disagreement.CLAIMED_BUT_PAYABLE_HERE]


def test_paid_in_fbs_but_still_open_in_the_debtor_system_is_owed_there() -> None:
    overview = merge([fee(505, paid=TODAY)], [claim("C-505", 505)], CUTOFF, TODAY)
    assert one(overview, fee_id=505) in overview.handed_over.rows
    assert overview.handed_over.total == Decimal("30.00")
    assert [d.kind for d in overview.discrepancies] == [Disagreement.PAID_IN_FBS_OPEN_IN_DEBTOR]


def test_registration_taking_longer_than_72_hours_is_reported() -> None:
    def kinds(days_ago: int) -> list[Disagreement]:
        paid = TODAY - timedelta(days=days_ago)
        overview = merge([fee(506)], [claim("C-506", 506, outstanding="0.00", paid=paid)], CUTOFF, TODAY)
        return [d.kind for d in overview.discrepancies]

    assert kinds(3) == []
    assert kinds(4) == [Disagreement.REGISTRATION_OVERDUE]


def test_library_claim_for_a_fee_fbs_does_not_know_is_shown_and_reported() -> None:
    overview = merge([], [claim("C-999", 999, "45.00")], CUTOFF, TODAY)
    assert overview.handed_over.total == Decimal("45.00")
    row = one(overview, claim_id="C-999")
    assert row.fee is None and not row.added_by_municipality and row.note is None
    assert [d.kind for d in overview.discrepancies] == [Disagreement.UNKNOWN_FEE]


# --- recently paid ---------------------------------------------------------------------------


def test_paid_in_the_last_30_days_is_listed_in_no_total() -> None:
    edge = TODAY - timedelta(days=RECENTLY_PAID_DAYS)
    overview = merge(
        [
            fee(1, payable=True, paid=edge),
            fee(2, payable=True, paid=edge - timedelta(days=1)),
            fee(3, payable=True, paid=TODAY),
            fee(4, payable=True),
        ],
        [],
        CUTOFF,
        TODAY,
    )
    assert [r.fee_id for r in overview.recently_paid] == [3, 1]  # newest payment first
    assert [r.fee_id for r in overview.earlier_paid] == [2]
    assert not any(r.counted for r in overview.recently_paid + overview.earlier_paid)
    assert overview.total == Decimal("30.00")


def test_fee_paid_in_the_debtor_system_and_registered_is_one_paid_row_dated_by_the_payment() -> None:
    overview = merge(
        [fee(506, "399.00", paid=TODAY - timedelta(days=2))],
        [claim("C-506", 506, "399.00", outstanding="0.00", paid=TODAY - timedelta(days=4))],
        CUTOFF,
        TODAY,
    )
    [row] = overview.recently_paid
    assert (row.fee_id, row.claim_id, row.paid, row.amount) == (
        506,
        "C-506",
        TODAY - timedelta(days=4),
        Decimal("399.00"),
    )
    assert overview.is_empty


def test_paid_reminder_fee_is_recently_paid() -> None:
    overview = merge(
        [],
        [claim("R-1", origin="C-1", amount="65.00", outstanding="0.00", paid=TODAY - timedelta(days=1))],
        CUTOFF,
        TODAY,
    )
    [row] = overview.recently_paid
    assert row.added_by_municipality and not row.counted and overview.total == Decimal("0.00")


# --- FBS alone: the split by flag, explained by the cut-off date ---------------------------------


def fee_ids(rows: tuple[DebtRow, ...]) -> list[int | None]:
    return [row.fee_id for row in rows]


def test_without_debtor_data_the_sections_are_the_fbs_split_with_totals() -> None:
    fees = [
        fee(1, "25.00", payable=True, created=BEFORE),
        fee(2, "100.50", payable=False),
        fee(3, "0.25", payable=True, created=BEFORE),
        fee(4, payable=True, paid=TODAY),
    ]
    overview = merge(fees, None, CUTOFF, TODAY)
    assert fee_ids(overview.payable_here.rows) == [1, 3]
    assert fee_ids(overview.handed_over.rows) == [2]
    assert fee_ids(overview.recently_paid) == [4]
    assert (overview.payable_here.total, overview.handed_over.total, overview.total) == (
        Decimal("25.25"),
        Decimal("100.50"),
        Decimal("125.75"),
    )
    assert (overview.payable_here.count, overview.handed_over.count) == (2, 1)
    assert overview.mismatches == () and overview.cutoff_date == CUTOFF
    # No claims known, so nothing is claimed "not yet visible" and no status is shown.
    assert all(r.note is None and r.claim is None for r in overview.rows())
    assert not overview.debtor_known and merge(fees, [], CUTOFF, TODAY).debtor_known


def test_fee_created_on_the_cutoff_date_is_expected_handed_over() -> None:
    on_the_day = fee(1, created=CUTOFF, payable=False)
    assert expected_destination(on_the_day, CUTOFF) is Destination.HANDED_OVER
    assert merge([on_the_day], None, CUTOFF, TODAY).mismatches == ()


def test_fee_created_the_day_before_is_expected_payable_here() -> None:
    the_day_before = fee(1, created=CUTOFF - timedelta(days=1), payable=True)
    assert expected_destination(the_day_before, CUTOFF) is Destination.PAYABLE_HERE
    assert merge([the_day_before], None, CUTOFF, TODAY).mismatches == ()


def test_flag_wins_over_the_date_and_the_fee_is_reported() -> None:
    still_in_fbs = fee(1, created=CUTOFF, payable=True)  # date says handed over
    already_handed_over = fee(2, created=CUTOFF - timedelta(days=1), payable=False)  # date says here
    overview = merge([still_in_fbs, already_handed_over], None, CUTOFF, TODAY)
    assert fee_ids(overview.payable_here.rows) == [1]
    assert fee_ids(overview.handed_over.rows) == [2]
    assert overview.mismatches == (
        Mismatch(already_handed_over, expected=Destination.PAYABLE_HERE),
        Mismatch(still_in_fbs, expected=Destination.HANDED_OVER),
    )
    assert overview.mismatches[0].actual is Destination.HANDED_OVER
    assert overview.mismatches[1].actual is Destination.PAYABLE_HERE


def test_a_paid_fee_is_in_no_section_and_has_nothing_to_explain() -> None:
    paid = fee(1, "80.00", created=AFTER, payable=True, paid=TODAY)  # flag and date disagree too
    overview = merge([paid], None, CUTOFF, TODAY)
    assert overview.is_empty and overview.total == Decimal("0.00")
    assert [r.fee for r in overview.recently_paid] == [paid]
    assert overview.mismatches == ()


def test_no_fees() -> None:
    overview = merge([], None, CUTOFF, TODAY)
    assert overview.is_empty and overview.rows() == () and overview.mismatches == ()
    assert str(overview.total) == "0.00" and str(overview.payable_here.total) == "0.00"
    assert overview.payable_here.count == 0


def test_fees_without_due_date_or_materials_are_kept() -> None:
    # The old dpl-react split lost fees without dueDate; closed ILL fees come without materials.
    without_due = fee(1, payable=True, created=BEFORE, due=None)
    with_materials = replace(fee(2, payable=True, created=BEFORE), materials=(Material("123", "456"),))
    overview = merge([without_due, with_materials], None, CUTOFF, TODAY)
    assert [r.fee for r in overview.payable_here.rows] == [without_due, with_materials]


def test_sections_are_sorted_by_creation_date_then_fee_id() -> None:
    fees = [
        fee(9, created=date(2021, 5, 1)),
        fee(3, created=date(2021, 6, 1)),
        fee(7, created=date(2021, 5, 1)),
        fee(1, created=date(2021, 7, 1)),
    ]
    assert fee_ids(merge(fees, None, CUTOFF, TODAY).handed_over.rows) == [7, 9, 3, 1]


def test_totals_are_exact_decimals() -> None:
    overview = merge([fee(1, "0.10"), fee(2, "0.20")], None, CUTOFF, TODAY)
    assert overview.handed_over.total == Decimal("0.30")
    assert overview.handed_over.total.as_tuple().exponent == -2


def test_section_total_rounds_once_half_up() -> None:
    # Sub-øre amounts never come from the parsers, but if they do: sum first, round once.
    overview = merge([fee(1, "0.005"), fee(2, "0.005"), fee(3, "0.115")], None, CUTOFF, TODAY)
    assert overview.handed_over.total == Decimal("0.13")  # 0.125 -> 0.13 (banker's would give 0.12)


def test_grand_total_is_the_sum_of_the_shown_section_totals() -> None:
    overview = merge([fee(1, "0.005", payable=True, created=BEFORE), fee(2, "0.005")], None, CUTOFF, TODAY)
    assert (overview.payable_here.total, overview.handed_over.total) == (Decimal("0.01"), Decimal("0.01"))
    assert overview.total == Decimal("0.02")


# --- invariants, by property ---------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
days = st.integers(min_value=-800, max_value=5).map(lambda n: TODAY + timedelta(days=n))
maybe_day = st.one_of(st.none(), days)


@st.composite
def fees_and_claims(draw: st.DrawFn) -> tuple[list[Fee], list[Claim]]:
    fee_ids = draw(st.lists(st.integers(1, 60), unique=True, max_size=12))
    fees = [
        Fee(
            fee_id=i,
            type=FeeType.FEE,
            reason="r",
            amount=draw(amounts),
            created=draw(days),
            due=draw(maybe_day),
            payable_by_client=draw(st.booleans()),
            paid=draw(maybe_day),
        )
        for i in fee_ids
    ]
    # Library claims for some known fees and some unknown ones (ids up to 80).
    claimed = draw(st.lists(st.integers(1, 80), unique=True, max_size=12))
    claims: list[Claim] = []
    for fee_id in claimed:
        claims.append(draw(claim_for(f"C-{fee_id}", fee_id, None)))
    # Municipality claims, each added to some claim id (maybe one that does not exist).
    for n in range(draw(st.integers(0, 5))):
        parent = draw(
            st.one_of(
                st.sampled_from([c.claim_id for c in claims] or ["none"]), st.just(f"R-{n + 1}"), st.just("missing")
            )
        )
        claims.append(draw(claim_for(f"R-{n}", None, parent)))
    return fees, draw(st.permutations(claims))


@st.composite
def claim_for(draw: st.DrawFn, claim_id: str, fee_id: int | None, origin: str | None) -> Claim:
    original = draw(amounts)
    paid_in_full = draw(st.booleans())
    outstanding = (
        Decimal("0.00") if paid_in_full else draw(st.decimals(min_value=Decimal("0.01"), max_value=original, places=2))
    )
    paid = draw(days) if paid_in_full else draw(maybe_day)
    return Claim(
        claim_id=claim_id,
        description="d",
        created=draw(days),
        original_amount=original,
        outstanding=outstanding,
        status=draw(st.sampled_from(list(ClaimStatus))),
        fee_id=fee_id,
        origin_claim_id=origin,
        due=draw(maybe_day),
        paid_amount=original - outstanding,
        paid=paid,
    )


@given(fees_and_claims(), st.booleans())
def test_every_fee_and_every_claim_appears_exactly_once(
    data: tuple[list[Fee], list[Claim]], debtor_known: bool
) -> None:
    fees, claims = data
    overview = merge(fees, claims if debtor_known else None, CUTOFF, TODAY)
    rows = overview.rows()
    fee_count = Counter(row.fee_id for row in rows if row.fee_id is not None)
    claim_count = Counter(row.claim_id for row in rows if row.claim_id is not None)
    assert fee_count == Counter(f.fee_id for f in fees)
    assert claim_count == (Counter(c.claim_id for c in claims) if debtor_known else Counter())


@given(fees_and_claims(), st.booleans())
def test_section_totals_are_the_sums_of_their_counted_rows(
    data: tuple[list[Fee], list[Claim]], debtor_known: bool
) -> None:
    fees, claims = data
    overview = merge(fees, claims if debtor_known else None, CUTOFF, TODAY)
    for section in (overview.payable_here, overview.handed_over):
        assert section.total == money.total(r.amount for r in section.rows if r.counted)
    assert overview.total == overview.payable_here.total + overview.handed_over.total
    # Paid rows, shown or not, are in no total; what is counted is still owed.
    assert not any(r.counted for r in overview.recently_paid + overview.earlier_paid)
    for row in overview.payable_here.rows + overview.handed_over.rows:
        assert row.counted == (row.note is not RowNote.AWAITING_REGISTRATION)
        if row.counted:
            assert row.amount > 0


@given(fees_and_claims())
def test_nothing_is_both_payable_here_and_handed_over(data: tuple[list[Fee], list[Claim]]) -> None:
    fees, claims = data
    overview = merge(fees, claims, CUTOFF, TODAY)
    here = {r.fee_id for r in overview.payable_here.rows}
    over = {r.fee_id for r in overview.handed_over.rows if r.fee_id is not None}
    assert not here & over
    # Payable here means: FBS says so, it is unpaid, and the debtor system has no claim for it.
    claimed = {c.fee_id for c in claims}
    for row in overview.payable_here.rows:
        assert row.fee is not None and row.fee.payable_by_client and not row.fee.is_paid
        assert row.claim is None and row.fee_id not in claimed


@given(fees_and_claims())
def test_recently_paid_is_the_last_30_days(data: tuple[list[Fee], list[Claim]]) -> None:
    fees, claims = data
    overview = merge(fees, claims, CUTOFF, TODAY)
    since = TODAY - timedelta(days=RECENTLY_PAID_DAYS)
    assert all(r.paid is not None and r.paid >= since for r in overview.recently_paid)
    assert all(r.paid is None or r.paid < since for r in overview.earlier_paid)


@given(fees_and_claims(), st.sampled_from([CUTOFF - timedelta(days=1), CUTOFF, AFTER]))
def test_mismatches_are_exactly_the_disagreeing_unpaid_fees(data: tuple[list[Fee], list[Claim]], cutoff: date) -> None:
    fees, claims = data
    # The cut-off date often equals a fee's creation date: the boundary is where bugs live.
    fees = [replace(f, created=cutoff) if f.fee_id % 3 == 0 else f for f in fees]
    overview = merge(fees, claims, cutoff, TODAY)
    disagreeing = [f for f in fees if f.paid is None and (f.created < cutoff) != f.payable_by_client]
    assert [m.fee for m in overview.mismatches] == sorted(disagreeing, key=lambda f: (f.created, f.fee_id))
    for mismatch in overview.mismatches:
        created_before = mismatch.fee.created < cutoff
        assert mismatch.expected is (Destination.PAYABLE_HERE if created_before else Destination.HANDED_OVER)
        assert mismatch.actual is not mismatch.expected


@given(fees_and_claims())
def test_without_claims_the_sections_hold_the_unpaid_fees_by_flag(data: tuple[list[Fee], list[Claim]]) -> None:
    fees, _claims = data
    overview = merge(fees, None, CUTOFF, TODAY)
    assert {r.fee for r in overview.payable_here.rows} == {f for f in fees if not f.is_paid and f.payable_by_client}
    assert {r.fee for r in overview.handed_over.rows} == {f for f in fees if not f.is_paid and not f.payable_by_client}
    assert overview.total == money.total(f.amount for f in fees if not f.is_paid)


@given(fees_and_claims())
def test_sections_are_sorted_oldest_first(data: tuple[list[Fee], list[Claim]]) -> None:
    fees, _claims = data
    overview = merge(fees, None, CUTOFF, TODAY)
    for section in (overview.payable_here, overview.handed_over):
        keys = [(row.created, row.fee_id) for row in section.rows]
        assert keys == sorted(keys)


@given(fees_and_claims(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(data: tuple[list[Fee], list[Claim]], random: random_module.Random) -> None:
    fees, claims = data
    shuffled_fees, shuffled_claims = list(fees), list(claims)
    random.shuffle(shuffled_fees)
    random.shuffle(shuffled_claims)
    shuffled = merge(shuffled_fees, shuffled_claims, CUTOFF, TODAY)
    ordered = merge(fees, claims, CUTOFF, TODAY)
    # Discrepancies are only logged: their order may follow the input's.
    assert Counter(shuffled.discrepancies) == Counter(ordered.discrepancies)
    assert replace(shuffled, discrepancies=()) == replace(ordered, discrepancies=())
