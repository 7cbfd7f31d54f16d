"""Errors every provider client raises; views turn them into one friendly page."""

from __future__ import annotations


class UpstreamError(Exception):
    """An upstream system was unreachable, slow, refused us, or answered garbage.

    `provider` names the system ("fbs", …) for logs and the JSON status; the
    message is for operators, never shown to citizens verbatim.
    """

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within the timeout."""


class UpstreamBadResponse(UpstreamError):
    """The upstream answered, but not with something we can trust (status or body)."""


class UpstreamCircuitOpen(UpstreamError):
    """Not asked: the upstream failed call after call, and its circuit breaker refuses calls for now.

    Raised at once, without a request (`portal.providers.breakers`): pages show their "try again" answer.
    """


class UpstreamBusy(UpstreamError):
    """Not asked: this process has as many calls in flight to the upstream as it allows (all slow)."""
