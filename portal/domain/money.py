"""Money arithmetic in Decimal kroner, exact to the øre. Never float: 0.1 + 0.2 != 0.3."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, Inexact, Rounded, localcontext

ORE = Decimal("0.01")

# The largest amount an upstream system may tell us a citizen owes on one fee or claim: one
# million kroner. Library fees are tens of kroner and replacements hundreds to a few thousand, so
# a real amount never comes near it; anything above is a broken answer (a unit mix-up, a corrupted
# field), and showing it would tell a citizen they owe a fortune. The parsers refuse it as a bad
# answer (portal.providers.fbs_parse and debtor_parse).
MAX_AMOUNT = Decimal("1000000.00")

# Enough digits that adding any realistic list of amounts is exact; the traps below turn any
# rounding during the sum into an error instead of a silently wrong total.
_SUM_PRECISION = 60


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of `amounts`, rounded once to whole øre (half up), e.g. Decimal('12.50').

    Rounding happens once, after summing, so sub-øre parts (which the parser should already
    reject) cannot accumulate rounding errors.
    """
    with localcontext() as ctx:
        ctx.prec = _SUM_PRECISION
        ctx.traps[Inexact] = True
        ctx.traps[Rounded] = True
        exact = sum((_checked(amount) for amount in amounts), Decimal(0))
    return to_ore(exact)


def to_ore(amount: Decimal) -> Decimal:
    """`amount` rounded half up to two decimals (the way a Danish invoice rounds)."""
    with localcontext() as ctx:
        ctx.prec = _SUM_PRECISION
        return _checked(amount).quantize(ORE, rounding=ROUND_HALF_UP)


def _checked(amount: Decimal) -> Decimal:
    # `sum` of Decimal and float would raise a TypeError anyway; this names the real problem
    # and also rejects NaN/Infinity, which would poison every total they touch.
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts must be Decimal, got {type(amount).__name__}: {amount!r}")
    if not amount.is_finite():
        raise ValueError(f"amount must be a finite number, got {amount}")
    return amount


# -- whole øre, as card gateways count (Nexi Checkout: integers in minor units) -----------------
# `to_ore` above rounds kroner to two decimals; these convert exactly between Decimal kroner and an
# int of øre, and refuse what is not a whole number of øre instead of rounding it.


def as_ore(amount: Decimal) -> int:
    """`amount` kroner as whole øre: Decimal('0.29') -> 29. Raises ValueError for a fraction of an øre."""
    with localcontext() as ctx:
        ctx.prec = _SUM_PRECISION
        ore = _checked(amount) * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"amount has a fraction of an øre: {amount}")
    return int(ore)


def from_ore(ore: int) -> Decimal:
    """Whole øre as Decimal kroner with two decimals: 29 -> Decimal('0.29')."""
    if not isinstance(ore, int) or isinstance(ore, bool):
        raise TypeError(f"øre must be an int, got {type(ore).__name__}")
    return Decimal(ore).scaleb(-2)
