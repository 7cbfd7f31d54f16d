"""Money totals: Decimal only, exact, rounded once to whole øre."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.domain import money


def test_total_of_nothing_is_zero_kroner() -> None:
    assert str(money.total([])) == "0.00"


def test_total_is_exact_where_float_is_not() -> None:
    assert money.total([Decimal("0.1"), Decimal("0.2")]) == Decimal("0.30")
    assert str(money.total([Decimal("10"), Decimal("5.5")])) == "15.50"


def test_total_stays_exact_beyond_the_default_28_digits() -> None:
    big = Decimal("1" + "0" * 30 + ".01")
    assert money.total([big, Decimal("0.01")]) == Decimal("1" + "0" * 30 + ".02")


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("0.125", "0.13"), ("0.135", "0.14"), ("0.124", "0.12"), ("-0.125", "-0.13"), ("7", "7.00")],
)
def test_to_ore_rounds_half_up(amount: str, rounded: str) -> None:
    assert str(money.to_ore(Decimal(amount))) == rounded


def test_float_is_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        money.total([Decimal("1.00"), 0.1])  # type: ignore[list-item]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        money.total([Decimal("1.00"), Decimal(amount)])


@pytest.mark.parametrize(
    ("amount", "ore"), [("0.29", 29), ("0.1", 10), ("60", 6000), ("60.50", 6050), ("0", 0), ("-1.01", -101)]
)
def test_as_ore_is_exact(amount: str, ore: int) -> None:
    assert money.as_ore(Decimal(amount)) == ore
    assert money.from_ore(ore) == Decimal(amount)


def test_as_ore_refuses_a_fraction_of_an_ore() -> None:
    with pytest.raises(ValueError, match="fraction of an øre"):
        money.as_ore(Decimal("0.295"))
    with pytest.raises(TypeError):
        money.as_ore(0.29)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        money.as_ore(Decimal("NaN"))


def test_from_ore_has_two_decimals() -> None:
    assert str(money.from_ore(29)) == "0.29"
    assert str(money.from_ore(6000)) == "60.00"
    with pytest.raises(TypeError):
        money.from_ore(True)
