"""The request id: one short token per request, in every log line of it and sent on to upstreams.

Flask-free, so the provider layer (`portal.providers.http`) can read it. An incoming
`X-Request-ID` (from a load balancer or proxy) is kept when it is a safe short token, so one id
follows a request across systems; anything else is replaced, never echoed: the header is the
client's to fill, and a long or odd value would go into every log line and upstream call.
"""

from __future__ import annotations

import itertools
import re
import secrets
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits, `-`, `_`, `.`; 8-64 characters: enough for a UUID or a proxy's own ids.
_SAFE = re.compile(r"[A-Za-z0-9._-]{8,64}")
# A run of ten digits (or six, a dash, four) may be a CPR number: never taken from a client.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")

_current: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
# A number no other request of this process had: the id above may come from a client (and repeat).
_serial: ContextVar[int | None] = ContextVar("portal_request_serial", default=None)
_serials = itertools.count(1)


def accept_or_new(incoming: str | None) -> str:
    """`incoming` when it is a safe short token that cannot be a CPR number, else a new id."""
    if incoming is not None and _SAFE.fullmatch(incoming) and not _CPR_LIKE.search(incoming):
        return incoming
    return new_request_id()


def new_request_id() -> str:
    """A fresh random id (16 hex characters: unique enough to find one request's lines).

    Never one with ten digits in a row: the log's CPR scrubber would cut it out of every line
    (`f77e[cpr removed]e3`), and the request could no longer be found by its id.
    """
    while True:
        request_id = secrets.token_hex(8)
        if not _CPR_LIKE.search(request_id):
            return request_id


def current_request_id() -> str | None:
    """The id of the request being served in this context (also in threads given a copy of it)."""
    return _current.get()


def set_request_id(request_id: str | None) -> None:
    """Make `request_id` the current one (None: outside a request); a new request also gets a new serial."""
    _current.set(request_id)
    _serial.set(None if request_id is None else next(_serials))


def current_request_serial() -> int | None:
    """This request's number, unique in the process (also in threads given a copy of the context).

    For what may be kept for the length of one request only (`providers.cache` reads a
    borrower's entries ahead); None outside a request.
    """
    return _serial.get()
