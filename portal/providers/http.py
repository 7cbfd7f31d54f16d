"""The one httpx.Client of the app: shared connection pool, explicit timeouts.

Every provider client gets this client passed in, so timeouts and pooling are
decided in one place and tests can hand a client of their own to a provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from portal.config import Settings
from portal.providers.errors import UpstreamError, UpstreamTimeout

USER_AGENT = "gebyrportal"


def make_timeout(seconds: float) -> httpx.Timeout:
    """Connect and read (and write/pool) limits of `seconds` each.

    Spelled out per phase, because httpx's default (5 s) would otherwise silently
    apply wherever someone forgets one.
    """
    return httpx.Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)


def create_http_client(settings: Settings) -> httpx.Client:
    """A client for upstream calls with the timeouts from `settings.http_timeout`."""
    return httpx.Client(
        timeout=make_timeout(settings.http_timeout),
        # Upstream APIs never redirect legitimately; following one could leak
        # the X-Session header to another host.
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def send(
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    fail: Callable[[type[UpstreamError], str], UpstreamError],
    **request: Any,
) -> httpx.Response:
    """One request to an upstream; a transport failure becomes the error `fail(kind, what)` makes.

    Timeouts are UpstreamTimeout, anything else that kept an answer from arriving is
    UpstreamError. Statuses and bodies are the caller's to judge.
    """
    try:
        return http.request(method, base_url + path, **request)
    except httpx.TimeoutException as exc:
        raise fail(UpstreamTimeout, f"no answer within the timeout ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise fail(UpstreamError, f"cannot reach {base_url} ({type(exc).__name__})") from exc
