"""Nexi's webhooks: verify, put in the inbox, make the order's step due, answer at once.

The body is never trusted for amounts or states: an event only says "look at this payment
now", and the machine reads the payment from Nexi. The `Authorization` header must be the
order's own random secret (compared in constant time); an event for a payment we do not know
is answered 200 so that Nexi stops re-posting it, and changes nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass
from enum import Enum

from portal.payments import store
from portal.payments.reasons import Code, Reason
from portal.payments.runtime import PaymentRuntime
from portal.payments.states import State

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_EVENT = re.compile(r"[a-z0-9.]{1,64}")
CANCEL_CREATED = "payment.cancel.created"


class Answer(Enum):
    ACCEPTED = 200
    BAD_REQUEST = 400
    UNAUTHORIZED = 401


@dataclass(frozen=True)
class Event:
    event_id: str
    name: str
    payment_id: str


def parse(body: bytes) -> Event | None:
    """The event's id, name and payment id, or None when the body is not a Nexi event."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested deeper than Python parses
        return None
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return None
    event_id, name, payment_id = data.get("id"), data.get("event"), data["data"].get("paymentId")
    if not all(isinstance(value, str) for value in (event_id, name, payment_id)):
        return None
    assert isinstance(event_id, str) and isinstance(name, str) and isinstance(payment_id, str)
    if not (_ID.fullmatch(event_id) and _EVENT.fullmatch(name) and _ID.fullmatch(payment_id)):
        return None
    return Event(event_id, name, payment_id)


def receive(rt: PaymentRuntime, authorization: str | None, body: bytes) -> Answer:
    """Take one webhook delivery; what to answer Nexi."""
    event = parse(body)
    if event is None:
        log.warning("nexi webhook refused: not a Nexi event")
        return Answer.BAD_REQUEST
    with rt.sessions() as session:
        row = store.order_by_payment(session, event.payment_id)
        if row is None:
            log.warning("nexi webhook %s for an unknown payment: ignored", event.name)
            return Answer.ACCEPTED
        if not hmac.compare_digest((authorization or "").encode(), row.webhook_token.encode()):
            log.warning("nexi webhook %s refused: %s authorization", event.name, "wrong" if authorization else "no")
            return Answer.UNAUTHORIZED
        order_id, state = row.order_id, State(row.state)
        if not store.record_webhook(session, event.event_id, order_id, event.name):
            return Answer.ACCEPTED  # a re-post of an event already in the inbox
        if event.name == CANCEL_CREATED and state is State.REGISTERED:
            # Released at the gateway after FBS registered the fees: only staff can sort that out.
            why = Reason(Code.CANCELLED_AFTER_REGISTERED)
            change = store.Change(store.review_fields(why), None, why.english(), "webhook")
            store.transition(session, order_id, State.REGISTERED, State.NEEDS_REVIEW, change)
    rt.enqueue(order_id)
    return Answer.ACCEPTED
