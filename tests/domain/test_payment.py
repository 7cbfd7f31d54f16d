"""The money rules of card payment: the order is FBS's snapshot, and only what FBS registered for it is charged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.fees import Fee, FeeType, PaymentConfirmation, PaymentStatus
from portal.domain.payment import (
    NotPayable,
    OrderSnapshot,
    Reservation,
    new_order_id,
    reservation_problems,
    settle,
    snapshot_order,
)

ORDER = "GP-test"


def fee(fee_id: int, amount: str, *, payable: bool = True, paid: date | None = None,
        created: date = date(2021, 1, 1)) -> Fee:  # fmt: skip
    return Fee(fee_id=fee_id, type=FeeType.FEE, reason=f"Gebyr {fee_id}", amount=Decimal(amount), created=created,
               due=None, payable_by_client=payable, paid=paid)  # fmt: skip


FEES = [
    fee(501, "30.00", created=date(2021, 3, 2)),
    fee(502, "249.50", created=date(2020, 11, 19)),
    fee(503, "0.29", created=date(2021, 1, 11)),
    fee(505, "60.00", payable=False),  # handed over to the debtor system
    fee(508, "30.00", paid=date(2020, 9, 2)),
]


def confirmed(**statuses: PaymentStatus) -> dict[int, PaymentConfirmation]:
    return {int(fee_id.removeprefix("f")): PaymentConfirmation(int(fee_id[1:]), s) for fee_id, s in statuses.items()}


# -- the snapshot -------------------------------------------------------------------------------


def test_the_order_holds_the_chosen_fees_in_exact_ore_oldest_first() -> None:
    order = snapshot_order(ORDER, FEES, [501, 503, 502])
    assert [(line.fee_id, line.amount_ore) for line in order.lines] == [(502, 24950), (503, 29), (501, 3000)]
    assert order.total_ore == 27979 and order.fee_ids == (502, 503, 501)
    assert order.lines[0].name == "Gebyr 502"


def test_choosing_a_fee_twice_puts_it_in_once() -> None:
    assert snapshot_order(ORDER, FEES, [501, 501]).fee_ids == (501,)


@pytest.mark.parametrize(
    ("chosen", "refused"),
    [([505], (505,)), ([508, 501], (508,)), ([999, 501], (999,))],
    ids=["handed over", "already paid", "not listed"],
)
def test_a_fee_that_cannot_be_paid_here_refuses_the_order(chosen: list[int], refused: tuple[int, ...]) -> None:
    with pytest.raises(NotPayable) as caught:
        snapshot_order(ORDER, FEES, chosen)
    assert caught.value.fee_ids == refused
    # Without it, the same order can be made.
    assert snapshot_order(ORDER, FEES, [f for f in chosen if f not in refused] or [501]).lines


def test_an_empty_order_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        snapshot_order(ORDER, FEES, [])


def test_order_ids_are_fresh_and_fit_fbs_and_the_gateway() -> None:
    ids = {new_order_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(order_id) <= 64 and order_id.replace("-", "").isalnum() for order_id in ids)


# -- the reservation must be exactly the order's -------------------------------------------------------


def test_a_reservation_matching_the_order_has_no_problems() -> None:
    order = snapshot_order(ORDER, FEES, [501, 503])
    assert reservation_problems(order, Reservation(3029, "DKK", ORDER)) == ()


@pytest.mark.parametrize(
    ("reservation", "problem"),
    [
        (Reservation(3028, "DKK", ORDER), "amount"),  # one øre short
        (Reservation(3030, "DKK", ORDER), "amount"),  # one øre more
        (Reservation(3029, "EUR", ORDER), "DKK"),
        (Reservation(3029, "DKK", "GP-another"), "another order"),
    ],
)
def test_any_difference_from_the_order_is_a_problem(reservation: Reservation, problem: str) -> None:
    order = snapshot_order(ORDER, FEES, [501, 503])
    [found] = reservation_problems(order, reservation)
    assert problem in found


# -- only what FBS registered for this order is charged --------------------------------------------


def test_all_registered_charges_the_whole_order() -> None:
    order = snapshot_order(ORDER, FEES, [501, 503])
    result = settle(order, confirmed(f501=PaymentStatus.REGISTERED, f503=PaymentStatus.REGISTERED))
    assert (result.charge_ore, result.charged_fee_ids, result.release_ore, dict(result.refused)) == (
        3029,
        (503, 501),
        0,
        {},
    )


def test_a_fee_paid_elsewhere_meanwhile_is_not_charged_and_its_amount_released() -> None:
    order = snapshot_order(ORDER, FEES, [501, 502])
    result = settle(order, confirmed(f501=PaymentStatus.REGISTERED, f502=PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER))
    assert (result.charge_ore, result.charged_fee_ids, result.release_ore) == (3000, (501,), 24950)
    assert dict(result.refused) == {502: PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER}


@pytest.mark.parametrize("status", [PaymentStatus.NOT_ALLOWED_BY_CLIENT, PaymentStatus.UNKNOWN])
def test_refused_or_unknown_answers_charge_nothing(status: PaymentStatus) -> None:
    order = snapshot_order(ORDER, FEES, [501])
    result = settle(order, confirmed(f501=status))
    assert result.charges_nothing and result.release_ore == 3000


def test_a_fee_fbs_did_not_answer_for_is_never_charged() -> None:
    order = snapshot_order(ORDER, FEES, [501, 503])
    result = settle(order, confirmed(f501=PaymentStatus.REGISTERED))
    assert result.charged_fee_ids == (501,) and dict(result.refused) == {503: PaymentStatus.UNKNOWN}


# -- invariants, by property ---------------------------------------------------------------------------

_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
_statuses = st.sampled_from(list(PaymentStatus))


@st.composite
def orders_and_answers(draw: st.DrawFn) -> tuple[OrderSnapshot, dict[int, PaymentConfirmation]]:
    ids = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=12, unique=True))
    fees = [fee(fee_id, str(draw(_amounts))) for fee_id in ids]
    order = snapshot_order(ORDER, fees, draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)))
    answered = draw(st.lists(st.sampled_from(list(order.fee_ids)), unique=True))
    return order, {fee_id: PaymentConfirmation(fee_id, draw(_statuses)) for fee_id in answered}


@given(orders_and_answers())
def test_the_charge_is_exactly_the_registered_lines_and_never_more(
    case: tuple[OrderSnapshot, dict[int, PaymentConfirmation]],
) -> None:
    order, answers = case
    result = settle(order, answers)
    registered = {fee_id for fee_id, c in answers.items() if c.status is PaymentStatus.REGISTERED}
    assert set(result.charged_fee_ids) == registered
    assert result.charge_ore == sum(line.amount_ore for line in order.lines if line.fee_id in registered)
    assert 0 <= result.charge_ore <= order.total_ore
    assert result.charge_ore + result.release_ore == order.total_ore
    assert set(result.refused) == set(order.fee_ids) - registered


@given(st.lists(_amounts, min_size=1, max_size=20))
def test_the_order_total_is_the_exact_sum_of_the_fees(amounts: list[Decimal]) -> None:
    fees = [fee(i + 1, str(amount)) for i, amount in enumerate(amounts)]
    order = snapshot_order(ORDER, fees, [f.fee_id for f in fees])
    assert order.total_ore == int(sum(amounts, Decimal(0)) * 100)
