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
