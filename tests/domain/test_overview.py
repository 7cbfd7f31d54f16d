"""The split into "payable here" / "handed over", the mismatch report and the totals."""
from __future__ import annotations

import dataclasses
import random as random_module
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.fees import Fee, FeeType, Material
from portal.domain.overview import (
    Destination,
    DuplicateFeeError,
    Mismatch,
    Overview,
    Section,
    build_overview,
    expected_destination,
)

CUTOFF = date(2024, 1, 1)
BEFORE = CUTOFF - timedelta(days=1)
AFTER = CUTOFF + timedelta(days=1)


def fee(fee_id: int, amount: str = "10.00", created: date = BEFORE, payable: bool = True,
        paid: date | None = None, due: date | None = None) -> Fee:
    return Fee(fee_id=fee_id, type=FeeType.FEE, reason="Gebyr (for sent)", amount=Decimal(amount),
               created=created, due=due, payable_by_client=payable, paid=paid)


def ids(fees: tuple[Fee, ...]) -> list[int]:
    return [f.fee_id for f in fees]


# --- examples -----------------------------------------------------------------------------


def test_split_by_flag_with_totals() -> None:
    overview = build_overview(
        [fee(1, "25.00", BEFORE, True), fee(2, "100.50", AFTER, False), fee(3, "0.25", BEFORE, True)],
        CUTOFF,
    )
    assert ids(overview.payable_here.fees) == [1, 3]
    assert ids(overview.handed_over.fees) == [2]
    assert overview.payable_here.total == Decimal("25.25")
    assert overview.handed_over.total == Decimal("100.50")
    assert overview.total == Decimal("125.75")
    assert (overview.payable_here.count, overview.handed_over.count) == (2, 1)
    assert overview.mismatches == ()
    assert overview.cutoff_date == CUTOFF
    assert not overview.is_empty


def test_fee_created_on_the_cutoff_date_is_expected_handed_over() -> None:
    on_the_day = fee(1, created=CUTOFF, payable=False)
    assert expected_destination(on_the_day, CUTOFF) is Destination.HANDED_OVER
    assert build_overview([on_the_day], CUTOFF).mismatches == ()


def test_fee_created_the_day_before_is_expected_payable_here() -> None:
    assert expected_destination(fee(1, created=BEFORE), CUTOFF) is Destination.PAYABLE_HERE


def test_flag_wins_over_the_date_and_the_fee_is_reported() -> None:
    still_in_fbs = fee(1, created=CUTOFF, payable=True)  # date says handed over
    already_handed_over = fee(2, created=BEFORE, payable=False)  # date says payable here
    overview = build_overview([still_in_fbs, already_handed_over], CUTOFF)
    assert ids(overview.payable_here.fees) == [1]
    assert ids(overview.handed_over.fees) == [2]
    assert overview.mismatches == (
        Mismatch(already_handed_over, expected=Destination.PAYABLE_HERE),
        Mismatch(still_in_fbs, expected=Destination.HANDED_OVER),
    )
    assert overview.mismatches[0].actual is Destination.HANDED_OVER
    assert overview.mismatches[1].actual is Destination.PAYABLE_HERE


def test_paid_fees_are_listed_but_not_counted() -> None:
    paid = fee(1, "80.00", AFTER, payable=True, paid=date(2024, 2, 1))  # flag/date disagree too
    overview = build_overview([paid], CUTOFF)
    assert overview.paid == (paid,)
    assert overview.payable_here.is_empty and overview.handed_over.is_empty
    assert overview.total == Decimal("0.00")
    assert overview.is_empty
    assert overview.mismatches == ()  # a paid fee is not shown in a section, nothing to explain


def test_no_fees() -> None:
    overview = build_overview([], CUTOFF)
    assert overview.is_empty
    assert overview.paid == () and overview.mismatches == ()
    assert str(overview.total) == "0.00"
    assert str(overview.payable_here.total) == "0.00"
    assert overview.payable_here.count == 0


def test_fees_without_due_date_or_materials_are_kept() -> None:
    # The old dpl-react split lost fees without dueDate; closed ILL fees come without materials.
    without_due = fee(1, due=None)
    with_materials = dataclasses.replace(fee(2, due=AFTER), materials=(Material("123", "456"),))
    overview = build_overview([without_due, with_materials], CUTOFF)
    assert overview.payable_here.fees == (without_due, with_materials)


def test_sections_are_sorted_by_creation_date_then_fee_id() -> None:
    fees = [fee(9, created=date(2023, 5, 1)), fee(3, created=date(2023, 6, 1)),
            fee(7, created=date(2023, 5, 1)), fee(1, created=date(2023, 7, 1))]
    assert ids(build_overview(fees, CUTOFF).payable_here.fees) == [7, 9, 3, 1]


def test_accepts_any_iterable_once() -> None:
    overview = build_overview((f for f in [fee(1), fee(2, payable=False, created=AFTER)]), CUTOFF)
    assert (ids(overview.payable_here.fees), ids(overview.handed_over.fees)) == ([1], [2])


def test_duplicate_fee_id_is_an_upstream_error() -> None:
    with pytest.raises(DuplicateFeeError) as caught:
        build_overview([fee(7), fee(8), fee(7), fee(9, paid=AFTER), fee(9)], CUTOFF)
    assert caught.value.fee_ids == (7, 9)
    assert isinstance(caught.value, ValueError)
    assert "[7, 9]" in str(caught.value)


# --- totals: Decimal, exact, rounded once -------------------------------------------------


def test_totals_are_exact_decimals() -> None:
    overview = build_overview([fee(1, "0.10"), fee(2, "0.20")], CUTOFF)
    assert overview.payable_here.total == Decimal("0.30")
    assert isinstance(overview.payable_here.total, Decimal)
    assert overview.payable_here.total.as_tuple().exponent == -2


def test_section_total_rounds_once_half_up() -> None:
    # Sub-øre amounts should not come from the parser, but if they do: sum first, round once.
    section = Section((fee(1, "0.005"), fee(2, "0.005"), fee(3, "0.115")))
    assert section.total == Decimal("0.13")  # 0.125 -> 0.13 (half up; banker's would give 0.12)


def test_grand_total_is_the_sum_of_the_shown_section_totals() -> None:
    overview = build_overview([fee(1, "0.005"), fee(2, "0.005", AFTER, payable=False)], CUTOFF)
    assert (overview.payable_here.total, overview.handed_over.total) == (Decimal("0.01"), Decimal("0.01"))
    assert overview.total == Decimal("0.02")


def test_section_sorts_fees_it_is_given() -> None:
    section = Section((fee(2, created=AFTER), fee(1, created=BEFORE)))
    assert ids(section.fees) == [1, 2]


# --- properties ---------------------------------------------------------------------------

_DAYS = st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 12, 31))
_AMOUNTS = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2,
                       allow_nan=False, allow_infinity=False)


def _fee_strategy(fee_id: st.SearchStrategy[int]) -> st.SearchStrategy[Fee]:
    return st.builds(
        Fee,
        fee_id=fee_id,
        type=st.sampled_from(FeeType),
        reason=st.sampled_from(["Gebyr (for sent)", "Erstatning", ""]),
        amount=_AMOUNTS,
        created=_DAYS,
        due=st.none() | _DAYS,
        payable_by_client=st.booleans(),
        paid=st.none() | _DAYS,
    )


_FEE_LISTS = st.lists(_fee_strategy(st.integers(1, 10**6)), max_size=25, unique_by=lambda f: f.fee_id)


@st.composite
def fees_and_cutoff(draw: st.DrawFn) -> tuple[list[Fee], date]:
    fees = draw(_FEE_LISTS)
    # Often put the cut-off exactly on a fee's creation date: the boundary is where bugs live.
    on_a_fee = [f.created for f in fees]
    cutoff = draw(st.sampled_from(on_a_fee) | _DAYS) if on_a_fee else draw(_DAYS)
    return fees, cutoff


@given(fees_and_cutoff())
def test_every_fee_appears_exactly_once(case: tuple[list[Fee], date]) -> None:
    fees, cutoff = case
    overview = build_overview(fees, cutoff)
    shown = overview.payable_here.fees + overview.handed_over.fees + overview.paid
    assert Counter(shown) == Counter(fees)


@given(fees_and_cutoff())
def test_sections_hold_exactly_the_unpaid_fees_by_flag(case: tuple[list[Fee], date]) -> None:
    fees, cutoff = case
    overview = build_overview(fees, cutoff)
    assert set(overview.payable_here.fees) == {f for f in fees if f.paid is None and f.payable_by_client}
    assert set(overview.handed_over.fees) == {f for f in fees if f.paid is None and not f.payable_by_client}
    assert set(overview.paid) == {f for f in fees if f.paid is not None}
    assert not set(ids(overview.payable_here.fees)) & set(ids(overview.handed_over.fees))
    assert overview.is_empty == all(f.paid is not None for f in fees)


@given(fees_and_cutoff())
def test_totals_add_up(case: tuple[list[Fee], date]) -> None:
    fees, cutoff = case
    overview = build_overview(fees, cutoff)
    for section in (overview.payable_here, overview.handed_over):
        assert section.total == sum((f.amount for f in section.fees), Decimal(0))
        assert section.total.as_tuple().exponent == -2
        assert section.count == len(section.fees)
    assert overview.total == overview.payable_here.total + overview.handed_over.total
    assert overview.total == sum((f.amount for f in fees if f.paid is None), Decimal(0))


@given(fees_and_cutoff())
def test_mismatches_are_exactly_the_disagreeing_unpaid_fees(case: tuple[list[Fee], date]) -> None:
    fees, cutoff = case
    overview = build_overview(fees, cutoff)
    disagreeing = {f for f in fees if f.paid is None and (f.created < cutoff) != f.payable_by_client}
    assert {m.fee for m in overview.mismatches} == disagreeing
    assert len(overview.mismatches) == len(disagreeing)
    for mismatch in overview.mismatches:
        created_before = mismatch.fee.created < cutoff
        assert mismatch.expected is (Destination.PAYABLE_HERE if created_before else Destination.HANDED_OVER)
        assert mismatch.actual is not mismatch.expected


@given(fees_and_cutoff())
def test_sections_are_sorted(case: tuple[list[Fee], date]) -> None:
    fees, cutoff = case
    overview = build_overview(fees, cutoff)
    for listed in (overview.payable_here.fees, overview.handed_over.fees, overview.paid):
        keys = [(f.created, f.fee_id) for f in listed]
        assert keys == sorted(keys)


@given(fees_and_cutoff(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(case: tuple[list[Fee], date], random: random_module.Random) -> None:
    fees, cutoff = case
    shuffled = list(fees)
    random.shuffle(shuffled)
    assert build_overview(shuffled, cutoff) == build_overview(fees, cutoff)


@given(st.lists(_fee_strategy(st.integers(1, 5)), min_size=2, max_size=10))
def test_any_repeated_fee_id_raises(fees: list[Fee]) -> None:
    counts = Counter(f.fee_id for f in fees)
    repeated = tuple(sorted(fee_id for fee_id, n in counts.items() if n > 1))
    if not repeated:
        assert isinstance(build_overview(fees, CUTOFF), Overview)
        return
    with pytest.raises(DuplicateFeeError) as caught:
        build_overview(fees, CUTOFF)
    assert caught.value.fee_ids == repeated
