"""The one httpx.Client of the app: shared connection pool, explicit timeouts, a deadline per call.

Every provider client gets this client passed in, so timeouts and pooling are
decided in one place and tests can hand a client of their own to a provider.

Two kinds of limit apply to each upstream call:

- `PORTAL_HTTP_TIMEOUT` (`make_timeout`): httpx's per-phase timeouts. Each one
  restarts with every read, so an answer trickled out a byte at a time never
  trips them.
- `PORTAL_UPSTREAM_DEADLINE`: wall clock for the whole call — waiting for a pooled
  connection, connecting, sending, the status line, headers and body. Inside
  `upstream_budget(seconds)` (one page's calls, see `portal.services.debts`) the
  call ends at the budget's end when that comes first. A call whose time is up
  raises httpx.TimeoutException, which `send()` turns into UpstreamTimeout.

How the deadline is enforced: `DeadlineTransport` hands httpcore a network
backend (`_DeadlineBackend`) whose streams clamp the timeout of every socket
operation (connect, TLS handshake, each read and write) to the time left before
the deadline held in a context variable, and raise httpcore's own timeout
exceptions once it has passed; the pool wait is clamped through the request's
timeout extension. The alternative, streaming the body and checking the clock
between chunks, was rejected: it cannot interrupt a read that is stalled (each
read may still wait the full read timeout), nor a status line or headers that
trickle in before httpx hands over the response at all. The clamp works at the
one level where every byte passes, so no phase is left unbounded.

The deadline lives in a context variable, so it follows the code that makes the
call — also into the background thread of `portal.services.background`, which
copies the caller's context. Left open: name resolution (getaddrinfo) happens
inside the connect call and is not interruptible by a socket timeout.

Before any of that, `send()` asks the provider's guard (`portal.providers.breakers`, held by the
app's `GuardedClient`): an open circuit breaker or a provider with every slot taken refuses the
call at once, so a dead or trickling upstream costs a fast "try again", not a thread per page.

`send_and_parse()` (`send()`, then `read_answer()`) is the round trip of every provider client: a
status other than the answer's is the provider's own refusal (a rejected token, say) or
`UpstreamBadResponse`, and a parser's `UpstreamBadResponse` gains the operation's context. Timing
and metrics are `send()`'s, so the clients keep no timers of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import httpcore
import httpx

from portal.config import Settings
from portal.observability import metrics
from portal.observability.request_id import HEADER as REQUEST_ID_HEADER
from portal.observability.request_id import current_request_id
from portal.providers.breakers import HALF_OPEN, SLOT_WAIT, Guard, UpstreamGuards
from portal.providers.errors import (
    UpstreamBadResponse,
    UpstreamBusy,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamTimeout,
)
from portal.providers.proxies import ProxyRoutes

USER_AGENT = "gebyrportal"
# httpx's own default pool size (httpx.HTTPTransport uses these unless told otherwise).
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

# time.monotonic() at which the budget in force ends (None: no budget) ...
_budget_ends: ContextVar[float | None] = ContextVar("portal_upstream_budget_ends", default=None)
# ... and at which the call in progress must have ended (None: no call of a DeadlineTransport).
_call_ends: ContextVar[float | None] = ContextVar("portal_upstream_call_ends", default=None)

T = TypeVar("T")
# A provider client's error maker: `fail(kind, what)` is the `kind` to raise, its message naming
# the operation and whatever else the provider's operator needs (never a secret or a CPR number).
Fail = Callable[[type[UpstreamError], str], UpstreamError]
# A provider's own reading of a status it did not expect (401/403: a token error, Nexi's codes):
# the error to raise, or None for the plain "unexpected status".
Refusal = Callable[[httpx.Response], UpstreamError | None]


def make_timeout(seconds: float) -> httpx.Timeout:
    """Connect and read (and write/pool) limits of `seconds` each.

    Spelled out per phase, because httpx's default (5 s) would otherwise silently
    apply wherever someone forgets one.
    """
    return httpx.Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)


# -- deadlines and the budget ---------------------------------------------------------------

_DEADLINE_PASSED = "the upstream call's deadline has passed"
_BUDGET_SPENT = "the budget for upstream calls was spent before this call began"
# Writes are clamped per slice of this size: one slow-reading upstream cannot stretch a write
# beyond the deadline by the number of partial sends it forces.
_WRITE_SLICE = 16 * 1024


@contextmanager
def upstream_budget(seconds: float) -> Iterator[None]:
    """Every upstream call made inside ends within `seconds` from now, or at its own deadline if sooner.

    Nested budgets: the earlier end wins. The budget is a context variable, so a thread started
    with a copy of this context (`portal.services.background.in_background`) keeps it, even after
    the block has ended.
    """
    token = _budget_ends.set(_earliest(_budget_ends.get(), time.monotonic() + seconds))
    try:
        yield
    finally:
        _budget_ends.reset(token)


def budget_left() -> float | None:
    """Seconds left of the budget in force (0.0 once spent); None outside `upstream_budget`."""
    ends = _budget_ends.get()
    return None if ends is None else max(0.0, ends - time.monotonic())


def _earliest(*ends: float | None) -> float | None:
    known = [end for end in ends if end is not None]
    return min(known) if known else None


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` clamped to what is left of the call in progress; raises `error` once nothing is left."""
    ends = _call_ends.get()
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        # Never hand a socket 0: that would make it non-blocking, not time out.
        raise error(_DEADLINE_PASSED)
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline of the call in progress."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_SLICE):
            self._inner.write(buffer[start : start + _WRITE_SLICE], _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, its connections made into `_DeadlineStream`s."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body read with its call's deadline in force.

    httpx reads the body after `handle_request` has returned, so the deadline is set again around
    each chunk — and only around it, never across a `yield`: between chunks the context is the reader's.
    """

    def __init__(self, inner: httpx.SyncByteStream, ends: float) -> None:
        self._inner = inner
        self._ends = ends

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            token = _call_ends.set(self._ends)
            try:
                chunk = next(chunks, None)
            finally:
                _call_ends.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport, each request ending by `deadline` seconds or the budget in force, whichever is first.

    `proxy`: every request through that forward proxy (http:// or https://, credentials in the
    URL), HTTPS tunnelled with CONNECT; the deadline holds for the proxy's connection alike.
    """

    def __init__(self, deadline: float, proxy: str | None = None) -> None:
        super().__init__(limits=POOL_LIMITS)
        # httpx.HTTPTransport accepts no network backend, and keeps the httpcore pool that
        # handle_request() uses in the private `_pool`. Swapping in an equal pool on our backend
        # keeps httpx's request building and httpcore→httpx exception mapping (neither is public
        # API) rather than copying them. Checked here, and the deadline tests fail if a future
        # httpx stops using `_pool`, so the swap cannot silently stop working.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx.HTTPTransport keeps no httpcore.ConnectionPool in _pool: see DeadlineTransport")
        self._pool.close()  # never used: no connections yet
        self._pool = _pool(proxy)
        self.deadline = deadline

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        ends = _earliest(started + self.deadline, _budget_ends.get())
        assert ends is not None
        left = ends - started
        if left <= 0:
            raise httpx.TimeoutException(_BUDGET_SPENT, request=request)
        # The wait for a pooled connection happens above the network backend: clamp it (and the
        # first connect, read and write) through the per-request timeouts httpcore reads.
        timeouts = request.extensions.get("timeout", {})
        clamped = {phase: _min(timeouts.get(phase), left) for phase in ("connect", "read", "write", "pool")}
        request.extensions = {**request.extensions, "timeout": clamped}
        token = _call_ends.set(ends)
        try:
            response = super().handle_request(request)
        finally:
            _call_ends.reset(token)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineBody(response.stream, ends)
        return response


def _pool(proxy: str | None) -> httpcore.ConnectionPool:
    """httpx's pool (or proxy pool) for `DeadlineTransport`, on the deadline's network backend."""
    common: dict[str, Any] = {
        "ssl_context": httpx.create_ssl_context(),
        "max_connections": POOL_LIMITS.max_connections,
        "max_keepalive_connections": POOL_LIMITS.max_keepalive_connections,
        "keepalive_expiry": POOL_LIMITS.keepalive_expiry,
        "network_backend": _DeadlineBackend(),
    }
    if proxy is None:
        return httpcore.ConnectionPool(**common)
    url = httpx.URL(proxy)
    return httpcore.HTTPProxy(
        # The credentials go as Proxy-Authorization (httpcore), never in the URL it connects to.
        proxy_url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/"),
        proxy_auth=(url.username, url.password) if url.username else None,
        proxy_ssl_context=httpx.create_ssl_context() if url.scheme == "https" else None,
        **common,
    )


def _min(timeout: float | None, left: float) -> float:
    return left if timeout is None else min(timeout, left)


class GuardedClient(httpx.Client):
    """The app's client: an httpx.Client that also holds the upstreams' breakers and limits (`send`)."""

    def __init__(self, guards: UpstreamGuards | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guards = guards


def create_http_client(settings: Settings, guards: UpstreamGuards | None = None) -> GuardedClient:
    """A client for upstream calls: per-phase timeouts of `settings.http_timeout`, and each call
    ending by `settings.upstream_deadline` (or the end of the budget in force, when sooner).
    `guards`: the circuit breakers and concurrency limits `send` applies (None: none).
    """
    return GuardedClient(
        guards,
        timeout=make_timeout(settings.http_timeout),
        # With a transport of its own httpx reads no proxy variables itself: the settings did.
        transport=upstream_transport(settings),
        # Upstream APIs never redirect legitimately; following one could leak
        # the X-Session header to another host.
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def upstream_transport(settings: Settings) -> httpx.BaseTransport:
    """Direct, or through the configured forward proxies where NO_PROXY does not say otherwise."""
    direct = DeadlineTransport(settings.upstream_deadline)
    proxies = settings.upstream_proxies
    proxied = {
        scheme: DeadlineTransport(settings.upstream_deadline, proxy)
        for scheme in ("http", "https")
        if (proxy := proxies.for_scheme(scheme)) is not None
    }
    return ProxyRoutes(direct, proxied, proxies.no_proxy) if proxied else direct


def send(
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    fail: Fail,
    **request: Any,
) -> httpx.Response:
    """One request to an upstream; a transport failure becomes the error `fail(kind, what)` makes.

    Timeouts (per phase, the call's deadline, the budget) are UpstreamTimeout, anything else that
    kept an answer from arriving is UpstreamError. Statuses and bodies are the caller's to judge.
    Each call is timed and counted by provider (`portal.observability.metrics`) and carries the
    current request's id as `X-Request-ID`.

    With the app's client (`GuardedClient`) the provider's guard (`portal.providers.breakers`)
    comes first: an open circuit breaker refuses the call at once (UpstreamCircuitOpen), as does
    a provider with all its slots taken for longer than a short wait (UpstreamBusy).
    """
    request_id = current_request_id()
    if request_id is not None:
        # The portal's request id goes along, so the upstream's logs can be matched with ours.
        request = {**request, "headers": {**(request.get("headers") or {}), REQUEST_ID_HEADER: request_id}}
    guards = http.guards if isinstance(http, GuardedClient) else None
    guard = guards.for_url(base_url) if guards is not None else None
    # A budget already spent ends the call before it goes out (DeadlineTransport): no fault of the
    # upstream's, so neither the breaker nor a slot takes part.
    if guard is None or budget_left() == 0.0:
        return _send(http, method, base_url, path, fail, request)[0]
    return _guarded(guard, http, method, base_url, path, fail, request)


def send_and_parse(
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    parse: Callable[[bytes], T],
    fail: Fail,
    *,
    refused: Refusal | None = None,
    expected: Container[int] | None = None,
    **request: Any,
) -> T:
    """`send`, then `read_answer`: the one round trip most provider calls are."""
    response = send(http, method, base_url, path, fail, **request)
    return read_answer(response, parse, fail, refused=refused, expected=expected)


def read_answer(
    response: httpx.Response,
    parse: Callable[[bytes], T],
    fail: Fail,
    *,
    refused: Refusal | None = None,
    expected: Container[int] | None = None,
) -> T:
    """The body of an upstream's answer, parsed; any other status or a bad body becomes `fail`'s error.

    `expected`: the statuses that carry the answer (None: any 2xx). Another status is what
    `refused(response)` makes of it (a rejected token, say), or else `UpstreamBadResponse`
    ("unexpected status N"). A parser's `UpstreamBadResponse` is raised again through `fail`,
    so its message gains the operation and context the operator needs to find it.
    """
    status = response.status_code
    if not (response.is_success if expected is None else status in expected):
        error = refused(response) if refused is not None else None
        raise error if error is not None else fail(UpstreamBadResponse, f"unexpected status {status}")
    try:
        return parse(response.content)
    except UpstreamBadResponse as exc:
        raise fail(UpstreamBadResponse, exc.message) from None


def token_refusal(fail: Fail, kind: type[UpstreamError], what: Callable[[int], str]) -> Refusal:
    """A `Refusal` reading 401/403 as `kind` (the upstream refused our key or token), `what(status)` its message."""

    def refused(response: httpx.Response) -> UpstreamError | None:
        status = response.status_code
        return fail(kind, what(status)) if status in (401, 403) else None

    return refused


def _guarded(
    guard: Guard,
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    fail: Fail,
    request: dict[str, Any],
) -> httpx.Response:
    breaker = guard.breaker
    admitted = breaker.admit()
    if admitted is None:
        raise fail(
            UpstreamCircuitOpen,
            f"not asked: circuit breaker open after {breaker.failures} failed calls in a row "
            f"(a trial call every {breaker.reset:g} s)",
        )
    trial = admitted == HALF_OPEN
    left = budget_left()
    if not guard.take_slot(SLOT_WAIT if left is None else min(SLOT_WAIT, left)):
        breaker.abandoned(trial)
        raise fail(UpstreamBusy, f"not asked: {guard.limit} calls already in flight, none ended in time")
    try:
        response, answered = _send(http, method, base_url, path, fail, request)
    except UpstreamError:
        breaker.failed(trial)
        raise
    except BaseException:
        breaker.abandoned(trial)
        raise
    finally:
        guard.free_slot()
    if answered:
        breaker.succeeded(trial)
    else:
        breaker.failed(trial)
    return response


def _send(
    http: httpx.Client,
    method: str,
    base_url: str,
    path: str,
    fail: Fail,
    request: dict[str, Any],
) -> tuple[httpx.Response, bool]:
    """The call itself, timed and counted; with whether the upstream answered (a status below 500)."""
    started = time.monotonic()
    try:
        response = http.request(method, base_url + path, **request)
    except httpx.TimeoutException as exc:
        metrics.record_upstream(base_url, time.monotonic() - started, failure="timeout")
        # The time taken tells the operator which limit it was: per phase, deadline or budget.
        what = f"{type(exc).__name__} after {time.monotonic() - started:.1f} s: {exc}"
        raise fail(UpstreamTimeout, f"no answer within the timeout ({what})") from exc
    except httpx.HTTPError as exc:
        metrics.record_upstream(base_url, time.monotonic() - started, failure="error")
        raise fail(UpstreamError, f"cannot reach {base_url} ({type(exc).__name__})") from exc
    metrics.record_upstream(base_url, time.monotonic() - started, status=response.status_code)
    # 4xx is the upstream working (an expired session, an unknown patron): only 5xx is a failure.
    return response, response.status_code < 500
