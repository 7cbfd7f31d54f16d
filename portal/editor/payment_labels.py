"""How the payment review pages word an order's state, outcome and FBS's answers, for staff."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from portal.domain.fees import PaymentStatus
from portal.payments.machine import CHANGED
from portal.payments.states import Outcome, State

STATES: dict[str, LazyString] = {
    State.CREATED: _l("Created"),
    State.CHECKOUT_OPEN: _l("Checkout open"),
    State.RESERVED: _l("Reserved on the card"),
    State.REGISTERED: _l("Registered in FBS"),
    State.CHARGED: _l("Charged, rest being released"),
    State.CANCELLING: _l("Being cancelled"),
    State.COMPLETED: _l("Completed"),
    State.CANCELLED: _l("Cancelled"),
    State.ABANDONED: _l("Abandoned"),
    State.CREATE_FAILED: _l("Could not be started"),
    State.NEEDS_REVIEW: _l("Needs review"),
    State.RESOLVED: _l("Resolved by staff"),
}

OUTCOMES: dict[str, LazyString] = {
    Outcome.PAID: _l("Paid"),
    Outcome.PARTLY_PAID: _l("Partly paid"),
    Outcome.CANCELLED_BY_CITIZEN: _l("Cancelled by the citizen"),
    Outcome.CHECKOUT_EXPIRED: _l("Checkout expired"),
    Outcome.REFUSED_BY_FBS: _l("Refused by FBS"),
    Outcome.AMOUNT_MISMATCH: _l("Reserved amount did not match"),
    Outcome.CREATE_FAILED: _l("Could not be started"),
}

# FBS's answer per fee; the raw value is shown beside it, so staff can match FBS's own screens.
FBS_ANSWERS: dict[str, LazyString] = {
    PaymentStatus.REGISTERED.value: _l("Registered for this order"),
    PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER.value: _l("Paid by another order"),
    PaymentStatus.NOT_ALLOWED_BY_CLIENT.value: _l("Not payable here"),
    PaymentStatus.UNKNOWN.value: _l("Unknown answer: not registered"),
    CHANGED: _l("Changed in FBS since the order was made: not registered"),
}


# Who wrote a history line (`store.Change.source`, `store.note`).
SOURCES: dict[str, LazyString] = {
    "citizen": _l("The citizen"),
    "return": _l("The citizen, back from the checkout"),
    "webhook": _l("Nexi (notification)"),
    "worker": _l("The portal (payment step)"),
    "reconciler": _l("The portal (routine check)"),
    "staff": _l("Staff"),
}


def source_label(source: str) -> str:
    return str(SOURCES.get(source, source))


def state_label(state: str) -> str:
    return str(STATES.get(state, state))


def outcome_label(outcome: str | None) -> str:
    return str(OUTCOMES.get(outcome, outcome)) if outcome else ""


def fbs_answer_label(answer: str) -> str:
    return str(FBS_ANSWERS.get(answer, answer))
