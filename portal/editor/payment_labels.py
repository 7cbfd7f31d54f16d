"""How the payment review pages word an order's state, outcome and FBS's answers, for staff."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.domain.fees import PaymentStatus
from portal.domain.money import from_ore
from portal.i18n import current_language, money
from portal.payments.machine import CHANGED
from portal.payments.reasons import Code, Param, Reason
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


# Why an order waits for staff (portal.payments.reasons): what happened, and what is held or registered.
REVIEW_REASONS: dict[Code, LazyString] = {
    Code.PAYMENTS_UNCONFIGURED: _l("Card payment is no longer set up for the library."),
    Code.UPSTREAM_FAILED: _l("%(provider)s did not answer as expected: %(message)s"),
    Code.UNEXPECTED_ERROR: _l("An unexpected error in the portal (the portal's log has the details)."),
    Code.GAVE_UP: _l("The portal gave up after %(attempts)s attempts. The last one failed: %(cause)s"),
    Code.GATEWAY_SILENT: _l(
        "Nexi could not be asked about the payment for a day after the checkout ended. "
        "The last attempt failed: %(cause)s"
    ),
    Code.LIBRARY_REMOVED: _l("The library is no longer served by the portal."),
    Code.CHARGED_BEFORE_FBS: _l("%(charged_ore)s was charged at Nexi before FBS was asked to register the fees."),
    Code.RESERVATION_CHANGED: _l(
        "The reservation was changed at Nexi before FBS was asked: %(held_ore)s of %(total_ore)s is held."
    ),
    Code.TOKEN_EXPIRED: _l(
        "The borrower's Adgangsplatformen sign-in expired before FBS registered the payment (DBC's adapter "
        "answered: %(message)s). Nothing is registered or charged, and the amount is still reserved: register "
        "the fees in FBS and charge, or release the reservation."
    ),
    Code.TOKEN_UNREADABLE: _l(
        "The borrower's Adgangsplatformen sign-in can no longer be read: the portal's secret key was changed "
        "without keeping the old one. Nothing is registered or charged."
    ),
    # No sentence ends on an amount: a Danish one ends in "kr." already.
    Code.CHARGE_DIFFERS: _l(
        "Nexi shows %(charged_ore)s charged instead of %(charge_ore)s, and refused the charge (%(message)s)."
    ),
    Code.CHARGE_REFUSED: _l("FBS registered the fees as paid, but Nexi refused the charge: %(message)s"),
    Code.RELEASE_REFUSED: _l("Nexi refused to release %(amount_ore)s: %(message)s"),
    Code.CANCELLED_AFTER_REGISTERED: _l("The reservation was cancelled at Nexi after FBS registered the fees."),
}
# The systems an upstream error names, as staff know them; any other is shown as it is stored.
PROVIDERS = {"fbs": "FBS", "nexi": "Nexi", "debtor": "Mit Betalingsoverblik", "fbi": "DBC (FBI)"}


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


def review_label(reason: Reason | None, english: str | None) -> Markup:
    """Why the order waits, in the page's language; an order without a code, its English sentence.

    An upstream's own message is shown as it came, marked English, inside the sentence.
    """
    if reason is None:
        return _in_english(english) if english else Markup("")
    values = {name: _param(name, value) for name, value in reason.params.items()}
    if reason.cause is not None:
        values["cause"] = review_label(reason.cause, None)
    # The translation is text; escaped first, so only the values made here carry markup.
    return escape(str(REVIEW_REASONS[reason.code])) % values


def _param(name: str, value: Param) -> Markup | str:
    if name.endswith("_ore") and isinstance(value, int):
        return money(from_ore(value), current_language())
    if name == "provider":
        return PROVIDERS.get(str(value), str(value))
    if name == "message":
        return _in_english(str(value))
    return str(value)


def _in_english(text: str) -> Markup:
    """`text` (escaped) marked as English inside a Danish page."""
    return Markup('<span lang="en">%s</span>') % text
