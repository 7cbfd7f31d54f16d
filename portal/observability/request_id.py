"""The request id: one short token per request, in every log line of it and sent on to upstreams.

Flask-free, so the provider layer (`portal.providers.http`) can read it. An incoming
`X-Request-ID` (from a load balancer or proxy) is kept when it is a safe short token, so one id
follows a request across systems; anything else is replaced, never echoed: the header is the
client's to fill, and a long or odd value would go into every log line and upstream call.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits, `-`, `_`, `.`; 8-64 characters: enough for a UUID or a proxy's own ids.
_SAFE = re.compile(r"[A-Za-z0-9._-]{8,64}")
# A run of ten digits (or six, a dash, four) may be a CPR number: never taken from a client.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")

_current: ContextVar[str | None] = ContextVar("portal_request_id", default=None)


def accept_or_new(incoming: str | None) -> str:
    """`incoming` when it is a safe short token that cannot be a CPR number, else a new id."""
    if incoming is not None and _SAFE.fullmatch(incoming) and not _CPR_LIKE.search(incoming):
        return incoming
    return new_request_id()


def new_request_id() -> str:
    """A fresh random id (16 hex characters: unique enough to find one request's lines)."""
    return secrets.token_hex(8)


def current_request_id() -> str | None:
    """The id of the request being served in this context (also in threads given a copy of it)."""
    return _current.get()


def set_request_id(request_id: str | None) -> None:
    """Make `request_id` the current one (None: outside a request)."""
    _current.set(request_id)
