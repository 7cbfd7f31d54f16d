"""The states of a card payment order and what each one means for the citizen's fees.

Read `docs/payments.md` for the diagram. An order moves only forward, one compare-and-set at
a time (`portal.payments.store.transition`); the machine (`portal.payments.machine`) does the
one step each non-final state needs.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    CREATED = "created"  # row written, the gateway not yet asked
    CHECKOUT_OPEN = "checkout_open"  # the hosted payment page is open, nothing reserved yet
    RESERVED = "reserved"  # the card holds exactly the order's total; FBS next
    REGISTERED = "registered"  # FBS answered; charge exactly what it registered for this order
    CHARGED = "charged"  # charged; the rest of the reservation (fees FBS refused) to release
    CANCELLING = "cancelling"  # nothing to charge; the whole reservation to release
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"  # the citizen left the checkout, or it expired; nothing reserved
    CREATE_FAILED = "create_failed"  # the gateway would not open a checkout
    NEEDS_REVIEW = "needs_review"  # retries used up or the gateway refused: staff decide
    RESOLVED = "resolved"  # staff acted on a review


class Outcome(StrEnum):
    """Why an order ended the way it did: what the citizen and staff are told."""

    PAID = "paid"
    PARTLY_PAID = "partly_paid"  # some fees FBS refused: those not charged
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen"
    CHECKOUT_EXPIRED = "checkout_expired"
    REFUSED_BY_FBS = "refused_by_fbs"  # every fee paid elsewhere meanwhile or not payable here
    AMOUNT_MISMATCH = "amount_mismatch"  # the reservation was not exactly the order's
    CREATE_FAILED = "create_failed"


# Ends of the road: no step, no retries, personal data cleared, purged after the retention.
FINISHED = frozenset({State.COMPLETED, State.CANCELLED, State.ABANDONED, State.CREATE_FAILED, State.RESOLVED})
# Orders whose fees may not go into another payment (NEEDS_REVIEW: FBS may have them registered).
HOLDS_FEES = frozenset(State) - FINISHED
# States the machine has a step for.
ACTIVE = HOLDS_FEES - {State.NEEDS_REVIEW}
# The card may hold money: the citizen is told the payment is being registered.
IN_PROGRESS = frozenset({State.RESERVED, State.REGISTERED, State.CHARGED, State.CANCELLING})
