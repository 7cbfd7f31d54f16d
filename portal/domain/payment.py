"""Card payment of fees still held in FBS: the money rules, in plain Python (issue 8 groundwork).

Three rules decide every amount, whatever the gateway, the browser or a webhook says:

- The order is a snapshot of the fees the borrower chose, read from FBS on the server when the
  payment starts: one line per fee, in whole øre. Only unpaid fees FBS still takes payment for
  (`payable_by_client`) can be in it.
- A reservation is acted on only when its amount, currency and reference are exactly the order's.
- Once FBS has answered the registration, only the fees FBS registered for *this* order are charged;
  the rest of the reservation is released. A fee paid elsewhere meanwhile, refused, or given an
  answer FBS does not document is never charged — never because a fee merely looks paid.

Not yet used by a page: the state machine that drives a payment through these rules is to come.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from portal.domain import money
from portal.domain.fees import Fee, PaymentConfirmation, PaymentStatus

__all__ = [
    "CURRENCY",
    "NotPayable",
    "OrderLine",
    "OrderSnapshot",
    "Reservation",
    "Settlement",
    "new_order_id",
    "reservation_problems",
    "settle",
    "snapshot_order",
]

CURRENCY = "DKK"
# FBS's orderId and the gateway's order reference: short, URL-safe, unguessable.
_ORDER_ID_PREFIX = "GP-"


class NotPayable(ValueError):
    """Fees that cannot be put in an order (not listed, already paid, handed over); ids only."""

    def __init__(self, fee_ids: Iterable[int], why: str) -> None:
        self.fee_ids = tuple(sorted(fee_ids))
        super().__init__(f"{why}: {list(self.fee_ids)}")


@dataclass(frozen=True)
class OrderLine:
    """One fee of an order, its amount in whole øre as FBS gave it when the payment started."""

    fee_id: int
    name: str
    amount_ore: int


@dataclass(frozen=True)
class OrderSnapshot:
    """What the borrower is asked to pay, fixed when the payment starts."""

    order_id: str
    lines: tuple[OrderLine, ...]

    @property
    def total_ore(self) -> int:
        return sum(line.amount_ore for line in self.lines)

    @property
    def fee_ids(self) -> tuple[int, ...]:
        return tuple(line.fee_id for line in self.lines)


@dataclass(frozen=True)
class Reservation:
    """What the gateway says it reserved on the card (read from the gateway, never from a webhook body)."""

    amount_ore: int
    currency: str
    reference: str


@dataclass(frozen=True)
class Settlement:
    """What to do with a reservation once FBS has answered: charge this, release the rest."""

    charge_ore: int
    charged_fee_ids: tuple[int, ...]
    release_ore: int
    refused: Mapping[int, PaymentStatus]  # fee id -> FBS's answer, for every fee not charged

    @property
    def charges_nothing(self) -> bool:
        return self.charge_ore == 0


def new_order_id() -> str:
    """A fresh order id (made once, before the first attempt, and reused on every retry)."""
    return _ORDER_ID_PREFIX + secrets.token_hex(12)


def snapshot_order(order_id: str, fees: Iterable[Fee], chosen: Collection[int]) -> OrderSnapshot:
    """The order of the `chosen` fee ids out of FBS's current `fees`, oldest first.

    Raises NotPayable naming the chosen fees FBS does not list, has seen paid, or no longer takes
    payment for; ValueError when nothing is chosen.
    """
    if not chosen:
        raise ValueError("an order needs at least one fee")
    listed = {fee.fee_id: fee for fee in fees}
    unknown = [fee_id for fee_id in chosen if fee_id not in listed]
    if unknown:
        raise NotPayable(unknown, "not among the borrower's fees")
    refused = [fee_id for fee_id in chosen if listed[fee_id].is_paid or not listed[fee_id].payable_by_client]
    if refused:
        raise NotPayable(refused, "already paid or not payable here")
    picked = sorted((listed[fee_id] for fee_id in set(chosen)), key=lambda fee: (fee.created, fee.fee_id))
    lines = tuple(OrderLine(fee.fee_id, fee.reason, money.as_ore(fee.amount)) for fee in picked)
    if any(line.amount_ore <= 0 for line in lines):
        raise NotPayable([line.fee_id for line in lines if line.amount_ore <= 0], "nothing to pay")
    return OrderSnapshot(order_id, lines)


def reservation_problems(order: OrderSnapshot, reservation: Reservation) -> tuple[str, ...]:
    """Why the reservation is not exactly the order's (empty: it is). Nothing may happen until it is."""
    problems = []
    if reservation.reference != order.order_id:
        problems.append("the reservation is for another order")
    if reservation.currency != CURRENCY:
        problems.append(f"the reservation is not in {CURRENCY}")
    if reservation.amount_ore != order.total_ore:
        problems.append("the reserved amount differs from the order's total")
    return tuple(problems)


def settle(order: OrderSnapshot, confirmations: Mapping[int, PaymentConfirmation]) -> Settlement:
    """Charge exactly the lines FBS registered for this order; release everything else.

    A fee without a confirmation counts as not registered: never charged.
    """
    charged = [
        line for line in order.lines if (found := confirmations.get(line.fee_id)) is not None and found.registered
    ]
    charge_ore = sum(line.amount_ore for line in charged)
    refused = {
        line.fee_id: (found.status if (found := confirmations.get(line.fee_id)) is not None else PaymentStatus.UNKNOWN)
        for line in order.lines
        if line not in charged
    }
    return Settlement(
        charge_ore=charge_ore,
        charged_fee_ids=tuple(line.fee_id for line in charged),
        release_ore=order.total_ore - charge_ore,
        refused=refused,
    )
